// Removal of imported key material: at its ValidTo (swept at start, on a timer and on lookup) and by DeleteImportedKeyMaterial; and of ended wrapping keys.
import { recordKey } from "../../storage/keys";
import type { Scope } from "../scope";
import { deletionDue } from "./key-destruction";
import { wrappingRefIds } from "./key-import";
import { backingKeyOf, expiredMaterial, knownMaterial, nextExpiry, withoutMaterial } from "./key-material";
import type { KmsKeyRecord } from "./key-record";
import type { KeyRecordAccess } from "./key-repository";
import { scheduleChanges } from "./key-schedule";

/** Material past its ValidTo (or a wrapping key past its end) is gone whatever the timer has done so far: every lookup checks this. */
export const expiryDue = (key: KmsKeyRecord, nowMs: number): boolean => {
  const due = nextExpiry(key);
  return due !== undefined && due <= nowMs;
};

/**
 * Removes the material `pick` names on the current record, under the key's lock (a pick that throws refuses), and any
 * wrapping key past its end. "When the key material expires, KMS deletes the key material" (ImportKeyMaterial ValidTo):
 * the wrapped bytes leave the record in the batch, the token forgets its unwrapped copies, and the key's range is
 * compacted so they leave the data files too. Resolves to the record as left, undefined when the key is gone.
 */
export async function removeMaterial(
  access: KeyRecordAccess,
  scope: Scope,
  keyId: string,
  nowMs: number,
  pick: (current: KmsKeyRecord) => ReadonlySet<string>,
): Promise<KmsKeyRecord | undefined> {
  const { store } = access;
  const key = recordKey(scope, "kms", "kms-key", keyId);
  let forgotten: string[] = [];
  const left = await store.withLock(key, async () => {
    const current = await store.get<KmsKeyRecord>(key);
    if (current === undefined || deletionDue(current, nowMs)) return undefined;
    const ids = pick(current);
    const ended = (current.wrappingKeys ?? []).filter((wrapping) => wrapping.expiresAt <= nowMs);
    if (ids.size === 0 && ended.length === 0) return current;
    const withoutWrapping: KmsKeyRecord =
      ended.length === 0 ? current : { ...current, wrappingKeys: (current.wrappingKeys ?? []).filter((wrapping) => wrapping.expiresAt > nowMs) };
    const updated = ids.size === 0 ? withoutWrapping : withoutMaterial(withoutWrapping, ids);
    await access.write(key, [{ type: "put", key, value: updated }, ...scheduleChanges(scope, current, updated)]);
    forgotten = [
      ...knownMaterial(current).filter((material) => ids.has(material.id)).map((material) => backingKeyOf(current, material).id),
      ...wrappingRefIds(current, ended),
    ];
    return updated;
  });
  if (forgotten.length > 0) {
    for (const id of forgotten) access.keyStore.forget(id);
    await store.compact(key, key + "\uffff");
  }
  return left;
}

/** Expires whatever material of the key is past its ValidTo, and drops wrapping keys past their end. */
export const expireMaterial = (access: KeyRecordAccess, scope: Scope, keyId: string, nowMs: number): Promise<KmsKeyRecord | undefined> =>
  removeMaterial(access, scope, keyId, nowMs, (current) => expiredMaterial(current, nowMs));
