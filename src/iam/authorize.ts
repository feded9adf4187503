// The one decision point both services call: a request's checks evaluated for its caller, AccessDenied in AWS's words.
import { AwsError } from "../errors";
import type { RequestContext } from "../services/request";
import type { Caller } from "./caller";
import type { ContextValue } from "./context";
import { evaluate, type Decision, type PolicySet, type PolicyType } from "./evaluate";
import { accessDeniedMessage } from "./messages";
import type { CompiledPolicy } from "./policy";

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
  /** The request's own condition keys (kms:EncryptionContext:…, secretsmanager:ResourceTag/…). */
  readonly context?: Readonly<Record<string, ContextValue | undefined>>;
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
 */
function requestContext(ctx: Requesting, caller: Caller, check: AccessCheck): Record<string, ContextValue | undefined> {
  const { now, scope, viaService } = ctx;
  const common: Record<string, ContextValue | undefined> = {
    "aws:SecureTransport": caller.secureTransport,
    "aws:CurrentTime": now.toISOString(),
    "aws:EpochTime": Math.floor(now.getTime() / 1000),
    "aws:RequestedRegion": scope.region,
    "aws:ViaAWSService": viaService !== undefined,
  };
  if (viaService === undefined) {
    common["aws:SourceIp"] = caller.sourceIp;
  } else {
    common["aws:CalledVia"] = [`${viaService}.amazonaws.com`];
    if (check.action.startsWith("kms:")) common["kms:ViaService"] = `${viaService}.${scope.region}.amazonaws.com`;
  }
  if (check.action.startsWith("kms:")) common["kms:CallerAccount"] = caller.principal.account;
  return check.context === undefined ? common : Object.assign(common, check.context);
}

/**
 * Decides one check for the request's caller (evaluate.ts has AWS's logic) and throws AccessDeniedException in
 * AWS's words when it is not allowed. Grants are asked only when the policies leave it an implicit deny: an
 * explicit Deny wins over a grant as over anything.
 */
export async function authorize(ctx: Requesting, caller: Caller, check: AccessCheck): Promise<Decision> {
  const explain = caller.explain;
  const request = {
    principal: caller.principal,
    action: check.action,
    resource: check.resource,
    resourceAccount: check.resourceAccount,
    context: requestContext(ctx, caller, check),
  };
  const policies: PolicySet = {
    identityPolicies: caller.identityPolicies,
    resourcePolicyKind: check.resourcePolicyKind,
    ...(check.resourcePolicy === undefined ? {} : { resourcePolicy: check.resourcePolicy }),
  };
  let decision = evaluate(policies, request, { trace: explain !== undefined });
  if (decision.decision === "implicit-deny" && check.grants !== undefined && (await check.grants())) {
    decision = { decision: "allow", trace: explain === undefined ? decision.trace : [...decision.trace, "grant allows"] };
  }
  explain?.({
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
