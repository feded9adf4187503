// The KeyStore on a PKCS#11 token: the token's root key, backing keys wrapped under it, AES-GCM inside the token.

import * as graphene from "graphene-pk11";
import { endianness } from "node:os";
import { resolve } from "node:path";
import type { PKCS11, Template as Pkcs11Template } from "pkcs11js";
import { KeyStoreIntegrityError, type KeyStore, type KeyStoreHealth, type WrappedBackingKey } from "./key-store";
import { setSoftHsmConfigEnvironment, softHsmConfigEnvironment } from "./token-environment";

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
// Backing-key generation is the only token call sent to the thread pool. AES keygen + wrap runs at
// 2–4k/s with 1, 2 or 4 sessions alike (measured); two let a slow call not queue everything behind
// it without crowding LevelDB and node:crypto off libuv's four threads.
const POOL_SESSIONS = 2;

// From pkcs11t.h. pkcs11js exports them too, but it is graphene's dependency, not ours.
const CKF_OS_LOCKING_OK = 0x2;
const CKU_SO = 0;
const CKU_USER = 1;
const CKA_CLASS = 0x0;

const GCM_TAG_BYTES = 16;
const AES_256_BYTES = 32;
/** AES_KEY_WRAP_PAD (RFC 5649) of a 32-byte key: the key plus one 8-byte integrity block. */
const WRAPPED_BACKING_KEY_BYTES = AES_256_BYTES + 8;

const WRAP_MECHANISM = { mechanism: graphene.MechanismEnum.AES_KEY_WRAP_PAD };
const RW_SESSION = graphene.SessionFlag.RW_SESSION | graphene.SessionFlag.SERIAL_SESSION;

// The usable copy of a backing key: it may encrypt and decrypt, and can never leave the token.
// SoftHSM applies an unwrap template in order and, once CKA_MODIFIABLE is false, refuses every later
// attribute with CKR_ATTRIBUTE_READ_ONLY: modifiable must come last.
const UNWRAPPED_BACKING_KEY: Pkcs11Template = graphene.Template.toPkcs11({
  class: graphene.ObjectClass.SECRET_KEY,
  keyType: graphene.KeyType.AES,
  token: false,
  private: true,
  sensitive: true,
  extractable: false,
  encrypt: true,
  decrypt: true,
  wrap: false,
  unwrap: false,
  sign: false,
  verify: false,
  derive: false,
  modifiable: false,
});

// SoftHSM refuses a NULL data pointer with CKR_ARGUMENTS_BAD but leaves the operation active, wedging
// the session; pkcs11js passes NULL for a zero-length Buffer unless it views a non-empty allocation.
const EMPTY = Buffer.alloc(1).subarray(0, 0);

/**
 * PKCS#11 C_Initialize / C_Finalize act on the whole process, and login belongs to the application,
 * not to a session: every key store opened in this process (tests start several servers in one)
 * must share one initialisation per module. This table is therefore the one justified module-level
 * singleton. Entries stay loaded after the last store closes (the library can be initialised again;
 * nothing gains from unloading it).
 */
const sharedModules = new Map<string, SharedModule>();

