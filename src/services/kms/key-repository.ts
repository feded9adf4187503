// The KmsKey repository: every read and write of a key record, its record cache, and the entry points to the key's jobs.
import { randomBytes, randomUUID } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { BackingKeySpec, KeyStore } from "../../crypto/key-store";
import { kindRange, recordKey } from "../../storage/keys";
import type { BatchOp, Store } from "../../storage/store";
import type { Clock } from "../clock";
import type { Scope } from "../scope";
import { customKeyStoreNotFound, invalidState, keyNotFound, strictHsmRefusal, xksKeyAlreadyInUse, XKS_MESSAGES } from "./errors";
import type { KmsRequestContext } from "./context";
import { keyArn } from "./key-arn";
import { deletionDue, destroyKey, unlessGone } from "./key-destruction";
import { expireMaterial, expiryDue, removeMaterial } from "./material-expiry";
import { firstBackingKey, importMaterial, newBackingKey, type MaterialImport } from "./key-material";
import { newKeyRecord, type KeySetRegions, type KmsKeyRecord, type NewKmsKey, type RotationType } from "./key-record";
import { resolveKey, type KeyIdForms } from "./key-resolution";
import { rotateAutomatically, rotateKey, rotationDue, type RotationCheck } from "./key-rotation";
import { dueOf, entryScope, scheduleChanges, storedEntryKey, type ScheduleEntry } from "./key-schedule";
import { settled, scopeIn, setMembers, transitionDue, withoutMember } from "./multi-region";
import { assertUsable, type CryptoOperation, type OperationAlgorithm } from "./key-usability";
import type { KeyUsage } from "./key-usage";
import type { CustomKeyStores } from "./custom-key-stores";

/**
 * What the files that do a key's jobs (resolution, rotation, destruction) reach of the repository. Operations never
 * get it: every write of a key record goes through `write`, which keeps the record cache honest.
 */
export interface KeyRecordAccess {
  readonly store: Store;
  readonly keyStore: KeyStore;
  readonly usage: KeyUsage;
  readonly customKeyStores: CustomKeyStores | undefined;
  /** The one read of a key record: what is due on it happens before anyone sees it. */
  load(scope: Scope, keyId: string, nowMs: number): Promise<KmsKeyRecord | undefined>;
  /** A new key record with its schedule entries, and `also` (an alias) in the same batch. */
  insert(scope: Scope, record: KmsKeyRecord, also?: readonly BatchOp[]): Promise<void>;
  /** Every batch that writes key records: their cached copies go before and after, failed or not. */
  write(name: string | readonly string[], ops: BatchOp[]): Promise<void>;
  /** A change of several keys of one multi-Region set in one batch (KmsKeys.changeSet). */
  changeSet<R>(scope: Scope, keyId: string, change: KeySetChange<R>, alsoRegions?: readonly string[]): Promise<R>;
}

/**
 * A change to the keys of a multi-Region set (a single-Region key is a set of one), given every key of the set by
 * region as read under all their locks. It returns the records to write (undefined deletes one), extra batch
 * operations, and its result. It must not call the token.
 */
export type KeySetChange<R> = (set: ReadonlyMap<string, KmsKeyRecord>) => KeySetWrites<R> | Promise<KeySetWrites<R>>;

export interface KeySetWrites<R> {
  readonly records?: ReadonlyMap<string, KmsKeyRecord | undefined> | undefined;
  readonly also?: readonly BatchOp[];
  readonly result: R;
}

export interface KmsKeysOptions {
  /** --strict-hsm: refuse to create keys of specs whose private keys the key store uses outside the token. */
  readonly strictHsm?: boolean;
  /**
   * How long a multi-Region replica stays Creating and an UpdatePrimaryRegion's keys stay Updating. AWS says "a few
   * seconds" (ReplicateKey); short here, but long enough that code which retries on KMSInvalidStateException is exercised.
   */
  readonly transientStateMs?: number;
  /** Where keys of Origin AWS_CLOUDHSM are made and whether they are available; none: every CustomKeyStoreId is unknown. */
  readonly customKeyStores?: CustomKeyStores;
}

