// Private keys from outside (seed fixtures, and ImportKeyMaterial once it takes asymmetric material) as PKCS#8 DER: checked against the spec they are to back.

import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { KeyStoreUsageError, type BackingKeySpec } from "./key-store";
import { backingKeyFacts, type BackingKeyFacts } from "./key-specs";

/**
 * The private key in `pkcs8` (PKCS#8 PrivateKeyInfo DER, the form AWS imports asymmetric material in), when it is a
 * key of `spec`: RSA of the spec's modulus size, EC on the spec's curve, or Ed25519. KeyStoreUsageError otherwise,
 * saying what the material is and what the spec wants (never any of the material itself).
 */
export function privateKeyOfPkcs8(spec: BackingKeySpec, pkcs8: Uint8Array): KeyObject {
  const facts = backingKeyFacts(spec);
  const wanted = keyKindOf(facts);
  if (wanted === undefined) throw new KeyStoreUsageError(`${spec} key material is not a PKCS#8 private key`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" });
  } catch (error) {
    throw new KeyStoreUsageError(`The key material is not a PKCS#8 private key (DER); ${spec} needs ${wanted}`, { cause: error });
  }
  const found = describeKey(key);
  if (found !== wanted) throw new KeyStoreUsageError(`The key material is ${found}, not ${wanted} as ${spec} needs`);
  return key;
}

/** SubjectPublicKeyInfo DER of a private key's public half: what GetPublicKey returns for imported material. */
export const publicKeySpkiOf = (privateKey: KeyObject): Buffer => createPublicKey(privateKey).export({ type: "spki", format: "der" });

function keyKindOf(facts: BackingKeyFacts): string | undefined {
  switch (facts.family) {
    case "rsa":
      return `an RSA key of ${facts.modulusBits} bits`;
    case "ec":
      return `an EC key on ${facts.curve.name}`;
    case "ed25519":
      return "an Ed25519 key";
    default:
      return undefined;
  }
}

const NODE_CURVES: Readonly<Record<string, string>> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521", secp256k1: "secp256k1" };

/** The same words keyKindOf uses, so that a key of the right kind reads exactly as wanted. */
function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case "rsa":
      return `an RSA key of ${details?.modulusLength ?? "unknown"} bits`;
    case "ec":
      return `an EC key on ${NODE_CURVES[details?.namedCurve ?? ""] ?? details?.namedCurve ?? "an unknown curve"}`;
    case "ed25519":
      return "an Ed25519 key";
    default:
      return `a ${key.asymmetricKeyType ?? "unknown"} key`;
  }
}
