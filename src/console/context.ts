// The ConsoleView: each call is the wire's own path after the HTTP layer — the same request context, the same model
// validation, the same operation tables, the same audit event and the same wire encoding — as the console's user.
import { randomUUID } from "node:crypto";
import type { ServerParts } from "./pages";
import type { IncomingMessage } from "node:http";
import type { AuditLog } from "../audit/audit-log";
import { recordCall, requestAudit } from "../audit/events";
import { AwsError, expiredToken, internalFailure, unknownOperation } from "../errors";
import { models, type ServiceName } from "../generated";
import { callerOf } from "../iam/caller";
import type { Principals } from "../iam/principals-file";
import { createRequestContext, type Domains, type ServiceContext } from "../protocol/context";
import { toWire } from "../protocol/encode";
import type { SigV4Auth } from "../protocol/sigv4";
import { decodeInput } from "../protocol/validate";
import type { Clock } from "../services/clock";
import { kmsOperations } from "../services/kms";
import type { Operation } from "../services/request";
import { secretsManagerOperations } from "../services/secretsmanager";
import { StoreFault } from "../storage/store";
import type { ConsoleUser, ConsoleViewWithFacts, ServerFacts } from "./view";

/** The console's calls show in the audit log with this user agent, so a reveal is told apart from an SDK's read. */
export const CONSOLE_USER_AGENT = "secretslite-console";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const OPERATIONS: Readonly<Record<ServiceName, Readonly<Record<string, Operation<any, any, ServiceContext>>>>> = {
  kms: kmsOperations,
  secretsmanager: secretsManagerOperations,
};
const MODELLED: Readonly<Record<ServiceName, ReadonlySet<string>>> = {
  kms: new Set(models.kms.operations),
  secretsmanager: new Set(models.secretsmanager.operations),
};
const STORE_FAULT_SHAPES: Readonly<Record<ServiceName, string>> = { kms: "KMSInternalException", secretsmanager: "InternalServiceError" };

/** What the console needs of the running server; main.ts gives it. */
export interface ConsoleServices {
  readonly defaultAccount: string;
  readonly clock: Clock;
  /** undefined until storage and the key store are open (pages then show ServiceUnavailableException). */
  readonly domains: () => Domains | undefined;
  readonly principals?: Principals | undefined;
  /** --enforce-auth: views run as the signed-in principal. */
  readonly enforceAuth: boolean;
  /** --verify-signatures (or --enforce-auth): the console needs a login. */
  readonly verifySignatures: boolean;
  readonly audit: () => AuditLog | undefined;
  /** The admin token: what the login takes with --verify-signatures. */
  readonly adminToken: string;
  /** Served over TLS: the session cookie is Secure. */
  readonly secure: boolean;
  readonly facts: () => ServerFacts;
  /** The calls ring, the overview's facts and the admin actions (pages/index.ts). */
  readonly server: ServerParts;
}

export interface ViewRequest {
  readonly req: IncomingMessage;
  readonly account: string;
  readonly region: string;
  readonly csrfToken: string;
  /** With --enforce-auth, the signed-in principal's access key; otherwise undefined. */
  readonly accessKeyId: string | undefined;
  /** Links for the account and region the view resolves to (under --enforce-auth, the principal's account). */
  readonly hrefFor: (account: string, region: string) => (path: string, query?: Readonly<Record<string, string | undefined>>) => string;
}

const yyyymmdd = (date: Date): string => date.toISOString().slice(0, 10).replace(/-/g, "");

