// GetKeyPolicy: a key's one key policy, "default", exactly as it was stored.
import type { GetKeyPolicyRequest, GetKeyPolicyResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { keyPolicyOf } from "./aws-managed";
import { assertDefaultPolicyName, DEFAULT_POLICY_NAME } from "./key-policy";
import { assertKeyState } from "./key-states";

export const getKeyPolicy: Operation<GetKeyPolicyRequest, GetKeyPolicyResponse> = async (input, ctx) => {
  assertDefaultPolicyName(input.PolicyName);
  // AWS managed keys too: their policy grants the account kms:Get*.
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  assertKeyState("GetKeyPolicy", key);
  return { Policy: keyPolicyOf(key), PolicyName: DEFAULT_POLICY_NAME };
};
