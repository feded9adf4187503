// UpdateSecret: a secret's description, type and KMS key, and optionally a new current version.
import type { UpdateSecretRequest, UpdateSecretResponse } from "@aws-sdk/client-secrets-manager";
import type { Operation, SecretsRequestContext } from "./context";
import { markedForDeletion, notPermittedOnReplica, secretNotFound } from "./errors";
import { addVersion, dropExpiredVersions, holderOf, isValueless } from "./labels";
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, isReplica, type SecretRecord, type VersionSummary } from "./secret";
import {
  checkKmsKey,
  newVersionId,
  rekeyVersion,
  requireSameValue,
  sealVersion,
  secretValueOf,
  storedKmsKeyId,
  type SealedUnder,
  type SecretVersionRecord,
} from "./versions";

/** The versions a key change re-encrypts: "any existing versions with the staging labels AWSCURRENT, AWSPENDING, or AWSPREVIOUS". */
const REKEYED_STAGES = [AWSCURRENT, AWSPENDING, AWSPREVIOUS];

export const updateSecret: Operation<UpdateSecretRequest, UpdateSecretResponse> = async (input, ctx) => {
  const value = secretValueOf(input);
  const versionId = newVersionId(input.ClientRequestToken, value);
  const secrets = ctx.secrets.secrets;
  const secret = await secrets.requireLive(ctx.scope, input.SecretId ?? "");
  // "A replica secret can't be updated independently from its primary secret, except for its encryption key."
  if (isReplica(secret, ctx.scope.region) && (value !== undefined || input.Description !== undefined || input.Type !== undefined)) {
    throw notPermittedOnReplica();
  }

  // A token that names an existing version: the same value is a retry and answers with that version
  // (moto's aws_verified test_update_same_secret_value_with_same_token); another value is refused.
  let retried = false;
  const existing = versionId === undefined ? undefined : secret.versions[versionId];
  if (value !== undefined && versionId !== undefined && existing !== undefined && !isValueless(existing)) {
    await requireSameValue(ctx, secret.arn, versionId, await secrets.version(ctx.scope, secret.name, versionId), value);
    retried = true;
  }

  const kmsKeyId = input.KmsKeyId === undefined ? secret.kmsKeyId : storedKmsKeyId(input.KmsKeyId);
  const keyChanged = kmsKeyId !== secret.kmsKeyId;
  // KMS work (re-keying, sealing) happens before update() takes the lock.
  const rekeyed = keyChanged ? await rekeyLabelledVersions(ctx, secret, kmsKeyId) : [];
  const sealed = value === undefined || versionId === undefined || retried ? undefined : await sealVersion(ctx, secret.arn, versionId, kmsKeyId, value);
  if (keyChanged && rekeyed.length === 0 && sealed === undefined) await checkKmsKey(ctx, secret.arn, kmsKeyId);

  const now = ctx.now.getTime();
  // Set when another call stored this version between the look above and the lock (an SDK retry racing its
  // original): nothing of this call is applied, and it answers as the retry above once the values compare.
  let raced = undefined as { stored: SecretVersionRecord | undefined } | undefined;
  const updated = await secrets.update(ctx.scope, secret.name, async (current) => {
    if (current.arn !== secret.arn) throw secretNotFound();
    if (current.deletedAt !== undefined) throw markedForDeletion();
    const taken = versionId === undefined ? undefined : current.versions[versionId];
    if (sealed !== undefined && versionId !== undefined && taken !== undefined && !isValueless(taken)) {
      raced = { stored: await secrets.version(ctx.scope, current.name, versionId) };
      return { secret: current };
    }
    let next: SecretRecord = current;
    const writeVersions: SecretVersionRecord[] = [];
    let deleteVersions: string[] = [];
    if (input.Description !== undefined && (input.Description || undefined) !== current.description) {
      next = { ...next, description: input.Description || undefined };
    }
    if (input.Type !== undefined && (input.Type || undefined) !== current.type) next = { ...next, type: input.Type || undefined };
    if (keyChanged) next = { ...next, kmsKeyId };
    let versions: Record<string, VersionSummary> = { ...next.versions };
    for (const { record, sealedUnder } of rekeyed) {
      const summary = versions[record.versionId];
      if (summary === undefined) continue;
      versions[record.versionId] = {
        ...summary,
        kmsKeyArns: [...summary.kmsKeyArns, sealedUnder.kmsKeyArn],
        kmsKeyIds: [...(summary.kmsKeyIds ?? summary.kmsKeyArns), sealedUnder.kmsKeyListedId],
      };
      writeVersions.push(record);
    }
    if (sealed !== undefined && versionId !== undefined) {
      const summary = { createdAt: now, lastAccessedDay: undefined, kmsKeyArns: [sealed.kmsKeyArn], kmsKeyIds: [sealed.kmsKeyListedId] };
      // "Secrets Manager automatically moves the staging label AWSCURRENT to the new version. Then it attaches
      // the label AWSPREVIOUS to the version that AWSCURRENT was removed from."
      versions = addVersion(versions, versionId, summary, [AWSCURRENT]);
      writeVersions.push(sealed.record);
      deleteVersions = dropExpiredVersions(versions, now);
    }
    if (next === current && writeVersions.length === 0) return { secret: current };
    return { secret: { ...next, versions, lastChangedAt: now }, writeVersions, deleteVersions };
  });
  if (raced !== undefined && value !== undefined && versionId !== undefined) {
    await requireSameValue(ctx, updated.arn, versionId, raced.stored, value);
    retried = true;
  }
  return {
    ARN: updated.arn,
    Name: updated.name,
    // Only a call that made (or retried) a version answers with one: LocalStack's AWS-recorded UpdateSecret
    // with only a Description has no VersionId.
    VersionId: sealed !== undefined || retried ? versionId : undefined,
  };
};

/**
 * Adds a copy of each labelled version's data key under the new KMS key, keeping the old copies. If KMS refuses
 * (the new key disabled, or the old one unable to decrypt), the update fails: AWS documents skipping the re-key
 * only for a caller without kms:Encrypt on the new key, and secretslite has no IAM to lack it.
 */
async function rekeyLabelledVersions(
  ctx: SecretsRequestContext,
  secret: SecretRecord,
  kmsKeyId: string | undefined,
): Promise<Array<{ record: SecretVersionRecord; sealedUnder: SealedUnder }>> {
  const versionIds = new Set<string>();
  for (const stage of REKEYED_STAGES) {
    const holder = holderOf(secret.versions, stage);
    if (holder !== undefined) versionIds.add(holder);
  }
  const rekeyed: Array<{ record: SecretVersionRecord; sealedUnder: SealedUnder }> = [];
  for (const versionId of versionIds) {
    const version = await ctx.secrets.secrets.version(ctx.scope, secret.name, versionId);
    if (version === undefined) continue;
    const result = await rekeyVersion(ctx, secret.arn, version, kmsKeyId);
    if (result !== undefined) rekeyed.push(result);
  }
  return rekeyed;
}
