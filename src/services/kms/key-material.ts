// Backing keys: new material from the token, imported material, and the key store's view of a stored backing key.
import { createHmac, randomBytes } from "node:crypto";
import { KeyStoreUsageError, type BackingKeyRef, type BackingKeySpec, type KeyStore, type NewBackingKey } from "../../crypto/key-store";
import type { Scope } from "../scope";
import { incorrectKeyMaterial, keyNotFound, materialPendingRotation, originNotValid, unsupportedOperation, wrappingNotValid } from "./errors";
import { keyArn } from "./key-arn";
import { assertKeyState } from "./key-states";
import type { BackingKeyRecord, KmsKeyRecord, RotationType } from "./key-record";
import type { KmsKeys } from "./key-repository";

/** New material, generated in the token and kept only wrapped; rotations say which kind made it. */
export async function newBackingKey(keyStore: KeyStore, nowMs: number, rotationType: RotationType | undefined): Promise<BackingKeyRecord> {
  // Every key that rotates or makes data keys is SYMMETRIC_DEFAULT; other specs get their material at CreateKey.
  const { wrapped } = await keyStore.generate("SYMMETRIC_DEFAULT");
  return {
    id: randomBytes(32).toString("hex"),
    wrapped: Buffer.from(wrapped).toString("base64"),
    createdAt: nowMs,
    ...(rotationType === undefined ? {} : { rotationType }),
  };
}

/**
 * A new key's first material of any spec but SM2 (CreateKey); asymmetric specs keep their public key beside it as
 * base64 SPKI DER, in the clear, since GetPublicKey hands it out and Verify needs no token for it. `fixedMaterial`
 * (seed fixtures) stands in for generated material, in the form importBackingKey takes for the spec.
 */
export async function firstBackingKey(keyStore: KeyStore, spec: BackingKeySpec, nowMs: number, fixedMaterial?: Uint8Array): Promise<BackingKeyRecord> {
  if (keyStore.supports(spec) === undefined) throw unsupportedOperation(`This key store cannot hold KeySpec ${spec} key material.`);
  if (fixedMaterial !== undefined && keyStore.importBackingKey === undefined) throw unsupportedOperation("This key store cannot import key material.");
  const { wrapped, publicKey } = fixedMaterial === undefined ? await keyStore.generate(spec) : await keyStore.importBackingKey!(spec, fixedMaterial);
  return {
    id: randomBytes(32).toString("hex"),
    wrapped: Buffer.from(wrapped).toString("base64"),
    ...(publicKey === undefined ? {} : { publicKey: publicKey.toString("base64") }),
    createdAt: nowMs,
  };
}

/**
 * AWS "assigns a unique identifier to the key material based on the KMS key ID and the imported key material"
 * (ImportKeyMaterial, KeyMaterialId) without saying how. Here: HMAC-SHA256 keyed by the material (for a key pair,
 * its SPKI public key, so any encoding of the same private key gives one id) over the key id,
 * 64 hex characters like every KeyMaterialId. It reveals nothing of the material, and the same key id and material
 * give the same id on every machine, which the self-describing ciphertexts need to open there.
 */
export const importedKeyMaterialId = (keyId: string, material: Uint8Array): string =>
  createHmac("sha256", material).update(`secretslite imported key material\0${keyId}`).digest("hex");

/** ImportKeyMaterial's choices about the material, beside the material itself. */
export interface MaterialImport {
  readonly importType?: "NEW_KEY_MATERIAL" | "EXISTING_KEY_MATERIAL";
  readonly keyMaterialId?: string;
  readonly description?: string;
  /** When the material expires (milliseconds); absent: KEY_MATERIAL_DOES_NOT_EXPIRE. */
  readonly validTo?: number;
}

/**
 * Imports key material into an Origin EXTERNAL key: ImportKeyMaterial after unwrapping, and seed fixtures. The key
 * store checks the material against the key spec (32 bytes, the HMAC length, or PKCS#8 of the spec) and wraps it
 * under the root key; the record keeps only that. The KeyMaterialId depends on the key id and the material alone
 * (for key pairs, their public key), so a ciphertext made anywhere with the same id and material opens here.
 */
