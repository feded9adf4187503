// The cryptographic facts of every backing-key spec and algorithm, and the one check that an algorithm and input fit a key.

import { createHash } from "node:crypto";
import {
  KeyStoreUsageError,
  type BackingKeySpec,
  type KeyStore,
  type MacAlgorithmSpec,
  type MessageType,
  type RsaEncryptionAlgorithmSpec,
  type SignInput,
  type SigningAlgorithmSpec,
} from "./key-store";

export type HashName = "sha1" | "sha224" | "sha256" | "sha384" | "sha512";

export const HASH_BYTES: Readonly<Record<HashName, number>> = { sha1: 20, sha224: 28, sha256: 32, sha384: 48, sha512: 64 };

export type EcCurveName = "P-256" | "P-384" | "P-521" | "secp256k1";

export interface EcCurve {
  /** The JWK `crv`, which is also how these facts are looked up. */
  readonly name: EcCurveName;
  /** node:crypto's asymmetricKeyDetails.namedCurve. */
  readonly nodeName: string;
  /** DER of the curve OID: CKA_EC_PARAMS. */
  readonly oidDer: Buffer;
  /** Bytes of one coordinate, of r and s, and of the ECDH shared secret (P-521: 521 bits round up to 66). */
  readonly coordinateBytes: number;
}

export const EC_CURVES: Readonly<Record<EcCurveName, EcCurve>> = {
  "P-256": { name: "P-256", nodeName: "prime256v1", oidDer: Buffer.from("06082a8648ce3d030107", "hex"), coordinateBytes: 32 },
  "P-384": { name: "P-384", nodeName: "secp384r1", oidDer: Buffer.from("06052b81040022", "hex"), coordinateBytes: 48 },
  "P-521": { name: "P-521", nodeName: "secp521r1", oidDer: Buffer.from("06052b81040023", "hex"), coordinateBytes: 66 },
  secp256k1: { name: "secp256k1", nodeName: "secp256k1", oidDer: Buffer.from("06052b8104000a", "hex"), coordinateBytes: 32 },
};

export type MlDsaLevel = 44 | 65 | 87;

export type BackingKeyFacts =
  | { readonly family: "aes" }
  | { readonly family: "hmac"; readonly keyBytes: number; readonly algorithm: MacAlgorithmSpec; readonly hash: HashName }
  | { readonly family: "rsa"; readonly modulusBits: number }
  | { readonly family: "ec"; readonly curve: EcCurve; readonly signing: SigningAlgorithmSpec; readonly keyAgreement: boolean }
  | { readonly family: "ed25519" }
  | { readonly family: "ml-dsa"; readonly level: MlDsaLevel };

// HMAC key lengths follow the spec names (HMAC_224 is 224 bits, …): "HMAC keys in AWS KMS", key spec reference.
// Curve per ECDSA algorithm: one algorithm per curve, secp256k1 for signing only ([M] CreateKeyRequest.KeyUsage).
const FACTS: Readonly<Record<BackingKeySpec, BackingKeyFacts>> = {
  SYMMETRIC_DEFAULT: { family: "aes" },
  RSA_2048: { family: "rsa", modulusBits: 2048 },
  RSA_3072: { family: "rsa", modulusBits: 3072 },
  RSA_4096: { family: "rsa", modulusBits: 4096 },
  ECC_NIST_P256: { family: "ec", curve: EC_CURVES["P-256"], signing: "ECDSA_SHA_256", keyAgreement: true },
  ECC_NIST_P384: { family: "ec", curve: EC_CURVES["P-384"], signing: "ECDSA_SHA_384", keyAgreement: true },
  ECC_NIST_P521: { family: "ec", curve: EC_CURVES["P-521"], signing: "ECDSA_SHA_512", keyAgreement: true },
  ECC_SECG_P256K1: { family: "ec", curve: EC_CURVES.secp256k1, signing: "ECDSA_SHA_256", keyAgreement: false },
  ECC_NIST_EDWARDS25519: { family: "ed25519" },
  ML_DSA_44: { family: "ml-dsa", level: 44 },
  ML_DSA_65: { family: "ml-dsa", level: 65 },
  ML_DSA_87: { family: "ml-dsa", level: 87 },
  HMAC_224: { family: "hmac", keyBytes: 28, algorithm: "HMAC_SHA_224", hash: "sha224" },
  HMAC_256: { family: "hmac", keyBytes: 32, algorithm: "HMAC_SHA_256", hash: "sha256" },
  HMAC_384: { family: "hmac", keyBytes: 48, algorithm: "HMAC_SHA_384", hash: "sha384" },
  HMAC_512: { family: "hmac", keyBytes: 64, algorithm: "HMAC_SHA_512", hash: "sha512" },
};

