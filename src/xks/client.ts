// KMS's side of the XKS proxy API: the --xks-proxies file (endpoint host → local URL and CA) and signed calls to a proxy.
import { readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import path from "node:path";
import { readMappingFile } from "../mapping-file";
import { signOutgoing } from "../protocol/sigv4";

/** Where secretslite really reaches the proxy that a store's XksProxyUriEndpoint names, and the CA its certificate chains to. */
export interface XksProxyTarget {
  readonly url: URL;
  readonly ca: string | undefined;
}

export class XksProxyFileError extends Error {
  override readonly name = "XksProxyFileError";
}

/**
 * Reads `{ <host name>: { url: https://localhost:PORT, ca?: FILE } }` (YAML, or JSON for `.json`). The model's
 * XksProxyUriEndpoint pattern `^https://[a-zA-Z0-9.-]+$` allows no port (AWS calls 443 with a public CA), so the file
 * maps a store's endpoint host to where a local proxy listens and which CA to trust for it.
 */
export function readXksProxyFile(file: string): ReadonlyMap<string, XksProxyTarget> {
  const { source, document } = readMappingFile(file, "XKS proxies file", "endpoint host names to { url, ca }", (message) => new XksProxyFileError(message));
  const proxies = new Map<string, XksProxyTarget>();
  for (const [host, entry] of Object.entries(document)) {
    const { url, ca } = (entry ?? {}) as { url?: unknown; ca?: unknown };
    let parsed: URL;
    try {
      parsed = new URL(String(url));
    } catch {
      throw new XksProxyFileError(`${source}: ${host}.url must be an https:// URL`);
    }
    if (parsed.protocol !== "https:") throw new XksProxyFileError(`${source}: ${host}.url must be an https:// URL`);
    if (ca !== undefined && typeof ca !== "string") throw new XksProxyFileError(`${source}: ${host}.ca must be a PEM file path`);
    proxies.set(host.toLowerCase(), { url: parsed, ca: ca === undefined ? undefined : readFileSync(path.resolve(path.dirname(file), ca), "utf8") });
  }
  return proxies;
}

/**
 * Why a call failed, in the terms of the spec's "KMS Considerations" table: the proxy's errorName, or what went wrong
 * on the way (no TCP connection, no TLS, no answer in time, an answer KMS cannot read).
 */
export type XksFailureKind = "UNREACHABLE" | "TLS" | "TIMEOUT" | "MALFORMED" | (string & {});

export class XksCallError extends Error {
  constructor(readonly kind: XksFailureKind, message: string) {
    super(message);
  }
}

export interface XksCall {
  /** The store's XksProxyUriEndpoint (https://host) and XksProxyUriPath (…/kms/xks/v1). */
  readonly endpoint: string;
  readonly uriPath: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The KMS key's (or store's) Region: the signature's scope. */
  readonly region: string;
}

/** Calls `<endpoint><uriPath>/<operation>` signed for kms-xks-proxy; answers the response body or throws XksCallError. */
export function callXksProxy(
  proxies: ReadonlyMap<string, XksProxyTarget>,
  call: XksCall,
  operation: string,
  body: Record<string, unknown>,
  now: Date,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const publicUrl = new URL(`${call.endpoint}${call.uriPath}/${operation}`);
  const target = proxies.get(publicUrl.hostname.toLowerCase());
  if (target === undefined) {
    return Promise.reject(new XksCallError("UNREACHABLE", `${publicUrl.hostname} is not in --xks-proxies: secretslite reaches only the proxies mapped there`));
  }
  const text = JSON.stringify(body);
  const signature = signOutgoing("POST", publicUrl, text, { ...call, service: "kms-xks-proxy" }, now);
  const send = (): Promise<Record<string, unknown>> => new Promise((resolve, reject) => {
    const request = httpsRequest(
      {
        host: target.url.hostname,
        port: target.url.port || 443,
        servername: target.url.hostname,
        path: publicUrl.pathname,
        method: "POST",
        ca: target.ca,
        timeout: timeoutMs,
        headers: { ...signature, Host: publicUrl.host, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          } catch {
            return reject(new XksCallError("MALFORMED", `the proxy answered HTTP ${response.statusCode ?? 0} without a JSON body`));
          }
          const answer = (typeof parsed === "object" && parsed !== null ? parsed : {}) as Record<string, unknown>;
          if (response.statusCode === 200) return resolve(answer);
          const name = answer.errorName;
          reject(new XksCallError(typeof name === "string" ? name : "MALFORMED", `the proxy answered HTTP ${response.statusCode ?? 0} ${typeof name === "string" ? name : ""}`));
        });
      },
    );
    request.on("timeout", () => {
      request.destroy(new XksCallError("TIMEOUT", `the proxy did not answer within ${timeoutMs} ms`));
    });
    request.on("error", (error: NodeJS.ErrnoException) => {
      if (error instanceof XksCallError) return reject(error);
      // A kept-alive connection the proxy closed meanwhile: Node's documented case for sending once more, on a new one.
      if (error.code === "ECONNRESET" && request.reusedSocket) return reject(new StaleConnection());
      const tls = /CERT|SSL|TLS|SELF_SIGNED|ERR_TLS/i.test(`${error.code ?? ""} ${error.message}`);
      reject(new XksCallError(tls ? "TLS" : "UNREACHABLE", error.message));
    });
    request.end(text);
  });
  return send().catch((error: unknown) => (error instanceof StaleConnection ? send() : Promise.reject(error)));
}

class StaleConnection extends Error {}
