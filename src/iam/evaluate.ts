// AWS's policy evaluation for one request: explicit deny, then identity and resource policies, one account or two.
import { RequestView, type AuthzRequest } from "./context";
import { BY_ACCOUNT, DIRECT, NO_MATCH, type CompiledPolicy, type CompiledStatement, type PrincipalMatch } from "./policy";

export type { AuthzRequest, ContextValue, Principal } from "./context";

export type PolicyType = "identity-based" | "resource-based";

export interface PolicySet {
  /** The caller's identity policies (inline and attached), compiled with kind "identity". Ignored for an account root. */
  readonly identityPolicies: readonly CompiledPolicy[];
  /** The key policy or the secret's resource policy, compiled with kind "resource". */
  readonly resourcePolicy?: CompiledPolicy;
  /** "key": KMS, whose key policy must allow; "secret": Secrets Manager; "none": no resource policy applies. */
  readonly resourcePolicyKind: "key" | "secret" | "none";
  /** A grant (computed by the caller: grantee, operations, constraints, tokens) allows this request. */
  readonly grantsAllow?: boolean;
}

export interface Decision {
  readonly decision: "allow" | "explicit-deny" | "implicit-deny";
  /** The deciding statement (explicit deny or allow), or for an implicit deny the policy type that failed to allow. */
  readonly deciding?: { readonly policyType: PolicyType; readonly sid?: string };
  /** Which statements applied, for a debug log line: "identity[0]#2 Allow (Sid …)". */
  readonly trace: string[];
}

export interface EvaluateOptions {
  /** Build the trace (default true); off, `trace` is empty and nothing is allocated for it. */
  readonly trace?: boolean;
}

const NO_TRACE: string[] = [];

// Actions are few (the two services' operations): their lower-case forms are kept rather than made per request.
const lowerActions = new Map<string, string>();
function lowerCased(action: string): string {
  let lower = lowerActions.get(action);
  if (lower === undefined) {
    lower = action.toLowerCase();
    if (lowerActions.size >= 1024) lowerActions.clear();
    lowerActions.set(action, lower);
  }
  return lower;
}

/**
 * One statement applies when its action, resource, principal and every condition match (IAM evaluation logic).
 * Conditions are tested last: they are the only part that reads the request context.
 */
function applies(statement: CompiledStatement, action: string, request: AuthzRequest, view: RequestView): PrincipalMatch {
  if (!statement.matchesAction(action)) return NO_MATCH;
  if (!statement.matchesResource(request.resource, view)) return NO_MATCH;
  const match = statement.matchPrincipal(request.principal);
  if (match === NO_MATCH) return NO_MATCH;
  for (const condition of statement.conditions) if (!condition.test(view)) return NO_MATCH;
  return match;
}

/**
 * AWS's decision for one request (IAM reference_policies_evaluation-logic and -cross-account; KMS key-policies):
 *
 * 1. An explicit Deny in any policy wins, whatever allows it elsewhere (grants included: "explicitly allowed, and
 *    never denied, in a key policy, IAM policy, or grant"). An IAM Deny on a key works without any delegation.
 * 2. Same account, Secrets Manager (and "none"): an Allow in the identity policies OR in the resource policy. A
 *    resource policy naming the account (root or id) delegates to IAM, so it adds nothing for an IAM principal.
 * 3. KMS keys: "Unless the key policy explicitly allows it, you cannot use IAM policies to allow access": the key
 *    policy must allow the caller directly, or name its account (delegation) with an IAM Allow too.
 * 4. Cross account: the resource (or key) policy must allow the caller, directly or by its account, AND the caller's
 *    own identity policies must allow.
 * 5. Grants: enough on their own, same account or cross account (KG key-policy-modifying-external-accounts).
 *
 * An account root has no identity policies and all permissions in its account, so its identity side always allows;
 * a key policy must still allow it. Permissions boundaries, session policies, SCPs/RCPs and VPC endpoint policies are
 * not modelled.
 */
