// ECDH under a KEY_AGREEMENT KMS key's backing key: DeriveSharedSecret's raw shared secret with a peer's public key.
import { PeerPublicKeyError, type KeyStore } from "../../crypto/key-store";
import { invalidPeerPublicKey } from "./errors";
import { currentBackingKeyOf } from "./key-material";
import type { KmsKeyRecord } from "./key-record";

export class SharedSecrets {
  constructor(private readonly keyStore: KeyStore) {}

  /**
   * The shared point's x-coordinate (32, 48 or 66 bytes: no KDF, as AWS returns it). A peer key that is not
   * SubjectPublicKeyInfo DER of a point on the key's curve is ValidationException with an empty message (recorded).
   */
  async derive(key: KmsKeyRecord, peerPublicKeySpki: Uint8Array): Promise<Buffer> {
    try {
      return await this.keyStore.deriveSharedSecret(currentBackingKeyOf(key), peerPublicKeySpki);
    } catch (error) {
      if (error instanceof PeerPublicKeyError) throw invalidPeerPublicKey();
      throw error;
    }
  }
}
