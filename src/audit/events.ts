// CloudTrail-shaped audit events: who called which operation, where, with what (never secret material), and how it ended.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { AwsError, internalFailure } from "../errors";
import type { ServiceName } from "../generated";
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
    // secretslite has no IAM: the access key stands for the user that holds it.
    userIdentity: {
      type: "IAMUser",
      principalId: caller.accessKeyId,
      arn: `arn:${scope.partition}:iam::${scope.account}:user/${caller.accessKeyId}`,
      accountId: scope.account,
      accessKeyId: caller.accessKeyId,
      userName: caller.accessKeyId,
      ...(call.invokedBy === undefined ? {} : { invokedBy: call.invokedBy }),
    },
    eventTime: eventTime(ctx.now),
    eventSource: `${call.service}.amazonaws.com`,
    eventName: call.operation,
    awsRegion: scope.region,
    // A service calling for the caller appears as itself, as in CloudTrail.
    sourceIPAddress: call.invokedBy ?? caller.sourceIPAddress,
    userAgent: call.invokedBy ?? caller.userAgent,
    ...(failure === undefined ? {} : { errorCode: failure.code }),
    // AWS sends some errors without a message (InvalidCiphertextException); CloudTrail then has none either.
    ...(failure === undefined || failure.message === "" ? {} : { errorMessage: failure.message }),
    requestParameters: trailElements(call.input),
    // CloudTrail records no response for reads (a secret value, a data key) and none for failures.
    responseElements: readOnly || failed ? null : trailElements(call.output),
    ...(keyMaterialId === undefined ? {} : { additionalEventData: { keyMaterialId } }),
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
