// CloudTrail-shaped audit events: who called which operation, where, with what (never secret material), and how it ended.
import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { AwsError, internalFailure } from "../errors";
import type { ServiceName } from "../generated";
import { AccessDenied } from "../iam/authorize";
import type { Caller as Authorized } from "../iam/caller";
import type { RequestContext } from "../services/request";
import type { Scope } from "../services/scope";
import type { AuditLog } from "./audit-log";
import { trailElements } from "./parameters";

/** The principal CloudTrail names for the KMS requests Secrets Manager sends on a caller's behalf. */
export const SECRETS_MANAGER_PRINCIPAL = "secretsmanager.amazonaws.com";

/** Who sent a request, as the protocol layer saw it. */
export interface Caller {
  readonly accessKeyId: string;
  readonly sourceIPAddress: string;
  readonly userAgent: string;
}

/** On a request's context only with --audit-log: without it no event is ever built. */
export interface RequestAudit {
  readonly log: AuditLog;
  readonly caller: Caller;
  /** The eventID of the request's own event, fixed up front so GetKeyLastUsage can report it as CloudTrailEventId. */
  readonly eventId: string;
}

export interface AuditedCall {
  readonly service: ServiceName;
  readonly operation: string;
  /** The decoded request; undefined when decoding failed (CloudTrail then shows null). */
  readonly input: unknown;
  readonly output?: unknown;
  /** Set when the call failed. */
  readonly error?: unknown;
  /** The service that sent the request for the caller (Secrets Manager's requests to KMS). */
  readonly invokedBy?: string;
  /** The request's own event takes RequestAudit.eventId; extra events (a batch's per-secret ones) get fresh ids. */
  readonly eventId?: string;
}

/** Appends the call's event when the context carries an audit log; a no-op otherwise. */
export function recordCall(ctx: RequestContext, call: AuditedCall): void {
  const audit = ctx.audit;
  if (audit === undefined) return;
  audit.log.write(cloudTrailEvent(ctx, audit.caller, call));
}

/** Read-only as CloudTrail marks them: reads, and KMS's cryptographic operations (they change no resource). */
const READ_ONLY = /^(Get|List|Describe|BatchGet|Validate)|^(Encrypt|Decrypt|ReEncrypt|GenerateDataKey.*|GenerateMac|VerifyMac|GenerateRandom|Sign|Verify|DeriveSharedSecret)$/;

const KMS_KEY_ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const KMS_KEY_ARN = /^arn:[^:]+:kms:[^:]*:\d{12}:key\//;

/** Milliseconds dropped, as CloudTrail writes eventTime: 2025-05-20T20:46:16Z. */
const eventTime = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, "Z");

export function cloudTrailEvent(ctx: RequestContext, caller: Caller, call: AuditedCall): Record<string, unknown> {
  const { scope } = ctx;
  const readOnly = READ_ONLY.test(call.operation);
  const failed = call.error !== undefined;
  // What the caller was answered: anything but an AwsError went out as InternalFailure.
  const failure = !failed ? undefined : call.error instanceof AwsError ? call.error : internalFailure(call.error);
  const output = call.output as Record<string, unknown> | undefined;
  const keyMaterialId = !failed && typeof output?.KeyMaterialId === "string" ? output.KeyMaterialId : undefined;
  const resources = call.service === "kms" ? kmsKeyResources(scope, call.input, failed ? undefined : output) : undefined;
  return {
    eventVersion: "1.11",
    userIdentity: {
      ...(ctx.caller === undefined ? keyHolderIdentity(scope, caller.accessKeyId) : principalIdentity(ctx.caller, caller.accessKeyId)),
      ...(call.invokedBy === undefined ? {} : { invokedBy: call.invokedBy }),
    },
    eventTime: eventTime(ctx.now),
    eventSource: `${call.service}.amazonaws.com`,
    eventName: call.operation,
    awsRegion: scope.region,
    // A service calling for the caller appears as itself, as in CloudTrail.
    sourceIPAddress: call.invokedBy ?? caller.sourceIPAddress,
    userAgent: call.invokedBy ?? caller.userAgent,
    // CloudTrail records an authorization failure as "AccessDenied", not the wire's AccessDeniedException: KMS events
    // show `"errorCode": "AccessDenied"` with the "User: … is not authorized to perform: kms:GenerateDataKey …" text
    // (a CloudTrail record quoted in cloudposse/terraform-aws-cloudwatch-flow-logs#5), and CloudTrail's own
    // access-denied filters look for that code. Other errors keep their exception name, as CloudTrail shows them.
    ...(failure === undefined ? {} : { errorCode: failure instanceof AccessDenied ? "AccessDenied" : failure.code }),
    // AWS sends some errors without a message (InvalidCiphertextException); CloudTrail then has none either.
    ...(failure === undefined || failure.message === "" ? {} : { errorMessage: failure.message }),
    requestParameters: trailElements(call.input),
    // CloudTrail records no response for reads (a secret value, a data key) and none for failures.
    responseElements: readOnly || failed ? null : trailElements(call.output),
    ...(additionalEventData(keyMaterialId, failure) ?? {}),
    requestID: ctx.requestId,
    eventID: call.eventId ?? randomUUID(),
    readOnly,
    ...(resources === undefined || resources.length === 0 ? {} : { resources }),
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: scope.account,
    eventCategory: "Management",
  };
}

