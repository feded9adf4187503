// The KeyStore on a PKCS#11 token: the token's root key, backing keys of every spec wrapped under it, and their use.

import * as graphene from "graphene-pk11";
import * as pkcs11 from "pkcs11js";
import type { Mechanism, PKCS11 } from "pkcs11js";
import { ecdsaRawToDer } from "./der";
import {
  KeyStoreIntegrityError,
  KeyStoreUsageError,
  PeerPublicKeyError,
  type BackingKeyRef,
  type BackingKeySpec,
  type KeyStore,
  type KeyStoreHealth,
  type MacAlgorithmSpec,
  type MaterialLocation,
  type NewBackingKey,
  type RsaEncryptionAlgorithmSpec,
  type SignInput,
  type SigningAlgorithmSpec,
} from "./key-store";
import {
  BACKING_KEY_SPECS,
  backingKeyFacts,
  checkMacAlgorithm,
  checkSignInput,
  digestToSign,
  HASH_BYTES,
  OAEP_HASH,
  type BackingKeyFacts,
} from "./key-specs";
import { privateKeyOfPkcs8, publicKeySpkiOf } from "./imported-keys";
import { ed25519SeedOfPkcs8, publicKeyOfSeed, SEED_BYTES, signWithSeed } from "./node-held-keys";
import { SessionPool, UnwrappedKeyCache } from "./pkcs11-handles";
import {
  acquireModule,
  afterTokenFailure,
  ckrName,
  closeQuietly,
  findTokenSlot,
  isCkr,
  login,
  releaseModule,
  RW_SESSION,
  slotId,
  type SharedModule,
} from "./pkcs11-module";
import {
  ECDSA_MECHANISM,
  ecdhMechanism,
  ecKeyPairGeneration,
  hmacMechanism,
  readableSecretTemplate,
  RSA_OAEP_SHA1_MECHANISM,
  RSA_PKCS_MECHANISM,
  RSA_X509_MECHANISM,
  rsaKeyPairGeneration,
  rsaPssMechanism,
  SECRET_KEY_GENERATION,
  unwrapTemplate,
  WRAP_MECHANISM,
  wrappablePrivateKeyTemplate,
  wrappableSecretTemplate,
  type KeyPairGeneration,
  type SecretKeyType,
} from "./pkcs11-templates";
import { ecPublicKeySpki, peerEcPoint, rsaPublicKeySpki } from "./public-keys";
import { decodeOaep, digestInfo } from "./rsa-padding";

export interface Pkcs11KeyStoreOptions {
  readonly modulePath: string;
  readonly tokenLabel: string;
  readonly pin: string;
  /** Where the PIN was read from (a PIN file): named when the token refuses the PIN. */
  readonly pinSource?: string;
  /** Set for SoftHSM2: exported as SOFTHSM2_CONF before the module initialises (SoftHSM reads it only then). */
  readonly softhsmConfigPath?: string;
  readonly rootKeyLabel?: string;
  /**
   * Make a fresh root key as a session object instead of finding or creating one on the token: nothing
   * outlives close(), and stores sharing the token never look it up, as they find only token objects
   * (--in-memory instances).
   */
  readonly ephemeralRootKey?: boolean;
  /** How many unwrapped backing keys stay in the token as session objects; the least recently used go first. */
  readonly handleCacheSize?: number;
}

export const DEFAULT_ROOT_KEY_LABEL = "secretslite-root";
const DEFAULT_HANDLE_CACHE_SIZE = 1024;
// Token work sent to libuv's thread pool (four threads, shared with LevelDB and node:crypto). Two sessions for
// the short operations let RSA signing use both cores (~1.8x one session, measured) without crowding LevelDB
// out; RSA generation, seconds a key, gets a session of its own so signatures never queue behind it.
const OPERATION_SESSIONS = 2;
const RSA_GENERATION_SESSIONS = 1;

const GCM_TAG_BYTES = 16;
const AES_256_BYTES = 32;

// SoftHSM refuses a NULL data pointer with CKR_ARGUMENTS_BAD but leaves the operation active, wedging
// the session; pkcs11js passes NULL for a zero-length Buffer unless it views a non-empty allocation.
const EMPTY = Buffer.alloc(1).subarray(0, 0);

