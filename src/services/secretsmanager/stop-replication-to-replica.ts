// StopReplicationToReplica: promotes a replica, in its own region, to a standalone secret.
import type { StopReplicationToReplicaRequest, StopReplicationToReplicaResponse } from "@aws-sdk/client-secrets-manager";
import type { Operation } from "./context";
import { internalServiceError, notAReplica } from "./errors";
import { isReplica } from "./secret";

export const stopReplicationToReplica: Operation<StopReplicationToReplicaRequest, StopReplicationToReplicaResponse> = async (input, ctx) => {
  const replicas = ctx.secrets.replicas;
  if (replicas === undefined) throw internalServiceError(new Error("replication is not wired into the Secrets Manager domain"));
  const secret = await ctx.secrets.secrets.requireLive(ctx.scope, input.SecretId ?? "");
  if (!isReplica(secret, ctx.scope.region)) throw notAReplica();
  const promoted = await replicas.promote(ctx, secret);
  return { ARN: promoted.arn };
};