/** Without --enforce-auth there is no IAM: the access key stands for the user that holds it. */
function keyHolderIdentity(scope: Scope, accessKeyId: string): Record<string, unknown> {
  return {
    type: "IAMUser",
    principalId: accessKeyId,
    arn: `arn:${scope.partition}:iam::${scope.account}:user/${accessKeyId}`,
    accountId: scope.account,
    accessKeyId,
    userName: accessKeyId,
  };
}

/**
 * With --enforce-auth, the principal of the principals file as CloudTrail's userIdentity names it
 * (cloudtrail-event-reference-user-identity): an IAMUser with its userName, an AssumedRole with the role that issued
 * the session under sessionContext.sessionIssuer, or the account's Root.
 */
function principalIdentity(caller: Authorized, accessKeyId: string): Record<string, unknown> {
  const { principal } = caller;
  const common = { principalId: principalIdOf(principal), arn: principal.arn, accountId: principal.account, accessKeyId };
  if (principal.kind === "root") return { type: "Root", ...common };
  if (principal.kind === "user") return { type: "IAMUser", ...common, userName: principal.username ?? principal.arn.split("/").pop() };
  const roleArn = principal.roleArn ?? "";
  return {
    type: "AssumedRole",
    ...common,
    sessionContext: {
      sessionIssuer: { type: "Role", principalId: roleIdOf(roleArn), arn: roleArn, accountId: principal.account, userName: roleArn.split("/").pop() ?? "" },
      // The principals file does not say when the session was made or whether MFA was used: CloudTrail's defaults.
      attributes: { mfaAuthenticated: "false" },
    },
  };
}

/*
 * principalId as STS GetCallerIdentity's UserId shows it for the same principal: the account for its root, AIDA… for
 * a user, AROA…:session for a role session. Derived from the ARN the way src/iam/principals-file.ts derives UserId
 * (kept in step with it by spec/audit/enforce-audit.spec.ts, which compares the two), so both name a caller alike.
 */
const opaqueId = (text: string): string => createHash("sha256").update(text).digest("hex").slice(0, 17).toUpperCase();
const roleIdOf = (roleArn: string): string => `AROA${opaqueId(roleArn)}`;
function principalIdOf(principal: Authorized["principal"]): string {
  if (principal.kind === "root") return principal.account;
  if (principal.kind === "user") return `AIDA${opaqueId(principal.arn)}`;
  return `${roleIdOf(principal.roleArn ?? principal.arn)}:${principal.arn.split("/").pop() ?? ""}`;
}

/**
 * CloudTrail has no field for the statement that decided an authorization: secretslite puts it under
 * additionalEventData.authorization ({decision, policyType, sid}) so a denial can be traced to its statement.
 */
function additionalEventData(keyMaterialId: string | undefined, failure: AwsError | undefined): { additionalEventData: Record<string, unknown> } | undefined {
  const data: Record<string, unknown> = {};
  if (keyMaterialId !== undefined) data.keyMaterialId = keyMaterialId;
  if (failure instanceof AccessDenied) {
    const { decision, deciding } = failure.decision;
    data.authorization = {
      decision,
      ...(deciding === undefined ? {} : { policyType: deciding.policyType }),
      ...(deciding?.sid === undefined ? {} : { sid: deciding.sid }),
    };
  }
  return Object.keys(data).length === 0 ? undefined : { additionalEventData: data };
}

/** The KMS keys a call used: the ARNs its response names, else the key its request names by id or ARN (not by alias). */
function kmsKeyResources(scope: Scope, input: unknown, output: Record<string, unknown> | undefined): Array<Record<string, string>> {
  const arns = new Set<string>();
  const add = (value: unknown): void => {
    if (typeof value === "string" && KMS_KEY_ARN.test(value)) arns.add(value);
  };
  if (output !== undefined) {
    add(output.SourceKeyId);
    add(output.KeyId);
    add((output.KeyMetadata as Record<string, unknown> | undefined)?.Arn);
  }
  if (arns.size === 0 && input !== null && typeof input === "object") {
    const keyId = (input as Record<string, unknown>).KeyId;
    if (typeof keyId === "string") {
      if (KMS_KEY_ID.test(keyId)) arns.add(`arn:${scope.partition}:kms:${scope.region}:${scope.account}:key/${keyId}`);
      else add(keyId);
    }
  }
  return [...arns].map((arn) => ({ accountId: arn.split(":")[4] ?? scope.account, type: "AWS::KMS::Key", ARN: arn }));
}

/** The audit part of a request's context: the caller as the connection and the signature show it. */
export function requestAudit(log: AuditLog, req: IncomingMessage, accessKeyId: string): RequestAudit {
  const address = req.socket.remoteAddress ?? "";
  return {
    log,
    eventId: randomUUID(),
    caller: {
      accessKeyId,
      // IPv4 clients of a dual-stack listener show as ::ffff:a.b.c.d; CloudTrail shows a.b.c.d.
      sourceIPAddress: address.startsWith("::ffff:") ? address.slice(7) : address,
      userAgent: req.headers["user-agent"] ?? "",
    },
  };
}
