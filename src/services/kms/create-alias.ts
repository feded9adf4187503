// CreateAlias: a new alias name for a customer managed key in the same account and Region.
import type { CreateAliasRequest } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { assertNewAliasName, assertNotReserved, assertTargetIsKey } from "./aliases";
import { assertCustomerManaged } from "./aws-managed";
import { aliasAlreadyExists } from "./errors";
import { assertKeyState } from "./key-states";
import { aliasArn } from "./key-arn";

export const createAlias: Operation<CreateAliasRequest, Record<string, never>> = async (input, ctx) => {
  // Validation has already required both members and the "alias/" prefix (validation-overlay.ts).
  const aliasName = input.AliasName ?? "";
  const targetKeyId = input.TargetKeyId ?? "";
  // moto's order, written against KMS: reserved name, bad characters, an alias as target, an existing alias, the key.
  assertNotReserved(aliasName);
  assertNewAliasName(aliasName);
  assertTargetIsKey(targetKeyId);
  if ((await ctx.kms.aliases.get(ctx.scope, aliasName)) !== undefined) throw aliasAlreadyExists(aliasArn(ctx.scope, aliasName));
  const key = await ctx.kms.keys.resolve(ctx.scope, targetKeyId, ctx.now, "key");
  // "You don't have permission to associate an alias with an Amazon Web Services managed key."
  assertCustomerManaged(key, "CreateAlias");
  assertKeyState("CreateAlias", key);
  await ctx.kms.aliases.create(ctx.scope, aliasName, key.keyId, ctx.now);
  return {};
};
