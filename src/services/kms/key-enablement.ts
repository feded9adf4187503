// EnableKey and DisableKey share one rule: a customer managed key flips between Enabled and Disabled.
import type { KmsRequestContext } from "./context";
import { assertCustomerManaged } from "./aws-managed";
import { assertKeyState } from "./key-states";

export async function setKeyState(
  ctx: KmsRequestContext,
  keyId: string | undefined,
  operation: "EnableKey" | "DisableKey",
): Promise<Record<string, never>> {
  const target = operation === "EnableKey" ? "Enabled" : "Disabled";
  const key = await ctx.kms.keys.resolve(ctx.scope, keyId ?? "", ctx.now, "key");
  assertCustomerManaged(key, operation);
  await ctx.kms.keys.update(ctx.scope, key.keyId, (current) => {
    assertKeyState(operation, current);
    return current.keyState === target ? current : { ...current, keyState: target };
  });
  return {};
}