interface SharedModule {
  readonly module: graphene.Module;
  readonly lib: PKCS11;
  refs: number;
  /** What SoftHSM read at initialisation; undefined when unknown (no path given, none in the environment). */
  softhsmConfigPath: string | undefined;
  /** False when something else in the process initialised the library first: it finalizes, not us. */
  ownsInitialisation: boolean;
  manufacturer: string;
}

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
    for (let i = 0; i < POOL_SESSIONS; i++) sessions.push(slot.open(RW_SESSION));
    return new Pkcs11KeyStore({
      shared,
      syncSession,
      pool: new SessionPool(sessions.slice(1)),
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

export interface Pkcs11TokenInfo {
  readonly label: string;
  /** False for a token whose making stopped after C_InitToken: nobody can log in to it as a user. */
  readonly userPinInitialised: boolean;
}

/** The initialised tokens the module offers, with `softhsmConfigPath` as SOFTHSM2_CONF. */
export function listPkcs11Tokens(modulePath: string, softhsmConfigPath: string): Pkcs11TokenInfo[] {
  const environment = softHsmConfigEnvironment();
  const shared = acquireModule(modulePath, softhsmConfigPath);
  try {
    const tokens: Pkcs11TokenInfo[] = [];
    const slots = shared.module.getSlots(true);
    for (let i = 0; i < slots.length; i++) {
      const token = slots.items(i).getToken();
      if ((token.flags & graphene.TokenFlag.TOKEN_INITIALIZED) === 0) continue;
      tokens.push({ label: token.label, userPinInitialised: (token.flags & graphene.TokenFlag.USER_PIN_INITIALIZED) !== 0 });
    }
    return tokens;
  } finally {
    releaseModuleRestoring(shared, environment);
  }
}

export interface Pkcs11TokenInitialisation {
  readonly modulePath: string;
  readonly softhsmConfigPath: string;
  readonly tokenLabel: string;
  readonly soPin: string;
  readonly pin: string;
}

/**
 * Makes a token on SoftHSM's spare (uninitialised) slot through PKCS#11 itself: C_InitToken with the SO PIN
 * and label, then a session logged in as SO sets the user PIN (C_InitPIN). Unlike softhsm2-util, no PIN
 * ever reaches a command line, and SoftHSM sees the new token at once: it appears in the slot list without
 * a new C_Initialize (and a fresh spare slot appears beside it).
 */
export function initialisePkcs11Token(options: Pkcs11TokenInitialisation): void {
  const environment = softHsmConfigEnvironment();
  const shared = acquireModule(options.modulePath, options.softhsmConfigPath);
  try {
    // Initialised by code that is not ours (another copy of this module, a test runner's other registry): its
    // SoftHSM may have read another config, and the token would be made in someone else's directory.
    if (!shared.ownsInitialisation) {
      throw new Error(
        `Cannot make a token with ${options.softhsmConfigPath}: the PKCS#11 module ${shared.module.libFile} was initialised ` +
          "elsewhere in this process, perhaps with another SoftHSM config",
      );
    }
    const slots = shared.module.getSlots(true);
    let spare: graphene.Slot | undefined;
    for (let i = 0; i < slots.length && spare === undefined; i++) {
      const slot = slots.items(i);
      if ((slot.getToken().flags & graphene.TokenFlag.TOKEN_INITIALIZED) === 0) spare = slot;
    }
    if (spare === undefined) throw new Error(`The PKCS#11 module ${shared.module.libFile} offers no uninitialised slot for a new token`);
    try {
      shared.lib.C_InitToken(spare.handle, options.soPin, blankPaddedLabel(options.tokenLabel));
    } catch (error) {
      // Never the error's own text as a cause: pkcs11js messages carry only CKR names, but say so explicitly.
      throw new Error(`Cannot initialise a PKCS#11 token labelled '${options.tokenLabel}': ${ckrName(error)}`);
    }
    const session = spare.open(RW_SESSION);
    try {
      shared.lib.C_Login(session.handle, CKU_SO, options.soPin);
      shared.lib.C_InitPIN(session.handle, options.pin);
      shared.lib.C_Logout(session.handle);
    } catch (error) {
      throw new Error(`Cannot set the user PIN of PKCS#11 token '${options.tokenLabel}': ${ckrName(error)}`);
    } finally {
      closeQuietly(session);
    }
  } finally {
    releaseModuleRestoring(shared, environment);
  }
}

/**
 * PKCS#11 (v2.40 §5.2, CK_TOKEN_INFO.label) pads a token label with blanks to 32 bytes. pkcs11js copies the
 * string as given and leaves NULs after it, which softhsm2-util and other tools then show as part of the name.
 */
function blankPaddedLabel(label: string): string {
  return label + " ".repeat(Math.max(0, TOKEN_LABEL_BYTES - Buffer.byteLength(label, "utf8")));
}
const TOKEN_LABEL_BYTES = 32;

/** Releases a module taken only to make or list tokens: once nothing else uses it, SOFTHSM2_CONF is as it was found. */
function releaseModuleRestoring(shared: SharedModule, environment: string | undefined): void {
  releaseModule(shared);
  if (shared.refs === 0) setSoftHsmConfigEnvironment(environment);
}

class Pkcs11KeyStore implements KeyStore {
  private readonly shared: SharedModule;
  private readonly lib: PKCS11;
  private readonly syncSession: graphene.Session;
  private readonly pool: SessionPool;
  private readonly rootKey: graphene.SecretKey;
  private readonly handleCacheSize: number;
  private readonly description: string;
  /** Insertion-ordered, so the first entry is the least recently used. */
  private readonly handles = new Map<string, CachedBackingKey>();
  private inFlight = 0;
  private onIdle: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(parts: {
    shared: SharedModule;
    syncSession: graphene.Session;
    pool: SessionPool;
    rootKey: graphene.SecretKey;
    handleCacheSize: number;
    description: string;
  }) {
    this.shared = parts.shared;
    this.lib = parts.shared.lib;
    this.syncSession = parts.syncSession;
    this.pool = parts.pool;
    this.rootKey = parts.rootKey;
    this.handleCacheSize = parts.handleCacheSize;
    this.description = parts.description;
  }

  async createBackingKey(): Promise<Uint8Array> {
    this.assertOpen();
    this.inFlight++;
    try {
      return await this.pool.use(async (session) => {
        const backingKey = await generateBackingKey(session);
        let wrapped: Buffer;
        try {
          wrapped = await wrapKey(session, this.rootKey, backingKey);
        } catch (error) {
          destroyQuietly(backingKey);
          throw error;
        }
        // Until destroyed the key is extractable (wrapping needs it); fail loudly rather than leave it.
        backingKey.destroy();
        // graphene hands back a view into an 8 KiB scratch buffer: keep only the 40 bytes.
        return Buffer.from(wrapped);
      });
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.onIdle?.();
    }
  }

  async importBackingKey(material: Uint8Array): Promise<Uint8Array> {
    this.assertOpen();
    if (material.length !== AES_256_BYTES) throw new RangeError(`Imported key material must be ${AES_256_BYTES} bytes, not ${material.length}`);
    const session = this.syncSession.handle;
    // A session object, extractable only so the root key can wrap it, destroyed right after: the material
    // exists outside the caller's buffer only inside the token, and afterwards only wrapped.
    const handle = this.lib.C_CreateObject(session, importedKeyTemplate(asBuffer(material)));
    try {
      const wrapped = this.lib.C_WrapKey(session, WRAP_MECHANISM, this.rootKey.handle, handle, Buffer.alloc(WRAPPED_BACKING_KEY_BYTES));
      return Buffer.from(wrapped);
    } finally {
      this.destroyHandle(handle);
    }
  }

  seal(backingKey: WrappedBackingKey, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Buffer {
    this.assertOpen();
    const key = this.backingKeyHandle(backingKey);
    const session = this.syncSession.handle;
    this.lib.C_EncryptInit(session, gcm(iv, aad), key);
    return this.lib.C_Encrypt(
      session,
      plaintext.length === 0 ? EMPTY : asBuffer(plaintext),
      Buffer.allocUnsafe(plaintext.length + GCM_TAG_BYTES),
    );
  }

  open(backingKey: WrappedBackingKey, iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Buffer {
    this.assertOpen();
    if (sealed.length < GCM_TAG_BYTES) throw new KeyStoreIntegrityError("The sealed data is shorter than a GCM tag");
    const key = this.backingKeyHandle(backingKey);
    const session = this.syncSession.handle;
    this.lib.C_DecryptInit(session, gcm(iv, aad), key);
    try {
      // SoftHSM wants room for the tag too, and CKR_BUFFER_TOO_SMALL would leave the operation active.
      return this.lib.C_Decrypt(session, asBuffer(sealed), Buffer.allocUnsafe(sealed.length));
    } catch (error) {
      // SoftHSM reports a failed tag check as CKR_GENERAL_ERROR, not CKR_ENCRYPTED_DATA_INVALID.
      if (isCkr(error, "CKR_GENERAL_ERROR", "CKR_ENCRYPTED_DATA_INVALID", "CKR_ENCRYPTED_DATA_LEN_RANGE")) {
        throw new KeyStoreIntegrityError("The GCM tag does not verify under this backing key", { cause: error });
      }
      throw error;
    }
  }

  forget(backingKeyId: string): void {
    const cached = this.handles.get(backingKeyId);
    if (cached === undefined) return;
    this.handles.delete(backingKeyId);
    this.destroyHandle(cached.handle);
  }

  forgetAll(): void {
    for (const id of [...this.handles.keys()]) this.forget(id);
  }

  random(byteCount: number): Buffer {
    this.assertOpen();
    if (!Number.isSafeInteger(byteCount) || byteCount < 0) {
      throw new RangeError(`byteCount must be a non-negative integer, not ${byteCount}`);
    }
    if (byteCount === 0) return Buffer.alloc(0);
    return this.lib.C_GenerateRandom(this.syncSession.handle, Buffer.allocUnsafe(byteCount));
  }

  health(): KeyStoreHealth {
    if (this.closing !== undefined) return { ok: false, kind: "pkcs11", detail: `${this.description}: key store closed` };
    try {
      // Also proves the login is alive: a private object's handle dies with it.
      this.lib.C_GetAttributeValue(this.syncSession.handle, this.rootKey.handle, [{ type: CKA_CLASS }]);
      return { ok: true, kind: "pkcs11", detail: `${this.description}, root key present` };
    } catch (error) {
      return { ok: false, kind: "pkcs11", detail: `${this.description}: root key unusable (${ckrName(error)})` };
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    // A session closed under a thread-pool call crashes the process: let key generation finish first.
    if (this.inFlight > 0) await new Promise<void>((resolveIdle) => (this.onIdle = resolveIdle));
    // Closing a session destroys the session objects it created: the unwrapped backing keys go with it.
    this.handles.clear();
    try {
      for (const session of this.pool.sessions) closeQuietly(session);
      closeQuietly(this.syncSession);
    } finally {
      releaseModule(this.shared);
    }
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new Error("The PKCS#11 key store is closed");
  }

  private backingKeyHandle(backingKey: WrappedBackingKey): Buffer {
    const cached = this.handles.get(backingKey.id);
    // Comparing the 40 wrapped bytes is what makes the id a safe cache key: an id reused for other
    // material (a recreated key, a restored backup) must not seal under the old key.
    if (cached !== undefined && cached.wrapped.equals(backingKey.wrapped)) {
      this.handles.delete(backingKey.id);
      this.handles.set(backingKey.id, cached);
      return cached.handle;
    }
    if (cached !== undefined) this.forget(backingKey.id);
    const handle = this.unwrap(backingKey.wrapped);
    this.handles.set(backingKey.id, { handle, wrapped: Buffer.from(backingKey.wrapped) });
    if (this.handles.size > this.handleCacheSize) {
      const leastRecent = this.handles.keys().next().value;
      if (leastRecent !== undefined) this.forget(leastRecent);
    }
    return handle;
  }

  private unwrap(wrapped: Uint8Array): Buffer {
    if (wrapped.length !== WRAPPED_BACKING_KEY_BYTES) {
      throw new KeyStoreIntegrityError(`A wrapped backing key is ${WRAPPED_BACKING_KEY_BYTES} bytes, not ${wrapped.length}`);
    }
    try {
      return this.lib.C_UnwrapKey(
        this.syncSession.handle,
        WRAP_MECHANISM,
        this.rootKey.handle,
        asBuffer(wrapped),
        UNWRAPPED_BACKING_KEY,
      );
    } catch (error) {
      // A failed RFC 5649 integrity check also comes back as CKR_GENERAL_ERROR from SoftHSM.
      if (isCkr(error, "CKR_GENERAL_ERROR", "CKR_WRAPPED_KEY_INVALID", "CKR_WRAPPED_KEY_LEN_RANGE")) {
        throw new KeyStoreIntegrityError("The root key cannot unwrap this backing key", { cause: error });
      }
      throw error;
    }
  }

  private destroyHandle(handle: Buffer): void {
    try {
      this.lib.C_DestroyObject(this.syncSession.handle, handle);
    } catch {
      // Already gone (the session closed): nothing is left to destroy.
    }
  }
}

interface CachedBackingKey {
  readonly handle: Buffer;
  readonly wrapped: Buffer;
}

/** One operation in flight per session: concurrent calls on one PKCS#11 session crash SoftHSM. */
class SessionPool {
  private readonly idle: graphene.Session[];
  private readonly waiting: Array<(session: graphene.Session) => void> = [];

  constructor(readonly sessions: readonly graphene.Session[]) {
    this.idle = [...sessions];
  }

  async use<T>(work: (session: graphene.Session) => Promise<T>): Promise<T> {
    const session = this.idle.pop() ?? (await new Promise<graphene.Session>((hand) => this.waiting.push(hand)));
    try {
      return await work(session);
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) this.idle.push(session);
      else next(session);
    }
  }
}

function acquireModule(modulePath: string, softhsmConfigPath: string | undefined): SharedModule {
  const path = resolve(modulePath);
  const configPath = softhsmConfigPath === undefined ? undefined : resolve(softhsmConfigPath);
  let shared = sharedModules.get(path);
  if (shared !== undefined && shared.refs > 0) {
    if (configPath !== undefined && configPath !== shared.softhsmConfigPath) {
      throw new Error(
        `The PKCS#11 module ${path} is already initialised in this process with SoftHSM config ` +
          `${shared.softhsmConfigPath ?? "(unknown)"}; SoftHSM reads SOFTHSM2_CONF only when it initialises, ` +
          `so ${configPath} cannot be used until every key store on this module is closed`,
      );
    }
    shared.refs++;
    return shared;
  }
  if (shared === undefined) {
    let module: graphene.Module;
    try {
      module = graphene.Module.load(path);
    } catch (error) {
      throw new Error(`Cannot load the PKCS#11 module ${path}: ${errorMessage(error)}`, { cause: error });
    }
    shared = { module, lib: module.lib, refs: 0, softhsmConfigPath: undefined, ownsInitialisation: false, manufacturer: "" };
    sharedModules.set(path, shared);
  }
  if (configPath !== undefined) setSoftHsmConfigEnvironment(configPath);
  try {
    shared.lib.C_Initialize({ flags: CKF_OS_LOCKING_OK });
    shared.ownsInitialisation = true;
  } catch (error) {
    if (!isCkr(error, "CKR_CRYPTOKI_ALREADY_INITIALIZED")) {
      throw new Error(`Cannot initialise the PKCS#11 module ${path}: ${ckrName(error)}`, { cause: error });
    }
    shared.ownsInitialisation = false;
  }
  try {
    shared.manufacturer = shared.lib.C_GetInfo().manufacturerID.trim();
  } catch (error) {
    if (shared.ownsInitialisation) shared.lib.C_Finalize();
    throw error;
  }
  const fromEnvironment = softHsmConfigEnvironment();
  shared.softhsmConfigPath = configPath ?? (fromEnvironment === undefined ? undefined : resolve(fromEnvironment));
  shared.refs = 1;
  return shared;
}

function releaseModule(shared: SharedModule): void {
  shared.refs--;
  if (shared.refs === 0 && shared.ownsInitialisation) shared.lib.C_Finalize();
}

function findTokenSlot(module: graphene.Module, tokenLabel: string): graphene.Slot {
  const slots = module.getSlots(true);
  const matches: graphene.Slot[] = [];
  for (let i = 0; i < slots.length; i++) {
    const slot = slots.items(i);
    if (slot.getToken().label === tokenLabel) matches.push(slot);
  }
  const [slot, ...others] = matches;
  if (slot === undefined) {
    throw new Error(
      `No PKCS#11 token labelled '${tokenLabel}' in ${module.libFile}` +
        ` (SOFTHSM2_CONF=${softHsmConfigEnvironment() ?? "unset"}); initialise one or check the configuration`,
    );
  }
  if (others.length > 0) throw new Error(`${matches.length} PKCS#11 tokens are labelled '${tokenLabel}'; relabel all but one`);
  return slot;
}

function login(lib: PKCS11, session: graphene.Session, tokenLabel: string, pin: string, pinSource: string | undefined): void {
  try {
    lib.C_Login(session.handle, CKU_USER, pin);
  } catch (error) {
    // Another store in this process is logged in to the token, and login is per application.
    if (isCkr(error, "CKR_USER_ALREADY_LOGGED_IN")) return;
    const refused = pinSource !== undefined && isCkr(error, "CKR_PIN_INCORRECT", "CKR_PIN_LEN_RANGE", "CKR_PIN_LOCKED");
    throw new Error(`Cannot log in to PKCS#11 token '${tokenLabel}': ${ckrName(error)}${refused ? ` with the PIN in ${pinSource}` : ""}`, { cause: error });
  }
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
 * A session AES key that can do nothing but be wrapped: extractable only so the root key can wrap it, and
 * destroyed right after. Backing keys are generated or imported this way, then live only wrapped.
 */
const WRAPPABLE_ONLY = {
  keyType: graphene.KeyType.AES,
  token: false,
  private: true,
  sensitive: true,
  extractable: true,
  encrypt: false,
  decrypt: false,
  sign: false,
  verify: false,
  derive: false,
  wrap: false,
  unwrap: false,
} as const;

function generateBackingKey(session: graphene.Session): Promise<graphene.SecretKey> {
  return new Promise((resolveKey, reject) => {
    session.generateKey(
      graphene.KeyGenMechanism.AES,
      { ...WRAPPABLE_ONLY, valueLen: AES_256_BYTES },
      (error, key) => (error !== null || key === null ? reject(error ?? new Error("C_GenerateKey returned no key")) : resolveKey(key)),
    );
  });
}

// Outside material as a session object that can only be wrapped.
function importedKeyTemplate(value: Buffer): Pkcs11Template {
  return graphene.Template.toPkcs11({ ...WRAPPABLE_ONLY, class: graphene.ObjectClass.SECRET_KEY, value });
}

function wrapKey(session: graphene.Session, rootKey: graphene.SecretKey, key: graphene.SecretKey): Promise<Buffer> {
  return new Promise((resolveWrapped, reject) => {
    session.wrapKey("AES_KEY_WRAP_PAD", rootKey, key, (error, wrapped) =>
      error !== null || wrapped === null ? reject(error ?? new Error("C_WrapKey returned nothing")) : resolveWrapped(wrapped),
    );
  });
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

/** PKCS#11 slot ids are CK_ULONGs, handed over by pkcs11js as native-endian bytes. */
function slotId(slot: graphene.Slot): string {
  const handle = slot.handle;
  if (handle.length !== 8) return handle.toString("hex");
  return (endianness() === "LE" ? handle.readBigUInt64LE() : handle.readBigUInt64BE()).toString();
}

function isCkr(error: unknown, ...names: readonly string[]): boolean {
  return names.includes(ckrName(error));
}

// pkcs11js reports CKR_* names as the message of its Pkcs11Error.
function ckrName(error: unknown): string {
  const message = errorMessage(error);
  return /^CKR_\w+/.exec(message)?.[0] ?? message;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function closeQuietly(session: graphene.Session): void {
  try {
    session.close();
  } catch {
    // The session died with the login or the module: closing is moot.
  }
}

function destroyQuietly(key: graphene.SecretKey): void {
  try {
    key.destroy();
  } catch {
    // It dies with its session at the latest.
  }
}
