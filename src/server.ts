// The node:http (or node:https) listener: Host check, CORS, then POST / to the AWS endpoint, everything else through one guard to the express admin app.
import { randomUUID } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { TlsOptions } from "node:tls";
import type { Express } from "express";
import { ADMIN_TOKEN_HEADER, adminCredentialsProblem, canonicalPath, hostAllowed, hostName, isLoopbackOrigin, type AdminCredentials, type HostRule } from "./http-access";
import type { AwsEndpoint } from "./protocol/json11";

export interface HttpServer {
  readonly server: http.Server | https.Server;
  readonly host: string;
  readonly port: number;
  /** Installs the AWS endpoint once storage and the key store are ready; until then AWS calls get 503. */
  setAwsEndpoint(endpoint: AwsEndpoint): void;
  close(): Promise<void>;
}

const NOT_READY = JSON.stringify({
  __type: "ServiceUnavailableException",
  message: "secretslite is starting: storage and the key store are not open yet.",
});

export interface ListenOptions {
  /** HTTPS with these settings (src/tls/server-options.ts); plain HTTP when undefined. */
  readonly tls?: TlsOptions;
  /** Answer browser preflights and expose the AWS response headers. */
  readonly cors?: boolean;
  /**
   * Pages from any origin may call (signatures are checked, so a page needs real credentials). Otherwise only
   * pages served from this machine: with unchecked signatures any site a developer visits could read secrets.
   */
  readonly anyOrigin?: boolean;
  /** Host names served besides loopback names, IP literals and the listen host (--allowed-hosts; http-access.ts says why). */
  readonly allowedHosts?: readonly string[];
  /** The admin token (and the signature verifier) admin routes accept. */
  readonly adminCredentials?: AdminCredentials;
  /** --verify-signatures: every admin route but GET health needs adminCredentials. */
  readonly requireAdminCredentials?: boolean;
  /** Connections beyond this many are closed at once (--max-connections). */
  readonly maxConnections?: number;
  /**
   * The console's own check (src/console/app.ts): when admin credentials are required, a console request passes
   * with a signed-in console session (or to the login page and assets) instead of the admin token.
   */
  readonly consoleAdmits?: (req: http.IncomingMessage) => boolean;
}

/**
 * Sockets that have not sent their request headers within this time (idle ones and slowloris trickles alike)
 * get 408 and are closed; SDKs send their headers at once. Checked every CONNECTIONS_CHECK_MS.
 */
const HEADERS_TIMEOUT_MS = 10_000;
/**
 * The whole request, body included: a body trickled a byte at a time holds its socket this long at most. AWS's
 * largest legitimate bodies (about 90 KB) take milliseconds to send on a LAN, 1 MiB seconds on a slow link.
 */
const REQUEST_TIMEOUT_MS = 30_000;
const CONNECTIONS_CHECK_MS = 1_000;
/** When the caller gives none; the CLI's own default is config.ts's, the same. */
const DEFAULT_MAX_CONNECTIONS = 512;

/** A browser page from an origin that may not call: not this machine's, and signatures unchecked. */
const foreignPage = (req: http.IncomingMessage, anyOrigin: boolean): boolean =>
  req.headers.origin !== undefined && !anyOrigin && !isLoopbackOrigin(req.headers.origin);

const HEALTH_PATH = "/_secretslite/health";
const CONSOLE_PATH = "/_secretslite/ui";

/** The console's paths (whether or not it is on): same-origin only, never CORS. */
const isConsoleUrl = (url: string | undefined): boolean =>
  url === CONSOLE_PATH || url?.startsWith(`${CONSOLE_PATH}/`) === true || url?.startsWith(`${CONSOLE_PATH}?`) === true;

