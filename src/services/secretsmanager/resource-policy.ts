// Resource policies: a secret's policy read with the IAM engine's grammar (src/iam), as every request evaluates it.
import { AwsError } from "../../errors";
import type { Caller } from "../../iam/caller";
import { awsPrincipalIds, principalExists } from "../../iam/known-principals";
import { compilePolicy, PolicyError, type CompiledPolicy } from "../../iam/policy";
import { malformedPolicy, unsupportedPrincipal } from "./errors";

/**
 * The policy compiled as --enforce-auth evaluates it, so what PutResourcePolicy accepts is what requests are decided by
 * and ValidateResourcePolicy / BlockPublicPolicy judge the same statements (src/iam/public.ts). A policy the engine
 * refuses is MalformedPolicyDocumentException: "This resource policy contains an unsupported principal." for a
 * principal of no valid form, "This policy has invalid syntax." for the rest (the one API text recorded for syntax;
 * the engine's own reason stays as the cause for the log). A NotPrincipal with Allow is refused too: IAM documents it
 * as not supported ("NotPrincipal must be used with "Effect":"Deny""), and no AWS answer for it was found.
 */
export function compileResourcePolicy(text: string): CompiledPolicy {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw malformedPolicy();
  }
  try {
    return compilePolicy(document, { kind: "resource", dialect: "secretsmanager" });
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    const refusal = error.message === unsupportedPrincipal().message ? unsupportedPrincipal() : malformedPolicy();
    throw new AwsError(refusal.code, refusal.message, { cause: error });
  }
}

/**
 * Under --enforce-auth the principals file is IAM: an AWS principal the policy names must exist (src/iam/known-principals.ts),
 * as AWS refuses a policy naming a user or role that does not exist (awsdocs manage_secret-policy "Invalid Principal
 * Policy JSON"). Without enforcement nothing is known of IAM and nothing is checked.
 */
export function requireKnownPrincipals(caller: Caller | undefined, text: string): void {
  if (caller === undefined) return;
  const document = JSON.parse(text) as { Statement?: unknown };
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
  for (const statement of statements) {
    const principal = (statement as Record<string, unknown> | undefined)?.["Principal"] ?? (statement as Record<string, unknown> | undefined)?.["NotPrincipal"];
    for (const id of awsPrincipalIds(principal)) if (typeof id !== "string" || !principalExists(id, caller)) throw unsupportedPrincipal();
  }
}
