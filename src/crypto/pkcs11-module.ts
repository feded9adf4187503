// The PKCS#11 library in this process: one initialisation per module, slots and login, tokens made and listed, and
// what every caller of a token must do when a call fails.

import * as graphene from "graphene-pk11";
import { randomFillSync } from "node:crypto";
import { endianness } from "node:os";
import { resolve } from "node:path";
import * as pkcs11 from "pkcs11js";
import type { PKCS11 } from "pkcs11js";
import { setSoftHsmConfigEnvironment, softHsmConfigEnvironment } from "./token-environment";

export const RW_SESSION = graphene.SessionFlag.RW_SESSION | graphene.SessionFlag.SERIAL_SESSION;

/**
 * PKCS#11 C_Initialize / C_Finalize act on the whole process, and login belongs to the application,
 * not to a session: every key store opened in this process (tests start several servers in one)
 * must share one initialisation per module. This table is therefore a justified module-level
 * singleton. Entries stay loaded after the last store closes (the library can be initialised again;
 * nothing gains from unloading it).
 */
const sharedModules = new Map<string, SharedModule>();

export interface SharedModule {
  readonly module: graphene.Module;
  readonly lib: PKCS11;
  refs: number;
  /** What SoftHSM read at initialisation; undefined when unknown (no path given, none in the environment). */
  softhsmConfigPath: string | undefined;
  /** False when something else in the process initialised the library first: it finalizes, not us. */
  ownsInitialisation: boolean;
  manufacturer: string;
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
      shared.lib.C_Login(session.handle, pkcs11.CKU_SO, options.soPin);
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

/**
 * SoftHSM and Node share one libcrypto here, and SoftHSM leaves OpenSSL's thread-local error queue filled when a
 * call fails (a failed unwrap above all): node:crypto's key parsing (createPrivateKey, createPublicKey) then throws
 * that stale error for an unrelated, valid key (measured: "Provider routines::cipher operation failed"). Every
 * error out of a token call made on the event loop passes here, and the queue is emptied: node:crypto's
 * synchronous random fill clears it on return (~2 µs). Its thread-pool jobs clear it themselves.
 */
export function afterTokenFailure(error: unknown): unknown {
  randomFillSync(ERROR_QUEUE_CLEARING_BYTE);
  return error;
}
const ERROR_QUEUE_CLEARING_BYTE = Buffer.alloc(1);

export function acquireModule(modulePath: string, softhsmConfigPath: string | undefined): SharedModule {
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
    shared.lib.C_Initialize({ flags: pkcs11.CKF_OS_LOCKING_OK });
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

export function releaseModule(shared: SharedModule): void {
  shared.refs--;
  if (shared.refs === 0 && shared.ownsInitialisation) shared.lib.C_Finalize();
}

export function findTokenSlot(module: graphene.Module, tokenLabel: string): graphene.Slot {
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

export function login(lib: PKCS11, session: graphene.Session, tokenLabel: string, pin: string, pinSource: string | undefined): void {
  try {
    lib.C_Login(session.handle, pkcs11.CKU_USER, pin);
  } catch (error) {
    afterTokenFailure(error);
    // Another store in this process is logged in to the token, and login is per application.
    if (isCkr(error, "CKR_USER_ALREADY_LOGGED_IN")) return;
    const refused = pinSource !== undefined && isCkr(error, "CKR_PIN_INCORRECT", "CKR_PIN_LEN_RANGE", "CKR_PIN_LOCKED");
    throw new Error(`Cannot log in to PKCS#11 token '${tokenLabel}': ${ckrName(error)}${refused ? ` with the PIN in ${pinSource}` : ""}`, { cause: error });
  }
}

/** PKCS#11 slot ids are CK_ULONGs, handed over by pkcs11js as native-endian bytes. */
export function slotId(slot: graphene.Slot): string {
  const handle = slot.handle;
  if (handle.length !== 8) return handle.toString("hex");
  return (endianness() === "LE" ? handle.readBigUInt64LE() : handle.readBigUInt64BE()).toString();
}

export function isCkr(error: unknown, ...names: readonly string[]): boolean {
  return names.includes(ckrName(error));
}

// pkcs11js reports CKR_* names as the message of its Pkcs11Error.
export function ckrName(error: unknown): string {
  const message = errorMessage(error);
  return /^CKR_\w+/.exec(message)?.[0] ?? message;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function closeQuietly(session: graphene.Session): void {
  try {
    session.close();
  } catch {
    // The session died with the login or the module: closing is moot.
  }
}
