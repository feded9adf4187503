// PutKeyPolicy: replaces a customer managed key's key policy; checked for lockout, stored as sent, not enforced.
import type { PutKeyPolicyRequest } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { assertCustomerManaged } from "./aws-managed";
import { assertDefaultPolicyName, assertValidPolicy } from "./key-policy";
import { assertKeyState } from "./key-states";

export const putKeyPolicy: Operation<PutKeyPolicyRequest, Record<string, never>> = async (input, ctx) => {
  assertDefaultPolicyName(input.PolicyName);
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  assertCustomerManaged(key, "PutKeyPolicy");
  const policy = input.Policy ?? "";
  // Checked though policies are not enforced yet: a policy AWS would refuse as a lockout must not pass here.
  assertValidPolicy(policy, { scope: ctx.scope, bypass: input.BypassPolicyLockoutSafetyCheck, keyArn: key.arn });
  await ctx.kms.keys.update(ctx.scope, key.keyId, (current) => {
    assertKeyState("PutKeyPolicy", current);
    return { ...current, policy };
  });
  return {};
};
