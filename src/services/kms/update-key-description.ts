// UpdateKeyDescription: a customer managed key's Description, as DescribeKey shows it.
import type { UpdateKeyDescriptionRequest } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { assertCustomerManaged } from "./aws-managed";
import { assertKeyState } from "./key-states";

export const updateKeyDescription: Operation<UpdateKeyDescriptionRequest, Record<string, never>> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  assertCustomerManaged(key, "UpdateKeyDescription");
  const description = input.Description ?? "";
  await ctx.kms.keys.update(ctx.scope, key.keyId, (current) => {
    assertKeyState("UpdateKeyDescription", current);
    return current.description === description ? current : { ...current, description };
  });
  return {};
};
