// A small external key store (XKS) proxy: AWS's XKS proxy API v1 over HTTPS, SigV4-checked, holding AES keys in memory.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AwsError } from "../errors";
import type { Logger } from "../logger";
import { parseAuthorization, SignatureVerifier } from "../protocol/sigv4";

/**
 * One external key. The material lives in this process's memory, read from the keys file: not in a PKCS#11 token
 * (a token object per key would need its own module session here; the proxy is a test double for KMS's side).
 */
export interface XksKey {
  readonly id: string;
  readonly material: Buffer;
  readonly status: "ENABLED" | "DISABLED";
  readonly usage: readonly string[];
}

export interface XksProxyOptions {
  readonly host?: string;
  readonly port?: number;
  /** What precedes /kms/xks/v1 in every path: the store's XksProxyUriPath less that suffix ("" or "/prefix"). */
  readonly pathPrefix?: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly keys: readonly XksKey[];
  readonly tls: { readonly cert: string | Buffer; readonly key: string | Buffer };
  readonly logger: Logger;
  readonly now?: () => Date;
}

export interface RunningXksProxy {
  /** https://localhost:<port>: the certificate names localhost. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** An error of the XKS proxy API: its errorName, HTTP status and an optional errorMessage ("Error codes" of the spec). */
class XksError extends Error {
  constructor(readonly errorName: string, readonly status: number, message: string) {
    super(message);
  }
}

const validation = (message: string) => new XksError("ValidationException", 400, message);

/** The spec's request bodies are small (4,300 bytes of plaintext, base64): anything beyond this is not KMS. */
const MAX_BODY_BYTES = 64 * 1024;

const IV_BYTES = 12;
const TAG_BYTES = 16;

export async function startXksProxy(options: XksProxyOptions): Promise<RunningXksProxy> {
  const keys = new Map(options.keys.map((key) => [key.id, key]));
  const verifier = new SignatureVerifier(new Map([[options.accessKeyId, options.secretAccessKey]]));
  const base = `${options.pathPrefix ?? ""}/kms/xks/v1`;
  const now = options.now ?? (() => new Date());
  const { logger } = options;

  const handle = async (request: IncomingMessage, body: Buffer): Promise<Record<string, unknown>> => {
    const url = request.url ?? "/";
    const path = url.split("?")[0] ?? "";
    const route = routeOf(path, base);
    if (route === undefined) throw new XksError("InvalidUriPathException", 404, `${path} is not an XKS proxy API path under ${base}.`);
    if (request.method !== "POST") throw new XksError("MethodNotAllowed", 405, `${request.method ?? ""} is not allowed: the XKS proxy API takes POST only.`);
    try {
      const auth = parseAuthorization(request.headers, "kms-xks-proxy");
      verifier.verify(auth, { method: "POST", url, headers: request.headers, body }, "kms-xks-proxy", now());
    } catch (error) {
      if (error instanceof AwsError) throw new XksError("AuthenticationFailedException", 401, error.message || error.code);
      throw error;
    }
    const input = parseBody(body);
    const metadata = input.requestMetadata as Record<string, unknown>;
    logger.info("xks-proxy request", {
      operation: route.operation,
      externalKeyId: route.keyId,
      kmsOperation: metadata.kmsOperation,
      kmsRequestId: metadata.kmsRequestId,
      kmsKeyArn: metadata.kmsKeyArn,
      kmsViaService: metadata.kmsViaService,
      awsPrincipalArn: metadata.awsPrincipalArn,
    });
    if (route.operation === "health") return health(keys);
    const key = keys.get(route.keyId);
    if (key === undefined) throw new XksError("KeyNotFoundException", 404, `External key ${route.keyId} is not in this proxy.`);
    if (route.operation === "metadata") {
      return { keySpec: key.material.length === 32 ? "AES_256" : `AES_${key.material.length * 8}`, keyUsage: key.usage, keyStatus: key.status };
    }
    if (key.status !== "ENABLED") throw new XksError("InvalidStateException", 400, `External key ${key.id} is disabled.`);
    if (input.encryptionAlgorithm !== "AES_GCM") throw validation("encryptionAlgorithm must be AES_GCM.");
    const aad = optionalBase64(input, "additionalAuthenticatedData");
    if (route.operation === "encrypt") {
      if (!key.usage.includes("ENCRYPT")) throw new XksError("InvalidKeyUsageException", 400, `External key ${key.id} does not allow ENCRYPT.`);
      return encrypt(key, requiredBase64(input, "plaintext"), aad, input.ciphertextDataIntegrityValueAlgorithm);
    }
    if (!key.usage.includes("DECRYPT")) throw new XksError("InvalidKeyUsageException", 400, `External key ${key.id} does not allow DECRYPT.`);
    return decrypt(key, input, aad);
  };

  const server: Server = createServer({ cert: options.tls.cert, key: options.tls.key }, (request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on("end", () => {
      const answer =
        size > MAX_BODY_BYTES ? Promise.reject(new XksError("UnsupportedOperationException", 501, `The request body exceeds ${MAX_BODY_BYTES} bytes.`)) : handle(request, Buffer.concat(chunks));
      answer.then(
        (result) => send(response, 200, result),
        (error: unknown) => {
          const xks = error instanceof XksError ? error : new XksError("InternalException", 500, "The proxy failed.");
          if (!(error instanceof XksError)) logger.error("xks-proxy failure", { cause: error });
          logger.info("xks-proxy error", { path: request.url, errorName: xks.errorName, status: xks.status });
          send(response, xks.status, { errorName: xks.errorName, errorMessage: xks.message });
        },
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://localhost:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Route = { operation: "health"; keyId: "" } | { operation: "metadata" | "encrypt" | "decrypt"; keyId: string };

function routeOf(path: string, base: string): Route | undefined {
  if (path === `${base}/health`) return { operation: "health", keyId: "" };
  if (!path.startsWith(`${base}/keys/`)) return undefined;
  const match = /^([A-Za-z0-9._-]{1,128})\/(metadata|encrypt|decrypt)$/.exec(path.slice(base.length + "/keys/".length));
  if (match === null) return undefined;
  return { operation: match[2] as "metadata" | "encrypt" | "decrypt", keyId: match[1] ?? "" };
}

function parseBody(body: Buffer): Record<string, unknown> {
  let input: unknown;
  try {
    input = JSON.parse(body.toString("utf8"));
  } catch {
    throw validation("The request body is not JSON.");
  }
  if (typeof input !== "object" || input === null || Array.isArray(input)) throw validation("The request body is not a JSON object.");
  const record = input as Record<string, unknown>;
  const metadata = record.requestMetadata;
  if (typeof metadata !== "object" || metadata === null || typeof (metadata as Record<string, unknown>).kmsOperation !== "string") {
    throw validation("requestMetadata with kmsOperation is required.");
  }
  return record;
}

function optionalBase64(input: Record<string, unknown>, field: string): Buffer | undefined {
  const value = input[field];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw validation(`${field} must be Base64.`);
  return Buffer.from(value, "base64");
}

function requiredBase64(input: Record<string, unknown>, field: string): Buffer {
  const value = optionalBase64(input, field);
  if (value === undefined) throw validation(`${field} is required.`);
  return value;
}

function health(keys: ReadonlyMap<string, XksKey>): Record<string, unknown> {
  return {
    xksProxyFleetSize: 1,
    xksProxyVendor: "secretslite",
    xksProxyModel: "secretslite xks-proxy 1.0",
    ekmVendor: "secretslite",
    ekmFleetDetails: [{ id: "memory", model: `in-memory keys (${keys.size})`, healthStatus: "ACTIVE" }],
  };
}

function cipherOf(key: XksKey): "aes-128-gcm" | "aes-192-gcm" | "aes-256-gcm" {
  if (key.material.length === 16) return "aes-128-gcm";
  if (key.material.length === 24) return "aes-192-gcm";
  return "aes-256-gcm";
}

function encrypt(key: XksKey, plaintext: Buffer, aad: Buffer | undefined, cdivAlgorithm: unknown): Record<string, unknown> {
  if (cdivAlgorithm !== undefined && cdivAlgorithm !== "SHA_256") throw validation("ciphertextDataIntegrityValueAlgorithm must be SHA_256.");
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(cipherOf(key), key.material, iv);
  if (aad !== undefined) cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  const result: Record<string, unknown> = {
    ciphertext: ciphertext.toString("base64"),
    initializationVector: iv.toString("base64"),
    authenticationTag: tag.toString("base64"),
  };
  // Appendix C: SHA-256 over AAD ‖ ciphertextMetadata (none here) ‖ IV ‖ ciphertext ‖ tag.
  if (cdivAlgorithm === "SHA_256") {
    result.ciphertextDataIntegrityValue = createHash("sha256").update(aad ?? Buffer.alloc(0)).update(iv).update(ciphertext).update(tag).digest("base64");
  }
  return result;
}

function decrypt(key: XksKey, input: Record<string, unknown>, aad: Buffer | undefined): Record<string, unknown> {
  const ciphertext = requiredBase64(input, "ciphertext");
  const iv = requiredBase64(input, "initializationVector");
  const tag = requiredBase64(input, "authenticationTag");
  const invalid = () => new XksError("InvalidCiphertextException", 400, "The ciphertext, initialization vector, additional authenticated data or authentication tag is corrupted, missing, or otherwise invalid.");
  // This proxy returns no ciphertextMetadata, so a ciphertext that carries some was not made here.
  if (input.ciphertextMetadata !== undefined || (iv.length !== 12 && iv.length !== 16) || tag.length !== TAG_BYTES) throw invalid();
  try {
    const decipher = createDecipheriv(cipherOf(key), key.material, iv);
    if (aad !== undefined) decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return { plaintext: Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("base64") };
  } catch {
    throw invalid();
  }
}

function send(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  response.end(text);
}

/**
 * The keys file: `{"keys": [{"id": "…", "material": "<base64, 32 bytes>", "status"?: "ENABLED"|"DISABLED",
 * "usage"?: ["ENCRYPT","DECRYPT"]}]}`. Material of 16 or 24 bytes is accepted, to stand for a key KMS must refuse.
 */
export function loadXksKeysFile(path: string): XksKey[] {
  const parsed = JSON.parse(readFileSync(path, "utf8")) as { keys?: unknown };
  if (!Array.isArray(parsed.keys)) throw new Error(`${path}: expected {"keys": [...]}`);
  return parsed.keys.map((entry: unknown, index) => {
    const raw = entry as { id?: unknown; material?: unknown; status?: unknown; usage?: unknown };
    if (typeof raw.id !== "string" || !/^[A-Za-z0-9._-]{1,128}$/.test(raw.id)) throw new Error(`${path}: keys[${index}].id must be 1-128 of A-Z a-z 0-9 . - _`);
    const material = typeof raw.material === "string" ? Buffer.from(raw.material, "base64") : Buffer.alloc(0);
    if (![16, 24, 32].includes(material.length)) throw new Error(`${path}: keys[${index}].material must be 16, 24 or 32 bytes in base64`);
    const status = raw.status === "DISABLED" ? "DISABLED" : "ENABLED";
    const usage = Array.isArray(raw.usage) ? raw.usage.map(String) : ["ENCRYPT", "DECRYPT"];
    return { id: raw.id, material, status, usage };
  });
}
