// The one decision point both services call: a request's checks evaluated for its caller, AccessDenied in AWS's words.
import { AwsError } from "../errors";
import type { RequestContext } from "../services/request";
import type { Caller } from "./caller";
import type { AuthzRequest, ContextValue } from "./context";
import { evaluate, type Decision, type PolicySet, type PolicyType } from "./evaluate";
import { accessDeniedMessage } from "./messages";
import type { CompiledPolicy } from "./policy";

/** Condition keys as given, or built the first time a condition needs one. */
export type ConditionKeys = Readonly<Record<string, ContextValue | undefined>> | (() => Readonly<Record<string, ContextValue | undefined>>);

/** One permission a request needs: an action on a resource, with what that resource's policy and the request say. */
export interface AccessCheck {
  /** "kms:Decrypt", "secretsmanager:GetSecretValue". */
  readonly action: string;
  /** The resource's ARN; undefined for actions without one (ListSecrets, CreateKey): only `"Resource": "*"` covers them. */
  readonly resource: string | undefined;
  /** The account that owns the resource; undefined: the caller's. */
  readonly resourceAccount?: string | undefined;
  /** "key": a KMS key policy (which must allow); "secret": a secret's resource policy; "none". */
  readonly resourcePolicyKind: PolicySet["resourcePolicyKind"];
  readonly resourcePolicy?: CompiledPolicy | undefined;
  /** What AccessDenied prints after "on resource:" (Secrets Manager echoes the SecretId as sent); default `resource`. */
  readonly shown?: string | undefined;
  /**
   * The request's own condition keys (kms:EncryptionContext:…, secretsmanager:ResourceTag/…), or a function that
   * builds them, called only if a condition asks for a key the request-wide ones (requestKeys) do not answer.
   */
  readonly context?: ConditionKeys;
  /** Asked only when the policies alone do not allow: whether a grant lets the caller make this request (KMS). */
  readonly grants?: () => boolean | Promise<boolean>;
  /** The denial's text when it is not IAM's usual one (KMS Decrypt without a usable key names no key). */
  readonly deniedMessage?: (principalArn: string) => string;
}

/** AccessDeniedException carrying the decision, so the audit log can name the deciding statement. */
export class AccessDenied extends AwsError {
  constructor(
    message: string,
    readonly decision: Decision,
  ) {
    super("AccessDeniedException", message);
  }
}

/** How one decision is explained in the debug log: what was asked and which statements applied. */
export interface Explanation {
  readonly requestId: string;
  readonly principal: string;
  readonly action: string;
  readonly resource: string | undefined;
  readonly decision: Decision["decision"];
  readonly policyType?: PolicyType;
  readonly sid?: string;
  readonly statements: readonly string[];
}

/** What the decision point reads from the request besides the check: the caller, the clock, the region, the service calling for it. */
type Requesting = Pick<RequestContext, "requestId" | "now" | "scope" | "viaService">;

/**
 * The condition keys every request carries (IAM reference_policies_condition-keys): aws:SourceIp, aws:SecureTransport,
 * aws:CurrentTime, aws:EpochTime, aws:RequestedRegion; for a request another service sends for the caller
 * (Secrets Manager's KMS calls) aws:ViaAWSService true and aws:CalledVia, and for KMS kms:ViaService
 * ("secretsmanager.<region>.amazonaws.com") and kms:CallerAccount, the two the aws/secretsmanager key's policy tests.
 * A request the caller sends itself has aws:ViaAWSService false and no kms:ViaService (absent, so a policy
 * requiring it does not match). aws:SourceIp is absent for a service's call: AWS documents that it then carries no
 * source address of the caller's (condition-keys-sourceip).
 *
 * They are answered when a condition asks (by lower-cased name), never built up front: most statements test none.
 */
export function requestKeys(ctx: Requesting, caller: Caller, action: string): (lowerKey: string) => ContextValue | null | undefined {
  const { now, scope, viaService } = ctx;
  const kms = action.startsWith("kms:");
  return (lowerKey) => {
    switch (lowerKey) {
      case "aws:sourceip":
        return viaService === undefined ? caller.sourceIp : null;
      case "aws:securetransport":
        return caller.secureTransport;
      case "aws:currenttime":
        return now.toISOString();
      case "aws:epochtime":
        return Math.floor(now.getTime() / 1000);
      case "aws:requestedregion":
        return scope.region;
      case "aws:viaawsservice":
        return viaService !== undefined;
      case "aws:calledvia":
        return viaService === undefined ? null : [`${viaService}.amazonaws.com`];
      case "kms:viaservice":
        return kms && viaService !== undefined ? `${viaService}.${scope.region}.amazonaws.com` : null;
      case "kms:calleraccount":
        return kms ? caller.principal.account : null;
      default:
        return undefined;
    }
  };
}

