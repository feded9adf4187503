// RemoveRegionsFromReplication: deletes a secret's replicas in the regions named, at once.
import type { RemoveRegionsFromReplicationRequest, RemoveRegionsFromReplicationResponse } from "@aws-sdk/client-secrets-manager";
import type { Operation } from "./context";
import { internalServiceError, notPermittedOnReplica } from "./errors";
import { isReplica, replicationStatus } from "./secret";

/** AWS deletes replicas asynchronously; here they are gone when the call returns, so a read there right after finds nothing. */
export const removeRegionsFromReplication: Operation<RemoveRegionsFromReplicationRequest, RemoveRegionsFromReplicationResponse> = async (
  input,
  ctx,
) => {
  const replicas = ctx.secrets.replicas;
  if (replicas === undefined) throw internalServiceError(new Error("replication is not wired into the Secrets Manager domain"));
  const secret = await ctx.secrets.secrets.requireLive(ctx.scope, input.SecretId ?? "");
  if (isReplica(secret, ctx.scope.region)) throw notPermittedOnReplica();
  const updated = await replicas.remove(ctx, secret, input.RemoveReplicaRegions ?? []);
  return { ARN: updated.arn, ReplicationStatus: replicationStatus(updated) ?? [] };
};