export const BACKING_KEY_SPECS = Object.keys(FACTS) as readonly BackingKeySpec[];

export function backingKeyFacts(spec: BackingKeySpec): BackingKeyFacts {
  const facts = FACTS[spec];
  // Specs arrive from stored records and requests: a string outside the union must not read as undefined.
  if (facts === undefined) throw new KeyStoreUsageError(`Unknown backing key spec ${String(spec)}`);
  return facts;
}

export type SigningScheme = "rsa-pkcs1" | "rsa-pss" | "ecdsa" | "ed25519" | "ed25519ph" | "ml-dsa";

export interface SigningFacts {
  readonly scheme: SigningScheme;
  /** The hash applied to a RAW message, whose output a DIGEST must be; none for pure EdDSA and ML-DSA. */
  readonly hash?: HashName;
  readonly messageTypes: readonly MessageType[];
}

// ED25519_SHA_512 takes RAW only and ED25519_PH_SHA_512 DIGEST only: "These message types cannot be used
// interchangeably" ([M] CreateKeyRequest.KeySpec). ML-DSA signs RAW or a 64-byte EXTERNAL_MU, never DIGEST.
const SIGNING: Readonly<Record<SigningAlgorithmSpec, SigningFacts>> = {
  RSASSA_PSS_SHA_256: { scheme: "rsa-pss", hash: "sha256", messageTypes: ["RAW", "DIGEST"] },
  RSASSA_PSS_SHA_384: { scheme: "rsa-pss", hash: "sha384", messageTypes: ["RAW", "DIGEST"] },
  RSASSA_PSS_SHA_512: { scheme: "rsa-pss", hash: "sha512", messageTypes: ["RAW", "DIGEST"] },
  RSASSA_PKCS1_V1_5_SHA_256: { scheme: "rsa-pkcs1", hash: "sha256", messageTypes: ["RAW", "DIGEST"] },
  RSASSA_PKCS1_V1_5_SHA_384: { scheme: "rsa-pkcs1", hash: "sha384", messageTypes: ["RAW", "DIGEST"] },
  RSASSA_PKCS1_V1_5_SHA_512: { scheme: "rsa-pkcs1", hash: "sha512", messageTypes: ["RAW", "DIGEST"] },
  ECDSA_SHA_256: { scheme: "ecdsa", hash: "sha256", messageTypes: ["RAW", "DIGEST"] },
  ECDSA_SHA_384: { scheme: "ecdsa", hash: "sha384", messageTypes: ["RAW", "DIGEST"] },
  ECDSA_SHA_512: { scheme: "ecdsa", hash: "sha512", messageTypes: ["RAW", "DIGEST"] },
  ML_DSA_SHAKE_256: { scheme: "ml-dsa", messageTypes: ["RAW", "EXTERNAL_MU"] },
  ED25519_SHA_512: { scheme: "ed25519", messageTypes: ["RAW"] },
  ED25519_PH_SHA_512: { scheme: "ed25519ph", hash: "sha512", messageTypes: ["DIGEST"] },
};

const RSA_SIGNING: readonly SigningAlgorithmSpec[] = [
  "RSASSA_PSS_SHA_256",
  "RSASSA_PSS_SHA_384",
  "RSASSA_PSS_SHA_512",
  "RSASSA_PKCS1_V1_5_SHA_256",
  "RSASSA_PKCS1_V1_5_SHA_384",
  "RSASSA_PKCS1_V1_5_SHA_512",
];