/** The request a check asks about: its own keys as given, or built when first asked for; the request-wide ones on demand. */
export function authzRequest(ctx: Requesting, caller: Caller, check: AccessCheck): AuthzRequest {
  const context = check.context;
  return {
    principal: caller.principal,
    action: check.action,
    resource: check.resource,
    resourceAccount: check.resourceAccount,
    context: typeof context === "object" ? context : NO_KEYS,
    lookup: requestKeys(ctx, caller, check.action),
    ...(typeof context === "function" ? { more: context } : {}),
  };
}

const NO_KEYS: Readonly<Record<string, ContextValue | undefined>> = Object.freeze({});

/** Condition keys from several parts (objects, or functions that build them), merged the first time they are asked for; later parts win. */
export function lazyKeys(...parts: ReadonlyArray<ConditionKeys | undefined>): () => Readonly<Record<string, ContextValue | undefined>> {
  let built: Record<string, ContextValue | undefined> | undefined;
  return () => {
    if (built === undefined) {
      built = {};
      for (const part of parts) if (part !== undefined) Object.assign(built, typeof part === "function" ? part() : part);
    }
    return built;
  };
}

/**
 * Decides one check for the request's caller (evaluate.ts has AWS's logic) and throws AccessDeniedException in
 * AWS's words when it is not allowed. Grants are asked only when the policies leave it an implicit deny: an
 * explicit Deny wins over a grant as over anything.
 */
export function authorize(ctx: Requesting, caller: Caller, check: AccessCheck): Decision | Promise<Decision> {
  const request = authzRequest(ctx, caller, check);
  const policies: PolicySet = {
    identityPolicies: caller.identityPolicies,
    resourcePolicyKind: check.resourcePolicyKind,
    ...(check.resourcePolicy === undefined ? {} : { resourcePolicy: check.resourcePolicy }),
  };
  const decision = evaluate(policies, request, { trace: caller.explain !== undefined });
  // Answered at once unless grants must be asked (they may read storage): the usual request awaits nothing here.
  if (decision.decision !== "implicit-deny" || check.grants === undefined) return decided(ctx, caller, check, decision);
  return Promise.resolve(check.grants()).then((granted) =>
    decided(ctx, caller, check, granted ? { decision: "allow", trace: caller.explain === undefined ? decision.trace : [...decision.trace, "grant allows"] } : decision),
  );
}

/** Explains the decision (debug log) and answers it: the decision when allowed, AccessDenied in AWS's words when not. */
function decided(ctx: Requesting, caller: Caller, check: AccessCheck, decision: Decision): Decision {
  caller.explain?.({
    requestId: ctx.requestId,
    principal: caller.principal.arn,
    action: check.action,
    resource: check.resource,
    decision: decision.decision,
    ...(decision.deciding === undefined ? {} : { policyType: decision.deciding.policyType }),
    ...(decision.deciding?.sid === undefined ? {} : { sid: decision.deciding.sid }),
    statements: decision.trace,
  });
  if (decision.decision === "allow") return decision;
  if (check.deniedMessage !== undefined) throw new AccessDenied(check.deniedMessage(caller.principal.arn), decision);
  const message = accessDeniedMessage({
    principalArn: caller.principal.arn,
    action: check.action,
    resource: check.shown ?? check.resource,
    decision: decision.decision,
    policyType: decision.deciding?.policyType ?? "identity-based",
  });
  throw new AccessDenied(message, decision);
}

/** Every check in turn; a promise only when one of them had to ask its grants. */
export function authorizeAll(ctx: Requesting, caller: Caller, checks: readonly AccessCheck[]): void | Promise<void> {
  for (let i = 0; i < checks.length; i++) {
    const pending = authorize(ctx, caller, checks[i] as AccessCheck);
    if (pending instanceof Promise) return pending.then(() => authorizeAll(ctx, caller, checks.slice(i + 1)));
  }
  return undefined;
}
