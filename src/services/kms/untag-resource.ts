// UntagResource: removes tags from a customer managed key by tag key; keys it does not have are ignored.
import type { UntagResourceRequest } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { assertCustomerManaged } from "./aws-managed";
import { assertKeyState } from "./key-states";
import { removeTags } from "./tags";

export const untagResource: Operation<UntagResourceRequest, Record<string, never>> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  assertCustomerManaged(key, "UntagResource");
  await ctx.kms.keys.update(ctx.scope, key.keyId, (current) => {
    assertKeyState("UntagResource", current);
    return { ...current, tags: removeTags(current.tags, input.TagKeys ?? []) };
  });
  return {};
};
