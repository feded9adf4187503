// ListKeyPolicies: the names of a key's key policies, which is always just "default".
import type { ListKeyPoliciesRequest, ListKeyPoliciesResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { DEFAULT_POLICY_NAME } from "./key-policy";
import { assertKeyState } from "./key-states";
import { decodeMarker } from "./pagination";

export const listKeyPolicies: Operation<ListKeyPoliciesRequest, ListKeyPoliciesResponse> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  assertKeyState("ListKeyPolicies", key);
  // One name always fits any Limit, so no page ever hands out a marker: one we did not issue is refused, and a
  // well-formed one can only resume after "default".
  if (input.Marker !== undefined) {
    decodeMarker(input.Marker);
    return { PolicyNames: [], Truncated: false };
  }
  return { PolicyNames: [DEFAULT_POLICY_NAME], Truncated: false };
};