/** Without options (tests that build KmsKeys themselves); the server passes --transient-state-ms. */
const DEFAULT_TRANSIENT_STATE_MS = 1_000;

/** Enough for every key a busy test suite or local stack uses; a wider working set only reads the store more. */
const RECORD_CACHE_MAX = 10_000;

/**
 * Creation, lookup by any identifier form AWS accepts, changes under the key's lock, and the key's rotation,
 * destruction and imported material (each in its own file). Every write of a key record goes through here, with
 * its schedule entries in the same batch (key-schedule.ts).
 */
export class KmsKeys {
  /** Automatic rotations and destructions under way, so a burst of lookups of a due key does the work once. */
  private readonly settling = new Map<string, Promise<KmsKeyRecord | undefined>>();
  /**
   * Key records as last read by lookups, so Encrypt, Decrypt, GenerateDataKey and Secrets Manager's data
   * keys skip the LevelDB read and JSON decode (a measured 6 µs a request). Every write of a key record goes
   * through this class and drops its entry once the batch has landed; reset calls forgetCached(). Changes
   * read the store itself under their lock. Bounded: the least recently used records go first.
   */
  private readonly records = new LRUCache<string, KmsKeyRecord>({ max: RECORD_CACHE_MAX });
  /** Key-record batches begun or ended so far, and those in flight: see cachedRecord. */
  private writes = 0;
  private writing = 0;
  private readonly access: KeyRecordAccess;

  constructor(
    private readonly store: Store,
    private readonly keyStore: KeyStore,
    usage: KeyUsage,
    private readonly clock: Clock,
    private readonly options: KmsKeysOptions = {},
  ) {
    this.access = {
      store,
      keyStore,
      usage,
      customKeyStores: options.customKeyStores,
      load: (scope, keyId, nowMs) => this.load(scope, keyId, nowMs),
      insert: (scope, record, also) => this.insert(scope, record, also),
      write: (name, ops) => this.write(name, ops),
      changeSet: (scope, keyId, change, alsoRegions) => this.changeSet(scope, keyId, change, alsoRegions),
    };
  }

  /** How long Creating and Updating last. */
  get transientStateMs(): number {
    return this.options.transientStateMs ?? DEFAULT_TRANSIENT_STATE_MS;
  }

  /**
   * A new key with its first backing key. `fixedMaterial` (seed fixtures, non-symmetric specs of Origin AWS_KMS) is
   * used instead of generated material; symmetric material is imported into an EXTERNAL key (importMaterial).
   */
  async create(scope: Scope, now: Date, props: NewKmsKey, fixedMaterial?: Uint8Array): Promise<KmsKeyRecord> {
    const spec = props.keySpec ?? "SYMMETRIC_DEFAULT";
    // Refused here, at creation, so no key of such a spec ever exists to fail at its first use.
    if (this.options.strictHsm === true && this.keyStore.supports(spec as BackingKeySpec) === "node") throw strictHsmRefusal(spec);
    if (props.origin === "AWS_CLOUDHSM") return this.createInCustomKeyStore(scope, now, props);
    if (props.origin === "EXTERNAL_KEY_STORE") return this.createInExternalKeyStore(scope, now, props);
    // The token call happens before any lock is taken: locks are never held across slow token work.
    const backingKeys =
      props.origin === "EXTERNAL"
        ? []
        : spec === "SYMMETRIC_DEFAULT" && fixedMaterial === undefined
          ? [await newBackingKey(this.keyStore, now.getTime(), undefined)]
          : // CreateKey refuses SM2 before it gets here: no key store has SM2 material.
            [await firstBackingKey(this.keyStore, spec as BackingKeySpec, now.getTime(), fixedMaterial)];
    const record = newKeyRecord(scope, now, props, backingKeys);
    await this.insert(scope, record);
    return record;
  }