export async function openPkcs11KeyStore(options: Pkcs11KeyStoreOptions): Promise<KeyStore> {
  const handleCacheSize = options.handleCacheSize ?? DEFAULT_HANDLE_CACHE_SIZE;
  if (!Number.isSafeInteger(handleCacheSize) || handleCacheSize < 1) {
    throw new RangeError(`handleCacheSize must be a positive integer, not ${handleCacheSize}`);
  }
  const rootKeyLabel = options.rootKeyLabel ?? DEFAULT_ROOT_KEY_LABEL;
  const shared = acquireModule(options.modulePath, options.softhsmConfigPath);
  const sessions: graphene.Session[] = [];
  try {
    const slot = findTokenSlot(shared.module, options.tokenLabel);
    // The first session doubles as this store's login anchor: the token logs out when the
    // application's last session closes, and private handles die with the login.
    const syncSession = slot.open(RW_SESSION);
    sessions.push(syncSession);
    login(shared.lib, syncSession, options.tokenLabel, options.pin, options.pinSource);
    const rootKey = options.ephemeralRootKey === true
      ? generateRootKey(syncSession, rootKeyLabel, false)
      : findOrCreateRootKey(syncSession, rootKeyLabel);
    const openSessions = (count: number): graphene.Session[] => {
      const opened = Array.from({ length: count }, () => slot.open(RW_SESSION));
      sessions.push(...opened);
      return opened;
    };
    return new Pkcs11KeyStore({
      shared,
      syncSession,
      operations: new SessionPool(openSessions(OPERATION_SESSIONS)),
      rsaGeneration: new SessionPool(openSessions(RSA_GENERATION_SESSIONS)),
      rootKey,
      handleCacheSize,
      description: `${shared.manufacturer} token '${options.tokenLabel}' (slot ${slotId(slot)})`,
    });
  } catch (error) {
    for (const session of sessions) closeQuietly(session);
    releaseModule(shared);
    throw error;
  }
}

class Pkcs11KeyStore implements KeyStore {
  private readonly shared: SharedModule;
  private readonly lib: PKCS11;
  private readonly syncSession: graphene.Session;
  /** Short token work off the event loop: signing, decryption, derivation, AES, HMAC and EC generation. */
  private readonly operations: SessionPool;
  /** RSA generation alone, up to seconds a key: it never holds up a signature. */
  private readonly rsaGeneration: SessionPool;
  private readonly rootKey: graphene.SecretKey;
  private readonly description: string;
  private readonly unwrapped: UnwrappedKeyCache;
  /**
   * Buffers handed to pkcs11js's thread-pool calls, which keep raw pointers to them: referenced from here until
   * each call settles, so the garbage collector cannot free one under the token's feet.
   */
  private readonly buffersInFlight = new Set<readonly Buffer[]>();
  private inFlight = 0;
  private onIdle: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(parts: {
    shared: SharedModule;
    syncSession: graphene.Session;
    operations: SessionPool;
    rsaGeneration: SessionPool;
    rootKey: graphene.SecretKey;
    handleCacheSize: number;
    description: string;
  }) {
    this.shared = parts.shared;
    this.lib = parts.shared.lib;
    this.syncSession = parts.syncSession;
    this.operations = parts.operations;
    this.rsaGeneration = parts.rsaGeneration;
    this.rootKey = parts.rootKey;
    this.description = parts.description;
    this.unwrapped = new UnwrappedKeyCache(parts.handleCacheSize, (handle) => this.destroyHandle(handle));
  }

  supports(spec: BackingKeySpec): MaterialLocation | undefined {
    if (!BACKING_KEY_SPECS.includes(spec)) return undefined;
    return materialLocation(backingKeyFacts(spec));
  }

  generate(spec: BackingKeySpec): Promise<NewBackingKey> {
    return this.track(async () => {
      const facts = backingKeyFacts(spec);
      switch (facts.family) {
        case "aes":
          return { wrapped: await this.generateSecret("aes", AES_256_BYTES) };
        case "hmac":
          return { wrapped: await this.generateSecret("generic", facts.keyBytes) };
        case "rsa":
          return this.generateKeyPair(this.rsaGeneration, rsaKeyPairGeneration(facts.modulusBits), (session, publicKey) => {
            const [modulus, exponent] = this.lib.C_GetAttributeValue(session, publicKey, [{ type: pkcs11.CKA_MODULUS }, { type: pkcs11.CKA_PUBLIC_EXPONENT }]);
            return rsaPublicKeySpki(attributeBytes(modulus), attributeBytes(exponent));
          });
        case "ec":
          return this.generateKeyPair(this.operations, ecKeyPairGeneration(facts.curve), (session, publicKey) => {
            const [point] = this.lib.C_GetAttributeValue(session, publicKey, [{ type: pkcs11.CKA_EC_POINT }]);
            return ecPublicKeySpki(facts.curve, attributeBytes(point));
          });
        case "ed25519":
        case "ml-dsa": {
          // The seed comes from the token's generator and is sealed at once; only the public key is computed here.
          const seed = this.random(SEED_BYTES);
          try {
            return { wrapped: this.wrapOutsideSecret("generic", seed), publicKey: await publicKeyOfSeed(spec, seed) };
          } finally {
            seed.fill(0);
          }
        }
      }
    });
  }

