// TagResource: adds tags to a secret, replacing the value of a key it already has.
import type { TagResourceRequest } from "@aws-sdk/client-secrets-manager";
import type { Operation } from "./context";
import { markedForDeletion, notPermittedOnReplica, secretNotFound } from "./errors";
import { isReplica } from "./secret";
import { checkAddedTags, mergeTags } from "./tags";

export const tagResource: Operation<TagResourceRequest, Record<string, never>> = async (input, ctx) => {
  const added = input.Tags ?? [];
  checkAddedTags(added);
  const found = await ctx.secrets.secrets.requireLive(ctx.scope, input.SecretId ?? "");
  // A replica changes only through its primary, as for every other write (moto enforces it for these too).
  if (isReplica(found, ctx.scope.region)) throw notPermittedOnReplica();
  await ctx.secrets.secrets.update(ctx.scope, found.name, (current) => {
    // Deleted and re-created, or scheduled for deletion, since it was looked up.
    if (current.arn !== found.arn) throw secretNotFound();
    if (current.deletedAt !== undefined) throw markedForDeletion();
    // AWS moves LastChangedDate on a tag change (getmoto/moto#4899 shows it from the AWS CLI).
    return { secret: { ...current, tags: mergeTags(current.tags, added), lastChangedAt: ctx.now.getTime() } };
  });
  return {};
};
