// The key store: where KMS backing keys are made and used, without their material ever reaching Node.

/** A KMS key's backing key as the store hands it out: wrapped under the token's root key. */
export interface WrappedBackingKey {
  /** Stable name for the material (the KMS key id plus its KeyMaterialId); keys the handle cache. */
  readonly id: string;
  /** AES_KEY_WRAP_PAD of the AES-256 backing key under the root key; the only form ever stored. */
  readonly wrapped: Uint8Array;
}

export interface KeyStoreHealth {
  readonly ok: boolean;
  readonly kind: string;
  readonly detail: string;
}

/** A failed GCM tag check or a wrapped key the root key cannot unwrap: the ciphertext is not ours. */
export class KeyStoreIntegrityError extends Error {
  override readonly name = "KeyStoreIntegrityError";
}

export interface KeyStore {
  /** Generates a fresh AES-256 backing key inside the token and returns it wrapped by the root key. */
  createBackingKey(): Promise<Uint8Array>;
  /**
   * Takes raw AES-256 material from outside (imported key material, Origin EXTERNAL) into the token and returns it
   * wrapped by the root key, like createBackingKey; the material is written nowhere else. The caller zeroes its copy.
   * Optional: a key store that cannot take outside material leaves it out, and importing is then refused.
   */
  importBackingKey?(material: Uint8Array): Promise<Uint8Array>;
  /** AES-256-GCM under the backing key, inside the token. Returns ciphertext ‖ 16-byte tag. */
  seal(backingKey: WrappedBackingKey, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Buffer;
  /** Reverses seal; throws KeyStoreIntegrityError when the tag does not verify. */
  open(backingKey: WrappedBackingKey, iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Buffer;
  /** Drops the cached unwrapped session object for a backing key (after destruction, or on reset). */
  forget(backingKeyId: string): void;
  forgetAll(): void;
  /** Random bytes from the token's generator. */
  random(byteCount: number): Buffer;
  health(): KeyStoreHealth;
  close(): Promise<void>;
}
