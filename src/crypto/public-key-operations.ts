// What KMS does with public keys alone, without a key store: Verify, RSA encryption with a public key, data key pairs.

import {
  constants,
  createPublicKey,
  generateKeyPair,
  publicDecrypt,
  publicEncrypt,
  timingSafeEqual,
  verify as nodeVerify,
  type KeyObject,
} from "node:crypto";
import { LRUCache } from "lru-cache";
import { runCryptoJob, type NobleEcdsaCurve } from "./crypto-workers";
import { ecdsaDerToRaw } from "./der";
import { KeyStoreUsageError, type BackingKeySpec, type RsaEncryptionAlgorithmSpec, type SignInput, type SigningAlgorithmSpec } from "./key-store";
import {
  backingKeyFacts,
  checkSignInput,
  HASH_BYTES,
  OAEP_HASH,
  oaepPlaintextLimit,
  type EcCurveName,
  type HashName,
} from "./key-specs";
import { ecPublicKeyPoint, ed25519RawPublicKey, mlDsaRawPublicKey } from "./public-keys";
import { emsaPkcs1v15, emsaPssVerify } from "./rsa-padding";

const NOBLE_CURVES: Readonly<Record<EcCurveName, NobleEcdsaCurve>> = { "P-256": "p256", "P-384": "p384", "P-521": "p521", secp256k1: "secp256k1" };

/**
 * Whether `signature` is `spec`'s signature with `algorithm` over `input` under the public key. A signature
 * that does not verify, in any form (ECDSA as raw r ‖ s or malformed DER, a wrong length), is false; an
 * algorithm, MessageType or digest length that does not fit is a KeyStoreUsageError. The message type need not
 * be the one signed with (KMS Verify). Nothing slow runs on the event loop: node:crypto verifies on libuv's
 * pool, and ML-DSA, Ed25519ph and ECDSA over a given digest (@noble) in a worker.
 */
export async function verifySignature(
  publicKeySpki: Uint8Array,
  spec: BackingKeySpec,
  algorithm: SigningAlgorithmSpec,
  input: SignInput,
  signature: Uint8Array,
): Promise<boolean> {
  const signing = checkSignInput(spec, algorithm, input);
  const facts = backingKeyFacts(spec);
  const message = input.message;
  switch (signing.scheme) {
    case "rsa-pkcs1":
    case "rsa-pss": {
      const hash = hashOf(signing.hash);
      const key = publicKeyOf(publicKeySpki, "rsa");
      const modulusBits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (facts.family !== "rsa" || modulusBits !== facts.modulusBits) throw new Error(`The public key is not an ${spec} key`);
      const pss = signing.scheme === "rsa-pss";
      if (signature.length !== Math.ceil(modulusBits / 8)) return false;
      if (input.messageType === "RAW") {
        const padding = pss ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_BYTES[hash] } : { padding: constants.RSA_PKCS1_PADDING };
        return verifyInNode(hash, message, { key, ...padding }, signature);
      }
      // node:crypto verifies only messages it hashes itself: over a given digest, open the signature with the public
      // key and check the encoding here (PKCS#1 v1.5 by encoding and comparing, as RFC 8017 §8.2.2 does).
      let em: Buffer;
      try {
        em = publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, signature);
      } catch {
        return false;
      }
      if (pss) return emsaPssVerify(hash, message, em, modulusBits);
      return timingSafeEqual(em, emsaPkcs1v15(hash, message, em.length));
    }
    case "ecdsa": {
      if (facts.family !== "ec") throw new KeyStoreUsageError(`Algorithm ${algorithm} is incompatible with key spec ${spec}.`);
      const key = publicKeyOf(publicKeySpki, "ec");
      if (key.asymmetricKeyDetails?.namedCurve !== facts.curve.nodeName) throw new Error(`The public key is not an ${spec} key`);
      // KMS signatures are DER; raw r ‖ s and non-canonical encodings do not verify.
      const raw = ecdsaDerToRaw(signature, facts.curve.coordinateBytes);
      if (raw === undefined) return false;
      if (input.messageType === "RAW") return verifyInNode(hashOf(signing.hash), message, { key, dsaEncoding: "ieee-p1363" }, raw);
      const point = ecPublicKeyPoint(key, facts.curve);
      if (point === undefined) throw new Error(`The public key is not an ${spec} key`);
      return runCryptoJob({ op: "ecdsa-verify-digest", curve: NOBLE_CURVES[facts.curve.name], publicKey: point, digest: message, signature: raw });
    }
    case "ed25519":
      return verifyInNode(null, message, publicKeyOf(publicKeySpki, "ed25519"), signature);
    case "ed25519ph":
      return runCryptoJob({ op: "ed25519ph-verify", publicKey: ed25519RawPublicKey(publicKeySpki), digest: message, signature });
    case "ml-dsa": {
      if (facts.family !== "ml-dsa") throw new KeyStoreUsageError(`Algorithm ${algorithm} is incompatible with key spec ${spec}.`);
      const publicKey = mlDsaRawPublicKey(facts.level, publicKeySpki);
      return runCryptoJob({ op: "ml-dsa-verify", level: facts.level, publicKey, message, externalMu: input.messageType === "EXTERNAL_MU", signature });
    }
  }
}