export async function importMaterial(
  keys: Pick<KmsKeys, "get" | "update">,
  keyStore: KeyStore,
  scope: Scope,
  keyId: string,
  material: Uint8Array,
  now: Date,
  request: MaterialImport = {},
): Promise<{ key: KmsKeyRecord; keyMaterialId: string }> {
  if (keyStore.importBackingKey === undefined) throw unsupportedOperation("This key store cannot import key material.");
  const present = await keys.get(scope, keyId);
  if (present === undefined) throw keyNotFound(keyArn(scope, keyId));
  if (present.origin !== "EXTERNAL") throw originNotValid(present.arn, present.origin);
  // The token call happens before the lock, as for every backing key.
  let imported: NewBackingKey;
  try {
    imported = await keyStore.importBackingKey(present.keySpec as BackingKeySpec, material);
  } catch (error) {
    if (error instanceof RangeError || error instanceof KeyStoreUsageError) {
      throw incorrectKeyMaterial(`The key material is not valid ${present.keySpec} key material: ${error.message}.`);
    }
    throw error;
  }
  const keyMaterialId = importedKeyMaterialId(keyId, imported.publicKey ?? material);
  const entry: BackingKeyRecord = {
    id: keyMaterialId,
    wrapped: Buffer.from(imported.wrapped).toString("base64"),
    ...(imported.publicKey === undefined ? {} : { publicKey: imported.publicKey.toString("base64") }),
    createdAt: now.getTime(),
    ...(request.validTo === undefined ? {} : { validTo: request.validTo }),
    ...(request.description === undefined ? {} : { description: request.description }),
  };
  const key = await keys.update(scope, keyId, (current) => placeMaterial(current, entry, request));
  return { key, keyMaterialId };
}

const expirationModelOf = (backingKey: BackingKeyRecord): NonNullable<KmsKeyRecord["expirationModel"]> =>
  backingKey.validTo === undefined ? "KEY_MATERIAL_DOES_NOT_EXPIRE" : "KEY_MATERIAL_EXPIRES";

/** Every material a key knows of: its backing keys (deleted ones too), then any PENDING_ROTATION material. */
export const knownMaterial = (key: KmsKeyRecord): BackingKeyRecord[] =>
  key.pendingMaterial === undefined ? [...key.backingKeys] : [...key.backingKeys, key.pendingMaterial];

/** An EXTERNAL key is usable only with all its material present (DeleteImportedKeyMaterial, the guide's import pages). */
const allPresent = (key: KmsKeyRecord): boolean => key.backingKeys.length > 0 && knownMaterial(key).every((material) => material.deleted !== true);

/**
 * Where imported material goes, decided under the key's lock on the current record. ImportType defaults to NEW for a
 * key that never had material and to EXISTING after (the model's ImportType). NEW material is the first material, or
 * for a symmetric key PENDING_ROTATION until RotateKeyOnDemand; EXISTING must be material the key had, and takes its
 * place again with the new expiry (re-import after expiry or deletion, or to change the expiration).
 */
function placeMaterial(current: KmsKeyRecord, entry: BackingKeyRecord, request: MaterialImport): KmsKeyRecord {
  if (current.origin !== "EXTERNAL") throw originNotValid(current.arn, current.origin);
  assertKeyState("ImportKeyMaterial", current);
  const known = knownMaterial(current);
  const importType = request.importType ?? (known.length === 0 ? "NEW_KEY_MATERIAL" : "EXISTING_KEY_MATERIAL");
  if (importType === "NEW_KEY_MATERIAL") {
    if (request.keyMaterialId !== undefined) throw wrappingNotValid("You cannot specify a key material ID with ImportType set to NEW_KEY_MATERIAL.");
    if (known.some((material) => material.id === entry.id)) {
      throw incorrectKeyMaterial("KMS expected new key material but the key material being imported is already associated with the KMS key.");
    }
    if (known.length === 0) {
      const first = { ...current, backingKeys: [entry], expirationModel: expirationModelOf(entry) };
      return { ...first, keyState: current.keyState === "PendingImport" ? "Enabled" : current.keyState };
    }
    // "For asymmetric and HMAC keys, you cannot change the key material after the initial import" (ImportKeyMaterial).
    if (current.keySpec !== "SYMMETRIC_DEFAULT") throw incorrectKeyMaterial("The key material is not the same key material that was previously imported into this KMS key.");
    if (current.pendingMaterial !== undefined) throw materialPendingRotation(entry.id, current.arn, current.pendingMaterial.id);
    return { ...current, pendingMaterial: entry };
  }
  const previous = known.find((material) => material.id === entry.id);
  if (previous === undefined || (request.keyMaterialId !== undefined && request.keyMaterialId !== entry.id)) {
    throw incorrectKeyMaterial("The key material is not the same key material that was previously imported into this KMS key.");
  }
  const { deleted: _deleted, validTo: _validTo, ...kept } = previous;
  const restored: BackingKeyRecord = { ...kept, wrapped: entry.wrapped, ...(entry.validTo === undefined ? {} : { validTo: entry.validTo }), description: entry.description ?? previous.description };
  const replace = (material: BackingKeyRecord): BackingKeyRecord => (material.id === entry.id ? restored : material);
  const updated: KmsKeyRecord = {
    ...current,
    backingKeys: current.backingKeys.map(replace),
    pendingMaterial: current.pendingMaterial === undefined ? undefined : replace(current.pendingMaterial),
  };
  const currentMaterial = updated.backingKeys[updated.backingKeys.length - 1];
  return {
    ...updated,
    expirationModel: currentMaterial === undefined ? updated.expirationModel : expirationModelOf(currentMaterial),
    keyState: updated.keyState === "PendingImport" && allPresent(updated) ? "Enabled" : updated.keyState,
  };
}

