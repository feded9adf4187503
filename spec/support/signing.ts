// Helpers the signing specs share, written from the standards rather than taken from src/, so no spec trusts the emulator.
import { createHash } from "node:crypto";

/** A copy of `bytes` with its last bit flipped: a tampered signature, message or wrapped key. */
export const flipLastBit = (bytes: Uint8Array): Buffer => {
  const copy = Buffer.from(bytes);
  copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 0x01;
  return copy;
};

/** FIPS 204 Algorithm 2 (ML-DSA.Sign, pure, empty context): μ = SHAKE256(SHAKE256(pk, 64) ‖ 0 ‖ 0 ‖ M, 64), computed here with node. */
export function externalMu(rawPublicKey: Uint8Array, message: Uint8Array): Buffer {
  const tr = createHash("shake256", { outputLength: 64 }).update(rawPublicKey).digest();
  return createHash("shake256", { outputLength: 64 }).update(tr).update(Buffer.of(0, 0)).update(message).digest();
}
