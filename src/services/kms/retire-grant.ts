// RetireGrant: deletes a grant named by its grant token, or by key (key id or key ARN) and grant id.
import type { RetireGrantRequest } from "@aws-sdk/client-kms";
import type { KmsRequestContext, Operation } from "./context";
import { dryRunSucceeded, grantValidation } from "./errors";
import type { KmsGrantRecord } from "./grants";
import { parseKmsArn } from "./key-arn";
import { grantOfKey } from "./revoke-grant";

export const retireGrant: Operation<RetireGrantRequest, Record<string, never>> = async (input, ctx) => {
  const grant = await grantToRetire(input, ctx);
  // Authorized before it runs (access.ts): allowed to the grant's retiring principal, to its grantee when it includes
  // RetireGrant, and to the issuing account; kms:RetireGrant is "not effective in a key policy" (RetireGrant, KG grant-manage).
  if (input.DryRun === true) throw dryRunSucceeded();
  // A grant lives in its key's scope, whichever account issued it.
  await ctx.kms.grants.remove({ account: parseKmsArn(grant.keyArn)?.account ?? ctx.scope.account, region: ctx.scope.region }, grant);
  return {};
};

/**
 * "To identify the grant to retire, use a grant token, or both the grant ID and a key identifier" (RetireGrant). Every
 * member is optional in the model, so what a request without either names is our choice: ValidationException with our
 * text. A token sent with a KeyId or GrantId must name the same grant.
 */
async function grantToRetire(input: RetireGrantRequest, ctx: KmsRequestContext): Promise<KmsGrantRecord> {
  if (input.GrantToken === undefined) {
    if (input.KeyId === undefined || input.GrantId === undefined) {
      throw grantValidation("Either GrantToken, or both KeyId and GrantId, must be specified.");
    }
    return grantOfKey(ctx, input.KeyId, input.GrantId, "RetireGrant");
  }
  const grant = await ctx.kms.grants.fromToken(ctx.scope, input.GrantToken, ctx.now);
  const named = input.GrantId === undefined && input.KeyId === undefined ? undefined : await grantOfKey(ctx, input.KeyId ?? "", input.GrantId ?? "", "RetireGrant");
  if (named !== undefined && (named.keyId !== grant.keyId || named.grantId !== grant.grantId)) {
    throw grantValidation("The GrantToken and the KeyId and GrantId name different grants.");
  }
  return grant;
}
