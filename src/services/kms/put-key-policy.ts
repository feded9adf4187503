// PutKeyPolicy: replaces a customer managed key's key policy; checked for lockout (and, with --enforce-auth, its principals), stored as sent.
import type { PutKeyPolicyRequest } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { assertCustomerManaged } from "./aws-managed";
import { assertDefaultPolicyName, assertValidPolicy } from "./key-policy";
import { assertPolicyForCaller } from "./key-policy-access";
import { assertKeyState } from "./key-states";

export const putKeyPolicy: Operation<PutKeyPolicyRequest, Record<string, never>> = async (input, ctx) => {
  assertDefaultPolicyName(input.PolicyName);
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  assertCustomerManaged(key, "PutKeyPolicy");
  const policy = input.Policy ?? "";
  if (ctx.caller === undefined) {
    // Without enforcement every request acts as the account's root: the lockout check is made for it.
    assertValidPolicy(policy, { scope: ctx.scope, bypass: input.BypassPolicyLockoutSafetyCheck, keyArn: key.arn });
  } else {
    // With it, for the real caller (its identity policies included), and the principals named must exist.
    assertValidPolicy(policy);
    assertPolicyForCaller(policy, ctx.caller, ctx.scope, ctx.now, input.BypassPolicyLockoutSafetyCheck, key.arn);
  }
  await ctx.kms.keys.update(ctx.scope, key.keyId, (current) => {
    assertKeyState("PutKeyPolicy", current);
    return { ...current, policy };
  });
  return {};
};
