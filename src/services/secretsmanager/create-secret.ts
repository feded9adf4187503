// CreateSecret: a new secret, its first version when a value is given, and any replicas it asks for.
import type { CreateSecretRequest, CreateSecretResponse } from "@aws-sdk/client-secrets-manager";
import type { Operation } from "./context";
import { nameScheduledForDeletion, replicaInPrimaryRegion, secretExists } from "./errors";
import { addVersion } from "./labels";
import { AWSCURRENT, newSecretArn, replicationStatus, type ReplicaRecord, type SecretRecord } from "./secret";
import { checkKmsKey, newVersionId, requireSameValue, sealVersion, secretValueOf, storedKmsKeyId } from "./versions";

export const createSecret: Operation<CreateSecretRequest, CreateSecretResponse> = async (input, ctx) => {
  const name = input.Name ?? "";
  const value = secretValueOf(input);
  const versionId = newVersionId(input.ClientRequestToken, value);
  const secrets = ctx.secrets.secrets;

  const existing = await secrets.find(ctx.scope, name);
  if (existing !== undefined) {
    if (existing.deletedAt !== undefined) throw nameScheduledForDeletion();
    // A retry with the same token and value answers as the first call did; with another value it is refused
    // (both verified against AWS in moto's aws_verified tests). Any other call with a taken name is refused.
    if (value !== undefined && versionId !== undefined && existing.versions[versionId] !== undefined) {
      await requireSameValue(ctx, existing.arn, versionId, await secrets.version(ctx.scope, existing.name, versionId), value);
      return { ARN: existing.arn, Name: existing.name, VersionId: versionId, ReplicationStatus: replicationStatus(existing) };
    }
    throw secretExists(name);
  }

  const kmsKeyId = storedKmsKeyId(input.KmsKeyId);
  const replicas = replicasOf(input, ctx.scope.region);
  const arn = newSecretArn(ctx.scope, name);
  const now = ctx.now.getTime();
  // Sealing calls KMS, so it happens before create() takes the name's lock.
  const sealed = value === undefined || versionId === undefined ? undefined : await sealVersion(ctx, arn, versionId, kmsKeyId, value);
  if (sealed === undefined) await checkKmsKey(ctx, arn, kmsKeyId);
  const secret: SecretRecord = {
    v: 1,
    name,
    arn,
    description: input.Description || undefined,
    kmsKeyId,
    type: input.Type || undefined,
    createdAt: now,
    lastChangedAt: now,
    lastAccessedDay: undefined,
    deletedAt: undefined,
    deletionDueAt: undefined,
    rotation: undefined,
    resourcePolicy: undefined,
    owningService: undefined,
    // AWS shows a replicated primary's own region as its PrimaryRegion.
    primaryRegion: replicas.length === 0 ? undefined : ctx.scope.region,
    replicas,
    tags: (input.Tags ?? []).map((tag) => ({ Key: tag.Key ?? "", Value: tag.Value ?? "" })),
    versions:
      sealed === undefined || versionId === undefined
        ? {}
        : addVersion(
            {},
            versionId,
            { createdAt: now, lastAccessedDay: undefined, kmsKeyArns: [sealed.kmsKeyArn], kmsKeyIds: [sealed.kmsKeyListedId] },
            [AWSCURRENT],
          ),
  };
  // The name may have been taken since the look above, by the same call sent twice at once (an SDK retry racing
  // its original): create() then hands back what the other call stored, under the name's lock, to answer the
  // same way as the sequential retry above.
  const taken = await secrets.create(ctx.scope, secret, sealed?.record, true);
  if (taken !== undefined && value !== undefined && versionId !== undefined) {
    await requireSameValue(ctx, taken.taken.arn, versionId, taken.version, value);
    return { ARN: taken.taken.arn, Name: taken.taken.name, VersionId: versionId, ReplicationStatus: replicationStatus(taken.taken) };
  }
  return { ARN: arn, Name: name, VersionId: sealed === undefined ? undefined : versionId, ReplicationStatus: replicationStatus(secret) };
};

/**
 * AddReplicaRegions as replicas still being made: AWS replicates asynchronously and answers CreateSecret with
 * each replica InProgress. Making them (a copy of the secret in each region, under that region's key) is the
 * replication operations' work; they pick up InProgress replicas from the record.
 */
function replicasOf(input: CreateSecretRequest, primaryRegion: string): ReplicaRecord[] {
  const replicas: ReplicaRecord[] = [];
  for (const requested of input.AddReplicaRegions ?? []) {
    const region = requested.Region ?? "";
    if (region === primaryRegion) throw replicaInPrimaryRegion();
    if (replicas.some((replica) => replica.region === region)) continue;
    replicas.push({
      region,
      kmsKeyId: requested.KmsKeyId || undefined,
      status: "InProgress",
      statusMessage: undefined,
      lastAccessedDay: undefined,
      ...(input.ForceOverwriteReplicaSecret === undefined ? {} : { forceOverwrite: input.ForceOverwriteReplicaSecret }),
    });
  }
  return replicas;
}
