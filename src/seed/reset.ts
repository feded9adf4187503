// Partition reset: wipes one account and/or region — records, schedule entries, cached state, backing keys — and keeps replication consistent across the cut.
import type { KeyStore } from "../crypto/key-store";
import { type Scope, partitionOf } from "../services/scope";
import type { KmsDomain } from "../services/kms/domain";
import { backingKeyOf } from "../services/kms/key-material";
import type { KeySetRegions, KmsKeyRecord } from "../services/kms/key-record";
import type { SecretsDomain } from "../services/secretsmanager/domain";
import { copiesAPrimary, regionOf, replicaArn } from "../services/secretsmanager/replication";
import type { SecretRecord } from "../services/secretsmanager/secret";
import { everything, GLOBAL, kindRange, partitionOfKey, scopeRange } from "../storage/keys";
import type { BatchOp, Store, StoredValue } from "../storage/store";

/** Which records a partition reset wipes: one account, one region (in every account), or one account's one region. */
export interface PartitionSelector {
  readonly account?: string;
  readonly region?: string;
}

export const selects = (selector: PartitionSelector, scope: { readonly account: string; readonly region: string }): boolean =>
  (selector.account === undefined || selector.account === scope.account) && (selector.region === undefined || selector.region === scope.region);

export interface ResetParts {
  readonly store: Store;
  readonly keyStore: KeyStore;
  readonly kms: KmsDomain;
  readonly secrets: SecretsDomain;
}

/** Every GLOBAL index entry (KMS schedule, secret deletion and rotation schedules, replication) names its partition. */
type GlobalEntry = StoredValue & { readonly account?: unknown; readonly region?: unknown };

const DELETE_SLICE = 1000;
const GLOBAL_RANGE = scopeRange(GLOBAL.account, GLOBAL.region);

const scopeOf = (account: string, region: string): Scope => ({ account, region, partition: partitionOf(region) });

/**
 * Wipes the selected partitions and leaves the rest as they were, replication included:
 *
 * - a primary in the wiped partitions takes its replicas elsewhere with it (AWS never leaves a replica without its
 *   primary, and a re-seeded primary is a new secret with a new ARN);
 * - a replica in the wiped partitions whose primary lives elsewhere is made again from that primary (its record on the
 *   primary goes back to InProgress and the replication sweep copies it, sealed under the wiped region's new keys).
 *
 * The caller re-seeds and then runs the replication sweep.
 */
export async function wipePartitions(parts: ResetParts, selector: PartitionSelector): Promise<void> {
  const { store, keyStore, kms, secrets } = parts;
  const inside = (key: string): boolean => {
    const scope = partitionOfKey(key);
    return scope.account !== GLOBAL.account && selects(selector, scope);
  };
  const range = selector.account === undefined ? { gte: everything.gte, lt: GLOBAL_RANGE.gte } : scopeRange(selector.account, selector.region);

  const doomed: string[] = [];
  const backingKeyIds: string[] = [];
  const customStoreKeys: KmsKeyRecord[] = [];
  const orphanedReplicas: Array<{ scope: Scope; name: string; arn: string }> = [];
  const replicasToRemake = new Map<string, { primary: Scope; name: string; regions: Set<string> }>();
  const wipedKeySets = new Map<string, { account: string; keyId: string; regions: KeySetRegions; wiped: Set<string> }>();
  // Pending usage inside goes first, and a flush already under way lands before the scan sees the store.
  kms.usage.clear(inside);
  await kms.usage.flush();
  for await (const [key, value] of store.range<StoredValue>(range)) {
    if (!inside(key)) continue;
    doomed.push(key);
    const scope = partitionOfKey(key);
    if (key.startsWith(kindRange(scope, "kms", "kms-key").gte)) {
      const record = value as KmsKeyRecord;
      for (const backingKey of record.backingKeys) backingKeyIds.push(backingKeyOf(record, backingKey).id);
      if (record.customKeyStore !== undefined) customStoreKeys.push(record);
      // A multi-Region key with copies elsewhere: they forget this region afterwards (KmsKeys.forgetWipedRegions).
      if (record.multiRegion && record.regions !== undefined) {
        const id = `${scope.account}/${record.keyId}`;
        const entry = wipedKeySets.get(id) ?? { account: scope.account, keyId: record.keyId, regions: record.regions, wiped: new Set<string>() };
        entry.wiped.add(scope.region);
        wipedKeySets.set(id, entry);
      }
    } else if (key.startsWith(kindRange(scope, "secretsmanager", "secret").gte)) {
      const secret = value as SecretRecord;
      if (copiesAPrimary(secret) && !selects(selector, { account: scope.account, region: secret.primaryRegion ?? "" })) {
        const id = `${scope.account}/${secret.primaryRegion}/${secret.name}`;
        const entry = replicasToRemake.get(id) ?? { primary: scopeOf(scope.account, secret.primaryRegion ?? ""), name: secret.name, regions: new Set() };
        entry.regions.add(scope.region);
        replicasToRemake.set(id, entry);
      } else if (!copiesAPrimary(secret)) {
        for (const replica of secret.replicas) {
          if (selects(selector, { account: scope.account, region: replica.region })) continue;
          orphanedReplicas.push({ scope: scopeOf(scope.account, replica.region), name: secret.name, arn: replicaArn(secret.arn, replica.region) });
        }
      }
    }
  }
  for await (const [key, entry] of store.range<GlobalEntry>(GLOBAL_RANGE)) {
    if (typeof entry.account === "string" && typeof entry.region === "string" && selects(selector, { account: entry.account, region: entry.region })) {
      doomed.push(key);
    }
  }

  for (let i = 0; i < doomed.length; i += DELETE_SLICE) {
    const ops: BatchOp[] = doomed.slice(i, i + DELETE_SLICE).map((key) => ({ type: "del", key }));
    await store.batch(ops);
  }
  kms.keys.forgetCached(inside);
  for (const id of backingKeyIds) keyStore.forget(id);
  // Keys of a CloudHSM key store leave its token as a deleted key's do; then the wiped stores' connections close.
  for (const key of customStoreKeys) kms.customKeyStores.destroyKeyMaterial(key);
  kms.customKeyStores.close((scope) => selects(selector, scope));
  // Wrapped backing keys and sealed values must leave the data files, not only the index.
  await store.compact(range.gte, range.lt);
  await store.compact(GLOBAL_RANGE.gte, GLOBAL_RANGE.lt);

  for (const set of wipedKeySets.values()) await kms.keys.forgetWipedRegions(set.account, set.keyId, set.regions, set.wiped);
  for (const replica of orphanedReplicas) await secrets.secrets.purge(replica.scope, replica.name, replica.arn);
  for (const { primary, name, regions } of replicasToRemake.values()) {
    const current = await secrets.secrets.find(primary, name);
    if (current === undefined || current.deletedAt !== undefined || regionOf(current) !== primary.region) continue;
    await secrets.secrets.update(primary, name, (record) => ({
      secret: {
        ...record,
        replicas: record.replicas.map((replica) =>
          regions.has(replica.region) ? { ...replica, status: "InProgress" as const, statusMessage: undefined, lastAccessedDay: undefined } : replica,
        ),
      },
    }));
  }
}
