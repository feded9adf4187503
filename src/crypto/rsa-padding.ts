// RSA encodings done in Node around raw RSA (RFC 8017): what SoftHSM 2.6.1 lacks (OAEP with SHA-256) and what
// node:crypto cannot verify over a precomputed digest (PKCS#1 v1.5 and PSS for MessageType DIGEST).

import { createHash, timingSafeEqual } from "node:crypto";
import { KeyStoreIntegrityError } from "./key-store";
import { HASH_BYTES, type HashName } from "./key-specs";

// RFC 8017 §9.2 note 1: the DER DigestInfo prefixes, each followed by the hash value.
const DIGEST_INFO_PREFIX: Readonly<Partial<Record<HashName, Buffer>>> = {
  sha256: Buffer.from("3031300d060960864801650304020105000420", "hex"),
  sha384: Buffer.from("3041300d060960864801650304020205000430", "hex"),
  sha512: Buffer.from("3051300d060960864801650304020305000440", "hex"),
};

/** DigestInfo ‖ digest: what CKM_RSA_PKCS signs to give an RSASSA-PKCS1-v1_5 signature over a precomputed hash. */
export function digestInfo(hash: HashName, digest: Uint8Array): Buffer {
  const prefix = DIGEST_INFO_PREFIX[hash];
  if (prefix === undefined) throw new Error(`No DigestInfo for ${hash}`);
  return Buffer.concat([prefix, digest]);
}

/** EMSA-PKCS1-v1_5 (RFC 8017 §9.2) of a digest into `emLength` bytes: 00 01 FF…FF 00 ‖ DigestInfo ‖ H. */
export function emsaPkcs1v15(hash: HashName, digest: Uint8Array, emLength: number): Buffer {
  const t = digestInfo(hash, digest);
  if (emLength < t.length + 11) throw new Error("The RSA modulus is too short for this digest");
  const em = Buffer.alloc(emLength, 0xff);
  em[0] = 0x00;
  em[1] = 0x01;
  em[emLength - t.length - 1] = 0x00;
  t.copy(em, emLength - t.length);
  return em;
}

function mgf1(hash: HashName, seed: Uint8Array, length: number): Buffer {
  const hLen = HASH_BYTES[hash];
  const mask = Buffer.alloc(Math.ceil(length / hLen) * hLen);
  const counter = Buffer.alloc(4);
  for (let i = 0; i * hLen < length; i++) {
    counter.writeUInt32BE(i);
    createHash(hash).update(seed).update(counter).digest().copy(mask, i * hLen);
  }
  return mask.subarray(0, length);
}

function xorInto(target: Buffer, mask: Buffer): void {
  for (let i = 0; i < target.length; i++) target[i] = (target[i] ?? 0) ^ (mask[i] ?? 0);
}

/**
 * EME-OAEP decoding (RFC 8017 §7.1.2 step 3) with MGF1 over the same hash and an empty label, as KMS's
 * RSAES_OAEP_SHA_256 does. Every check runs whatever the earlier ones found, and all failures are the same
 * KeyStoreIntegrityError, so nothing tells a caller which part was wrong (Manger's attack). `em` and every
 * intermediate are zeroed; the caller owns (and zeroes) the plaintext returned.
 */
export function decodeOaep(hash: HashName, em: Buffer): Buffer {
  const hLen = HASH_BYTES[hash];
  const k = em.length;
  if (k < 2 * hLen + 2) {
    em.fill(0);
    throw new KeyStoreIntegrityError("The RSA modulus is too short for OAEP with this hash");
  }
  const maskedSeed = em.subarray(1, 1 + hLen);
  const db = Buffer.from(em.subarray(1 + hLen));
  const seed = Buffer.from(maskedSeed);
  const seedMask = mgf1(hash, db, hLen);
  xorInto(seed, seedMask);
  const dbMask = mgf1(hash, seed, k - hLen - 1);
  xorInto(db, dbMask);
  try {
    const emptyLabelHash = createHash(hash).digest();
    let bad = em[0] ?? 1;
    bad |= timingSafeEqual(db.subarray(0, hLen), emptyLabelHash) ? 0 : 1;
    // Find the 0x01 after the zero padding without stopping early: `found` flips once, at the separator.
    let found = 0;
    let separator = 0;
    for (let i = hLen; i < db.length; i++) {
      const byte = db[i] ?? 0;
      const isOne = byte === 0x01 ? 1 : 0;
      const isZero = byte === 0x00 ? 1 : 0;
      separator += (1 - found) * isOne * i;
      bad |= (1 - found) & (1 - isOne) & (1 - isZero);
      found |= isOne;
    }
    bad |= 1 - found;
    if (bad !== 0) throw new KeyStoreIntegrityError("The ciphertext does not decrypt under this RSA key with RSAES_OAEP");
    return Buffer.from(db.subarray(separator + 1));
  } finally {
    for (const secret of [em, db, seed, seedMask, dbMask]) secret.fill(0);
  }
}

/**
 * EMSA-PSS-VERIFY (RFC 8017 §9.1.2) with MGF1 over the same hash and a salt of the hash's length, as KMS's
 * RSASSA_PSS_* use: `em` is the signature raised to the public exponent (k bytes), `modulusBits` the key size.
 */
export function emsaPssVerify(hash: HashName, digest: Uint8Array, em: Buffer, modulusBits: number): boolean {
  const hLen = HASH_BYTES[hash];
  const sLen = hLen;
  const emBits = modulusBits - 1;
  const emLen = Math.ceil(emBits / 8);
  // With emBits a multiple of 8 the encoded message is one byte shorter than the modulus, and that byte is zero.
  if (em.length === emLen + 1) {
    if (em[0] !== 0) return false;
    em = em.subarray(1);
  }
  if (em.length !== emLen || emLen < hLen + sLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topBits = 8 * emLen - emBits;
  const topMask = (0xff << (8 - topBits)) & 0xff;
  if (((maskedDb[0] ?? 0) & topMask) !== 0) return false;
  const db = Buffer.from(maskedDb);
  xorInto(db, mgf1(hash, h, db.length));
  db[0] = (db[0] ?? 0) & ~topMask;
  const separator = emLen - hLen - sLen - 2;
  for (let i = 0; i < separator; i++) if (db[i] !== 0) return false;
  if (db[separator] !== 0x01) return false;
  const salt = db.subarray(db.length - sLen);
  const expected = createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest();
  return timingSafeEqual(expected, h);
}