/** Origin names the page that sent the request; the console answers its own origin only (another port is another origin). */
const foreignToConsole = (req: http.IncomingMessage): boolean => {
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  const scheme = (req.socket as { encrypted?: boolean }).encrypted === true ? "https" : "http";
  return origin.toLowerCase() !== `${scheme}://${(req.headers.host ?? "").toLowerCase()}`;
};

const refuse = (res: http.ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void => {
  const body = JSON.stringify({ message });
  res.writeHead(status, { ...headers, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
};

/** What the SDK v3 sends from a browser: SigV4's headers, the JSON protocol's, and the SDK's own
 * (browsers forbid setting User-Agent, so the SDK sends x-amz-user-agent; retries add amz-sdk-*). */
const CORS_ALLOWED_HEADERS = [
  "authorization",
  "content-type",
  "x-amz-date",
  "x-amz-target",
  "x-amz-security-token",
  "x-amz-content-sha256",
  "x-amz-user-agent",
  "amz-sdk-invocation-id",
  "amz-sdk-request",
  "x-amzn-trace-id",
];
/** Browsers hide every response header not listed here; the SDKs read these three (the error type and the clock skew). */
const CORS_EXPOSED_HEADERS = "x-amzn-RequestId, x-amzn-ErrorType, Date";
const CORS_METHODS = "POST, GET, OPTIONS";
/** Chrome caps the preflight cache at 2 hours, Firefox at 24. */
const CORS_MAX_AGE = "7200";

/** AWS-shaped, as SDKs parse it: the casing of the message member is the target service's (KMS message, Secrets Manager Message). */
function refuseAwsCall(req: http.IncomingMessage, res: http.ServerResponse, message: string): void {
  const secretsManager = String(req.headers["x-amz-target"] ?? "").startsWith("secretsmanager.");
  const body = JSON.stringify({ __type: "AccessDeniedException", [secretsManager ? "Message" : "message"]: message });
  res.writeHead(403, {
    "Content-Type": "application/x-amz-json-1.1",
    "Content-Length": Buffer.byteLength(body),
    "x-amzn-RequestId": randomUUID(),
    "X-Amzn-ErrorType": "AccessDeniedException",
  });
  res.end(body);
}

/** True when the request was a preflight, answered here. Headers are set before any handler writes, so errors carry them too. */
function applyCors(req: http.IncomingMessage, res: http.ServerResponse, anyOrigin: boolean): boolean {
  const origin = req.headers.origin;
  // No CORS headers for other origins: the browser then withholds the answer from the page.
  if (foreignPage(req, anyOrigin)) return false;
  res.setHeader("Access-Control-Allow-Origin", origin ?? "*");
  if (origin !== undefined) res.setHeader("Vary", "Origin");
  if (req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined) {
    // Also allow what the page asks for beyond the AWS headers (tracing middleware, say): refusing it
    // would only break the browser's call, and the endpoint checks everything that matters itself.
    const requested = (req.headers["access-control-request-headers"] ?? "")
      .split(",")
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== "" && !CORS_ALLOWED_HEADERS.includes(name));
    res.writeHead(204, {
      "Access-Control-Allow-Methods": CORS_METHODS,
      "Access-Control-Allow-Headers": [...CORS_ALLOWED_HEADERS, ...requested].join(", "),
      "Access-Control-Max-Age": CORS_MAX_AGE,
      "Content-Length": 0,
    });
    res.end();
    return true;
  }
  res.setHeader("Access-Control-Expose-Headers", CORS_EXPOSED_HEADERS);
  return false;
}

export async function listen(host: string, port: number, admin: Express, options: ListenOptions = {}): Promise<HttpServer> {
  let aws: AwsEndpoint | undefined;
  const cors = options.cors ?? true;
  const anyOrigin = options.anyOrigin ?? false;
  const hostRule: HostRule = { listenHost: host, allowedHosts: options.allowedHosts ?? [] };
  const requireAdminCredentials = options.requireAdminCredentials ?? false;
  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    // Only the exact path `/` is the AWS endpoint: the SDKs and the CLI always post there.
    const awsCall = req.method === "POST" && (req.url === "/" || req.url?.startsWith("/?") === true);
    // First, before CORS: a DNS-rebinding page is same-origin, so only the name it was loaded from gives it away.
    if (!hostAllowed(req.headers.host, hostRule)) {
      const message =
        `Host '${hostName(req.headers.host ?? "")}' is not served here: only loopback names, IP addresses, the listen host ` +
        "and --allowed-hosts names are (pages on other names may be DNS-rebinding attacks).";
      if (awsCall) return refuseAwsCall(req, res, message);
      return refuse(res, 403, message);
    }
    // The console is a browser UI holding secrets: no CORS answer at all, whatever --verify-signatures allows the API.
    const consoleUrl = isConsoleUrl(req.url);
    if (cors && !consoleUrl && applyCors(req, res, anyOrigin)) return;
    if (awsCall) {
      if (aws !== undefined) return aws(req, res);
      res.writeHead(503, {
        "Content-Type": "application/x-amz-json-1.1",
        "x-amzn-RequestId": randomUUID(),
        "X-Amzn-ErrorType": "ServiceUnavailableException",
      });
      res.end(NOT_READY);
      return;
    }
    // Everything else, whatever its method or path, passes this one guard before express sees it.
    const path = canonicalPath(req.url);
    if (path === undefined) {
      return refuse(res, 404, `No route for ${req.method} ${req.url}. Admin routes have one spelling (lowercase, no trailing slash); the AWS endpoint is POST /.`);
    }
    // A bodiless POST is a "simple" request browsers send without asking: no other site's page may reach any admin route.
    if (foreignPage(req, anyOrigin) || (consoleUrl && foreignToConsole(req))) return refuse(res, 403, `Admin routes refuse requests from pages on ${req.headers.origin ?? ""}.`);
    // Orchestrators probe health without credentials; it tells nothing but versions and readiness.
    const healthProbe = (req.method === "GET" || req.method === "HEAD") && path === HEALTH_PATH;
    // The console signs its users in itself (a session cookie made by its login page), and sends a browser there.
    const consoleAdmitted = consoleUrl && options.consoleAdmits?.(req) === true;
    if (requireAdminCredentials && !healthProbe && !consoleAdmitted) {
      if (consoleUrl && options.consoleAdmits !== undefined && (req.method === "GET" || req.method === "HEAD") && req.headers[ADMIN_TOKEN_HEADER] === undefined && req.headers.authorization === undefined) {
        res.writeHead(303, { Location: `${CONSOLE_PATH}/login?${new URLSearchParams({ next: req.url ?? CONSOLE_PATH }).toString()}`, "Content-Length": 0, "Cache-Control": "no-store" });
        res.end();
        return;
      }
      const problem = options.adminCredentials === undefined ? "No admin credentials are configured." : adminCredentialsProblem(req, options.adminCredentials);
      if (problem !== undefined) return refuse(res, 401, problem, { "WWW-Authenticate": 'Bearer realm="secretslite"' });
    }
    admin(req, res);
  };
  const serverOptions: http.ServerOptions = { connectionsCheckingInterval: CONNECTIONS_CHECK_MS };
  // With TLS the headers clock starts after the handshake: a socket that never sends its ClientHello is
  // bounded by the handshake timeout instead (node's default is 120 s).
  const server = options.tls === undefined
    ? http.createServer(serverOptions, handle)
    : https.createServer({ ...options.tls, ...serverOptions, handshakeTimeout: HEADERS_TIMEOUT_MS }, handle);
  // SDK clients keep connections alive; the server must outlast their idle timeout so sockets are not cut mid-request.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  // Beyond the cap node closes new sockets at once: slow or idle clients cannot pile up without bound.
  server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    host,
    port: address.port,
    setAwsEndpoint: (endpoint) => {
      aws = endpoint;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