  importBackingKey(spec: BackingKeySpec, material: Uint8Array): Promise<NewBackingKey> {
    return this.importMaterial(spec, material);
  }

  seal(backingKey: BackingKeyRef, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Buffer {
    this.assertOpen();
    return gcmSeal(this.lib, this.syncSession.handle, () => this.symmetricKeyHandle(backingKey), iv, aad, plaintext);
  }

  open(backingKey: BackingKeyRef, iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Buffer {
    this.assertOpen();
    return gcmOpen(this.lib, this.syncSession.handle, () => this.symmetricKeyHandle(backingKey), iv, aad, sealed);
  }

  sign(backingKey: BackingKeyRef, algorithm: SigningAlgorithmSpec, input: SignInput): Promise<Buffer> {
    return this.track(async () => {
      const signing = checkSignInput(backingKey.spec, algorithm, input);
      const facts = backingKeyFacts(backingKey.spec);
      if (materialLocation(facts) === "node") {
        const seed = this.openSeed(backingKey);
        try {
          return await signWithSeed(backingKey.spec, algorithm, signing, input, seed);
        } finally {
          seed.fill(0);
        }
      }
      const digest = digestToSign(signing, input);
      const hash = signing.hash ?? "sha256";
      if (facts.family === "rsa") {
        const mechanism = signing.scheme === "rsa-pss" ? rsaPssMechanism(hash, HASH_BYTES[hash]) : RSA_PKCS_MECHANISM;
        const data = signing.scheme === "rsa-pss" ? digest : digestInfo(hash, digest);
        return this.withTokenKey(backingKey, "rsa", (session, key) => this.signAsync(session, mechanism, key, data, facts.modulusBits / 8));
      }
      if (facts.family === "ec") {
        const size = facts.curve.coordinateBytes;
        // CKM_ECDSA gives r ‖ s; KMS returns the DER form.
        return ecdsaRawToDer(await this.withTokenKey(backingKey, "ec", (session, key) => this.signAsync(session, ECDSA_MECHANISM, key, digest, 2 * size)));
      }
      throw new KeyStoreUsageError(`Algorithm ${algorithm} is incompatible with key spec ${backingKey.spec}.`);
    });
  }

  decrypt(backingKey: BackingKeyRef, algorithm: RsaEncryptionAlgorithmSpec, ciphertext: Uint8Array): Promise<Buffer> {
    return this.track(async () => {
      const facts = backingKeyFacts(backingKey.spec);
      if (facts.family !== "rsa" || OAEP_HASH[algorithm] === undefined) {
        throw new KeyStoreUsageError(`Algorithm ${algorithm} is incompatible with key spec ${backingKey.spec}.`);
      }
      const modulusBytes = facts.modulusBits / 8;
      if (ciphertext.length !== modulusBytes) {
        throw new KeyStoreIntegrityError(`${backingKey.spec} ciphertext is ${modulusBytes} bytes, not ${ciphertext.length}`);
      }
      // SoftHSM 2.6.1 does OAEP with SHA-1 only: for SHA-256, raw RSA in the token and OAEP decoding here.
      const sha1 = algorithm === "RSAES_OAEP_SHA_1";
      const decrypted = await this.withTokenKey(backingKey, "rsa", (session, key) =>
        this.decryptAsync(session, sha1 ? RSA_OAEP_SHA1_MECHANISM : RSA_X509_MECHANISM, key, Buffer.from(ciphertext), modulusBytes),
      );
      if (sha1) return decrypted;
      const em = Buffer.alloc(modulusBytes);
      decrypted.copy(em, modulusBytes - decrypted.length);
      decrypted.fill(0);
      return decodeOaep(OAEP_HASH[algorithm], em);
    });
  }

  async generateMac(backingKey: BackingKeyRef, algorithm: MacAlgorithmSpec, message: Uint8Array): Promise<Buffer> {
    this.assertOpen();
    const hash = checkMacAlgorithm(backingKey.spec, algorithm);
    try {
      const key = this.syncKeyHandle(backingKey.id, backingKey.spec, backingKey.wrapped, "hmac");
      // On the event loop on purpose: a 4 KiB HMAC takes ~15 µs in the token (measured), a thread-pool hop more than that.
      const session = this.syncSession.handle;
      this.lib.C_SignInit(session, hmacMechanism(hash), key);
      return this.lib.C_Sign(session, message.length === 0 ? EMPTY : asBuffer(message), Buffer.allocUnsafe(HASH_BYTES[hash]));
    } catch (error) {
      throw afterTokenFailure(error);
    }
  }

  deriveSharedSecret(backingKey: BackingKeyRef, peerPublicKeySpki: Uint8Array): Promise<Buffer> {
    return this.track(async () => {
      const facts = backingKeyFacts(backingKey.spec);
      if (facts.family !== "ec" || !facts.keyAgreement) throw new KeyStoreUsageError(`${backingKey.spec} keys cannot derive shared secrets.`);
      const peerPoint = peerEcPoint(peerPublicKeySpki, facts.curve);
      return this.withTokenKey(backingKey, "ec", async (session, key) => {
        let derived: Buffer;
        try {
          derived = await this.keepingAlive([peerPoint], () =>
            this.lib.C_DeriveKeyAsync(session, ecdhMechanism(peerPoint), key, readableSecretTemplate(facts.curve.coordinateBytes)),
          );
        } catch (error) {
          if (isCkr(error, "CKR_MECHANISM_PARAM_INVALID")) throw new PeerPublicKeyError("The token refused the peer public key", { cause: error });
          throw error;
        }
        try {
          const [value] = this.lib.C_GetAttributeValue(session, derived, [{ type: pkcs11.CKA_VALUE }]);
          return Buffer.from(attributeBytes(value));
        } finally {
          this.destroyHandle(derived);
        }
      });
    });
  }

  forget(backingKeyId: string): void {
    this.unwrapped.delete(backingKeyId);
  }

  forgetAll(): void {
    this.unwrapped.clear();
  }

  random(byteCount: number): Buffer {
    this.assertOpen();
    if (!Number.isSafeInteger(byteCount) || byteCount < 0) {
      throw new RangeError(`byteCount must be a non-negative integer, not ${byteCount}`);
    }
    if (byteCount === 0) return Buffer.alloc(0);
    try {
      return this.lib.C_GenerateRandom(this.syncSession.handle, Buffer.allocUnsafe(byteCount));
    } catch (error) {
      throw afterTokenFailure(error);
    }
  }

  health(): KeyStoreHealth {
    if (this.closing !== undefined) return { ok: false, kind: "pkcs11", detail: `${this.description}: key store closed` };
    try {
      // Also proves the login is alive: a private object's handle dies with it.
      this.lib.C_GetAttributeValue(this.syncSession.handle, this.rootKey.handle, [{ type: pkcs11.CKA_CLASS }]);
      return { ok: true, kind: "pkcs11", detail: `${this.description}, root key present` };
    } catch (error) {
      afterTokenFailure(error);
      return { ok: false, kind: "pkcs11", detail: `${this.description}: root key unusable (${ckrName(error)})` };
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    // A session closed under a thread-pool call crashes the process: let the calls under way finish first.
    if (this.inFlight > 0) await new Promise<void>((resolveIdle) => (this.onIdle = resolveIdle));
    this.unwrapped.clear();
    try {
      // Closing a session destroys the session objects it created, whatever the cache still held.
      for (const session of [...this.operations.sessions, ...this.rsaGeneration.sessions]) closeQuietly(session);
      closeQuietly(this.syncSession);
    } finally {
      releaseModule(this.shared);
    }
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new Error("The PKCS#11 key store is closed");
  }

  /** Counts asynchronous work, so close() can wait for it: a session must not close under a thread-pool call. */
  private async track<T>(work: () => Promise<T>): Promise<T> {
    this.assertOpen();
    this.inFlight++;
    try {
      return await work();
    } catch (error) {
      throw afterTokenFailure(error);
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.onIdle?.();
    }
  }

  private async keepingAlive<T>(buffers: readonly Buffer[], call: () => Promise<T>): Promise<T> {
    this.buffersInFlight.add(buffers);
    try {
      return await call();
    } finally {
      this.buffersInFlight.delete(buffers);
    }
  }

  private importMaterial(spec: BackingKeySpec, material: Uint8Array): Promise<NewBackingKey> {
    return this.track(async () => this.importMaterialNow(spec, material));
  }

  private async importMaterialNow(spec: BackingKeySpec, material: Uint8Array): Promise<NewBackingKey> {
    const facts = backingKeyFacts(spec);
    switch (facts.family) {
      case "aes":
        if (material.length !== AES_256_BYTES) throw new RangeError(`Imported key material must be ${AES_256_BYTES} bytes, not ${material.length}`);
        return { wrapped: this.wrapOutsideSecret("aes", asBuffer(material)) };
      case "hmac":
        // The key length of the spec, as generated keys have; AWS's rule for imported HMAC material is not recorded here.
        if (material.length !== facts.keyBytes) throw new RangeError(`${spec} key material must be ${facts.keyBytes} bytes, not ${material.length}`);
        return { wrapped: this.wrapOutsideSecret("generic", asBuffer(material)) };
      case "ed25519": {
        const seed = ed25519SeedOfPkcs8(material);
        try {
          return { wrapped: this.wrapOutsideSecret("generic", seed), publicKey: await publicKeyOfSeed(spec, seed) };
        } finally {
          seed.fill(0);
        }
      }
      case "rsa":
      case "ec": {
        const privateKey = privateKeyOfPkcs8(spec, material);
        const jwk = privateKey.export({ format: "jwk" });
        // Multi-prime RSA (JWK "oth") has no PKCS#11 template; OpenSSL makes two-prime keys unless asked otherwise.
        if (jwk.oth !== undefined) throw new KeyStoreUsageError(`${spec} key material must be a two-prime RSA key`);
        const secrets: Buffer[] = [];
        const part = (value: string | undefined, secret = true): Buffer => {
          const bytes = Buffer.from(value ?? "", "base64url");
          if (secret) secrets.push(bytes);
          return bytes;
        };
        try {
          const template =
            facts.family === "rsa"
              ? wrappablePrivateKeyTemplate({
                  rsa: {
                    modulus: part(jwk.n, false),
                    publicExponent: part(jwk.e, false),
                    privateExponent: part(jwk.d),
                    prime1: part(jwk.p),
                    prime2: part(jwk.q),
                    exponent1: part(jwk.dp),
                    exponent2: part(jwk.dq),
                    coefficient: part(jwk.qi),
                  },
                })
              : wrappablePrivateKeyTemplate({ ec: facts.curve, value: part(jwk.d) });
          return { wrapped: this.wrapOutsideObject(template, WRAP_OUTPUT_BYTES), publicKey: publicKeySpkiOf(privateKey) };
        } finally {
          for (const bytes of secrets) bytes.fill(0);
        }
      }
      case "ml-dsa":
        throw new KeyStoreUsageError("You can't import key material for ML-DSA KMS keys.");
    }
  }

  /**
   * Material from outside (imported, or a seed) as a session object that can only be wrapped, wrapped and
   * destroyed at once: outside the caller's buffer it exists only inside the token, and afterwards only wrapped.
   */
  private wrapOutsideSecret(keyType: SecretKeyType, value: Buffer): Buffer {
    return this.wrapOutsideObject(wrappableSecretTemplate(keyType, { value }), value.length + 16);
  }

  /** Creates a wrappable-only session object from `template`, wraps it under the root key and destroys it at once. */
  private wrapOutsideObject(template: pkcs11.Template, wrappedBytes: number): Buffer {
    const session = this.syncSession.handle;
    const handle = this.lib.C_CreateObject(session, template);
    try {
      return Buffer.from(this.lib.C_WrapKey(session, WRAP_MECHANISM, this.rootKey.handle, handle, Buffer.alloc(wrappedBytes)));
    } finally {
      this.destroyHandle(handle);
    }
  }

  private generateSecret(keyType: SecretKeyType, bytes: number): Promise<Buffer> {
    return this.operations.use(async (session) => {
      const key = await this.lib.C_GenerateKeyAsync(session, SECRET_KEY_GENERATION[keyType], wrappableSecretTemplate(keyType, { valueLen: bytes }));
      return this.wrapAndDestroy(session, key);
    });
  }

  private generateKeyPair(
    pool: SessionPool,
    generation: KeyPairGeneration,
    publicKeySpki: (session: Buffer, publicKey: Buffer) => Buffer,
  ): Promise<NewBackingKey> {
    return pool.use(async (session) => {
      const pair = await this.lib.C_GenerateKeyPairAsync(session, generation.mechanism, generation.publicKey, generation.privateKey);
      let publicKey: Buffer;
      try {
        publicKey = publicKeySpki(session, pair.publicKey);
      } catch (error) {
        this.destroyHandle(pair.privateKey);
        throw error;
      } finally {
        this.destroyHandle(pair.publicKey);
      }
      return { wrapped: await this.wrapAndDestroy(session, pair.privateKey), publicKey };
    });
  }

  /** Wraps fresh material under the root key and destroys it: until then it is extractable, so failing to is loud. */
  private async wrapAndDestroy(session: Buffer, key: Buffer): Promise<Buffer> {
    let wrapped: Buffer;
    try {
      const out = Buffer.alloc(WRAP_OUTPUT_BYTES);
      wrapped = await this.keepingAlive([out], () => this.lib.C_WrapKeyAsync(session, WRAP_MECHANISM, this.rootKey.handle, key, out));
    } catch (error) {
      this.destroyHandle(key);
      throw error;
    }
    this.lib.C_DestroyObject(session, key);
    // pkcs11js hands back a view into the output buffer: keep only the wrapped bytes.
    return Buffer.from(wrapped);
  }

  private symmetricKeyHandle(backingKey: BackingKeyRef): Buffer {
    const spec = backingKey.spec;
    if (spec !== "SYMMETRIC_DEFAULT") throw new KeyStoreUsageError(`${spec} keys cannot encrypt with AES-GCM.`);
    return this.syncKeyHandle(backingKey.id, spec, backingKey.wrapped, "aes");
  }

  /** The cached handle, or a synchronous unwrap on the event loop: AES and HMAC keys unwrap in ~50 µs (measured). */
  private syncKeyHandle(id: string, spec: BackingKeySpec, wrapped: Uint8Array, family: "aes" | "hmac"): Buffer {
    const cached = this.unwrapped.get(id, spec, wrapped);
    if (cached !== undefined) return cached.handle;
    checkWrappedLength(spec, wrapped);
    const handle = mapUnwrapError(() =>
      this.lib.C_UnwrapKey(this.syncSession.handle, WRAP_MECHANISM, this.rootKey.handle, asBuffer(wrapped), unwrapTemplate(family)),
    );
    return this.unwrapped.add(id, spec, wrapped, handle).handle;
  }

  /**
   * Runs `work` on a pool session with the backing key's handle, pinned so no eviction destroys it meanwhile. A
   * cache miss unwraps on the thread pool: RSA and EC private keys take 1–6 ms to unwrap in SoftHSM (measured).
   */
  private withTokenKey<T>(backingKey: BackingKeyRef, family: "rsa" | "ec", work: (session: Buffer, key: Buffer) => Promise<T>): Promise<T> {
    return this.operations.use(async (session) => {
      let entry = this.unwrapped.get(backingKey.id, backingKey.spec, backingKey.wrapped);
      if (entry === undefined) {
        checkWrappedLength(backingKey.spec, backingKey.wrapped);
        const wrapped = Buffer.from(backingKey.wrapped);
        const handle = await mapUnwrapErrorAsync(() =>
          this.keepingAlive([wrapped], () => this.lib.C_UnwrapKeyAsync(session, WRAP_MECHANISM, this.rootKey.handle, wrapped, unwrapTemplate(family))),
        );
        // Another operation may have unwrapped the same key meanwhile: keep one copy.
        entry = this.unwrapped.get(backingKey.id, backingKey.spec, backingKey.wrapped);
        if (entry === undefined) entry = this.unwrapped.add(backingKey.id, backingKey.spec, wrapped, handle);
        else this.destroyHandle(handle);
      }
      this.unwrapped.pin(entry);
      try {
        return await work(session, entry.handle);
      } finally {
        this.unwrapped.release(entry);
      }
    });
  }

  private async signAsync(session: Buffer, mechanism: Mechanism, key: Buffer, data: Buffer, signatureBytes: number): Promise<Buffer> {
    this.lib.C_SignInit(session, mechanism, key);
    const out = Buffer.alloc(signatureBytes);
    return this.keepingAlive([data, out], () => this.lib.C_SignAsync(session, data, out));
  }

  private async decryptAsync(session: Buffer, mechanism: Mechanism, key: Buffer, ciphertext: Buffer, modulusBytes: number): Promise<Buffer> {
    this.lib.C_DecryptInit(session, mechanism, key);
    const out = Buffer.alloc(modulusBytes);
    try {
      const plaintext = Buffer.from(await this.keepingAlive([ciphertext, out], () => this.lib.C_DecryptAsync(session, ciphertext, out)));
      return plaintext;
    } catch (error) {
      // SoftHSM reports a failed OAEP check, and raw RSA input not below the modulus, as CKR_GENERAL_ERROR.
      if (isCkr(error, "CKR_GENERAL_ERROR", "CKR_ENCRYPTED_DATA_INVALID", "CKR_ENCRYPTED_DATA_LEN_RANGE")) {
        throw new KeyStoreIntegrityError("The ciphertext does not decrypt under this RSA key", { cause: error });
      }
      throw error;
    } finally {
      out.fill(0);
    }
  }

  /** An Ed25519 or ML-DSA seed, out of the token for one operation; the caller zeroes it. */
  private openSeed(backingKey: BackingKeyRef): Buffer {
    checkWrappedLength(backingKey.spec, backingKey.wrapped);
    const session = this.syncSession.handle;
    const handle = mapUnwrapError(() =>
      this.lib.C_UnwrapKey(session, WRAP_MECHANISM, this.rootKey.handle, asBuffer(backingKey.wrapped), readableSecretTemplate()),
    );
    try {
      const [value] = this.lib.C_GetAttributeValue(session, handle, [{ type: pkcs11.CKA_VALUE }]);
      const seed = attributeBytes(value);
      if (seed.length !== SEED_BYTES) throw new KeyStoreIntegrityError(`A ${backingKey.spec} seed is ${SEED_BYTES} bytes, not ${seed.length}`);
      return seed;
    } finally {
      this.destroyHandle(handle);
    }
  }

  private destroyHandle(handle: Buffer): void {
    try {
      this.lib.C_DestroyObject(this.syncSession.handle, handle);
    } catch (error) {
      // Already gone (the session closed): nothing is left to destroy.
      afterTokenFailure(error);
    }
  }
}

function materialLocation(facts: BackingKeyFacts): MaterialLocation {
  // SoftHSM 2.6.1 cannot wrap Ed25519 private keys (CKR_KEY_NOT_WRAPPABLE), signs Ed25519ph as pure Ed25519
  // without an error, and has no ML-DSA: their seeds are sealed by the root key and used in Node.
  return facts.family === "ed25519" || facts.family === "ml-dsa" ? "node" : "token";
}

/** Large enough for an RSA-4096 private key in PKCS#8 (2.4 KB) wrapped with AES_KEY_WRAP_PAD. */
const WRAP_OUTPUT_BYTES = 8192;

/** RFC 5649 output: the key padded to 8 bytes plus an 8-byte integrity block. */
const wrappedBytesOf = (keyBytes: number): number => Math.ceil(keyBytes / 8) * 8 + 8;

/**
 * Refuses wrapped bytes that cannot be this spec's before the token sees them: exact lengths for secrets and
 * seeds, whole 8-byte blocks for private keys, whose PKCS#8 length varies.
 */
function checkWrappedLength(spec: BackingKeySpec, wrapped: Uint8Array): void {
  const facts = backingKeyFacts(spec);
  const expected =
    facts.family === "aes"
      ? wrappedBytesOf(AES_256_BYTES)
      : facts.family === "hmac"
        ? wrappedBytesOf(facts.keyBytes)
        : facts.family === "ed25519" || facts.family === "ml-dsa"
          ? wrappedBytesOf(SEED_BYTES)
          : undefined;
  if (expected !== undefined ? wrapped.length !== expected : wrapped.length % 8 !== 0 || wrapped.length < 24 || wrapped.length > WRAP_OUTPUT_BYTES) {
    throw new KeyStoreIntegrityError(`A wrapped ${spec} backing key cannot be ${wrapped.length} bytes`);
  }
}

function mapUnwrapError<T>(unwrap: () => T): T {
  try {
    return unwrap();
  } catch (error) {
    throw unwrapFailure(error);
  }
}

async function mapUnwrapErrorAsync<T>(unwrap: () => Promise<T>): Promise<T> {
  try {
    return await unwrap();
  } catch (error) {
    throw unwrapFailure(error);
  }
}

function unwrapFailure(error: unknown): unknown {
  // A failed RFC 5649 integrity check comes back as CKR_GENERAL_ERROR from SoftHSM, and a private key of another
  // type (wrapped bytes passed with the wrong spec) as CKR_FUNCTION_FAILED when its PKCS#8 does not decode (measured).
  if (isCkr(error, "CKR_GENERAL_ERROR", "CKR_FUNCTION_FAILED", "CKR_WRAPPED_KEY_INVALID", "CKR_WRAPPED_KEY_LEN_RANGE", "CKR_TEMPLATE_INCONSISTENT")) {
    return new KeyStoreIntegrityError("The root key cannot unwrap this backing key", { cause: error });
  }
  return error;
}

/** pkcs11js types attribute values loosely; the ones read here are byte strings. */
function attributeBytes(attribute: { readonly value?: unknown } | undefined): Buffer {
  const value = attribute?.value;
  if (!Buffer.isBuffer(value)) throw new Error("The token returned no bytes for an attribute");
  return value;
}

function findOrCreateRootKey(session: graphene.Session, label: string): graphene.SecretKey {
  const found = session.find({ class: graphene.ObjectClass.SECRET_KEY, token: true, label });
  if (found.length > 1) throw new Error(`${found.length} PKCS#11 keys are labelled '${label}'; the root key must be unique`);
  // Made once per token and sync on purpose: no other open of this process can interleave and create a twin.
  if (found.length === 0) return generateRootKey(session, label, true);
  const rootKey = found.items(0).toType<graphene.SecretKey>();
  // A key someone else put under our label could be extractable, and every backing key with it.
  const attributes = rootKey.getAttribute({ keyType: null, extractable: null, sensitive: null, wrap: null, unwrap: null });
  if (
    attributes.keyType !== graphene.KeyType.AES ||
    attributes.extractable !== false ||
    attributes.sensitive !== true ||
    attributes.wrap !== true ||
    attributes.unwrap !== true
  ) {
    throw new Error(`The PKCS#11 key '${label}' is not a sensitive, non-extractable AES wrapping key; refusing it as the root key`);
  }
  return rootKey;
}

/** `token: false` makes a session object, gone when `session` closes. */
function generateRootKey(session: graphene.Session, label: string, token: boolean): graphene.SecretKey {
  return session.generateKey(graphene.KeyGenMechanism.AES, {
    class: graphene.ObjectClass.SECRET_KEY,
    keyType: graphene.KeyType.AES,
    valueLen: AES_256_BYTES,
    label,
    token,
    private: true,
    sensitive: true,
    extractable: false,
    encrypt: false,
    decrypt: false,
    sign: false,
    verify: false,
    derive: false,
    wrap: true,
    unwrap: true,
    modifiable: false,
  });
}

/**
 * AES-256-GCM in the token on `session`, on the event loop: ciphertext ‖ 16-byte tag. `keyHandle` is called inside
 * the guarded region, so a failed handle lookup also clears OpenSSL's error queue. Shared with the custom key stores'
 * tokens (cluster-token.ts).
 */
export function gcmSeal(lib: PKCS11, session: Buffer, keyHandle: () => Buffer, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Buffer {
  try {
    lib.C_EncryptInit(session, gcm(iv, aad), keyHandle());
    return lib.C_Encrypt(session, plaintext.length === 0 ? EMPTY : asBuffer(plaintext), Buffer.allocUnsafe(plaintext.length + GCM_TAG_BYTES));
  } catch (error) {
    throw afterTokenFailure(error);
  }
}

/** Reverses gcmSeal; KeyStoreIntegrityError when the tag does not verify. */
export function gcmOpen(lib: PKCS11, session: Buffer, keyHandle: () => Buffer, iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Buffer {
  if (sealed.length < GCM_TAG_BYTES) throw new KeyStoreIntegrityError("The sealed data is shorter than a GCM tag");
  try {
    lib.C_DecryptInit(session, gcm(iv, aad), keyHandle());
    // SoftHSM wants room for the tag too, and CKR_BUFFER_TOO_SMALL would leave the operation active.
    return lib.C_Decrypt(session, asBuffer(sealed), Buffer.allocUnsafe(sealed.length));
  } catch (error) {
    // SoftHSM reports a failed tag check as CKR_GENERAL_ERROR, not CKR_ENCRYPTED_DATA_INVALID.
    if (isCkr(error, "CKR_GENERAL_ERROR", "CKR_ENCRYPTED_DATA_INVALID", "CKR_ENCRYPTED_DATA_LEN_RANGE")) {
      throw afterTokenFailure(new KeyStoreIntegrityError("The GCM tag does not verify under this backing key", { cause: error }));
    }
    throw afterTokenFailure(error);
  }
}

function gcm(iv: Uint8Array, aad: Uint8Array) {
  if (iv.length === 0) throw new RangeError("AES-GCM needs a non-empty IV");
  return {
    mechanism: graphene.MechanismEnum.AES_GCM,
    // The v2.40 struct: pkcs11js's older GCM params leave ulIvBits uninitialised.
    parameter: { type: graphene.MechParams.AesGCMv240, iv: asBuffer(iv), ivBits: iv.length * 8, aad: asBuffer(aad), tagBits: 128 },
  };
}

// pkcs11js takes Buffers; a view over the caller's bytes costs no copy.
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
