// A small external key store (XKS) proxy: AWS's XKS proxy API v1 over HTTPS, SigV4-checked, its AES keys in a PKCS#11 token.
import { createCipheriv, createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ClusterTokenConnection } from "../crypto/cluster-token";
import { KeyStoreIntegrityError } from "../crypto/key-store";
import { AwsError } from "../errors";
import type { Logger } from "../logger";
import { parseAuthorization, SignatureVerifier } from "../protocol/sigv4";

/**
 * One external key as the keys file lists it. Its material lives in the token only: a key listed without material is
 * generated there on first start; material given (to hold a key made elsewhere) is imported once, then zeroed here.
 */
export interface XksKey {
  readonly id: string;
  readonly material?: Buffer;
  readonly status: "ENABLED" | "DISABLED";
  readonly usage: readonly string[];
}

/** What the proxy does with its token: ClusterTokenConnection's per-key calls (AES token objects, AES-GCM in the token). */
export type XksKeyToken = Pick<ClusterTokenConnection, "description" | "generateKey" | "importKey" | "keyLength" | "seal" | "open" | "random">;

export interface XksProxyOptions {
  readonly host?: string;
  readonly port?: number;
  /** What precedes /kms/xks/v1 in every path: the store's XksProxyUriPath less that suffix ("" or "/prefix"). */
  readonly pathPrefix?: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Served in this order; given material is zeroed once the token holds it (copy it first if you need it). */
  readonly keys: readonly XksKey[];
  /** Holds the keys; the caller opened it and closes it after the proxy. */
  readonly token: XksKeyToken;
  /** Before each key id in its token label: "" (the label is the external key id) unless proxies share a token. */
  readonly keyLabelPrefix?: string;
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
const EMPTY = Buffer.alloc(0);

/** A key the proxy serves: the keys file's metadata and where its material is in the token. */
interface ServedKey {
  readonly id: string;
  readonly label: string;
  readonly keySpec: string;
  readonly status: "ENABLED" | "DISABLED";
  readonly usage: readonly string[];
}

export async function startXksProxy(options: XksProxyOptions): Promise<RunningXksProxy> {
  const { token } = options;
  const keys = new Map(provisionKeys(token, options.keys, options.keyLabelPrefix ?? "", options.logger).map((key) => [key.id, key]));
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
    if (route.operation === "health") return health(token, keys.size, logger);
    const key = keys.get(route.keyId);
    if (key === undefined) throw new XksError("KeyNotFoundException", 404, `External key ${route.keyId} is not in this proxy.`);
    if (route.operation === "metadata") {
      return { keySpec: key.keySpec, keyUsage: key.usage, keyStatus: key.status };
    }
    if (key.status !== "ENABLED") throw new XksError("InvalidStateException", 400, `External key ${key.id} is disabled.`);
    if (input.encryptionAlgorithm !== "AES_GCM") throw validation("encryptionAlgorithm must be AES_GCM.");
    const aad = optionalBase64(input, "additionalAuthenticatedData");
    if (route.operation === "encrypt") {
      if (!key.usage.includes("ENCRYPT")) throw new XksError("InvalidKeyUsageException", 400, `External key ${key.id} does not allow ENCRYPT.`);
      return encrypt(token, key, requiredBase64(input, "plaintext"), aad, input.ciphertextDataIntegrityValueAlgorithm);
    }
    if (!key.usage.includes("DECRYPT")) throw new XksError("InvalidKeyUsageException", 400, `External key ${key.id} does not allow DECRYPT.`);
    return decrypt(token, key, input, aad);
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

/** The token answers (a 1-byte C_GenerateRandom) or the proxy reports its one HSM UNAVAILABLE, as the spec's health check allows. */
function health(token: XksKeyToken, keyCount: number, logger: Logger): Record<string, unknown> {
  let healthStatus = "ACTIVE";
  try {
    token.random(1);
  } catch (error) {
    logger.error("xks-proxy token not answering", { cause: error });
    healthStatus = "UNAVAILABLE";
  }
  return {
    xksProxyFleetSize: 1,
    xksProxyVendor: "secretslite",
    xksProxyModel: "secretslite xks-proxy 1.0",
    ekmVendor: "secretslite",
    ekmFleetDetails: [{ id: "pkcs11", model: `${token.description} (${keyCount} keys)`, healthStatus }],
  };
}

/** AES-GCM by the token (C_Encrypt, CKM_AES_GCM, a 12-byte IV from the token's RNG): the key never leaves it. */
function encrypt(token: XksKeyToken, key: ServedKey, plaintext: Buffer, aad: Buffer | undefined, cdivAlgorithm: unknown): Record<string, unknown> {
  if (cdivAlgorithm !== undefined && cdivAlgorithm !== "SHA_256") throw validation("ciphertextDataIntegrityValueAlgorithm must be SHA_256.");
  const iv = token.random(IV_BYTES);
  let sealed: Buffer;
  try {
    sealed = token.seal(key.label, iv, aad ?? EMPTY, plaintext);
  } finally {
    plaintext.fill(0);
  }
  // The token's output is ciphertext ‖ tag; the API carries them apart.
  const ciphertext = sealed.subarray(0, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const result: Record<string, unknown> = {
    ciphertext: ciphertext.toString("base64"),
    initializationVector: iv.toString("base64"),
    authenticationTag: tag.toString("base64"),
  };
  // Appendix C: SHA-256 over AAD ‖ ciphertextMetadata (none here) ‖ IV ‖ ciphertext ‖ tag.
  if (cdivAlgorithm === "SHA_256") {
    result.ciphertextDataIntegrityValue = createHash("sha256").update(aad ?? EMPTY).update(iv).update(ciphertext).update(tag).digest("base64");
  }
  return result;
}

function decrypt(token: XksKeyToken, key: ServedKey, input: Record<string, unknown>, aad: Buffer | undefined): Record<string, unknown> {
  const ciphertext = requiredBase64(input, "ciphertext");
  const iv = requiredBase64(input, "initializationVector");
  const tag = requiredBase64(input, "authenticationTag");
  const invalid = () => new XksError("InvalidCiphertextException", 400, "The ciphertext, initialization vector, additional authenticated data or authentication tag is corrupted, missing, or otherwise invalid.");
  // This proxy returns no ciphertextMetadata, so a ciphertext that carries some was not made here.
  if (input.ciphertextMetadata !== undefined || (iv.length !== 12 && iv.length !== 16) || tag.length !== TAG_BYTES) throw invalid();
  let plaintext: Buffer;
  try {
    plaintext = token.open(key.label, iv, aad ?? EMPTY, Buffer.concat([ciphertext, tag]));
  } catch (error) {
    // The token's tag check failed (SoftHSM: CKR_GENERAL_ERROR, mapped by gcmOpen); anything else is the proxy's fault.
    if (error instanceof KeyStoreIntegrityError) throw invalid();
    throw error;
  }
  const answer = { plaintext: plaintext.toString("base64") };
  plaintext.fill(0);
  return answer;
}

function send(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  response.end(text);
}

/**
 * Finds or makes each key's token object, labelled `prefix` + id: generated (AES-256) when the file gives no material
 * and the token has none; imported when material is given and the token has none; when both exist, the material must
 * be what the token holds (checked with one GCM tag, then dropped), or two keys would answer to one id.
 */
function provisionKeys(token: XksKeyToken, keys: readonly XksKey[], prefix: string, logger: Logger): ServedKey[] {
  const seen = new Set<string>();
  return keys.map((key) => {
    if (seen.has(key.id)) throw new Error(`External key ${key.id} is listed twice`);
    seen.add(key.id);
    const label = prefix + key.id;
    const material = key.material;
    try {
      let length = token.keyLength(label);
      if (length === undefined && material === undefined) {
        token.generateKey(label);
        logger.info("xks-proxy key generated in the token", { externalKeyId: key.id, label });
      } else if (length === undefined && material !== undefined) {
        token.importKey(label, material);
        logger.info("xks-proxy key imported into the token", { externalKeyId: key.id, label });
      } else if (material !== undefined && !sameKey(token, label, material)) {
        throw new Error(
          `External key ${key.id}: the keys file gives material other than the token's key labelled '${label}' on ${token.description}; ` +
            "remove the material from the keys file (the token holds the key) or the object from the token",
        );
      }
      length ??= token.keyLength(label) ?? 0;
      return { id: key.id, label, keySpec: `AES_${length * 8}`, status: key.status, usage: key.usage };
    } finally {
      material?.fill(0);
    }
  });
}

/** Whether `material` is the token's key: the GCM tag of an empty message under a fresh IV, made by both. */
function sameKey(token: XksKeyToken, label: string, material: Buffer): boolean {
  const iv = token.random(IV_BYTES);
  const aad = Buffer.from("secretslite xks-proxy key check");
  const tokenTag = token.seal(label, iv, aad, EMPTY);
  if (![16, 24, 32].includes(material.length)) return false;
  const cipher = createCipheriv(`aes-${material.length * 8}-gcm` as "aes-256-gcm", material, iv);
  cipher.setAAD(aad);
  cipher.final();
  return cipher.getAuthTag().equals(tokenTag);
}

/**
 * The keys file: `{"keys": [{"id": "…", "material"?: "<base64, 32 bytes>", "status"?: "ENABLED"|"DISABLED",
 * "usage"?: ["ENCRYPT","DECRYPT"]}]}`. Without material, the key is generated in the token on first start. Material of
 * 16 or 24 bytes is accepted (imported as AES-128 or -192), to stand for a key KMS must refuse.
 */
export function loadXksKeysFile(path: string): XksKey[] {
  const parsed = JSON.parse(readFileSync(path, "utf8")) as { keys?: unknown };
  if (!Array.isArray(parsed.keys)) throw new Error(`${path}: expected {"keys": [...]}`);
  return parsed.keys.map((entry: unknown, index) => {
    const raw = entry as { id?: unknown; material?: unknown; status?: unknown; usage?: unknown };
    if (typeof raw.id !== "string" || !/^[A-Za-z0-9._-]{1,128}$/.test(raw.id)) throw new Error(`${path}: keys[${index}].id must be 1-128 of A-Z a-z 0-9 . - _`);
    let material: Buffer | undefined;
    if (raw.material !== undefined) {
      material = typeof raw.material === "string" ? Buffer.from(raw.material, "base64") : Buffer.alloc(0);
      if (![16, 24, 32].includes(material.length)) throw new Error(`${path}: keys[${index}].material must be 16, 24 or 32 bytes in base64, or absent`);
    }
    if (raw.status !== undefined && raw.status !== "ENABLED" && raw.status !== "DISABLED") throw new Error(`${path}: keys[${index}].status must be ENABLED or DISABLED`);
    const status = raw.status === "DISABLED" ? "DISABLED" : "ENABLED";
    const usage = Array.isArray(raw.usage) ? raw.usage.map(String) : ["ENCRYPT", "DECRYPT"];
    return { id: raw.id, material, status, usage };
  });
}
