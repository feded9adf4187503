// UntagResource: removes tags from a secret by key; keys it does not have are ignored.
import type { UntagResourceRequest } from "@aws-sdk/client-secrets-manager";
import type { Operation } from "./context";
import { markedForDeletion, notPermittedOnReplica, secretNotFound } from "./errors";
import { isReplica } from "./secret";
import { assertUserTagKey } from "./tags";

export const untagResource: Operation<UntagResourceRequest, Record<string, never>> = async (input, ctx) => {
  const keys = new Set(input.TagKeys ?? []);
  // Guessed from TagResource's captured refusal: "You can't edit or delete tag names … with this prefix".
  for (const key of keys) assertUserTagKey(key);
  const found = await ctx.secrets.secrets.requireLive(ctx.scope, input.SecretId ?? "");
  // A replica changes only through its primary, as for every other write (moto enforces it for these too).
  if (isReplica(found, ctx.scope.region)) throw notPermittedOnReplica();
  await ctx.secrets.secrets.update(ctx.scope, found.name, (current) => {
    if (current.arn !== found.arn) throw secretNotFound();
    if (current.deletedAt !== undefined) throw markedForDeletion();
    const tags = current.tags.filter((tag) => !keys.has(tag.Key));
    if (tags.length === current.tags.length) return { secret: current };
    const cleared = tags.length === 0 ? { tagsCleared: true as const } : {};
    return { secret: { ...current, tags, ...cleared, lastChangedAt: ctx.now.getTime() } };
  });
  return {};
};
