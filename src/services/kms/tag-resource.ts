// TagResource: adds tags to a customer managed key, replacing the value of a tag key it already has.
import type { TagResourceRequest } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { assertCustomerManaged } from "./aws-managed";
import { assertKeyState } from "./key-states";
import { assertValidTags, mergeTags, toKeyTags } from "./tags";

export const tagResource: Operation<TagResourceRequest, Record<string, never>> = async (input, ctx) => {
  const tags = toKeyTags(input.Tags ?? []);
  assertValidTags(tags);
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  // "you cannot tag an Amazon Web Services managed key".
  assertCustomerManaged(key, "TagResource");
  await ctx.kms.keys.update(ctx.scope, key.keyId, (current) => {
    assertKeyState("TagResource", current);
    return { ...current, tags: mergeTags(current.tags, tags) };
  });
  return {};
};
