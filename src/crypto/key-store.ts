// The key store: where KMS backing keys of every key spec are made and used; private material never leaves it unwrapped.

/** The kinds of material a KMS key can be backed by: KMS KeySpec without SM2 (aws-cn only, and absent from SoftHSM). */
export type BackingKeySpec =
  | "SYMMETRIC_DEFAULT"
  | "RSA_2048"
  | "RSA_3072"
  | "RSA_4096"
  | "ECC_NIST_P256"
  | "ECC_NIST_P384"
  | "ECC_NIST_P521"
  | "ECC_SECG_P256K1"
  | "ECC_NIST_EDWARDS25519"
  | "ML_DSA_44"
  | "ML_DSA_65"
  | "ML_DSA_87"
  | "HMAC_224"
  | "HMAC_256"
  | "HMAC_384"
  | "HMAC_512";

/** KMS SigningAlgorithmSpec without SM2DSA. */
export type SigningAlgorithmSpec =
  | "RSASSA_PSS_SHA_256"
  | "RSASSA_PSS_SHA_384"
  | "RSASSA_PSS_SHA_512"
  | "RSASSA_PKCS1_V1_5_SHA_256"
  | "RSASSA_PKCS1_V1_5_SHA_384"
  | "RSASSA_PKCS1_V1_5_SHA_512"
  | "ECDSA_SHA_256"
  | "ECDSA_SHA_384"
  | "ECDSA_SHA_512"
  | "ML_DSA_SHAKE_256"
  | "ED25519_SHA_512"
  | "ED25519_PH_SHA_512";

export type MacAlgorithmSpec = "HMAC_SHA_224" | "HMAC_SHA_256" | "HMAC_SHA_384" | "HMAC_SHA_512";

/** The RSA EncryptionAlgorithmSpecs (MGF1 with the same hash, empty label), as KMS does them. */
export type RsaEncryptionAlgorithmSpec = "RSAES_OAEP_SHA_1" | "RSAES_OAEP_SHA_256";

/** A backing key as stored: its spec travels with it, and `wrapped` is the only form of its material at rest. */
export interface BackingKeyRef {
  /** Stable name for the material (the KMS key id plus its KeyMaterialId); keys the handle cache. */
  readonly id: string;
  readonly spec: BackingKeySpec;
  /** AES_KEY_WRAP_PAD under the token's root key: of the key itself, or of the 32-byte seed for "node" specs. */
  readonly wrapped: Uint8Array;
}

export interface NewBackingKey {
  readonly wrapped: Uint8Array;
  /** SubjectPublicKeyInfo DER, asymmetric specs only: what GetPublicKey returns and Verify checks against. */
  readonly publicKey?: Buffer;
}

/** Where a backing key's private material is used: inside the token, or (unwrapped for one operation) in Node. */
export type MaterialLocation = "token" | "node";

export type MessageType = "RAW" | "DIGEST" | "EXTERNAL_MU";

/**
 * What Sign signs, as KMS takes it: RAW is the message; DIGEST its hash under the algorithm's hash (for
 * ED25519_PH_SHA_512, the SHA-512 prehash of Ed25519ph); EXTERNAL_MU the 64-byte μ of FIPS 204 (ML-DSA only).
 */
export interface SignInput {
  readonly messageType: MessageType;
  readonly message: Uint8Array;
}

export interface KeyStoreHealth {
  readonly ok: boolean;
  readonly kind: string;
  readonly detail: string;
}

/**
 * A failed GCM tag check, a wrapped key the root key cannot unwrap, or RSA ciphertext that does not decrypt
 * under the key: the ciphertext is not ours (KMS InvalidCiphertextException).
 */
export class KeyStoreIntegrityError extends Error {
  override readonly name = "KeyStoreIntegrityError";
}

/**
 * DeriveSharedSecret's peer key is not SubjectPublicKeyInfo DER of a point on the backing key's curve
 * (KMS ValidationException, sent with an empty message).
 */
export class PeerPublicKeyError extends Error {
  override readonly name = "PeerPublicKeyError";
}

/**
 * A request the KMS layer should have refused first, with AWS's own text: an algorithm the spec does not
 * have, a MessageType the algorithm does not take, a digest of the wrong length, an operation the spec
 * cannot do, RSA plaintext over the OAEP limit. The key store refuses it too rather than compute nonsense.
 */
export class KeyStoreUsageError extends Error {
  override readonly name = "KeyStoreUsageError";
}

export interface KeyStore {
  /** Where the private material of `spec` is used; undefined when this store cannot hold that spec at all. */
  supports(spec: BackingKeySpec): MaterialLocation | undefined;
  /** Fresh material of `spec`, made in the token ("token" specs) or from the token's RNG ("node" specs), returned wrapped. */
  generate(spec: BackingKeySpec): Promise<NewBackingKey>;
  /**
   * Takes material from outside (ImportKeyMaterial, seed fixtures) and returns it wrapped, like generate; the
   * material is written nowhere else, and the caller zeroes its copy. SYMMETRIC_DEFAULT: 32 raw bytes; HMAC_*:
   * raw bytes of the spec's key length (RangeError otherwise); RSA_*, ECC_* and ECC_NIST_EDWARDS25519: PKCS#8 DER, as
   * AWS imports asymmetric material, of the spec's modulus size or curve (KeyStoreUsageError otherwise); the public
   * key comes back derived from it. ML_DSA_* is refused with KeyStoreUsageError. Optional: a store without it cannot import.
   */
  importBackingKey?(spec: BackingKeySpec, material: Uint8Array): Promise<NewBackingKey>;
  /** AES-256-GCM under a SYMMETRIC_DEFAULT backing key, inside the token, synchronously. Returns ciphertext ‖ 16-byte tag. */
  seal(backingKey: BackingKeyRef, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Buffer;
  /** Reverses seal; throws KeyStoreIntegrityError when the tag does not verify. */
  open(backingKey: BackingKeyRef, iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Buffer;
  /** A signature as KMS returns it: ECDSA as DER (X9.62), RSA and EdDSA and ML-DSA as their raw signature bytes. */
  sign(backingKey: BackingKeyRef, algorithm: SigningAlgorithmSpec, input: SignInput): Promise<Buffer>;
  /** RSA-OAEP decryption under an RSA backing key; KeyStoreIntegrityError when the ciphertext is not for it. */
  decrypt(backingKey: BackingKeyRef, algorithm: RsaEncryptionAlgorithmSpec, ciphertext: Uint8Array): Promise<Buffer>;
  /** HMAC under an HMAC backing key (VerifyMac compares against it in constant time). */
  generateMac(backingKey: BackingKeyRef, algorithm: MacAlgorithmSpec, message: Uint8Array): Promise<Buffer>;
  /** ECDH with a NIST-curve backing key: the shared point's raw x-coordinate (32, 48 or 66 bytes). */
  deriveSharedSecret(backingKey: BackingKeyRef, peerPublicKeySpki: Uint8Array): Promise<Buffer>;
  /** Drops the cached unwrapped session object for a backing key (after destruction, or on reset). */
  forget(backingKeyId: string): void;
  forgetAll(): void;
  /** Random bytes from the token's generator. */
  random(byteCount: number): Buffer;
  health(): KeyStoreHealth;
  close(): Promise<void>;
}
