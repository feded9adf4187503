// The AWS JSON-1.1 endpoint: size cap → content type → JSON → target → auth → validation → operation → encode.
import { isUtf8 } from "node:buffer";
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AuditLog } from "../audit/audit-log";
import { recordCall, requestAudit } from "../audit/events";
import { AwsError, internalFailure, requestEntityTooLarge, serializationError, unknownOperation } from "../errors";
import { models, type ServiceName } from "../generated";
import type { Logger } from "../logger";
import type { Clock } from "../services/clock";
import type { Operation, RequestContext } from "../services/request";
import { kmsOperations } from "../services/kms";
import { secretsManagerOperations } from "../services/secretsmanager";
import { createRequestContext, type Domains, type ServiceContext } from "./context";
import { toWire } from "./encode";
import { StoreFault } from "../storage/store";
import { parseAuthorization, type SignatureVerifier } from "./sigv4";
import { decodeInput } from "./validate";
import { handleSts, isStsRequest } from "./sts";
import type { Principals } from "../iam/principals-file";
import { callerOf, type Caller } from "../iam/caller";

interface ServiceEntry {
  readonly service: ServiceName;
  /** SigV4 signing name: the credential scope's service must equal it. */
  readonly signingName: "kms" | "secretsmanager";
  // Inputs are decoded against the model before the call, so the table need not know each operation's types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly operations: Readonly<Record<string, Operation<any, any, ServiceContext>>>;
  readonly modelled: ReadonlySet<string>;
}

/** X-Amz-Target prefix → service. */
const SERVICES: ReadonlyMap<string, ServiceEntry> = new Map<string, ServiceEntry>([
  [
    models.kms.targetPrefix,
    { service: "kms", signingName: "kms", operations: kmsOperations, modelled: new Set(models.kms.operations) },
  ],
  [
    models.secretsmanager.targetPrefix,
    {
      service: "secretsmanager",
      signingName: "secretsmanager",
      operations: secretsManagerOperations,
      modelled: new Set(models.secretsmanager.operations),
    },
  ],
]);

/** Services as users know them, for messages: never the wire's target prefix (TrentService, secretsmanager). */
const SERVICE_NAMES: Readonly<Record<ServiceName, string>> = { kms: "KMS", secretsmanager: "Secrets Manager" };

/** Why a request's X-Amz-Target names no operation secretslite serves. */
function unknownTarget(target: unknown, entry: ServiceEntry | undefined, operationName: string): AwsError {
  const served = `${SERVICE_NAMES.kms} and ${SERVICE_NAMES.secretsmanager}`;
  if (typeof target !== "string" || target === "") {
    return unknownOperation(`No operation named: send the X-Amz-Target header (secretslite serves ${served})`);
  }
  if (entry === undefined) return unknownOperation(`X-Amz-Target '${target}' names no service secretslite serves (${served})`);
  return unknownOperation(`${SERVICE_NAMES[entry.service]} has no operation ${operationName === "" ? "(none named)" : operationName}`);
}

const CONTENT_TYPE = "application/x-amz-json-1.1";
/** The SDKs send 1.1; 1.0 and plain JSON are what hand-written clients send, and AWS takes them. */
const ACCEPTED_CONTENT_TYPES = new Set([CONTENT_TYPE, "application/x-amz-json-1.0", "application/json"]);

export interface AwsEndpointOptions {
  readonly maxBodyBytes: number;
  readonly defaultAccount: string;
  /** Set in strict mode only. */
  readonly verifier: SignatureVerifier | undefined;
  /** --principals: the account each known access key acts in, and who GetCallerIdentity says it is. */
  readonly principals?: Principals | undefined;
  /** --enforce-auth: each request is authorized for the principal its access key belongs to (principals required). */
  readonly enforceAuth?: boolean;
  readonly clock: Clock;
  readonly domains: Domains;
  readonly logger: Logger;
  /** --audit-log: each call's CloudTrail-shaped event goes there; without it none is built. */
  readonly audit?: AuditLog | undefined;
  /**
   * The console's call ring: told of each answered Secrets Manager or KMS request, success or failure, after the answer
   * is sent. Without it nothing is built or timed for it (the hot path stays as it was).
   */
  readonly onCall?: ((call: AnsweredCall) => void) | undefined;
}

/** What the endpoint knows of a request once answered; `input` is the decoded request (undefined when decoding failed). */
export interface AnsweredCall {
  readonly requestId: string;
  /** When the request's body had arrived (epoch ms) and how long the answer took. */
  readonly startedAt: number;
  readonly durationMs: number;
  /** Undefined when the request named no operation secretslite serves. */
  readonly service: ServiceName | undefined;
  readonly operation: string;
  readonly accessKeyId: string | undefined;
  /** The principal's ARN when --principals lists the access key and the request got past the signature check; else undefined. */
  readonly principalArn: string | undefined;
  /** The account and region the request ran in, once its signature was read. */
  readonly account: string | undefined;
  readonly region: string | undefined;
  /** Decoded, as the audit log takes it: never kept as is (it may hold a secret value); see src/console/calls.ts. */
  readonly input: unknown;
  /** The parsed JSON body, for the resource a request named when it failed validation. */
  readonly body: unknown;
  readonly status: number;
  readonly errorCode: string | undefined;
  readonly errorMessage: string | undefined;
}

