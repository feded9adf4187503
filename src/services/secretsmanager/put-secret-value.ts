// PutSecretValue: a new version of a secret's value, with the staging labels the caller asks for.
import type { PutSecretValueRequest, PutSecretValueResponse } from "@aws-sdk/client-secrets-manager";
import type { Operation } from "./context";
import { markedForDeletion, notPermittedOnReplica, secretNotFound, valueRequired } from "./errors";
import { addVersion, detachStage, dropExpiredVersions, holderOf, isValueless } from "./labels";
import { AWSCURRENT, AWSPENDING, isReplica, type VersionSummary } from "./secret";
import { newVersionId, requireSameValue, sealVersion, secretValueOf, type SecretVersionRecord } from "./versions";

export const putSecretValue: Operation<PutSecretValueRequest, PutSecretValueResponse> = async (input, ctx) => {
  const value = secretValueOf(input);
  // The token is checked before the secret is looked up, as AWS does (errors.ts); then the value itself.
  const versionId = newVersionId(input.ClientRequestToken, value);
  if (value === undefined || versionId === undefined) throw valueRequired();
  const secrets = ctx.secrets.secrets;
  const secret = await secrets.requireLive(ctx.scope, input.SecretId ?? "");
  if (isReplica(secret, ctx.scope.region)) throw notPermittedOnReplica();

  // "If you call this operation with a ClientRequestToken that matches an existing version's VersionId, and
  // you specify the same secret data, the operation succeeds but does nothing" (PutSecretValue). A valueless
  // version (RotateSecret's AWSPENDING) is the one exception: this call is how it gets its value.
  const existing = secret.versions[versionId];
  if (existing !== undefined && !isValueless(existing)) {
    await requireSameValue(ctx, secret.arn, versionId, await secrets.version(ctx.scope, secret.name, versionId), value);
    return { ARN: secret.arn, Name: secret.name, VersionId: versionId, VersionStages: [...existing.stages] };
  }

  const sealed = await sealVersion(ctx, secret.arn, versionId, secret.kmsKeyId, value);
  const now = ctx.now.getTime();
  // Set when another call stored this version between the look above and the lock: most often the same call
  // twice (an SDK retry racing its original), which must answer as the first did, not as a reused token.
  let raced = undefined as { stages: readonly string[]; stored: SecretVersionRecord | undefined } | undefined;
  // RotationToken identifies a cross-account rotation function to IAM; secretslite has no IAM, so it is accepted and unused.
  const updated = await secrets.update(ctx.scope, secret.name, async (current) => {
    if (current.arn !== secret.arn) throw secretNotFound();
    if (current.deletedAt !== undefined) throw markedForDeletion();
    const placeholder = current.versions[versionId];
    if (placeholder !== undefined && !isValueless(placeholder)) {
      raced = { stages: placeholder.stages, stored: await secrets.version(ctx.scope, current.name, versionId) };
      return { secret: current };
    }
    // "If this operation creates the first version for the secret, then Secrets Manager automatically
    // attaches the staging label AWSCURRENT to it."
    const stages = input.VersionStages ?? [AWSCURRENT];
    const first = Object.keys(current.versions).length === 0;
    const summary = { createdAt: now, lastAccessedDay: undefined, kmsKeyArns: [sealed.kmsKeyArn], kmsKeyIds: [sealed.kmsKeyListedId] };
    const versions = addVersion(withoutPendingOnCurrent(current.versions, input.VersionStages), versionId, summary, first ? [...stages, AWSCURRENT] : stages);
    const deleteVersions = dropExpiredVersions(versions, now);
    return { secret: { ...current, versions, lastChangedAt: now }, writeVersions: [sealed.record], deleteVersions };
  });
  if (raced !== undefined) {
    await requireSameValue(ctx, updated.arn, versionId, raced.stored, value);
    return { ARN: updated.arn, Name: updated.name, VersionId: versionId, VersionStages: [...raced.stages] };
  }
  return { ARN: updated.arn, Name: updated.name, VersionId: versionId, VersionStages: [...(updated.versions[versionId]?.stages ?? [])] };
};

/**
 * A value put without VersionStages takes AWSCURRENT, and the version that had it keeps only AWSPREVIOUS: when that
 * version also carried AWSPENDING (UpdateSecretVersionStage moved AWSCURRENT onto a rotation's pending version),
 * AWS drops AWSPENDING with it rather than leave a finished rotation's label on an old version.
 */
function withoutPendingOnCurrent(versions: Readonly<Record<string, VersionSummary>>, requested: readonly string[] | undefined) {
  if (requested !== undefined) return versions;
  const current = holderOf(versions, AWSCURRENT);
  if (current === undefined || !(versions[current]?.stages.includes(AWSPENDING) ?? false)) return versions;
  return detachStage(versions, AWSPENDING);
}