/**
 * The key without the named material (DeleteImportedKeyMaterial, expiry at ValidTo): each entry stays, marked
 * deleted with its wrapped bytes gone, so the same material can come back under its id; the key is PendingImport
 * until it does, unless it is PendingDeletion ("does not change the KMS key's state").
 */
export function withoutMaterial(current: KmsKeyRecord, ids: ReadonlySet<string>): KmsKeyRecord {
  const remove = (material: BackingKeyRecord): BackingKeyRecord => {
    if (!ids.has(material.id)) return material;
    const { validTo: _validTo, ...kept } = material;
    return { ...kept, wrapped: "", deleted: true };
  };
  return {
    ...current,
    backingKeys: current.backingKeys.map(remove),
    pendingMaterial: current.pendingMaterial === undefined ? undefined : remove(current.pendingMaterial),
    keyState: current.keyState === "PendingDeletion" ? "PendingDeletion" : "PendingImport",
  };
}

const earliest = (times: ReadonlyArray<number | undefined>): number | undefined =>
  times.reduce<number | undefined>((soonest, time) => (time !== undefined && (soonest === undefined || time < soonest) ? time : soonest), undefined);

/** The earliest ValidTo of material still present (DescribeKey's ValidTo). */
export const nextMaterialExpiry = (key: KmsKeyRecord): number | undefined =>
  earliest(knownMaterial(key).map((material) => (material.deleted === true ? undefined : material.validTo)));

/** When the schedule next has work on the key's imports: material reaching its ValidTo, or a wrapping key its end. */
export const nextExpiry = (key: KmsKeyRecord | undefined): number | undefined =>
  key === undefined ? undefined : earliest([nextMaterialExpiry(key), ...(key.wrappingKeys ?? []).map((wrapping) => wrapping.expiresAt)]);

/** The material whose ValidTo has passed. */
export const expiredMaterial = (key: KmsKeyRecord, nowMs: number): Set<string> =>
  new Set(knownMaterial(key).filter((material) => material.deleted !== true && material.validTo !== undefined && material.validTo <= nowMs).map((material) => material.id));

/**
 * The key store's view of one backing key, made once per record read: the key store compares the wrapped
 * bytes on every call (its handle cache must not trust the id alone), so they are decoded once, not per
 * request. A backing key record belongs to one KMS key, so it alone keys the map.
 */
const wrappedBackingKeys = new WeakMap<BackingKeyRecord, BackingKeyRef>();

export function backingKeyOf(key: KmsKeyRecord, backingKey: BackingKeyRecord): BackingKeyRef {
  let wrapped = wrappedBackingKeys.get(backingKey);
  if (wrapped === undefined) {
    // SM2 is the one KMS spec a key store has no backing key for, and CreateKey never makes an SM2 key.
    wrapped = { id: key.keyId + "/" + backingKey.id, spec: key.keySpec as BackingKeySpec, wrapped: Buffer.from(backingKey.wrapped, "base64") };
    wrappedBackingKeys.set(backingKey, wrapped);
  }
  return wrapped;
}

/** The backing key a KMS key uses now: its newest (asymmetric and HMAC keys never rotate, so their only one). */
export function currentBackingKeyOf(key: KmsKeyRecord): BackingKeyRef {
  const backingKey = key.backingKeys[key.backingKeys.length - 1];
  // An EXTERNAL key without material is PendingImport, which the key-state table refuses before this.
  if (backingKey === undefined) throw new Error(`KMS key ${key.keyId} has no backing key`);
  return backingKeyOf(key, backingKey);
}