export function createConsoleView(services: ConsoleServices, request: ViewRequest): ConsoleViewWithFacts {
  const entry = request.accessKeyId === undefined ? undefined : services.principals?.byAccessKey.get(request.accessKeyId);
  // Without --enforce-auth the console acts in the account it looks at: a 12-digit access key names its account,
  // as for any SDK (protocol/context.ts). With it, the principal's own account, as the wire does.
  const accessKeyId = entry?.accessKeyId ?? request.account;
  const account = entry?.principal.account ?? request.account;
  const user: ConsoleUser =
    entry !== undefined ? { kind: "principal", arn: entry.principal.arn, accessKeyId: entry.accessKeyId } : services.verifySignatures ? { kind: "admin" } : { kind: "open" };

  const call = async (service: ServiceName, operationName: string, input: object): Promise<unknown> => {
    const domains = services.domains();
    if (domains === undefined) throw new AwsError("ServiceUnavailableException", "secretslite is starting: storage and the key store are not open yet.", { status: 503 });
    const now = services.clock.now();
    // Session credentials end for the console as for the wire (sigv4.ts): a session signed in before the expiration
    // sees ExpiredTokenException after it, and signs in again with fresh ones.
    if (entry?.expiresAt !== undefined && now.getTime() >= entry.expiresAt) throw expiredToken();
    const auth: SigV4Auth = {
      credential: { accessKeyId, date: yyyymmdd(now), region: request.region, service },
      signedHeaders: [],
      signature: "",
      amzDate: "",
      securityToken: undefined,
    };
    const log = services.audit();
    const wireAudit = log === undefined ? undefined : requestAudit(log, request.req, accessKeyId);
    const audit = wireAudit === undefined ? undefined : { ...wireAudit, caller: { ...wireAudit.caller, userAgent: CONSOLE_USER_AGENT } };
    const caller = services.enforceAuth && entry !== undefined ? callerOf(entry.principal, entry.identityPolicies, request.req, undefined, services.principals) : undefined;
    if (services.enforceAuth && caller === undefined) {
      // Never run unauthorized under --enforce-auth: the router signs a principal in first, so this is a bug's guard.
      throw new AwsError("AccessDeniedException", "Sign in to the console with a principal's access keys.", { status: 400 });
    }
    const ctx = createRequestContext(randomUUID(), auth, services.defaultAccount, services.clock, domains, audit, entry?.principal.account, caller);
    let decoded: Record<string, unknown> | undefined;
    const started = performance.now();
    // An action's calls (a reveal is a GetSecretValue) show in the Calls page like the wire's; a page's reads do not,
    // or every look at the console would push the calls being debugged out of the ring.
    const answered = (status: number, error: AwsError | undefined): void => {
      if (request.req.method !== "POST") return;
      services.server.ring.record({
        requestId: ctx.requestId,
        startedAt: now.getTime(),
        durationMs: performance.now() - started,
        service,
        operation: operationName,
        accessKeyId,
        principalArn: entry?.principal.arn,
        account: ctx.scope.account,
        region: ctx.scope.region,
        input: decoded,
        body: undefined,
        status,
        errorCode: error?.code,
        errorMessage: error?.message,
      });
    };
    try {
      if (!MODELLED[service].has(operationName)) throw unknownOperation(`${service} has no operation ${operationName}`);
      // Exactly as json11.ts: the model's validation, then the operation table.
      decoded = decodeInput(service, operationName, toWire(input));
      const operation = OPERATIONS[service][operationName];
      if (operation === undefined) throw unknownOperation(`${service} ${operationName} is not implemented`);
      const output = await operation(decoded, ctx);
      if (ctx.audit !== undefined) recordCall(ctx, { service, operation: operationName, input: decoded, output, eventId: ctx.audit.eventId });
      answered(200, undefined);
      // Through JSON, as the SDK receives it: dates as epoch seconds, bytes as base64, absent members gone.
      return JSON.parse(JSON.stringify(toWire(output ?? {}))) as unknown;
    } catch (thrown) {
      const error =
        thrown instanceof StoreFault
          ? new AwsError(STORE_FAULT_SHAPES[service], thrown.message, { status: 500, cause: thrown })
          : thrown instanceof AwsError
            ? thrown
            : internalFailure(thrown);
      if (ctx.audit !== undefined) recordCall(ctx, { service, operation: operationName, input: decoded, error, eventId: ctx.audit.eventId });
      answered(error.status ?? 400, error);
      throw error;
    }
  };

  return {
    account,
    region: request.region,
    csrfToken: request.csrfToken,
    href: request.hrefFor(account, request.region),
    call,
    rotationAttempts: async (name, arn) => {
      const rotations = services.domains()?.secrets.rotations;
      // The scope is the ARN's own (DescribeSecret's answer): a secret read across accounts lives in its owner's.
      const [, partition = "", , region = "", owner = ""] = arn.split(":");
      return rotations === undefined ? [] : rotations.lastAttempts({ account: owner, region, partition }, name, arn);
    },
    user,
    server: services.facts(),
  };
}