  /**
   * A key of Origin AWS_CLOUDHSM: its material is an AES-256 token object in the store's token, labelled by the key id;
   * the record keeps a KeyMaterialId for the ciphertexts and no wrapped material.
   */
  private async createInCustomKeyStore(scope: Scope, now: Date, props: NewKmsKey): Promise<KmsKeyRecord> {
    const storeId = props.customKeyStoreId ?? "";
    if (this.options.customKeyStores === undefined) throw customKeyStoreNotFound(storeId);
    const keyId = props.keyId ?? randomUUID();
    const customKeyStore = await this.options.customKeyStores.createKeyMaterial(scope, storeId, keyId);
    const record = newKeyRecord(scope, now, { ...props, keyId }, [{ id: randomBytes(32).toString("hex"), wrapped: "", createdAt: now.getTime() }], customKeyStore);
    await this.insert(scope, record);
    return record;
  }

  /**
   * A key of Origin EXTERNAL_KEY_STORE: KMS-side material made in the token like an AWS_KMS key's, and an external key
   * that the store's proxy has just vouched for (CreateKey's GetKeyMetadata). "Each KMS key in an external key store
   * must be associated with a different external key" (XksKeyAlreadyInUseException), pending deletion included.
   */
  private async createInExternalKeyStore(scope: Scope, now: Date, props: NewKmsKey): Promise<KmsKeyRecord> {
    const storeId = props.customKeyStoreId ?? "";
    const xksKeyId = props.xksKeyId ?? "";
    if (this.options.customKeyStores === undefined) throw customKeyStoreNotFound(storeId);
    await this.options.customKeyStores.describe(scope, storeId);
    for await (const other of this.list(scope, now.getTime())) {
      if (other.customKeyStore?.id === storeId && other.customKeyStore.xksKeyId === xksKeyId) throw xksKeyAlreadyInUse(xksKeyId);
    }
    await this.options.customKeyStores.checkExternalKey(scope, storeId, xksKeyId, props.use);
    const backingKeys = [await newBackingKey(this.keyStore, now.getTime(), undefined)];
    const record = newKeyRecord(scope, now, props, backingKeys, { id: storeId, clusterId: "", xksKeyId });
    await this.insert(scope, record);
    return record;
  }

  /** The record as DescribeKey shows it: Unavailable while its custom key store is not connected. */
  presented(key: KmsKeyRecord): KmsKeyRecord {
    const unavailable = (key.keyState === "Enabled" || key.keyState === "Disabled") && this.options.customKeyStores?.available(key) === false;
    return unavailable ? { ...key, keyState: "Unavailable" } : key;
  }

  /** Whether any key of the scope, pending deletion included, is in the custom key store (DeleteCustomKeyStore). */
  async holdsCustomKeyStoreKeys(scope: Scope, customKeyStoreId: string): Promise<boolean> {
    for await (const key of this.list(scope, this.clock.now().getTime())) if (key.customKeyStore?.id === customKeyStoreId) return true;
    return false;
  }

  /** A key by id, or undefined when there is none (or its deletion date has passed: it is destroyed now). */
  get(scope: Scope, keyId: string): Promise<KmsKeyRecord | undefined> {
    return this.load(scope, keyId, this.clock.now().getTime());
  }

  /** Any identifier form in this account and region (key-resolution.ts); a missing key is NotFoundException. */
  resolve(scope: Scope, identifier: string, now: Date, forms: KeyIdForms = "any"): Promise<KmsKeyRecord> {
    return resolveKey(this.access, scope, identifier, now, forms);
  }

