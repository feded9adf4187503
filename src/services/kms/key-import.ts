// Bring your own key: GetParametersForImport's wrapping keys and import tokens, and unwrapping what ImportKeyMaterial sends.
import { createDecipheriv, randomBytes } from "node:crypto";
import { KeyStoreIntegrityError, type BackingKeyRef, type KeyStore, type RsaEncryptionAlgorithmSpec } from "../../crypto/key-store";
import type { Scope } from "../scope";
import { expiredImportToken, invalidCiphertext, invalidImportToken, originNotValid, wrappingNotValid } from "./errors";
import type { KmsKeyRecord, WrappingKeyRecord } from "./key-record";
import type { KmsKeys } from "./key-repository";
import { assertKeyState, type KeyStateOperation } from "./key-states";

/** "Each public key and import token set is valid for 24 hours" (GetParametersForImport). */
export const PARAMETERS_VALID_MS = 24 * 3_600_000;
/**
 * A wrapping key pair serves every GetParametersForImport of its key and spec for an hour, so repeated calls do not
 * each pay RSA-4096 generation (about 2 s in SoftHSM2); it is kept until the last token it may have issued expires.
 */
const WRAPPING_KEY_REUSE_MS = 3_600_000;

export const WRAPPING_ALGORITHMS = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256"] as const;
export type WrappingAlgorithm = (typeof WRAPPING_ALGORITHMS)[number];
type WrappingKeySpec = WrappingKeyRecord["spec"];

const MODULUS_BYTES: Record<WrappingKeySpec, number> = { RSA_2048: 256, RSA_3072: 384, RSA_4096: 512 };

/** RFC 5649's alternative initial value, which `openssl enc -id-aes256-wrap-pad -iv A65959A6` uses too. */
const KWP_IV = Buffer.from("a65959a6", "hex");
/** "RSA_AES_KEY_WRAP_SHA_*: … generate a 256-bit AES symmetric key" (the KMS guide, importing-keys-encrypt-key-material). */
const AES_KEY_BYTES = 32;

/**
 * The wrapping choices the model allows for a key's material (GetParametersForImportRequest WrappingAlgorithm and
 * WrappingKeySpec), refused with the model's sentence: RSA private keys only with RSA_AES_KEY_WRAP_*, symmetric and
 * HMAC material only with RSAES_OAEP_*, ECC with all four except RSAES_OAEP_* under RSA_2048 for P-521.
 */
export function assertWrappingAllowed(key: KmsKeyRecord, spec: string, algorithm: string): asserts algorithm is WrappingAlgorithm {
  if (algorithm === "RSAES_PKCS1_V1_5") throw wrappingNotValid("As of October 10, 2023, KMS does not support the RSAES_PKCS1_V1_5 wrapping algorithm.");
  // SM2 wrapping exists only in the China Regions, where secretslite has no SM2 either (CreateKey refuses SM2 keys).
  if (spec === "SM2" || algorithm === "SM2PKE") throw wrappingNotValid("secretslite does not implement SM2 wrapping keys: SM2 is available only in the China Regions.");
  const oaep = algorithm.startsWith("RSAES_OAEP_");
  if (key.keySpec.startsWith("RSA_") && oaep) throw wrappingNotValid("To import an RSA private key, you must use an RSA_AES wrapping algorithm.");
  if ((key.keySpec === "SYMMETRIC_DEFAULT" || key.keySpec.startsWith("HMAC_")) && !oaep) {
    throw wrappingNotValid(`${algorithm} is supported for wrapping RSA and ECC key material only.`);
  }
  if (key.keySpec === "ECC_NIST_P521" && spec === "RSA_2048" && oaep) {
    throw wrappingNotValid("You cannot use an RSA_2048 public key to directly wrap an ECC_NIST_P521 private key.");
  }
}

/** The checks all three import operations make first: an EXTERNAL key in a state the key-state table allows. */
export function assertImportable(key: KmsKeyRecord, operation: KeyStateOperation): void {
  if (key.origin !== "EXTERNAL") throw originNotValid(key.arn, key.origin);
  assertKeyState(operation, key);
}

/**
 * Import token layout (secretslite's own; AWS's is opaque): version 1 ‖ algorithm index ‖ wrapping key id (16 bytes) ‖
 * expiry (ms, u64 BE) ‖ IV (12) ‖ GCM tag (16). The tag is AES-256-GCM under the wrapping key's token key with empty
 * plaintext and the header plus the KMS key ARN as additional data, so it binds key, wrapping key, algorithm and expiry.
 */
