// UpdateAlias: points an existing alias at another customer managed key of the same type and key usage.
import type { UpdateAliasRequest } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { assertNotReserved, assertSameKeyType, assertTargetIsKey } from "./aliases";
import { assertCustomerManaged } from "./aws-managed";
import { assertKeyState } from "./key-states";

export const updateAlias: Operation<UpdateAliasRequest, Record<string, never>> = async (input, ctx) => {
  const aliasName = input.AliasName ?? "";
  const targetKeyId = input.TargetKeyId ?? "";
  assertNotReserved(aliasName);
  assertTargetIsKey(targetKeyId);
  const target = await ctx.kms.keys.resolve(ctx.scope, targetKeyId, ctx.now, "key");
  assertCustomerManaged(target, "UpdateAlias");
  // Only the new target's state counts (key-state table: "If the source KMS key is pending deletion, the command
  // succeeds. If the destination KMS key is pending deletion, the command fails").
  assertKeyState("UpdateAlias", target);
  await ctx.kms.aliases.retarget(ctx.scope, aliasName, target.keyId, ctx.now, async (current) => {
    const currentKey = await ctx.kms.keys.get(ctx.scope, current.targetKeyId);
    if (currentKey !== undefined) assertSameKeyType(currentKey, target);
  });
  return {};
};
