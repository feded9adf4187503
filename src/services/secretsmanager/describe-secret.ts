// DescribeSecret: a secret's metadata, its versions' labels and its replicas; never its value.
import type { DescribeSecretRequest, DescribeSecretResponse } from "@aws-sdk/client-secrets-manager";
import type { Operation } from "./context";
import { secretNotFound } from "./errors";
import { describeFields, replicationStatus, versionsToStages } from "./secret";

/** Answers for a secret scheduled for deletion too: that is how a caller sees its DeletedDate. */
export const describeSecret: Operation<DescribeSecretRequest, DescribeSecretResponse> = async (input, ctx) => {
  const secret = await ctx.secrets.secrets.find(ctx.scope, input.SecretId ?? "");
  if (secret === undefined) throw secretNotFound();
  const stages = versionsToStages(secret);
  return {
    ...describeFields(secret),
    // A secret without versions has no VersionIdsToStages at all (moto's AWS-checked key lists, LocalStack's snapshots).
    VersionIdsToStages: Object.keys(stages).length === 0 ? undefined : stages,
    ReplicationStatus: replicationStatus(secret),
  };
};
