// PutResourcePolicy: attaches a resource policy to a secret, stored as given once it parses.
import type { PutResourcePolicyRequest, PutResourcePolicyResponse } from "@aws-sdk/client-secrets-manager";
import { broadAccessStatements } from "../../iam/public";
import type { Operation } from "./context";
import { markedForDeletion, notPermittedOnReplica, publicPolicy, secretNotFound } from "./errors";
import { compileResourcePolicy, requireKnownPrincipals } from "./resource-policy";
import { isReplica } from "./secret";

// Policies over 20,480 characters never get here: the model's bound on NonEmptyResourcePolicyType answers
// ValidationException, as API_PutResourcePolicy's "Maximum length of 20480" does on AWS.
export const putResourcePolicy: Operation<PutResourcePolicyRequest, PutResourcePolicyResponse> = async (input, ctx) => {
  const found = await ctx.secrets.secrets.requireLive(ctx.scope, input.SecretId ?? "");
  // A replica changes only through its primary, as for every other write (moto enforces it for these too).
  if (isReplica(found, ctx.scope.region)) throw notPermittedOnReplica();
  const policy = input.ResourcePolicy ?? "";
  const compiled = compileResourcePolicy(policy);
  requireKnownPrincipals(ctx.caller, policy);
  // "By default, public policies aren't blocked." (API_PutResourcePolicy)
  if (input.BlockPublicPolicy === true && broadAccessStatements(compiled).length > 0) throw publicPolicy();
  const secret = await ctx.secrets.secrets.update(ctx.scope, found.name, (current) => {
    if (current.arn !== found.arn) throw secretNotFound();
    if (current.deletedAt !== undefined) throw markedForDeletion();
    return { secret: { ...current, resourcePolicy: policy, lastChangedAt: ctx.now.getTime() } };
  });
  return { ARN: secret.arn, Name: secret.name };
};
