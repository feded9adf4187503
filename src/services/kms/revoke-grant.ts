// RevokeGrant: deletes a grant named by key (key id or key ARN) and grant id; a grant token cannot revoke.
import type { RevokeGrantRequest } from "@aws-sdk/client-kms";
import type { KmsRequestContext, Operation } from "./context";
import { dryRunSucceeded, grantNotFound, invalidGrantId } from "./errors";
import { GRANT_ID, type KmsGrantRecord } from "./grants";
import { assertKeyState } from "./key-states";

export const revokeGrant: Operation<RevokeGrantRequest, Record<string, never>> = async (input, ctx) => {
  const grant = await grantOfKey(ctx, input.KeyId ?? "", input.GrantId ?? "", "RevokeGrant");
  // Authorized before it runs (access.ts): kms:RevokeGrant in the key policy (or an IAM policy it delegates to).
  if (input.DryRun === true) throw dryRunSucceeded();
  await ctx.kms.grants.remove(ctx.scope, grant);
  return {};
};

/**
 * The grant `grantId` of the key `keyId` names (key id or key ARN; an alias is InvalidArnException like every
 * operation that manages one key). A GrantId not of AWS's form is InvalidGrantIdException; a well-formed one with no
 * grant on the key is NotFoundException (both are in the model's lists for RetireGrant and RevokeGrant; neither text
 * was found, see errors.ts).
 */
export async function grantOfKey(ctx: KmsRequestContext, keyId: string, grantId: string, operation: "RetireGrant" | "RevokeGrant"): Promise<KmsGrantRecord> {
  const key = await ctx.kms.keys.resolve(ctx.scope, keyId, ctx.now, "key");
  assertKeyState(operation, key);
  if (!GRANT_ID.test(grantId)) throw invalidGrantId(grantId);
  const grant = await ctx.kms.grants.find(ctx.scope, key.keyId, grantId);
  if (grant === undefined) throw grantNotFound(grantId, key.arn);
  return grant;
}
