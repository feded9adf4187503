// DeleteAlias: removes a customer alias; the key it pointed at is untouched.
import type { DeleteAliasRequest } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { assertNotReserved } from "./aliases";
import { assertKeyState } from "./key-states";

export const deleteAlias: Operation<DeleteAliasRequest, Record<string, never>> = async (input, ctx) => {
  const aliasName = input.AliasName ?? "";
  assertNotReserved(aliasName);
  await ctx.kms.aliases.delete(ctx.scope, aliasName, async (current) => {
    const key = await ctx.kms.keys.get(ctx.scope, current.targetKeyId);
    if (key !== undefined) assertKeyState("DeleteAlias", key);
  });
  return {};
};