export function evaluate(policies: PolicySet, request: AuthzRequest, options?: EvaluateOptions): Decision {
  const tracing = options?.trace !== false;
  const trace = tracing ? [] : NO_TRACE;
  const action = lowerCased(request.action);
  const view = new RequestView(request);
  const principal = request.principal;
  const isRoot = principal.kind === "root";

  let identityAllow: CompiledStatement | undefined;
  if (!isRoot) {
    const list = policies.identityPolicies;
    for (let p = 0; p < list.length; p++) {
      const statements = list[p]!.statements;
      for (let s = 0; s < statements.length; s++) {
        const statement = statements[s]!;
        if (applies(statement, action, request, view) === NO_MATCH) continue;
        if (tracing) trace.push(`identity[${p}]${statement.description}`);
        if (statement.effect === "Deny") return deny("identity-based", statement, trace);
        identityAllow ??= statement;
      }
    }
  }

  let resourceDirect: CompiledStatement | undefined;
  let resourceByAccount: CompiledStatement | undefined;
  const resourcePolicy = policies.resourcePolicyKind === "none" ? undefined : policies.resourcePolicy;
  if (resourcePolicy !== undefined) {
    const statements = resourcePolicy.statements;
    for (let s = 0; s < statements.length; s++) {
      const statement = statements[s]!;
      const match = applies(statement, action, request, view);
      if (match === NO_MATCH) continue;
      if (tracing) trace.push(match === BY_ACCOUNT ? `resource${statement.description} via account` : `resource${statement.description}`);
      // A Deny naming an account denies every principal of it.
      if (statement.effect === "Deny") return deny("resource-based", statement, trace);
      if (match === DIRECT) resourceDirect ??= statement;
      else resourceByAccount ??= statement;
    }
  }

  const identityAllows = isRoot || identityAllow !== undefined;
  const sameAccount = request.resourceAccount === undefined || request.resourceAccount === principal.account;
  // The deciding Allow: the identity policy's when there is one (AWS's log names it), else the resource policy's.
  const either = (resourceStatement: CompiledStatement): Decision =>
    identityAllow !== undefined ? allowedBy("identity-based", identityAllow, trace) : allowedBy("resource-based", resourceStatement, trace);

  if (policies.resourcePolicyKind === "key") {
    if (sameAccount && resourceDirect !== undefined) return allowedBy("resource-based", resourceDirect, trace);
    if (resourceByAccount !== undefined && identityAllows) return either(resourceByAccount);
    if (!sameAccount && resourceDirect !== undefined && identityAllows) return either(resourceDirect);
    if (policies.grantsAllow === true) return grantAllows(trace, tracing);
    // KMS names the key policy when it did not allow ("because no resource-based policy allows the kms:X action").
    return implicitDeny(resourceDirect !== undefined || resourceByAccount !== undefined ? "identity-based" : "resource-based", trace);
  }

  if (sameAccount) {
    if (identityAllow !== undefined) return allowedBy("identity-based", identityAllow, trace);
    if (resourceDirect !== undefined) return allowedBy("resource-based", resourceDirect, trace);
    if (isRoot) return resourceByAccount === undefined ? { decision: "allow", trace } : allowedBy("resource-based", resourceByAccount, trace);
    if (policies.grantsAllow === true) return grantAllows(trace, tracing);
    return implicitDeny("identity-based", trace);
  }
  const resourceAllows = resourceDirect ?? resourceByAccount;
  if (resourceAllows !== undefined && identityAllows) return either(resourceAllows);
  if (policies.grantsAllow === true) return grantAllows(trace, tracing);
  return implicitDeny(identityAllows ? "resource-based" : "identity-based", trace);
}

function grantAllows(trace: string[], tracing: boolean): Decision {
  if (tracing) trace.push("grant allows");
  return { decision: "allow", trace };
}

const allowedBy = (policyType: PolicyType, statement: CompiledStatement, trace: string[]): Decision => ({
  decision: "allow",
  deciding: statement.sid === undefined ? { policyType } : { policyType, sid: statement.sid },
  trace,
});

const deny = (policyType: PolicyType, statement: CompiledStatement, trace: string[]): Decision => ({
  decision: "explicit-deny",
  deciding: statement.sid === undefined ? { policyType } : { policyType, sid: statement.sid },
  trace,
});

const implicitDeny = (policyType: PolicyType, trace: string[]): Decision => ({ decision: "implicit-deny", deciding: { policyType }, trace });
