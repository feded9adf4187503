// HMACs under an HMAC KMS key's backing key: GenerateMac's MAC, and VerifyMac's comparison in constant time.
import { timingSafeEqual } from "node:crypto";
import type { KeyStore, MacAlgorithmSpec } from "../../crypto/key-store";
import { invalidMac } from "./errors";
import { currentBackingKeyOf } from "./key-material";
import type { KmsKeyRecord } from "./key-record";

export class Macs {
  constructor(private readonly keyStore: KeyStore) {}

  /** The raw RFC 2104 HMAC, as long as the algorithm's hash (28, 32, 48 or 64 bytes). */
  generate(key: KmsKeyRecord, algorithm: MacAlgorithmSpec, message: Uint8Array): Promise<Buffer> {
    return this.keyStore.generateMac(currentBackingKeyOf(key), algorithm, message);
  }

  /**
   * Throws KMSInvalidMacException unless `mac` is the HMAC of `message`: AWS never answers MacValid false. A MAC of
   * another length (truncated, padded) fails the same way; only the length, which is public, decides that early.
   */
  async verify(key: KmsKeyRecord, algorithm: MacAlgorithmSpec, message: Uint8Array, mac: Uint8Array): Promise<void> {
    const expected = await this.generate(key, algorithm, message);
    const valid = expected.length === mac.length && timingSafeEqual(expected, mac);
    expected.fill(0);
    if (!valid) throw invalidMac();
  }
}
