// RSA ciphertexts: raw RSAES-OAEP output under an RSA ENCRYPT_DECRYPT key, and the rules that set them apart from symmetric blobs.
import type { EncryptionAlgorithmSpec } from "@aws-sdk/client-kms";
import { KeyStoreIntegrityError, type KeyStore, type RsaEncryptionAlgorithmSpec } from "../../crypto/key-store";
import { encryptWithPublicKey } from "../../crypto/public-key-operations";
import type { EncryptionContext } from "./ciphertext";
import { asymmetricEncryptionContext, invalidCiphertext, rsaPlaintextTooLarge } from "./errors";
import { backingKeyOf } from "./key-material";
import type { BackingKeyRecord, KmsKeyRecord } from "./key-record";
import { KEY_SPECS } from "./key-specs";

/**
 * The ciphertext is exactly what AWS returns for an RSA key: the OAEP output, modulus-sized, no envelope, no key id.
 * So data encrypted outside with GetPublicKey's key decrypts here, and Decrypt needs the KeyId and algorithm to open it.
 */
export class RsaCiphertexts {
  constructor(private readonly keyStore: KeyStore) {}

  /** Encrypts with the key's public key (no token call); the caller has checked the size with assertRsaPlaintextFits. */
  encrypt(key: KmsKeyRecord, algorithm: EncryptionAlgorithmSpec, plaintext: Uint8Array): Buffer {
    return encryptWithPublicKey(publicKeyOf(current(key)), rsaAlgorithm(algorithm), plaintext);
  }

  /** Decrypts in the token, off the event loop; ciphertext not made for this key and algorithm is InvalidCiphertextException. */
  async decrypt(key: KmsKeyRecord, algorithm: EncryptionAlgorithmSpec, ciphertext: Uint8Array): Promise<Buffer> {
    try {
      return await this.keyStore.decrypt(backingKeyOf(key, current(key)), rsaAlgorithm(algorithm), ciphertext);
    } catch (error) {
      if (error instanceof KeyStoreIntegrityError) throw invalidCiphertext();
      throw error;
    }
  }
}

/** Encrypt's table of limits per key spec and algorithm (214/190, 342/318, 470/446 bytes); a ReEncrypt destination too. */
export function assertRsaPlaintextFits(key: KmsKeyRecord, algorithm: EncryptionAlgorithmSpec, plaintextBytes: number): void {
  const limit = KEY_SPECS[key.keySpec].plaintextLimits?.[algorithm];
  if (limit === undefined) throw new Error(`No plaintext limit for ${algorithm} with ${key.keySpec}`);
  if (plaintextBytes > limit) throw rsaPlaintextTooLarge(algorithm, key.keySpec, limit);
}

/**
 * "An encryption context is supported only on operations with symmetric encryption KMS keys" (Encrypt, Decrypt,
 * ReEncrypt). An empty map is no context, as it is for symmetric keys.
 */
export function refuseAsymmetricContext(key: KmsKeyRecord, context: EncryptionContext): void {
  if (key.keySpec === "SYMMETRIC_DEFAULT" || context === undefined) return;
  for (const _name in context) throw asymmetricEncryptionContext();
}

/** An asymmetric key has one backing key for life (no rotation), made at CreateKey. */
function current(key: KmsKeyRecord): BackingKeyRecord {
  const backingKey = key.backingKeys[key.backingKeys.length - 1];
  if (backingKey === undefined) throw new Error(`KMS key ${key.keyId} has no backing key`);
  return backingKey;
}

/** The stored public key, decoded once per record read. */
const publicKeys = new WeakMap<BackingKeyRecord, Buffer>();

function publicKeyOf(backingKey: BackingKeyRecord): Buffer {
  let spki = publicKeys.get(backingKey);
  if (spki === undefined) {
    if (backingKey.publicKey === undefined) throw new Error("An RSA backing key without its public key");
    spki = Buffer.from(backingKey.publicKey, "base64");
    publicKeys.set(backingKey, spki);
  }
  return spki;
}

/** assertUsable has matched the algorithm to the key's spec; SM2PKE never gets here (no SM2 key exists). */
function rsaAlgorithm(algorithm: EncryptionAlgorithmSpec): RsaEncryptionAlgorithmSpec {
  if (algorithm !== "RSAES_OAEP_SHA_1" && algorithm !== "RSAES_OAEP_SHA_256") throw new Error(`Not an RSA encryption algorithm: ${algorithm}`);
  return algorithm;
}
