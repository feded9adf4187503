// RestoreSecret: cancel a secret's scheduled deletion.
import type { RestoreSecretRequest, RestoreSecretResponse } from "@aws-sdk/client-secrets-manager";
import type { Operation } from "./context";
import { secretNotFound } from "./errors";

/** A secret that is not scheduled is answered as restored, unchanged (moto; AWS documents no error for it). */
export const restoreSecret: Operation<RestoreSecretRequest, RestoreSecretResponse> = async (input, ctx) => {
  const secrets = ctx.secrets.secrets;
  const secret = await secrets.find(ctx.scope, input.SecretId ?? "");
  if (secret === undefined) throw secretNotFound();
  if (secret.deletedAt === undefined) return { ARN: secret.arn, Name: secret.name };
  const now = ctx.now.getTime();
  const restored = await secrets.update(ctx.scope, secret.name, (current) => {
    if (current.arn !== secret.arn) throw secretNotFound();
    if (current.deletedAt === undefined) return { secret: current };
    return { secret: { ...current, deletedAt: undefined, deletionDueAt: undefined, lastChangedAt: now } };
  });
  return { ARN: restored.arn, Name: restored.name };
};