/** The signing algorithms material of `spec` can do, in the order DescribeKey lists them. */
export function signingAlgorithmsOf(spec: BackingKeySpec): readonly SigningAlgorithmSpec[] {
  const facts = backingKeyFacts(spec);
  switch (facts.family) {
    case "rsa":
      return RSA_SIGNING;
    case "ec":
      return [facts.signing];
    case "ed25519":
      return ["ED25519_SHA_512", "ED25519_PH_SHA_512"];
    case "ml-dsa":
      return ["ML_DSA_SHAKE_256"];
    default:
      return [];
  }
}

export function macAlgorithmsOf(spec: BackingKeySpec): readonly MacAlgorithmSpec[] {
  const facts = backingKeyFacts(spec);
  return facts.family === "hmac" ? [facts.algorithm] : [];
}

export function signingFacts(algorithm: SigningAlgorithmSpec): SigningFacts {
  const facts = SIGNING[algorithm];
  if (facts === undefined) throw new KeyStoreUsageError(`Unknown signing algorithm ${String(algorithm)}`);
  return facts;
}

const EXTERNAL_MU_BYTES = 64;

/**
 * Refuses what Sign and Verify must not compute: an algorithm `spec` does not have, a MessageType the
 * algorithm does not take, a DIGEST or μ of the wrong length. The KMS layer answers these first with AWS's
 * texts; this is the key store's own guard.
 */
export function checkSignInput(spec: BackingKeySpec, algorithm: SigningAlgorithmSpec, input: SignInput): SigningFacts {
  const facts = signingFacts(algorithm);
  if (!signingAlgorithmsOf(spec).includes(algorithm)) {
    throw new KeyStoreUsageError(`Algorithm ${algorithm} is incompatible with key spec ${spec}.`);
  }
  if (!facts.messageTypes.includes(input.messageType)) {
    throw new KeyStoreUsageError(`MessageType ${input.messageType} is not valid for algorithm ${algorithm}.`);
  }
  if (input.messageType === "DIGEST" && facts.hash !== undefined && input.message.length !== HASH_BYTES[facts.hash]) {
    throw new KeyStoreUsageError(`Digest is invalid length for algorithm ${algorithm}.`);
  }
  if (input.messageType === "EXTERNAL_MU" && input.message.length !== EXTERNAL_MU_BYTES) {
    throw new KeyStoreUsageError(`External mu is invalid length for algorithm ${algorithm}.`);
  }
  return facts;
}

export function checkMacAlgorithm(spec: BackingKeySpec, algorithm: MacAlgorithmSpec): HashName {
  const facts = backingKeyFacts(spec);
  if (facts.family !== "hmac" || facts.algorithm !== algorithm) {
    throw new KeyStoreUsageError(`Algorithm ${algorithm} is incompatible with key spec ${spec}.`);
  }
  return facts.hash;
}

export const OAEP_HASH: Readonly<Record<RsaEncryptionAlgorithmSpec, HashName>> = { RSAES_OAEP_SHA_1: "sha1", RSAES_OAEP_SHA_256: "sha256" };

/** The largest RSAES-OAEP plaintext (RFC 8017 §7.1.1: k − 2·hLen − 2): 214/190 bytes for RSA_2048, as KMS Encrypt documents. */
export function oaepPlaintextLimit(modulusBits: number, algorithm: RsaEncryptionAlgorithmSpec): number {
  return Math.ceil(modulusBits / 8) - 2 * HASH_BYTES[OAEP_HASH[algorithm]] - 2;
}

/** What the token signs for RSA and ECDSA: the hash of a RAW message, made here, or the DIGEST as given. */
export function digestToSign(signing: SigningFacts, input: SignInput): Buffer {
  if (signing.hash === undefined) throw new KeyStoreUsageError("This signing algorithm names no hash");
  const message = Buffer.from(input.message.buffer, input.message.byteOffset, input.message.byteLength);
  return input.messageType === "RAW" ? createHash(signing.hash).update(message).digest() : Buffer.from(message);
}

/** The specs whose private material `keyStore` uses in Node rather than in the token (Ed25519 and ML-DSA on SoftHSM2). */
export const specsOutsideToken = (keyStore: Pick<KeyStore, "supports">): BackingKeySpec[] =>
  BACKING_KEY_SPECS.filter((spec) => keyStore.supports(spec) === "node");
