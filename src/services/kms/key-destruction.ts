// Destruction of a KMS key whose deletion date has passed: the record and everything that hangs on it, then its material.
import { kindRange, recordKey } from "../../storage/keys";
import type { BatchOp } from "../../storage/store";
import type { Scope } from "../scope";
import type { KmsAliasRecord } from "./aliases";
import { keyGrantsRange } from "./grants";
import { backingKeyOf } from "./key-material";
import type { KmsKeyRecord } from "./key-record";
import type { KeyRecordAccess } from "./key-repository";
import { scheduleChanges } from "./key-schedule";

/** A key past its deletion date is destroyed whatever the timer has done so far: every lookup checks this. */
export const deletionDue = (key: KmsKeyRecord, nowMs: number): boolean =>
  key.deletionDate !== undefined && key.deletionDate <= nowMs;

/**
 * Destroys a key whose deletion date has passed: the record (and with it every wrapped backing key), its
 * usage record, its schedule entries, its grants and every alias that points at it go in one batch ("KMS deletes the
 * KMS key, its key material, and all KMS data associated with it, including all aliases that refer to
 * it": ScheduleKeyDeletion). Then the token forgets its unwrapped copies and the key's range is compacted
 * so the wrapped material leaves the data files, not only the index. Always resolves to undefined.
 */
export async function destroyKey(access: KeyRecordAccess, scope: Scope, keyId: string, nowMs: number): Promise<undefined> {
  const { store } = access;
  const key = recordKey(scope, "kms", "kms-key", keyId);
  const destroyed = await store.withLock(key, async () => {
    const current = await store.get<KmsKeyRecord>(key);
    if (current === undefined || !deletionDue(current, nowMs)) return undefined;
    const ops: BatchOp[] = [{ type: "del", key }, access.usage.forget(scope, keyId), ...scheduleChanges(scope, current, undefined)];
    // Aliases are few per scope and destruction is rare: a scan beats keeping a reverse index in step.
    for await (const [aliasKey, alias] of store.range<KmsAliasRecord>(kindRange(scope, "kms", "kms-alias"))) {
      if (alias.targetKeyId === keyId) ops.push({ type: "del", key: aliasKey });
    }
    // Grants sit under the key's id, so their range is exactly the key's: their tokens stop working with them.
    for await (const [grantKey] of store.range(keyGrantsRange(scope, keyId))) ops.push({ type: "del", key: grantKey });
    await access.write(key, ops);
    return current;
  });
  if (destroyed === undefined) return undefined;
  for (const backingKey of destroyed.backingKeys) access.keyStore.forget(backingKeyOf(destroyed, backingKey).id);
  if (destroyed.customKeyStore !== undefined) access.customKeyStores?.destroyKeyMaterial(destroyed);
  await store.compact(key, key + "\uffff");
  return undefined;
}