/**
 * RSAES-OAEP with the public key, as KMS Encrypt does with an RSA key (MGF1 over the same hash, empty label),
 * and as anyone outside does with the key from GetPublicKey. Plaintext over the limit is a KeyStoreUsageError.
 */
export function encryptWithPublicKey(publicKeySpki: Uint8Array, algorithm: RsaEncryptionAlgorithmSpec, plaintext: Uint8Array): Buffer {
  const key = publicKeyOf(publicKeySpki, "rsa");
  const hash = OAEP_HASH[algorithm];
  if (hash === undefined) throw new KeyStoreUsageError(`Unknown encryption algorithm ${String(algorithm)}`);
  const limit = oaepPlaintextLimit(key.asymmetricKeyDetails?.modulusLength ?? 0, algorithm);
  if (plaintext.length > limit) {
    throw new KeyStoreUsageError(`Algorithm ${algorithm} cannot encrypt data larger than ${limit} bytes with this key.`);
  }
  return publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, plaintext);
}

/** KMS DataKeyPairSpec without SM2: the asymmetric key specs other than ML-DSA. */
export type DataKeyPairSpec = Exclude<BackingKeySpec, "SYMMETRIC_DEFAULT" | `ML_DSA_${string}` | `HMAC_${string}`>;

export interface DataKeyPair {
  readonly privateKeyPkcs8Der: Buffer;
  readonly publicKeySpkiDer: Buffer;
}

/**
 * A fresh key pair for GenerateDataKeyPair, made by node:crypto on libuv's thread pool (RSA-4096 takes seconds).
 * It is the caller's data, not a KMS key: it never enters the token, and the caller seals and zeroes the private key.
 */
export function generateDataKeyPair(spec: DataKeyPairSpec): Promise<DataKeyPair> {
  const facts = backingKeyFacts(spec);
  const encoding = { publicKeyEncoding: { type: "spki", format: "der" }, privateKeyEncoding: { type: "pkcs8", format: "der" } } as const;
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, publicKeySpkiDer: Buffer, privateKeyPkcs8Der: Buffer): void =>
      error === null ? resolve({ privateKeyPkcs8Der, publicKeySpkiDer }) : reject(error);
    if (facts.family === "rsa") generateKeyPair("rsa", { modulusLength: facts.modulusBits, publicExponent: 0x10001, ...encoding }, done);
    else if (facts.family === "ec") generateKeyPair("ec", { namedCurve: facts.curve.nodeName, ...encoding }, done);
    else if (facts.family === "ed25519") generateKeyPair("ed25519", encoding, done);
    else reject(new KeyStoreUsageError(`${spec} is not a data key pair spec`));
  });
}

/**
 * Public keys parsed from their SubjectPublicKeyInfo, by its bytes: Verify and RSA Encrypt parse a key's SPKI once, not
 * on every call (parsing cost Verify a third of its throughput). Public keys only, so nothing secret is kept.
 */
const parsedPublicKeys = new LRUCache<string, KeyObject>({ max: 1_000 });

function publicKeyOf(spki: Uint8Array, type: "rsa" | "ec" | "ed25519"): KeyObject {
  const id = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength).toString("base64");
  let key = parsedPublicKeys.get(id);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
    parsedPublicKeys.set(id, key);
  }
  if (key.asymmetricKeyType !== type) throw new Error(`The public key is ${key.asymmetricKeyType ?? "unknown"}, not ${type}`);
  return key;
}

function hashOf(hash: HashName | undefined): HashName {
  if (hash === undefined) throw new Error("This signing algorithm names no hash");
  return hash;
}

/** node:crypto's verify in its callback form, which runs on libuv's thread pool; a malformed signature is false. */
function verifyInNode(
  hash: HashName | null,
  message: Uint8Array,
  key: KeyObject | { readonly key: KeyObject; readonly padding?: number; readonly saltLength?: number; readonly dsaEncoding?: "ieee-p1363" },
  signature: Uint8Array,
): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      nodeVerify(hash, message, key, signature, (error, valid) => resolve(error === null && valid));
    } catch {
      resolve(false);
    }
  });
}
