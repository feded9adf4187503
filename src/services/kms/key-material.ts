// Backing keys: new material from the token, imported material, and the key store's view of a stored backing key.
import { createHmac, randomBytes } from "node:crypto";
import type { BackingKeyRef, BackingKeySpec, KeyStore } from "../../crypto/key-store";
import { AwsError } from "../../errors";
import type { Scope } from "../scope";
import { unsupportedOperation } from "./errors";
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
 * (ImportKeyMaterial, KeyMaterialId) without saying how. Here: HMAC-SHA256 keyed by the material over the key id,
 * 64 hex characters like every KeyMaterialId. It reveals nothing of the material, and the same key id and material
 * give the same id on every machine, which the self-describing ciphertexts need to open there.
 */
export const importedKeyMaterialId = (keyId: string, material: Uint8Array): string =>
  createHmac("sha256", material).update(`secretslite imported key material\0${keyId}`).digest("hex");

/**
 * Imports 32 bytes of key material into an Origin EXTERNAL key, the core ImportKeyMaterial will share (seed
 * fixtures use it now): the key store wraps the material under the root key, the record keeps only that, and a
 * PendingImport key becomes Enabled. The KeyMaterialId depends on the key id and the material alone, so a
 * ciphertext made anywhere with the same id and material opens here. Importing the same material again changes
 * nothing; other material is refused, as AWS refuses it for a key that already had material.
 */
export async function importMaterial(
  keys: Pick<KmsKeys, "get" | "update">,
  keyStore: KeyStore,
  scope: Scope,
  keyId: string,
  material: Uint8Array,
  now: Date,
): Promise<KmsKeyRecord> {
  if (keyStore.importBackingKey === undefined) throw unsupportedOperation("This key store cannot import key material.");
  const materialId = importedKeyMaterialId(keyId, material);
  const present = await keys.get(scope, keyId);
  if (present !== undefined && present.backingKeys.some((backingKey) => backingKey.id === materialId)) return present;
  // The token call happens before the lock, as for every backing key.
  const wrapped = Buffer.from((await keyStore.importBackingKey("SYMMETRIC_DEFAULT", material)).wrapped).toString("base64");
  return keys.update(scope, keyId, (current) => {
    if (current.origin !== "EXTERNAL") {
      throw unsupportedOperation(`${current.arn} origin is ${current.origin} which is not valid for this operation.`);
    }
    if (current.backingKeys.some((backingKey) => backingKey.id === materialId)) return current;
    if (current.backingKeys.length > 0) {
      throw new AwsError("IncorrectKeyMaterialException", "The key material doesn't match the key material previously imported into this key.");
    }
    return {
      ...current,
      backingKeys: [{ id: materialId, wrapped, createdAt: now.getTime() }],
      keyState: current.keyState === "PendingImport" ? "Enabled" : current.keyState,
      expirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE",
    };
  });
}

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
