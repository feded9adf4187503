// Ed25519 and ML-DSA backing keys, which SoftHSM 2.6.1 cannot use: their 32-byte seeds, unwrapped by the token for one
// operation, used here (node:crypto for pure Ed25519, @noble in a worker for Ed25519ph and ML-DSA) and zeroed.

import { createPrivateKey, createPublicKey, sign as nodeSign, type KeyObject } from "node:crypto";
import { runCryptoJob } from "./crypto-workers";
import { KeyStoreUsageError, type BackingKeySpec, type SignInput, type SigningAlgorithmSpec } from "./key-store";
import { privateKeyOfPkcs8 } from "./imported-keys";
import { backingKeyFacts, type SigningFacts } from "./key-specs";
import { mlDsaPublicKeySpki } from "./public-keys";

/** Both keep a 32-byte seed: RFC 8032's private key, and FIPS 204's ξ (ML-DSA.KeyGen_internal), far smaller than the expanded key. */
export const SEED_BYTES = 32;

// RFC 8410 OneAsymmetricKey for Ed25519: version 0, id-Ed25519, then the seed as an OCTET STRING in an OCTET STRING.
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/** The SubjectPublicKeyInfo of the key a seed makes. */
export async function publicKeyOfSeed(spec: BackingKeySpec, seed: Uint8Array): Promise<Buffer> {
  const facts = backingKeyFacts(spec);
  if (facts.family === "ed25519") return withEd25519Key(seed, (privateKey) => createPublicKey(privateKey).export({ type: "spki", format: "der" }));
  if (facts.family === "ml-dsa") return mlDsaPublicKeySpki(facts.level, await runCryptoJob({ op: "ml-dsa-public-key", level: facts.level, secret: seed }));
  throw new KeyStoreUsageError(`${spec} keys are not used in Node`);
}

/** Signs with the key a seed makes; `signing` comes from checkSignInput. The caller zeroes `seed`. */
export async function signWithSeed(
  spec: BackingKeySpec,
  algorithm: SigningAlgorithmSpec,
  signing: SigningFacts,
  input: SignInput,
  seed: Uint8Array,
): Promise<Buffer> {
  const facts = backingKeyFacts(spec);
  if (facts.family === "ml-dsa") {
    const externalMu = input.messageType === "EXTERNAL_MU";
    return Buffer.from(await runCryptoJob({ op: "ml-dsa-sign", level: facts.level, secret: seed, message: input.message, externalMu }));
  }
  if (facts.family === "ed25519" && signing.scheme === "ed25519ph") {
    return Buffer.from(await runCryptoJob({ op: "ed25519ph-sign", secret: seed, digest: input.message }));
  }
  if (facts.family === "ed25519" && signing.scheme === "ed25519") {
    const message = input.message;
    // The callback form signs on libuv's thread pool, off the event loop.
    return withEd25519Key(
      seed,
      (privateKey) =>
        new Promise<Buffer>((resolve, reject) => nodeSign(null, message, privateKey, (error, signature) => (error === null ? resolve(signature) : reject(error)))),
    );
  }
  throw new KeyStoreUsageError(`Algorithm ${algorithm} is incompatible with key spec ${spec}.`);
}

/** The seed inside an Ed25519 PKCS#8 private key (what AWS imports for asymmetric keys); the caller zeroes both. */
export function ed25519SeedOfPkcs8(pkcs8: Uint8Array): Buffer {
  const privateKey = privateKeyOfPkcs8("ECC_NIST_EDWARDS25519", pkcs8);
  return Buffer.from(privateKey.export({ format: "jwk" }).d ?? "", "base64url");
}

/** A KeyObject for the seed, built from a PKCS#8 buffer zeroed at once (OpenSSL's own copy is beyond reach). */
function withEd25519Key<T>(seed: Uint8Array, use: (privateKey: KeyObject) => T): T {
  if (seed.length !== SEED_BYTES) throw new Error(`An Ed25519 seed is ${SEED_BYTES} bytes, not ${seed.length}`);
  const pkcs8 = Buffer.concat([ED25519_PKCS8_PREFIX, seed]);
  try {
    return use(createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }));
  } finally {
    pkcs8.fill(0);
  }
}
