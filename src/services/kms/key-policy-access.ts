// The key policy checks CreateKey and PutKeyPolicy make with --enforce-auth: its principals exist, and it does not lock the caller out.
import { AwsError } from "../../errors";
import { authzRequest } from "../../iam/authorize";
import type { Caller } from "../../iam/caller";
import { awsPrincipalIds, principalExists } from "../../iam/known-principals";
import { evaluate } from "../../iam/evaluate";
import { compilePolicy, PolicyError, type CompiledPolicy } from "../../iam/policy";
import type { Scope } from "../scope";
import { policyLockout } from "./errors";
import { keyArn as arnOfKey } from "./key-arn";

/** AWS's answers, quoted in ../notes/research-issue13.md section 1 (Knowledge Center, terraform-aws-modules#2163). */
const invalidPrincipals = (): AwsError => new AwsError("MalformedPolicyDocumentException", "Policy contains a statement with one or more invalid principals.");
const noPrincipal = (): AwsError => new AwsError("MalformedPolicyDocumentException", "Policy contains a statement with no principal.");


const listOf = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * "The principals in the key policy must exist and be visible to KMS" (CreateKey and PutKeyPolicy, Policy). What exists
 * is what the principals file lists (`caller.knows`): an IAM user or role-session ARN it lists, or a role ARN some
 * session of it assumes. An account (root ARN or bare 12-digit id) and "*" are always accepted (AWS accepts any
 * account: accounts are not secret and cannot be checked), and so are service, federated and canonical-user principals,
 * which secretslite has no list of. A statement with neither Principal nor NotPrincipal, or naming none, is refused.
 */
export function assertPrincipalsExist(document: Record<string, unknown>, caller: Caller): void {
  for (const statement of listOf(document["Statement"])) {
    if (!isObject(statement)) continue;
    const principal = statement["Principal"] ?? statement["NotPrincipal"];
    if (principal === undefined) throw noPrincipal();
    if (principal === "*") continue;
    if (!isObject(principal) || Object.keys(principal).length === 0) throw noPrincipal();
    const ids = awsPrincipalIds(principal);
    if (ids.length === 0 && Object.values(principal).every((value) => listOf(value).length === 0)) throw noPrincipal();
    for (const id of ids) if (typeof id !== "string" || !principalExists(id, caller)) throw invalidPrincipals();
  }
}

/**
 * The lockout safety check as AWS makes it: the new policy must let the calling principal make a subsequent
 * PutKeyPolicy request on the key ("The key policy must allow the calling principal to make a subsequent PutKeyPolicy
 * request on the KMS key", CreateKey and PutKeyPolicy Policy). The request is evaluated as any KMS request is, with the
 * caller's identity policies (a key policy delegating to the account needs an IAM Allow too; an IAM Deny locks the
 * caller out) and the new policy as the key policy. At CreateKey the key has no id yet: its ARN is a stand-in that
 * only a wildcard Resource matches. The request's condition keys are the ones a PutKeyPolicy from this caller would
 * carry (kms:CallerAccount, aws:RequestedRegion, aws:SecureTransport, aws:SourceIp, the time, BypassPolicyLockoutSafetyCheck false).
 * A policy the engine cannot read is refused with its reason, as MalformedPolicyDocumentException.
 */
export function assertCallerKeepsControl(document: Record<string, unknown>, caller: Caller, scope: Scope, now: Date, keyArn: string | undefined): void {
  let compiled: CompiledPolicy;
  try {
    compiled = compilePolicy(document, { kind: "resource", dialect: "kms" });
  } catch (error) {
    if (error instanceof PolicyError) throw new AwsError("MalformedPolicyDocumentException", error.message);
    throw error;
  }
  const decision = evaluate(
    { identityPolicies: caller.identityPolicies, resourcePolicyKind: "key", resourcePolicy: compiled },
    authzRequest({ requestId: "", now, scope }, caller, {
      action: "kms:PutKeyPolicy",
      resource: keyArn ?? arnOfKey(scope, "\0".repeat(36)),
      resourceAccount: scope.account,
      resourcePolicyKind: "key",
      context: { "kms:BypassPolicyLockoutSafetyCheck": false },
    }),
    { trace: false },
  );
  if (decision.decision !== "allow") throw policyLockout();
}

/**
 * Both checks for a policy CreateKey or PutKeyPolicy is given by a caller (--enforce-auth): principals first, then,
 * unless BypassPolicyLockoutSafetyCheck, the lockout. The document has passed assertValidPolicy (size, JSON object).
 */
export function assertPolicyForCaller(policy: string, caller: Caller, scope: Scope, now: Date, bypass: boolean | undefined, keyArn?: string): void {
  const document = JSON.parse(policy) as Record<string, unknown>;
  assertPrincipalsExist(document, caller);
  if (bypass !== true) assertCallerKeepsControl(document, caller, scope, now, keyArn);
}
