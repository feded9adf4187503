// DisableKeyRotation: a customer managed key stops rotating automatically; its earlier material stays for Decrypt.
import type { DisableKeyRotationRequest } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { assertRotationChangeable, changeRotation } from "./key-rotation";

export const disableKeyRotation: Operation<DisableKeyRotationRequest, Record<string, never>> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  assertRotationChangeable(key, "DisableKeyRotation");
  await changeRotation(ctx, key.keyId, (current) => {
    assertRotationChangeable(current, "DisableKeyRotation");
    return undefined;
  });
  return {};
};