  /**
   * The one check before a key serves a cryptographic operation: state, key usage, algorithm (key-usability.ts), on
   * an identifier in the request's scope or a key already found (Decrypt's, named by its ciphertext). Grants and key
   * policies will decide here too, which is why it takes the whole request context: the seam for access control
   * (issue 13) is after assertUsable, where the caller's principal, the key policy and the key's grants (ctx.kms.grants,
   * grants.ts; their GrantTokens are already checked by grant-tokens.ts) give the answer.
   */
  async usable<O extends CryptoOperation>(
    ctx: KmsRequestContext,
    key: string | KmsKeyRecord,
    operation: O,
    algorithm?: OperationAlgorithm<O>,
  ): Promise<KmsKeyRecord> {
    const record = typeof key === "string" ? await this.resolve(ctx.scope, key, ctx.now) : key;
    // "<ARN> is unavailable." (key-state page [11]) while its custom key store is disconnected; for a key in an external
    // key store, the XKS specification's sentence for a store that is not connected.
    const presented = this.presented(record);
    if (presented.keyState === "Unavailable" && record.customKeyStore?.xksKeyId !== undefined) throw invalidState(XKS_MESSAGES.NOT_CONNECTED);
    assertUsable(presented, operation, algorithm);
    return record;
  }

  /**
   * Read-modify-write of one key under its lock. `change` sees the current record and returns the
   * new one (or throws); it must not call the token, so the lock is never held across slow work.
   * Schedule entries follow the record's deletionDate and rotation in the same batch.
   */
  async update(scope: Scope, keyId: string, change: (key: KmsKeyRecord) => KmsKeyRecord): Promise<KmsKeyRecord> {
    const key = recordKey(scope, "kms", "kms-key", keyId);
    return this.store.withLock(key, async () => {
      const current = await this.store.get<KmsKeyRecord>(key);
      // A key past its deletion date is gone for every change, even before the sweep gets to it.
      if (current === undefined || deletionDue(current, this.clock.now().getTime())) throw keyNotFound(keyArn(scope, keyId));
      const updated = change(current);
      if (updated !== current) {
        await this.write(key, [{ type: "put", key, value: updated }, ...scheduleChanges(scope, current, updated)]);
      }
      return updated;
    });
  }

  /**
   * Reads every key of `keyId`'s multi-Region set under all their locks (taken in name order, so two set changes never
   * deadlock; `update` holds one lock only) and writes what `change` returns in one batch. Should the set's regions
   * change between the first read and the locks, it reads again. A key missing in `scope` is NotFoundException.
   * `alsoRegions` are read and locked too: where ReplicateKey puts a new member.
   */
  async changeSet<R>(scope: Scope, keyId: string, change: KeySetChange<R>, alsoRegions: readonly string[] = []): Promise<R> {
    const nameIn = (region: string): string => recordKey(scopeIn(scope, region), "kms", "kms-key", keyId);
    for (;;) {
      const first = await this.store.get<KmsKeyRecord>(nameIn(scope.region));
      if (first === undefined) throw keyNotFound(keyArn(scope, keyId));
      const regionsOf = (key: KmsKeyRecord): string[] => [...new Set([scope.region, ...setMembers(key), ...alsoRegions])].sort();
      const regions = regionsOf(first);
      const outcome = await this.withLocks(regions.map(nameIn), async () => {
        // The change sees every key as a lookup would: a transition whose time is up is over.
        const nowMs = this.clock.now().getTime();
        const stored = new Map<string, KmsKeyRecord>();
        const set = new Map<string, KmsKeyRecord>();
        for (const region of regions) {
          const key = await this.store.get<KmsKeyRecord>(nameIn(region));
          if (key === undefined) continue;
          stored.set(region, key);
          set.set(region, transitionDue(key, nowMs) ? settled(key) : key);
        }
        const own = set.get(scope.region);
        if (own === undefined) throw keyNotFound(keyArn(scope, keyId));
        if (regionsOf(own).join() !== regions.join()) return undefined;
        const { records = new Map(), also = [], result } = await change(set);
        const ops: BatchOp[] = [];
        for (const [region, after] of records) {
          const before = stored.get(region);
          if (after === before) continue;
          ops.push(after === undefined ? { type: "del", key: nameIn(region) } : { type: "put", key: nameIn(region), value: after });
          ops.push(...scheduleChanges(scopeIn(scope, region), before, after));
        }
        if (ops.length > 0 || also.length > 0) await this.write([...records.keys()].map(nameIn), [...ops, ...also]);
        return { result };
      });
      if (outcome !== undefined) return outcome.result;
    }
  }