export type AwsEndpoint = (req: IncomingMessage, res: ServerResponse) => void;

/** Each service's own fault shape (500): what a caller gets when storage could not make or refuses a write. */
const STORE_FAULT_SHAPES: Readonly<Record<ServiceName, string>> = { kms: "KMSInternalException", secretsmanager: "InternalServiceError" };

/** A StoreFault becomes the calling service's fault, with its message (the cause stays for the log); the rest is unchanged. */
const asServiceFault = (error: unknown, service: ServiceName | undefined): unknown =>
  error instanceof StoreFault && service !== undefined
    ? new AwsError(STORE_FAULT_SHAPES[service], error.message, { status: 500, cause: error })
    : error;

export function createAwsEndpoint(options: AwsEndpointOptions): AwsEndpoint {
  // A key in the principals file acts in its principal's account; any other as before (a 12-digit key is its account).
  const accountOf = (accessKeyId: string): string | undefined => options.principals?.byAccessKey.get(accessKeyId)?.principal.account;
  const { maxBodyBytes, logger, onCall } = options;
  const debugRequests = logger.enabled("debug");
  // With debug logging, each authorization decision is explained: which statements applied, which one decided.
  const explain: Caller["explain"] = debugRequests ? (explanation) => logger.debug("authorization", { ...explanation }) : undefined;
  /** Only with --enforce-auth; the verifier has already refused a key the principals file does not list. */
  const callerFor = (req: IncomingMessage, accessKeyId: string): Caller | undefined => {
    if (options.enforceAuth !== true) return undefined;
    const entry = options.principals?.byAccessKey.get(accessKeyId);
    return entry === undefined ? undefined : callerOf(entry.principal, entry.identityPolicies, req, explain, options.principals);
  };

  /** The debug line of each request: what was called and how it ended, never a body. */
  const logRequest = (requestId: string, started: number | undefined, operation: string | undefined, status: number, code: string | undefined): void =>
    logger.debug("request", { requestId, operation, status, code, ms: started === undefined ? undefined : Math.round((performance.now() - started) * 1000) / 1000 });

  const send = (res: ServerResponse, requestId: string, status: number, body: string, errorType?: string): void => {
    const headers: Record<string, string | number> = {
      "Content-Type": CONTENT_TYPE,
      "Content-Length": Buffer.byteLength(body),
      "x-amzn-RequestId": requestId,
    };
    if (errorType !== undefined) headers["X-Amzn-ErrorType"] = errorType;
    res.writeHead(status, headers);
    res.end(body);
  };

  const sendError = (res: ServerResponse, requestId: string, error: unknown, service: ServiceName | undefined): { code: string; status: number } => {
    const awsError = error instanceof AwsError ? error : internalFailure(error);
    const shape = service === undefined ? undefined : models[service].errorShapes[awsError.code];
    const status = awsError.status ?? (shape?.fault ? 500 : 400);
    if (status >= 500) logger.error("internal failure", { requestId, code: awsError.code, cause: awsError.cause ?? error });
    // AWS leaves the message out when it has none (InvalidCiphertextException, AWS's UnknownOperationException).
    const body = JSON.stringify(
      awsError.message === "" ? { __type: awsError.code } : { __type: awsError.code, [shape?.messageMember ?? "message"]: awsError.message },
    );
    send(res, requestId, status, body, awsError.code);
    return { code: awsError.code, status };
  };

  /** Logging and auditing after the answer: a failure there is logged, never answered or thrown. */
  const afterAnswer = (requestId: string, work: () => void): void => {
    try {
      work();
    } catch (error) {
      logger.error("recording a finished request failed", { requestId, error });
    }
  };

  /** Only called when there is a listener: the one place a call's record is allocated. */
  const tellCall = (
    listener: (call: AnsweredCall) => void,
    requestId: string,
    started: number,
    service: ServiceName | undefined,
    operation: string,
    ctx: RequestContext | undefined,
    accessKeyId: string | undefined,
    /** Past the signature check (when there is one): only then does the key stand for its principal. */
    verified: boolean,
    input: unknown,
    json: unknown,
    status: number,
    error: unknown,
  ): void => {
    const durationMs = performance.now() - started;
    const failure = error === undefined ? undefined : error instanceof AwsError ? error : internalFailure(error);
    listener({
      requestId,
      startedAt: Date.now() - durationMs,
      durationMs: Math.round(durationMs * 1000) / 1000,
      service,
      operation,
      accessKeyId,
      principalArn: accessKeyId === undefined || !verified ? undefined : options.principals?.byAccessKey.get(accessKeyId)?.principal.arn,
      account: ctx?.scope.account,
      region: ctx?.scope.region,
      input,
      body: json,
      status,
      errorCode: failure?.code,
      errorMessage: failure?.message,
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, requestId: string, body: Buffer, started: number): Promise<void> => {
    let service: ServiceName | undefined;
    let operationName = "";
    // For the call listener only: who signed, in which scope, and the body as parsed (undecoded).
    let accessKeyId: string | undefined;
    let scoped: RequestContext | undefined;
    let json: unknown;
    // Set once the caller is known (its signature checked in strict mode): from then on, failures are audited too.
    let audited: RequestContext | undefined;
    let input: unknown;
    try {
      const contentType = (req.headers["content-type"] ?? "").split(";", 1)[0]?.trim().toLowerCase() ?? "";
      if (isStsRequest(req, contentType)) {
        handleSts(req, res, requestId, body, { verifier: options.verifier, principals: options.principals, defaultAccount: options.defaultAccount, now: () => options.clock.now() });
        return;
      }
      if (!ACCEPTED_CONTENT_TYPES.has(contentType)) {
        throw serializationError(`Unsupported Content-Type '${contentType}': send ${CONTENT_TYPE}.`);
      }
      // JSON text is UTF-8 (RFC 8259 §8.1). Decoding other bytes would put U+FFFD where they were and store a
      // value the caller never sent, so such a body is refused like any other that is not JSON.
      if (!isUtf8(body)) throw serializationError("Request body is not valid UTF-8.");
      try {
        json = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
      } catch {
        throw serializationError("Request body is not valid JSON.");
      }

      const target = req.headers["x-amz-target"];
      const dot = typeof target === "string" ? target.indexOf(".") : -1;
      const entry = dot > 0 ? SERVICES.get((target as string).slice(0, dot)) : undefined;
      operationName = dot > 0 ? (target as string).slice(dot + 1) : "";
      if (entry === undefined || !entry.modelled.has(operationName)) throw unknownTarget(target, entry, operationName);
      service = entry.service;

      const auth = parseAuthorization(req.headers, entry.signingName);
      const audit = options.audit === undefined ? undefined : requestAudit(options.audit, req, auth.credential.accessKeyId);
      const ctx = createRequestContext(requestId, auth, options.defaultAccount, options.clock, options.domains, audit, accountOf(auth.credential.accessKeyId), callerFor(req, auth.credential.accessKeyId));
      accessKeyId = auth.credential.accessKeyId;
      scoped = ctx;
      options.verifier?.verify(auth, { method: req.method ?? "POST", url: req.url ?? "/", headers: req.headers, body }, entry.signingName, ctx.now);
      audited = ctx;

      input = decodeInput(entry.service, operationName, json);
      // Both tables serve every operation of their model (checked by their types), so a modelled name always has one.
      const operation = entry.operations[operationName];
      if (operation === undefined) throw unknownOperation(`${SERVICE_NAMES[entry.service]} ${operationName} is not implemented`);
      const output = await operation(input, ctx);
      send(res, requestId, 200, JSON.stringify(toWire(output ?? {})));
      // The answer is out: nothing after it may reach the catch below and answer a second time.
      afterAnswer(requestId, () => {
        if (debugRequests) logRequest(requestId, started, `${entry.service}:${operationName}`, 200, undefined);
        if (ctx.audit !== undefined) recordCall(ctx, { service: entry.service, operation: operationName, input, output, eventId: ctx.audit.eventId });
        if (onCall !== undefined) tellCall(onCall, requestId, started, entry.service, operationName, ctx, accessKeyId, true, input, json, 200, undefined);
      });
    } catch (thrown) {
      const error = asServiceFault(thrown, service);
      const { code, status } = sendError(res, requestId, error, service);
      afterAnswer(requestId, () => {
        if (debugRequests) logRequest(requestId, started, service === undefined ? undefined : `${service}:${operationName}`, status, code);
        if (audited?.audit !== undefined && service !== undefined) recordCall(audited, { service, operation: operationName, input, error, eventId: audited.audit.eventId });
        if (onCall !== undefined) tellCall(onCall, requestId, started, service, operationName, scoped, accessKeyId, audited !== undefined, input, json, status, error);
      });
    }
  };

  return (req, res) => {
    const requestId = randomUUID();
    const started = debugRequests || onCall !== undefined ? performance.now() : 0;
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > maxBodyBytes) {
      rejectOversized(req, res, requestId);
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let rejected = false;
    req.on("data", (chunk: Buffer) => {
      if (rejected) return;
      received += chunk.length;
      if (received > maxBodyBytes) {
        rejected = true;
        chunks.length = 0;
        rejectOversized(req, res, requestId);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!rejected)
        void handle(req, res, requestId, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received), started).catch((error: unknown) =>
          logger.error("request handling failed", { requestId, error }),
        );
    });
    req.on("error", (error) => logger.debug("request stream failed", { requestId, error }));
  };

  /** Answers 413 at once and closes the connection after, so the rest of the body is never buffered. */
  function rejectOversized(req: IncomingMessage, res: ServerResponse, requestId: string): void {
    res.setHeader("Connection", "close");
    const { code, status } = sendError(res, requestId, requestEntityTooLarge(maxBodyBytes), undefined);
    if (debugRequests) logRequest(requestId, undefined, undefined, status, code);
    req.resume();
  }
}
