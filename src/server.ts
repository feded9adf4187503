// The node:http (or node:https) listener: CORS, then POST / to the AWS endpoint, everything else to the express admin app.
import { randomUUID } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { TlsOptions } from "node:tls";
import type { Express } from "express";
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
}

/** A browser page from an origin that may not call: not this machine's, and signatures unchecked. */
const foreignPage = (req: http.IncomingMessage, anyOrigin: boolean): boolean =>
  req.headers.origin !== undefined && !anyOrigin && !isLoopbackOrigin(req.headers.origin);

/** Origins of pages served from this machine: localhost (and *.localhost), 127.0.0.0/8, [::1]. */
export function isLoopbackOrigin(origin: string): boolean {
  let hostname: string;
  try {
    hostname = new URL(origin).hostname;
  } catch {
    return false;
  }
  return hostname === "localhost" || hostname.endsWith(".localhost") || /^127(\.\d{1,3}){3}$/.test(hostname) || hostname === "[::1]";
}

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
  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (cors && applyCors(req, res, anyOrigin)) return;
    // A bodiless POST is a "simple" request browsers send without asking: no other site's page may wipe state.
    if (req.method === "POST" && req.url?.startsWith("/_secretslite/") && foreignPage(req, anyOrigin)) {
      res.writeHead(403, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ message: `Admin routes refuse requests from pages on ${req.headers.origin ?? ""}.` }));
      return;
    }
    // Only the exact path `/` is the AWS endpoint: the SDKs and the CLI always post there.
    if (req.method === "POST" && (req.url === "/" || req.url?.startsWith("/?"))) {
      if (aws !== undefined) return aws(req, res);
      res.writeHead(503, {
        "Content-Type": "application/x-amz-json-1.1",
        "x-amzn-RequestId": randomUUID(),
        "X-Amzn-ErrorType": "ServiceUnavailableException",
      });
      res.end(NOT_READY);
      return;
    }
    admin(req, res);
  };
  const server = options.tls === undefined ? http.createServer(handle) : https.createServer(options.tls, handle);
  // SDK clients keep connections alive; the server must outlast their idle timeout so sockets are not cut mid-request.
  server.keepAliveTimeout = 65_000;
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
