// PutResourcePolicy: attaches a resource policy to a secret, stored as given once it parses.
import type { PutResourcePolicyRequest, PutResourcePolicyResponse } from "@aws-sdk/client-secrets-manager";
import type { Operation, SecretsRequestContext } from "./context";
import { markedForDeletion, notPermittedOnReplica, publicPolicy, secretNotFound, unsupportedPrincipal } from "./errors";
import { isReplica } from "./secret";
import { broadAccessStatements, parsePolicy, type PolicyStatement } from "./resource-policy";

// Policies over 20,480 characters never get here: the model's bound on NonEmptyResourcePolicyType answers
// ValidationException, as API_PutResourcePolicy's "Maximum length of 20480" does on AWS.
export const putResourcePolicy: Operation<PutResourcePolicyRequest, PutResourcePolicyResponse> = async (input, ctx) => {
  const found = await ctx.secrets.secrets.requireLive(ctx.scope, input.SecretId ?? "");
  // A replica changes only through its primary, as for every other write (moto enforces it for these too).
  if (isReplica(found, ctx.scope.region)) throw notPermittedOnReplica();
  const policy = input.ResourcePolicy ?? "";
  const statements = parsePolicy(policy);
  requireKnownPrincipals(ctx, statements);
  // "By default, public policies aren't blocked." (API_PutResourcePolicy)
  if (input.BlockPublicPolicy === true && broadAccessStatements(statements).length > 0) throw publicPolicy();
  const secret = await ctx.secrets.secrets.update(ctx.scope, found.name, (current) => {
    if (current.arn !== found.arn) throw secretNotFound();
    if (current.deletedAt !== undefined) throw markedForDeletion();
    return { secret: { ...current, resourcePolicy: policy, lastChangedAt: ctx.now.getTime() } };
  });
  return { ARN: secret.arn, Name: secret.name };
};

/** Principals that exist whatever IAM holds: everyone, an account by id, an account root. */
const ALWAYS_KNOWN = /^(?:\*|\d{12}|arn:[^:]+:iam::\d{12}:root)$/;
/** The IAM forms a principal file can name: users, roles and role sessions. */
const IAM_PRINCIPAL = /^arn:[^:]+:(?:iam::\d{12}:(?:user|role)\/.+|sts::\d{12}:assumed-role\/[^/]+\/.+)$/;

/**
 * Under --enforce-auth the principals file is IAM: an AWS principal the policy names must be one it knows, as AWS
 * refuses a policy naming a user or role that does not exist (awsdocs manage_secret-policy "Invalid Principal Policy
 * JSON"). The caller's `knows` (src/iam/caller.ts) answers for the file; without it every IAM ARN is taken to exist.
 * A string of no principal form at all (a deleted user's unique id) is refused the same way. Without enforcement
 * nothing is known of IAM and nothing is checked, as before.
 */
function requireKnownPrincipals(ctx: SecretsRequestContext, statements: readonly PolicyStatement[]): void {
  if (ctx.caller === undefined) return;
  // Read structurally: `knows` is optional on Caller, and absent where the principals directory is not built.
  const knows = (ctx.caller as { readonly knows?: ((arn: string) => boolean) | undefined }).knows;
  for (const statement of statements) {
    const principal = statement.principal;
    if (typeof principal !== "object" || principal === null || Array.isArray(principal)) continue;
    const aws = principal["AWS"];
    for (const id of aws === undefined ? [] : Array.isArray(aws) ? aws : [aws]) {
      if (typeof id !== "string" || ALWAYS_KNOWN.test(id)) continue;
      if (!IAM_PRINCIPAL.test(id) || (knows !== undefined && !knows(id))) throw unsupportedPrincipal();
    }
  }
}