const HEADER_BYTES = 1 + 1 + 16 + 8;
const TOKEN_BYTES = HEADER_BYTES + 12 + 16;

const wrappingRef = (key: KmsKeyRecord, wrapping: WrappingKeyRecord): BackingKeyRef => ({
  id: `${key.keyId}/wrapping/${wrapping.id}`,
  spec: wrapping.spec,
  wrapped: Buffer.from(wrapping.wrapped, "base64"),
});
const tokenKeyRef = (key: KmsKeyRecord, wrapping: WrappingKeyRecord): BackingKeyRef => ({
  id: `${key.keyId}/wrapping/${wrapping.id}/token`,
  spec: "SYMMETRIC_DEFAULT",
  wrapped: Buffer.from(wrapping.tokenKey, "base64"),
});

/** The key store names of a key's wrapping keys and their token keys: forgotten when they expire or the key is destroyed. */
export const wrappingRefIds = (key: KmsKeyRecord, wrappings: readonly WrappingKeyRecord[] = key.wrappingKeys ?? []): string[] =>
  wrappings.flatMap((wrapping) => [wrappingRef(key, wrapping).id, tokenKeyRef(key, wrapping).id]);

export interface ImportParameters {
  readonly importToken: Buffer;
  readonly publicKey: Buffer;
  readonly validTo: Date;
}

/** Wrapping keys, import tokens and unwrapping for one server: the token work of the three import operations. */
export class KeyImports {
  /** Wrapping keys being generated, by key and spec, so concurrent calls share one generation. */
  private readonly generating = new Map<string, Promise<WrappingKeyRecord>>();

  constructor(
    private readonly keys: KmsKeys,
    private readonly keyStore: KeyStore,
  ) {}

  /** A wrapping public key and a fresh import token for it, valid 24 hours from now. */
  async parameters(scope: Scope, key: KmsKeyRecord, spec: WrappingKeySpec, algorithm: WrappingAlgorithm, now: Date): Promise<ImportParameters> {
    const nowMs = now.getTime();
    const wrapping = await this.wrappingKey(scope, key, spec, nowMs);
    const expiry = nowMs + PARAMETERS_VALID_MS;
    const header = Buffer.alloc(HEADER_BYTES);
    header[0] = 1;
    header[1] = WRAPPING_ALGORITHMS.indexOf(algorithm);
    Buffer.from(wrapping.id, "hex").copy(header, 2);
    header.writeBigUInt64BE(BigInt(expiry), 18);
    const iv = randomBytes(12);
    const tag = this.keyStore.seal(tokenKeyRef(key, wrapping), iv, Buffer.concat([header, Buffer.from(key.arn)]), Buffer.alloc(0));
    return { importToken: Buffer.concat([header, iv, tag]), publicKey: Buffer.from(wrapping.publicKey, "base64"), validTo: new Date(expiry) };
  }

  /**
   * The plaintext key material ImportKeyMaterial sent, after checking its import token against the key; the caller
   * zeroes it. A token not made for this key (or altered) is InvalidImportTokenException, one past its expiry
   * ExpiredImportTokenException; wrapping that does not open is InvalidCiphertextException.
   */
  async unwrap(key: KmsKeyRecord, importToken: Uint8Array, encrypted: Uint8Array, nowMs: number): Promise<Buffer> {
    const { wrapping, algorithm } = this.checkToken(key, Buffer.from(importToken), nowMs);
    const ref = wrappingRef(key, wrapping);
    const oaep: RsaEncryptionAlgorithmSpec = algorithm.endsWith("SHA_1") ? "RSAES_OAEP_SHA_1" : "RSAES_OAEP_SHA_256";
    // SoftHSM2 2.6.1 does OAEP with SHA-1 only: the key store decrypts SHA-256 with raw RSA in the token and decodes
    // OAEP in Node (crypto/rsa-padding.ts), zeroing as it goes.
    const decrypt = (ciphertext: Uint8Array): Promise<Buffer> =>
      this.keyStore.decrypt(ref, oaep, ciphertext).catch((error: unknown) => {
        throw error instanceof KeyStoreIntegrityError ? invalidCiphertext() : error;
      });
    if (algorithm.startsWith("RSAES_OAEP_")) return decrypt(encrypted);
    // RSA_AES_KEY_WRAP_*: the RSA-OAEP-encrypted AES key, then the material wrapped with AES key wrap with padding
    // (RFC 5649), as the KMS guide's importing-keys-encrypt-key-material page builds it with openssl.
    const modulusBytes = MODULUS_BYTES[wrapping.spec];
    if (encrypted.length <= modulusBytes) throw invalidCiphertext();
    const aesKey = await decrypt(encrypted.subarray(0, modulusBytes));
    try {
      if (aesKey.length !== AES_KEY_BYTES) throw invalidCiphertext();
      const decipher = createDecipheriv("id-aes256-wrap-pad", aesKey, KWP_IV);
      try {
        return Buffer.concat([decipher.update(encrypted.subarray(modulusBytes)), decipher.final()]);
      } catch {
        throw invalidCiphertext();
      }
    } finally {
      aesKey.fill(0);
    }
  }

