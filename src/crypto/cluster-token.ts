// The PKCS#11 token behind an AWS_CLOUDHSM custom key store (and the XKS proxy's keys): its login, its per-key AES
// token objects, and its RNG.

import type * as graphene from "graphene-pk11";
import { endianness } from "node:os";
import * as pkcs11 from "pkcs11js";
import type { PKCS11, Template } from "pkcs11js";
import { acquireModule, afterTokenFailure, ckrName, closeQuietly, isCkr, releaseModule, RW_SESSION, slotId, type SharedModule } from "./pkcs11-module";
import { gcmOpen, gcmSeal } from "./pkcs11-key-store";

/** Where a configured CloudHSM cluster id points: a PKCS#11 library and one of its tokens, by label or by slot id. */
export interface ClusterToken {
  readonly modulePath: string;
  readonly tokenLabel?: string;
  readonly slot?: number;
}

/** The ConnectionErrorCodes a token can give (the model's ConnectionErrorCodeType, CloudHSM members). */
export type TokenConnectionErrorCode = "CLUSTER_NOT_FOUND" | "INVALID_CREDENTIALS" | "USER_LOCKED_OUT" | "USER_NOT_FOUND" | "INTERNAL_ERROR";

/** Connecting failed; `code` is what DescribeCustomKeyStores shows, the message what the log says (never the PIN). */
export class TokenConnectionError extends Error {
  override readonly name = "TokenConnectionError";
  constructor(
    readonly code: TokenConnectionErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const attribute = (type: number, value: boolean | number | Buffer | string) => ({ type, value });

/**
 * A custom key store's key: a token object that outlives the session (as a CloudHSM key outlives the connection),
 * private, sensitive, never extractable, able to encrypt and decrypt and nothing else, labelled by the KMS key id.
 */
function tokenKeyTemplate(label: string): Template {
  return [attribute(pkcs11.CKA_VALUE_LEN, AES_256_BYTES), ...tokenKeyAttributes(label)];
}

/** The same object made from given bytes: C_CreateObject takes CKA_VALUE and must not be given CKA_VALUE_LEN (v2.40 §2.8.1). */
function importedKeyTemplate(label: string, material: Buffer): Template {
  return [attribute(pkcs11.CKA_VALUE, material), ...tokenKeyAttributes(label)];
}

function tokenKeyAttributes(label: string): Template {
  return [
    attribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
    attribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
    attribute(pkcs11.CKA_LABEL, label),
    attribute(pkcs11.CKA_TOKEN, true),
    attribute(pkcs11.CKA_PRIVATE, true),
    attribute(pkcs11.CKA_SENSITIVE, true),
    attribute(pkcs11.CKA_EXTRACTABLE, false),
    attribute(pkcs11.CKA_ENCRYPT, true),
    attribute(pkcs11.CKA_DECRYPT, true),
    attribute(pkcs11.CKA_SIGN, false),
    attribute(pkcs11.CKA_VERIFY, false),
    attribute(pkcs11.CKA_WRAP, false),
    attribute(pkcs11.CKA_UNWRAP, false),
    attribute(pkcs11.CKA_DERIVE, false),
    attribute(pkcs11.CKA_MODIFIABLE, false),
  ];
}
const AES_256_BYTES = 32;
/** AES-128, -192 and -256: what CKK_AES allows. */
const AES_KEY_BYTES: readonly number[] = [16, 24, 32];

/** Where SoftHSM must read its config from, for a token whose config is not in SOFTHSM2_CONF (a token directory of our own). */
export interface ClusterTokenOptions {
  readonly softhsmConfigPath?: string;
}

/**
 * Opens a session on the configured token and logs in with `pin` (the store's KeyStorePassword). The module is shared
 * with any key store already using it in this process (SoftHSM: same library, same config, another slot).
 */
export function connectClusterToken(target: ClusterToken, pin: string, options: ClusterTokenOptions = {}): ClusterTokenConnection {
  let shared: SharedModule;
  try {
    shared = acquireModule(target.modulePath, options.softhsmConfigPath);
  } catch (error) {
    throw new TokenConnectionError("CLUSTER_NOT_FOUND", error instanceof Error ? error.message : String(error), { cause: error });
  }
  let session: graphene.Session | undefined;
  try {
    const slot = findSlot(shared.module, target);
    session = slot.open(RW_SESSION);
    try {
      shared.lib.C_Login(session.handle, pkcs11.CKU_USER, pin);
    } catch (error) {
      afterTokenFailure(error);
      // Login is per application: another store of this process is logged in to the same token already.
      if (!isCkr(error, "CKR_USER_ALREADY_LOGGED_IN")) throw new TokenConnectionError(loginErrorCode(error), `Cannot log in to ${describe(target)}: ${ckrName(error)}`);
    }
    return new ClusterTokenConnection(shared, session, `${shared.manufacturer} token ${describe(target)} (slot ${slotId(slot)})`);
  } catch (error) {
    if (session !== undefined) closeQuietly(session);
    releaseModule(shared);
    throw error instanceof TokenConnectionError ? error : new TokenConnectionError("INTERNAL_ERROR", `${describe(target)}: ${ckrName(error)}`, { cause: error });
  }
}

/**
 * The model's ConnectionErrorCodeType: INVALID_CREDENTIALS "the kmsuser password … does not match", USER_LOCKED_OUT
 * "the kmsuser CU account is locked out", USER_NOT_FOUND "cannot find a kmsuser CU account": a wrong or malformed PIN,
 * a locked PIN, a token whose user PIN was never set.
 */
function loginErrorCode(error: unknown): TokenConnectionErrorCode {
  if (isCkr(error, "CKR_PIN_INCORRECT", "CKR_PIN_LEN_RANGE", "CKR_PIN_INVALID")) return "INVALID_CREDENTIALS";
  if (isCkr(error, "CKR_PIN_LOCKED")) return "USER_LOCKED_OUT";
  if (isCkr(error, "CKR_USER_PIN_NOT_INITIALIZED")) return "USER_NOT_FOUND";
  return "INTERNAL_ERROR";
}

function findSlot(module: graphene.Module, target: ClusterToken): graphene.Slot {
  const slots = module.getSlots(true);
  for (let i = 0; i < slots.length; i++) {
    const slot = slots.items(i);
    if (target.slot !== undefined ? slotId(slot) === String(target.slot) : slot.getToken().label === target.tokenLabel) return slot;
  }
  // CLUSTER_NOT_FOUND: "AWS KMS cannot find the AWS CloudHSM cluster with the specified cluster ID" (the model).
  throw new TokenConnectionError("CLUSTER_NOT_FOUND", `No initialised PKCS#11 token ${describe(target)} in ${module.libFile}`);
}

const describe = (target: ClusterToken): string => (target.slot !== undefined ? `in slot ${target.slot}` : `labelled '${target.tokenLabel ?? ""}'`);

/**
 * A logged-in session on a custom key store's token. Every call is synchronous on the event loop (a 4 KiB AES-GCM is
 * microseconds); key handles are cached by label, since C_FindObjects walks every object on the token.
 */
export class ClusterTokenConnection {
  private readonly lib: PKCS11;
  private readonly handles = new Map<string, Buffer>();
  private closed = false;

  constructor(
    private readonly shared: SharedModule,
    private readonly session: graphene.Session,
    readonly description: string,
  ) {
    this.lib = shared.lib;
  }

  /** A new AES-256 token object labelled `label` (the KMS key id). */
  generateKey(label: string): void {
    try {
      const handle = this.lib.C_GenerateKey(this.session.handle, { mechanism: pkcs11.CKM_AES_KEY_GEN }, tokenKeyTemplate(label));
      this.handles.set(label, handle);
    } catch (error) {
      throw afterTokenFailure(error);
    }
  }

  /**
   * A token object labelled `label` made from `material` (16, 24 or 32 bytes) with the same attributes as a generated
   * one. `material` is zeroed once the token holds it, whether or not that succeeded: the token keeps the only copy.
   */
  importKey(label: string, material: Buffer): void {
    try {
      if (!AES_KEY_BYTES.includes(material.length)) throw new RangeError(`AES key material is 16, 24 or 32 bytes, not ${material.length}`);
      const handle = this.lib.C_CreateObject(this.session.handle, importedKeyTemplate(label, material));
      this.handles.set(label, handle);
    } catch (error) {
      throw afterTokenFailure(error);
    } finally {
      material.fill(0);
    }
  }

  /**
   * The length in bytes of the AES key labelled `label`, or undefined when the token has none; more than one object
   * with the label is an error (which one would be used?).
   */
  keyLength(label: string): number | undefined {
    try {
      const found = this.find(label);
      if (found.length > 1) throw new Error(`More than one key is labelled '${label}' on ${this.description}`);
      const [handle] = found;
      if (handle === undefined) return undefined;
      this.handles.set(label, handle);
      const [valueLen] = this.lib.C_GetAttributeValue(this.session.handle, handle, [{ type: pkcs11.CKA_VALUE_LEN }]);
      const bytes = valueLen?.value;
      if (!Buffer.isBuffer(bytes)) throw new Error(`The key labelled '${label}' on ${this.description} has no CKA_VALUE_LEN`);
      // A CK_ULONG, in the machine's byte order.
      const little = endianness() === "LE";
      return Number(bytes.length === 8 ? (little ? bytes.readBigUInt64LE() : bytes.readBigUInt64BE()) : little ? bytes.readUInt32LE() : bytes.readUInt32BE());
    } catch (error) {
      throw afterTokenFailure(error);
    }
  }

  seal(label: string, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Buffer {
    return gcmSeal(this.lib, this.session.handle, () => this.keyHandle(label), iv, aad, plaintext);
  }

  open(label: string, iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Buffer {
    return gcmOpen(this.lib, this.session.handle, () => this.keyHandle(label), iv, aad, sealed);
  }

  random(byteCount: number): Buffer {
    if (byteCount === 0) return Buffer.alloc(0);
    try {
      return this.lib.C_GenerateRandom(this.session.handle, Buffer.allocUnsafe(byteCount));
    } catch (error) {
      throw afterTokenFailure(error);
    }
  }

  /** Destroys the token object labelled `label`, if there is one (key deletion after its waiting period). */
  destroyKey(label: string): void {
    try {
      for (const handle of this.find(label)) this.lib.C_DestroyObject(this.session.handle, handle);
      this.handles.delete(label);
    } catch (error) {
      throw afterTokenFailure(error);
    }
  }

  /** Closing the application's last session on the token logs it out (PKCS#11 v2.40 §5.6, C_CloseSession). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handles.clear();
    closeQuietly(this.session);
    releaseModule(this.shared);
  }

  private keyHandle(label: string): Buffer {
    let handle = this.handles.get(label);
    if (handle === undefined) {
      const [found] = this.find(label);
      if (found === undefined) throw new Error(`No key labelled '${label}' on ${this.description}`);
      handle = found;
      this.handles.set(label, handle);
    }
    return handle;
  }

  private find(label: string): Buffer[] {
    const session = this.session.handle;
    this.lib.C_FindObjectsInit(session, [attribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY), attribute(pkcs11.CKA_LABEL, label)]);
    try {
      return this.lib.C_FindObjects(session, 2);
    } finally {
      this.lib.C_FindObjectsFinal(session);
    }
  }
}
