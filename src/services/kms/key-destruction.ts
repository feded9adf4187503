// Destruction of a KMS key whose deletion date has passed: the record and everything that hangs on it, then its material.
import { AwsError } from "../../errors";
import { kindRange, recordKey } from "../../storage/keys";
import type { BatchOp } from "../../storage/store";
import type { Scope } from "../scope";
import type { KmsAliasRecord } from "./aliases";
import { keyGrantsRange } from "./grants";
import { wrappingRefIds } from "./key-import";
import { backingKeyOf, knownMaterial } from "./key-material";
import type { KmsKeyRecord } from "./key-record";
import type { KeyRecordAccess } from "./key-repository";
import { withoutMember } from "./multi-region";

/** A key past its deletion date is destroyed whatever the timer has done so far: every lookup checks this. */
export const deletionDue = (key: KmsKeyRecord, nowMs: number): boolean =>
  key.deletionDate !== undefined && key.deletionDate <= nowMs;

/** For the key's jobs (destruction, rotation): a key destroyed meanwhile leaves nothing to do. */
export function unlessGone(error: unknown): undefined {
  if (error instanceof AwsError && error.code === "NotFoundException") return undefined;
  throw error;
}

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
  // Under the locks of every key of a multi-Region set: the others forget this one in the same batch.
  const destroyed = await access
    .changeSet(scope, keyId, async (set) => {
      const current = set.get(scope.region)!;
      if (!deletionDue(current, nowMs)) return { result: undefined };
      const also: BatchOp[] = [access.usage.forget(scope, keyId)];
      // Aliases are few per scope and destruction is rare: a scan beats keeping a reverse index in step.
      for await (const [aliasKey, alias] of store.range<KmsAliasRecord>(kindRange(scope, "kms", "kms-alias"))) {
        if (alias.targetKeyId === keyId) also.push({ type: "del", key: aliasKey });
      }
      // Grants sit under the key's id, so their range is exactly the key's: their tokens stop working with them.
      for await (const [grantKey] of store.range(keyGrantsRange(scope, keyId))) also.push({ type: "del", key: grantKey });
      const rest = withoutMember(set, scope.region, nowMs);
      const records = new Map<string, KmsKeyRecord | undefined>(rest);
      records.set(scope.region, undefined);
      return { records, also, result: { key: current, lastCopy: rest.size === 0 } };
    })
    .catch(unlessGone);
  if (destroyed === undefined) return undefined;
  // The other regions of a multi-Region key share its backing keys (and their cached token objects): they stay.
  if (destroyed.lastCopy) for (const backingKey of knownMaterial(destroyed.key)) access.keyStore.forget(backingKeyOf(destroyed.key, backingKey).id);
  // Import wrapping keys belong to this region's record alone.
  for (const id of wrappingRefIds(destroyed.key)) access.keyStore.forget(id);
  if (destroyed.key.customKeyStore !== undefined) access.customKeyStores?.destroyKeyMaterial(destroyed.key);
  await store.compact(key, key + "\uffff");
  return undefined;
}
