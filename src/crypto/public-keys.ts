// Public keys as KMS hands them out (SubjectPublicKeyInfo DER) and as the token and @noble take them (raw points and bytes).

import { createPublicKey, type KeyObject } from "node:crypto";
import { derBitString, derOctetStringContents, derSequence } from "./der";
import { PeerPublicKeyError } from "./key-store";
import type { EcCurve, MlDsaLevel } from "./key-specs";

const spkiDer = (key: KeyObject): Buffer => key.export({ type: "spki", format: "der" });

/** An RSA public key from the token's CKA_MODULUS and CKA_PUBLIC_EXPONENT (big-endian). */
export function rsaPublicKeySpki(modulus: Buffer, publicExponent: Buffer): Buffer {
  return spkiDer(
    createPublicKey({ key: { kty: "RSA", n: unsignedBase64Url(modulus), e: unsignedBase64Url(publicExponent) }, format: "jwk" }),
  );
}

/** An EC public key from the token's CKA_EC_POINT, which SoftHSM returns as a DER OCTET STRING around 04 ‖ X ‖ Y. */
export function ecPublicKeySpki(curve: EcCurve, ecPointAttribute: Buffer): Buffer {
  const point = derOctetStringContents(ecPointAttribute) ?? ecPointAttribute;
  const size = curve.coordinateBytes;
  if (point.length !== 1 + 2 * size || point[0] !== 0x04) {
    throw new Error(`The token returned a ${point.length}-byte EC point for ${curve.name}, not an uncompressed one`);
  }
  const x = point.subarray(1, 1 + size).toString("base64url");
  const y = point.subarray(1 + size).toString("base64url");
  return spkiDer(createPublicKey({ key: { kty: "EC", crv: curve.name, x, y }, format: "jwk" }));
}

/**
 * The peer's point for ECDH1_DERIVE (04 ‖ X ‖ Y) from DeriveSharedSecret's SubjectPublicKeyInfo DER. OpenSSL
 * checks that the point lies on the named curve as it parses; the curve must be the backing key's.
 */
export function peerEcPoint(peerPublicKeySpki: Uint8Array, curve: EcCurve): Buffer {
  let peer: KeyObject;
  try {
    peer = createPublicKey({ key: Buffer.from(peerPublicKeySpki), format: "der", type: "spki" });
  } catch (error) {
    throw new PeerPublicKeyError("The peer public key is not a valid SubjectPublicKeyInfo", { cause: error });
  }
  const point = ecPublicKeyPoint(peer, curve);
  if (point === undefined) throw new PeerPublicKeyError(`The peer public key is not an ${curve.name} key`);
  return point;
}

function uncompressedPoint(curve: EcCurve, x: string | undefined, y: string | undefined): Buffer {
  const size = curve.coordinateBytes;
  const point = Buffer.alloc(1 + 2 * size);
  point[0] = 0x04;
  // JWK coordinates are already the curve's full length; padding only guards against a shorter encoding.
  const xBytes = Buffer.from(x ?? "", "base64url");
  const yBytes = Buffer.from(y ?? "", "base64url");
  point.set(xBytes, 1 + size - xBytes.length);
  point.set(yBytes, 1 + 2 * size - yBytes.length);
  return point;
}

/** The uncompressed point of an EC public key on `curve`; undefined when the key is not on that curve. */
export function ecPublicKeyPoint(key: KeyObject, curve: EcCurve): Buffer | undefined {
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== curve.nodeName) return undefined;
  const jwk = key.export({ format: "jwk" });
  return uncompressedPoint(curve, jwk.x, jwk.y);
}

/** The 32-byte Ed25519 public key inside its SubjectPublicKeyInfo. */
export function ed25519RawPublicKey(spki: Uint8Array): Buffer {
  const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  if (key.asymmetricKeyType !== "ed25519") throw new Error(`Not an Ed25519 public key: ${key.asymmetricKeyType ?? "unknown"}`);
  return Buffer.from(key.export({ format: "jwk" }).x ?? "", "base64url");
}

// RFC 9881 (ML-DSA in X.509): id-ml-dsa-44/65/87 are 2.16.840.1.101.3.4.3.17/18/19, with parameters absent, and
// the public key is the raw FIPS 204 encoding as the BIT STRING. Node 20 (OpenSSL 3.0) cannot parse them.
const ML_DSA_PUBLIC_KEY_BYTES: Readonly<Record<MlDsaLevel, number>> = { 44: 1312, 65: 1952, 87: 2592 };
const ML_DSA_OID_LAST_ARC: Readonly<Record<MlDsaLevel, number>> = { 44: 0x11, 65: 0x12, 87: 0x13 };

function mlDsaAlgorithmIdentifier(level: MlDsaLevel): Buffer {
  return derSequence(Buffer.from([0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, ML_DSA_OID_LAST_ARC[level]]));
}

export function mlDsaPublicKeySpki(level: MlDsaLevel, rawPublicKey: Uint8Array): Buffer {
  if (rawPublicKey.length !== ML_DSA_PUBLIC_KEY_BYTES[level]) {
    throw new Error(`An ML-DSA-${level} public key is ${ML_DSA_PUBLIC_KEY_BYTES[level]} bytes, not ${rawPublicKey.length}`);
  }
  return derSequence(mlDsaAlgorithmIdentifier(level), derBitString(rawPublicKey));
}

/** The raw ML-DSA public key of an RFC 9881 SubjectPublicKeyInfo of exactly that level; throws for anything else. */
export function mlDsaRawPublicKey(level: MlDsaLevel, spki: Uint8Array): Buffer {
  const prefix = mlDsaPublicKeySpki(level, Buffer.alloc(ML_DSA_PUBLIC_KEY_BYTES[level])).subarray(0, -ML_DSA_PUBLIC_KEY_BYTES[level]);
  const bytes = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength);
  if (bytes.length !== prefix.length + ML_DSA_PUBLIC_KEY_BYTES[level] || !bytes.subarray(0, prefix.length).equals(prefix)) {
    throw new Error(`Not an ML-DSA-${level} SubjectPublicKeyInfo`);
  }
  return Buffer.from(bytes.subarray(prefix.length));
}

/** JWK wants unsigned big-endian integers without leading zero bytes. */
function unsignedBase64Url(value: Buffer): string {
  let first = 0;
  while (first < value.length - 1 && value[first] === 0) first++;
  return value.subarray(first).toString("base64url");
}