  /** The scope's keys in key id order, starting after `afterKeyId`; keys past their deletion date are left out. */
  async *list(scope: Scope, nowMs: number, afterKeyId?: string): AsyncIterable<KmsKeyRecord> {
    const range = kindRange(scope, "kms", "kms-key");
    const gte = afterKeyId === undefined ? range.gte : recordKey(scope, "kms", "kms-key", afterKeyId) + "\u0000";
    for await (const [, key] of this.store.range<KmsKeyRecord>({ gte, lt: range.lt })) {
      if (!deletionDue(key, nowMs)) yield key;
    }
  }

  /** New material for the key (key-rotation.ts); undefined when the key is gone. */
  rotate(scope: Scope, keyId: string, nowMs: number, type: RotationType, check: RotationCheck): Promise<KmsKeyRecord | undefined> {
    return rotateKey(this.access, scope, keyId, nowMs, type, check);
  }

  /** Destroys the key if its deletion date has passed (key-destruction.ts). */
  destroy(scope: Scope, keyId: string, nowMs: number): Promise<undefined> {
    return destroyKey(this.access, scope, keyId, nowMs);
  }

  /** Imported material for an Origin EXTERNAL key (key-material.ts). */
  importMaterial(scope: Scope, keyId: string, material: Uint8Array, now: Date, request?: MaterialImport): Promise<{ key: KmsKeyRecord; keyMaterialId: string }> {
    return importMaterial(this, this.keyStore, scope, keyId, material, now, request);
  }

  /** Removes imported material that `pick` names (material-expiry.ts); undefined when the key is gone. */
  removeMaterial(scope: Scope, keyId: string, nowMs: number, pick: (current: KmsKeyRecord) => ReadonlySet<string>): Promise<KmsKeyRecord | undefined> {
    return removeMaterial(this.access, scope, keyId, nowMs, pick);
  }

  /** Carries out one schedule entry the sweep found due; an entry its record no longer backs is removed. */
  async runScheduled(entry: ScheduleEntry, nowMs: number): Promise<void> {
    const scope = entryScope(entry);
    const key = await this.store.get<KmsKeyRecord>(recordKey(scope, "kms", "kms-key", entry.keyId));
    if (dueOf(entry.kind, key) !== entry.due) {
      await this.store.batch([{ type: "del", key: storedEntryKey(entry) }]);
      return;
    }
    // A due rotation of a disabled or pending-deletion key waits in the schedule until the key is enabled.
    await this.load(scope, entry.keyId, nowMs);
  }

  /**
   * After a partition reset wiped the copies of a multi-Region key in `wiped` regions, the keys left elsewhere forget
   * them. A set whose primary was wiped goes entirely (AWS never leaves replicas without a primary, and a re-seeded
   * primary is a new key): each replica is destroyed as its deletion would destroy it, aliases included.
   */
  async forgetWipedRegions(account: string, keyId: string, regions: KeySetRegions, wiped: ReadonlySet<string>): Promise<void> {
    const nowMs = this.clock.now().getTime();
    const scopeOf = (region: string): Scope => scopeIn({ account, region, partition: "" }, region);
    const survivors = [regions.primaryRegion, ...regions.replicaRegions].filter((region) => !wiped.has(region));
    if (wiped.has(regions.primaryRegion)) {
      for (const region of survivors) {
        const gone = await this.update(scopeOf(region), keyId, (current) => ({ ...current, keyState: "PendingDeletion", deletionDate: nowMs, transition: undefined }))
          .then(() => false)
          .catch(unlessGone);
        if (gone === false) await this.destroy(scopeOf(region), keyId, nowMs);
      }
      return;
    }
    await this.changeSet(scopeOf(regions.primaryRegion), keyId, (set) => {
      let rest: ReadonlyMap<string, KmsKeyRecord> = set;
      for (const region of wiped) rest = withoutMember(rest, region, nowMs);
      return { records: rest, result: undefined };
    }).catch(unlessGone);
  }

