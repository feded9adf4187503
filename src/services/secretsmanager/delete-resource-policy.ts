// DeleteResourcePolicy: removes a secret's resource policy; a secret without one is left as it is.
import type { DeleteResourcePolicyRequest, DeleteResourcePolicyResponse } from "@aws-sdk/client-secrets-manager";
import type { Operation } from "./context";
import { markedForDeletion, notPermittedOnReplica, secretNotFound } from "./errors";
import { isReplica } from "./secret";

export const deleteResourcePolicy: Operation<DeleteResourcePolicyRequest, DeleteResourcePolicyResponse> = async (input, ctx) => {
  const found = await ctx.secrets.secrets.requireLive(ctx.scope, input.SecretId ?? "");
  // A replica changes only through its primary, as for every other write (moto enforces it for these too).
  if (isReplica(found, ctx.scope.region)) throw notPermittedOnReplica();
  const secret = await ctx.secrets.secrets.update(ctx.scope, found.name, (current) => {
    if (current.arn !== found.arn) throw secretNotFound();
    if (current.deletedAt !== undefined) throw markedForDeletion();
    if (current.resourcePolicy === undefined) return { secret: current };
    return { secret: { ...current, resourcePolicy: undefined, lastChangedAt: ctx.now.getTime() } };
  });
  return { ARN: secret.arn, Name: secret.name };
};