  private checkToken(key: KmsKeyRecord, token: Buffer, nowMs: number): { wrapping: WrappingKeyRecord; algorithm: WrappingAlgorithm } {
    const algorithm = WRAPPING_ALGORITHMS[token[1] ?? -1];
    if (token.length !== TOKEN_BYTES || token[0] !== 1 || algorithm === undefined) throw invalidImportToken();
    const wrappingId = token.subarray(2, 18).toString("hex");
    const expiry = Number(token.readBigUInt64BE(18));
    const wrapping = key.wrappingKeys?.find((candidate) => candidate.id === wrappingId);
    // A wrapping key is dropped once every token it issued has expired, so a token naming none is either expired
    // (its expiry, unauthenticated now, can only change which refusal is given) or never was this key's.
    if (wrapping === undefined) throw expiry <= nowMs ? expiredImportToken() : invalidImportToken();
    const header = token.subarray(0, HEADER_BYTES);
    try {
      this.keyStore.open(tokenKeyRef(key, wrapping), token.subarray(HEADER_BYTES, HEADER_BYTES + 12), Buffer.concat([header, Buffer.from(key.arn)]), token.subarray(HEADER_BYTES + 12));
    } catch (error) {
      if (error instanceof KeyStoreIntegrityError) throw invalidImportToken();
      throw error;
    }
    if (expiry <= nowMs) throw expiredImportToken();
    return { wrapping, algorithm };
  }

  /** The key's wrapping key of `spec` made within the hour, or a new one (generated off the event loop, outside any lock). */
  private async wrappingKey(scope: Scope, key: KmsKeyRecord, spec: WrappingKeySpec, nowMs: number): Promise<WrappingKeyRecord> {
    const fresh = (record: KmsKeyRecord): WrappingKeyRecord | undefined =>
      record.wrappingKeys?.find((wrapping) => wrapping.spec === spec && wrapping.createdAt + WRAPPING_KEY_REUSE_MS > nowMs);
    const reused = fresh(key);
    if (reused !== undefined) return reused;
    const name = `${key.arn}/${spec}`;
    let made = this.generating.get(name);
    if (made === undefined) {
      made = this.makeWrappingKey(spec, nowMs).finally(() => this.generating.delete(name));
      this.generating.set(name, made);
    }
    const wrapping = await made;
    let kept = wrapping;
    // Ended wrapping keys leave on the schedule (material-expiry.ts), which the lookup before this call has run.
    await this.keys.update(scope, key.keyId, (current) => {
      assertImportable(current, "GetParametersForImport");
      const present = current.wrappingKeys ?? [];
      const raced = fresh(current);
      if (raced !== undefined) kept = raced;
      return raced !== undefined || present.some((candidate) => candidate.id === wrapping.id) ? current : { ...current, wrappingKeys: [...present, wrapping] };
    });
    return kept;
  }

  private async makeWrappingKey(spec: WrappingKeySpec, nowMs: number): Promise<WrappingKeyRecord> {
    const [pair, tokenKey] = await Promise.all([this.keyStore.generate(spec), this.keyStore.generate("SYMMETRIC_DEFAULT")]);
    if (pair.publicKey === undefined) throw new Error(`The key store made no public key for ${spec}`);
    return {
      id: randomBytes(16).toString("hex"),
      spec,
      wrapped: Buffer.from(pair.wrapped).toString("base64"),
      publicKey: pair.publicKey.toString("base64"),
      tokenKey: Buffer.from(tokenKey.wrapped).toString("base64"),
      createdAt: nowMs,
      expiresAt: nowMs + WRAPPING_KEY_REUSE_MS + PARAMETERS_VALID_MS,
    };
  }
}