  /** Forgets every cached record, or those whose storage key `matches` (reset wipes the store under it). */
  forgetCached(matches?: (recordKey: string) => boolean): void {
    // A read under way during the wipe must not cache what it saw.
    this.writes++;
    if (matches === undefined) {
      this.records.clear();
      return;
    }
    for (const name of [...this.records.keys()]) if (matches(name)) this.records.delete(name);
  }

  private async load(scope: Scope, keyId: string, nowMs: number): Promise<KmsKeyRecord | undefined> {
    const key = await this.cachedRecord(recordKey(scope, "kms", "kms-key", keyId));
    if (key === undefined) return undefined;
    if (deletionDue(key, nowMs)) return this.settle(scope, keyId, () => this.destroy(scope, keyId, nowMs));
    if (transitionDue(key, nowMs)) return this.settle(scope, keyId, () => this.endTransition(scope, keyId, nowMs));
    if (rotationDue(key, nowMs)) return this.settle(scope, keyId, () => rotateAutomatically(this.access, scope, keyId, nowMs));
    if (expiryDue(key, nowMs)) return this.settle(scope, keyId, () => expireMaterial(this.access, scope, keyId, nowMs));
    return key;
  }

  /** A Creating or Updating key whose time is up takes the state it was headed for. */
  private endTransition(scope: Scope, keyId: string, nowMs: number): Promise<KmsKeyRecord | undefined> {
    const key = recordKey(scope, "kms", "kms-key", keyId);
    return this.store.withLock(key, async () => {
      const current = await this.store.get<KmsKeyRecord>(key);
      if (current === undefined || !transitionDue(current, nowMs)) return current;
      const updated = settled(current);
      await this.write(key, [{ type: "put", key, value: updated }, ...scheduleChanges(scope, current, updated)]);
      return updated;
    });
  }

  private withLocks<R>(names: readonly string[], work: () => Promise<R>): Promise<R> {
    const [first, ...rest] = names;
    return first === undefined ? work() : this.store.withLock(first, () => this.withLocks(rest, work));
  }

  private settle(scope: Scope, keyId: string, work: () => Promise<KmsKeyRecord | undefined>): Promise<KmsKeyRecord | undefined> {
    const name = recordKey(scope, "kms", "kms-key", keyId);
    const running = this.settling.get(name);
    if (running !== undefined) return running;
    const settled = work().finally(() => this.settling.delete(name));
    this.settling.set(name, settled);
    return settled;
  }

  private insert(scope: Scope, record: KmsKeyRecord, also: readonly BatchOp[] = []): Promise<void> {
    const key = recordKey(scope, "kms", "kms-key", record.keyId);
    return this.write(key, [{ type: "put", key, value: record }, ...scheduleChanges(scope, undefined, record), ...also]);
  }

  /**
   * A record from the cache or the store. A read is cached only when no write began or ended while it was
   * under way, so a record read just before a write landed can never outlive that write's drop.
   */
  private async cachedRecord(name: string): Promise<KmsKeyRecord | undefined> {
    // A store other processes write too (PostgreSQL) can change a key under us at any moment: no copy is kept, so the
    // next request on any node reads what was last written (the read is one indexed row; the costly parts, compiled
    // policies and unwrapped backing keys, stay cached by content, which a change cannot make stale).
    if (this.store.shared) return this.store.get<KmsKeyRecord>(name);
    const cached = this.records.get(name);
    if (cached !== undefined) return cached;
    const writes = this.writes;
    const key = await this.store.get<KmsKeyRecord>(name);
    if (key !== undefined && writes === this.writes && this.writing === 0) this.records.set(name, key);
    return key;
  }

  private async write(name: string | readonly string[], ops: BatchOp[]): Promise<void> {
    // A multi-Region change writes the key's record in several regions: every one of them leaves the cache.
    const names = typeof name === "string" ? [name] : name;
    this.writes++;
    this.writing++;
    for (const written of names) this.records.delete(written);
    try {
      await this.store.batch(ops);
    } finally {
      this.writing--;
      this.writes++;
      for (const written of names) this.records.delete(written);
    }
  }
}
