// ReplicateSecretToRegions: replicas of a secret in other regions of the same account, written before the answer.
import type { ReplicateSecretToRegionsRequest, ReplicateSecretToRegionsResponse } from "@aws-sdk/client-secrets-manager";
import { partitionOf } from "../scope";
import type { Operation } from "./context";
import { internalServiceError, notPermittedOnReplica, replicaInOtherPartition, replicaInPrimaryRegion } from "./errors";
import { isReplica, replicationStatus } from "./secret";

const DEFAULT_REPLICA_KEY = "alias/aws/secretsmanager";

/**
 * AWS answers InProgress and copies in the background, and so does secretslite: the replication sweep writes each
 * replica within moments, and DescribeSecret then shows it InSync (or Failed, with the reason). The answer lists all
 * the secret's replicas, as RemoveRegionsFromReplication's does.
 */
export const replicateSecretToRegions: Operation<ReplicateSecretToRegionsRequest, ReplicateSecretToRegionsResponse> = async (input, ctx) => {
  const replicas = ctx.secrets.replicas;
  if (replicas === undefined) throw internalServiceError(new Error("replication is not wired into the Secrets Manager domain"));
  const secret = await ctx.secrets.secrets.requireLive(ctx.scope, input.SecretId ?? "");
  if (isReplica(secret, ctx.scope.region)) throw notPermittedOnReplica();
  const regions = input.AddReplicaRegions ?? [];
  for (const { Region: region = "" } of regions) {
    if (region === ctx.scope.region) throw replicaInPrimaryRegion();
    if (partitionOf(region) !== ctx.scope.partition) throw replicaInOtherPartition(region);
  }
  const updated = await replicas.add(ctx, secret, regions, input.ForceOverwriteReplicaSecret === true);
  // AWS's answer names the key of each replica, the AWS managed one when none was given (DescribeSecret leaves it out).
  const statuses = (replicationStatus(updated) ?? []).map((status) => ({ ...status, KmsKeyId: status.KmsKeyId ?? DEFAULT_REPLICA_KEY }));
  return { ARN: updated.arn, ReplicationStatus: statuses };
};
