// KmsKey: the stored KMS key record, its ARN and metadata, how identifiers resolve to it, and its lifecycle.
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import type { KeyMetadata } from "@aws-sdk/client-kms";
import type { KeyStore, WrappedBackingKey } from "../../crypto/key-store";
import { kindRange, lockName, recordKey } from "../../storage/keys";
import type { BatchOp, Store, StoredValue } from "../../storage/store";
import { AwsError } from "../../errors";
import type { Clock } from "../clock";
import type { Scope } from "../scope";
import { awsManagedKeyDescription } from "./aws-managed";
import { defaultKeyPolicy } from "./key-policy";
import { aliasesNotSupported, aliasNotFound, invalidKeyId, keyNotFound, unsupportedOperation } from "./errors";
import { entryScope, scheduleChanges, storedEntryKey, type ScheduleEntry } from "./key-schedule";
import type { KeyUsage } from "./key-usage";

export type KeyState = "Enabled" | "Disabled" | "PendingDeletion" | "PendingImport" | "Unavailable" | "Creating";

export type RotationType = "AUTOMATIC" | "ON_DEMAND";

/** One generation of a key's backing key; rotation appends, Decrypt may use any. */
export interface BackingKeyRecord {
  /** KeyMaterialId: 64 hex characters, as AWS shows it. */
  readonly id: string;
  /** The backing key wrapped under the token's root key, base64. */
  readonly wrapped: string;
  /** When it was made: for a rotation's material, the RotationDate ListKeyRotations shows. */
  readonly createdAt: number;
  /** Absent for a key's first material, which no rotation made. */
  readonly rotationType?: RotationType;
}

/** Automatic rotation, present while it is enabled. */
export interface RotationSchedule {
  readonly periodDays: number;
  /** NextRotationDate in milliseconds. */
  readonly nextAt: number;
}

export interface KmsKeyRecord extends StoredValue {
  readonly v: 1;
  readonly keyId: string;
  readonly arn: string;
  readonly account: string;
  readonly createdAt: number;
  readonly description: string;
  readonly keyUsage: "ENCRYPT_DECRYPT";
  readonly keySpec: "SYMMETRIC_DEFAULT";
  readonly origin: "AWS_KMS" | "EXTERNAL";
  readonly keyManager: "CUSTOMER" | "AWS";
  readonly keyState: KeyState;
  readonly multiRegion: boolean;
  /** Set while the key is PendingDeletion: when it is destroyed. */
  readonly deletionDate: number | undefined;
  readonly policy: string;
  readonly tags: ReadonlyArray<{ readonly TagKey: string; readonly TagValue: string }>;
  /** Oldest first; the last one encrypts. */
  readonly backingKeys: readonly BackingKeyRecord[];
  /** Optional so records written before rotation existed still read as "rotation disabled". */
  readonly rotation?: RotationSchedule | undefined;
  /** Origin EXTERNAL only, set once material is imported (DescribeKey shows ExpirationModel then). */
  readonly expirationModel?: "KEY_MATERIAL_EXPIRES" | "KEY_MATERIAL_DOES_NOT_EXPIRE";
}

export interface KmsAliasRecord extends StoredValue {
  readonly v: 1;
  readonly aliasName: string;
  readonly targetKeyId: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export const DAY_MS = 86_400_000;

/** KMS rotates AWS managed keys every year (365 days since May 2022) and nobody can change that. */
export const AWS_MANAGED_ROTATION_DAYS = 365;

export const keyArn = (scope: Scope, keyId: string): string =>
  `arn:${scope.partition}:kms:${scope.region}:${scope.account}:key/${keyId}`;

export const aliasArn = (scope: Scope, aliasName: string): string =>
  `arn:${scope.partition}:kms:${scope.region}:${scope.account}:${aliasName}`;

/** A key id as AWS forms them: a UUID, or `mrk-` and 32 hex digits for a multi-Region key. */
export const KEY_ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const ARN = /^arn:([^:]+):kms:([^:]*):([^:]*):(.*)$/;


/**
 * Which identifier forms an operation takes: most take key id, key ARN, alias name and alias ARN;
 * the ones that manage one key (EnableKey, DisableKey, ScheduleKeyDeletion, EnableKeyRotation…) only the first two.
 */
export type KeyIdForms = "any" | "key";

export interface NewKmsKey {
  /** A fixed id (seed fixtures); a fresh UUID or `mrk-` id otherwise. The caller makes sure it is free. */
  readonly keyId?: string;
  readonly description?: string;
  readonly origin?: "AWS_KMS" | "EXTERNAL";
  readonly multiRegion?: boolean;
  readonly policy?: string;
  readonly tags?: ReadonlyArray<{ readonly TagKey: string; readonly TagValue: string }>;
  readonly keyManager?: "CUSTOMER" | "AWS";
}

/**
 * The two cheap checks every lookup makes on the record it already read. A key past its deletion date is
 * destroyed whatever the timer has done so far; an enabled key past its rotation date rotates before use.
 * KMS does not rotate disabled or pending-deletion keys; re-enabled, a key overdue rotates at once.
 */
export const deletionDue = (key: KmsKeyRecord, nowMs: number): boolean =>
  key.deletionDate !== undefined && key.deletionDate <= nowMs;

const rotationDue = (key: KmsKeyRecord, nowMs: number): boolean =>
  key.rotation !== undefined && key.rotation.nextAt <= nowMs && key.keyState === "Enabled";

/** The rotation a due automatic rotation leaves behind: on time keeps the cadence, a late one restarts it from now. */
function nextRotation(rotation: RotationSchedule, nowMs: number): RotationSchedule {
  const period = rotation.periodDays * DAY_MS;
  const onSchedule = rotation.nextAt + period;
  return { ...rotation, nextAt: onSchedule > nowMs ? onSchedule : nowMs + period };
}

function newKeyRecord(scope: Scope, now: Date, props: NewKmsKey, backingKeys: BackingKeyRecord[]): KmsKeyRecord {
  const keyId = props.keyId ?? (props.multiRegion ? "mrk-" + randomBytes(16).toString("hex") : randomUUID());
  const keyManager = props.keyManager ?? "CUSTOMER";
  return {
    v: 1,
    keyId,
    arn: keyArn(scope, keyId),
    account: scope.account,
    createdAt: now.getTime(),
    description: props.description ?? "",
    keyUsage: "ENCRYPT_DECRYPT",
    keySpec: "SYMMETRIC_DEFAULT",
    origin: props.origin ?? "AWS_KMS",
    keyManager,
    keyState: props.origin === "EXTERNAL" ? "PendingImport" : "Enabled",
    multiRegion: props.multiRegion ?? false,
    deletionDate: undefined,
    policy: props.policy ?? defaultKeyPolicy(scope),
    tags: props.tags ?? [],
    backingKeys,
    // "New AWS managed keys are automatically rotated one year after they are created" (EnableKeyRotation).
    rotation:
      keyManager === "AWS"
        ? { periodDays: AWS_MANAGED_ROTATION_DAYS, nextAt: now.getTime() + AWS_MANAGED_ROTATION_DAYS * DAY_MS }
        : undefined,
  };
}

const insertOps = (scope: Scope, record: KmsKeyRecord): BatchOp[] => [
  { type: "put", key: recordKey(scope, "kms", "kms-key", record.keyId), value: record },
  ...scheduleChanges(scope, undefined, record),
];

/**
 * A rotation's go-ahead, decided under the key's lock on the current record: throw to refuse (on demand),
 * return false when it is no longer wanted (an automatic rotation someone else already did).
 */
export type RotationCheck = (current: KmsKeyRecord) => boolean;

/** Enough for every key a busy test suite or local stack uses; a wider working set only reads the store more. */
const RECORD_CACHE_MAX = 10_000;

/**
 * The KmsKey repository: creation, lookup by any identifier form AWS accepts, changes under the key's lock,
 * rotation, and destruction. Every write of a key record goes through here, with its schedule entries in
 * the same batch (key-schedule.ts).
 */
export class KmsKeys {
  /** Automatic rotations and destructions under way, so a burst of lookups of a due key does the work once. */
  private readonly settling = new Map<string, Promise<KmsKeyRecord | undefined>>();
  /**
   * Key records as last read by lookups, so Encrypt, Decrypt, GenerateDataKey and Secrets Manager's data
   * keys skip the LevelDB read and JSON decode (a measured 6 µs a request). Every write of a key record goes
   * through this class and drops its entry once the batch has landed; reset calls forgetCached(). Changes
   * read the store itself under their lock. Bounded: past the limit it starts over.
   */
  private readonly records = new Map<string, KmsKeyRecord>();
  /** Key-record batches begun or ended so far, and those in flight: see cachedRecord. */
  private writes = 0;
  private writing = 0;

  constructor(
    private readonly store: Store,
    private readonly keyStore: KeyStore,
    private readonly usage: KeyUsage,
    private readonly clock: Clock,
  ) {}

  async create(scope: Scope, now: Date, props: NewKmsKey): Promise<KmsKeyRecord> {
    // The token call happens before any lock is taken: locks are never held across slow token work.
    const backingKeys = props.origin === "EXTERNAL" ? [] : [await this.newBackingKey(now.getTime(), undefined)];
    const record = newKeyRecord(scope, now, props, backingKeys);
    await this.write(recordKey(scope, "kms", "kms-key", record.keyId), insertOps(scope, record));
    return record;
  }

  /** A key by id, or undefined when there is none (or its deletion date has passed: it is destroyed now). */
  get(scope: Scope, keyId: string): Promise<KmsKeyRecord | undefined> {
    return this.load(scope, keyId, this.clock.now().getTime());
  }

  /**
   * Resolves a key id, key ARN, alias name or alias ARN in this account and region. An ARN of another
   * region or account is "not found", as in AWS. The predefined `alias/aws/*` aliases create their
   * AWS managed key on first use.
   */
  async resolve(scope: Scope, identifier: string, now: Date, forms: KeyIdForms = "any"): Promise<KmsKeyRecord> {
    const nowMs = now.getTime();
    let resource = identifier;
    const arn = ARN.exec(identifier);
    if (arn) {
      const [, partition, region, account, rest = ""] = arn;
      const sameScope = partition === scope.partition && region === scope.region && account === scope.account;
      if (rest.startsWith("alias/")) {
        if (forms === "key") throw aliasesNotSupported();
        if (!sameScope) throw aliasNotFound(identifier);
        resource = rest;
      } else if (rest.startsWith("key/")) {
        const keyId = rest.slice(4);
        if (!sameScope || !KEY_ID.test(keyId)) throw keyNotFound(identifier);
        return this.requireKey(scope, keyId, nowMs);
      } else {
        throw invalidKeyId(identifier);
      }
    }
    if (resource.startsWith("alias/")) {
      if (forms === "key") throw aliasesNotSupported();
      return this.resolveAlias(scope, resource, now);
    }
    if (!KEY_ID.test(resource)) throw invalidKeyId(identifier);
    return this.requireKey(scope, resource, nowMs);
  }

  private async requireKey(scope: Scope, keyId: string, nowMs: number): Promise<KmsKeyRecord> {
    const key = await this.load(scope, keyId, nowMs);
    if (key === undefined) throw keyNotFound(keyArn(scope, keyId));
    return key;
  }

  /** The one read of a key record: what is due on it happens before anyone sees it. */
  private async load(scope: Scope, keyId: string, nowMs: number): Promise<KmsKeyRecord | undefined> {
    const key = await this.cachedRecord(recordKey(scope, "kms", "kms-key", keyId));
    if (key === undefined) return undefined;
    if (deletionDue(key, nowMs)) return this.settle(scope, keyId, () => this.destroy(scope, keyId, nowMs));
    if (rotationDue(key, nowMs)) return this.settle(scope, keyId, () => this.rotateAutomatically(scope, keyId, nowMs));
    return key;
  }

  private settle(scope: Scope, keyId: string, work: () => Promise<KmsKeyRecord | undefined>): Promise<KmsKeyRecord | undefined> {
    const name = recordKey(scope, "kms", "kms-key", keyId);
    const running = this.settling.get(name);
    if (running !== undefined) return running;
    const settled = work().finally(() => this.settling.delete(name));
    this.settling.set(name, settled);
    return settled;
  }

  private async resolveAlias(scope: Scope, aliasName: string, now: Date): Promise<KmsKeyRecord> {
    const alias = await this.store.get<KmsAliasRecord>(recordKey(scope, "kms", "kms-alias", aliasName));
    if (alias !== undefined) {
      const key = await this.load(scope, alias.targetKeyId, now.getTime());
      if (key !== undefined) return key;
    }
    const description = awsManagedKeyDescription(aliasName);
    if (description === undefined) throw aliasNotFound(aliasArn(scope, aliasName));
    return this.createAwsManagedKey(scope, aliasName, description, now);
  }

  /**
   * Two first uses at once must not make two keys: the alias is checked again under its lock. The material is
   * made before the lock, and the winner is loaded after it, so no token work happens under the lock; a first
   * use that loses the race only drops material that never left this call.
   */
  private async createAwsManagedKey(scope: Scope, aliasName: string, description: string, now: Date): Promise<KmsKeyRecord> {
    const backingKey = await this.newBackingKey(now.getTime(), undefined);
    const aliasKey = recordKey(scope, "kms", "kms-alias", aliasName);
    const winner = await this.store.withLock(lockName(scope, "kms", "kms-alias", aliasName), async () => {
      const existing = await this.store.get<KmsAliasRecord>(aliasKey);
      if (existing !== undefined && (await this.store.get(recordKey(scope, "kms", "kms-key", existing.targetKeyId))) !== undefined) {
        return existing.targetKeyId;
      }
      const record = newKeyRecord(scope, now, { description, keyManager: "AWS" }, [backingKey]);
      const alias: KmsAliasRecord = { v: 1, aliasName, targetKeyId: record.keyId, createdAt: record.createdAt, updatedAt: record.createdAt };
      await this.write(recordKey(scope, "kms", "kms-key", record.keyId), [...insertOps(scope, record), { type: "put", key: aliasKey, value: alias }]);
      return record;
    });
    if (typeof winner !== "string") return winner;
    const key = await this.load(scope, winner, now.getTime());
    if (key === undefined) throw aliasNotFound(aliasArn(scope, aliasName));
    return key;
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

  /** The scope's keys in key id order, starting after `afterKeyId`; keys past their deletion date are left out. */
  async *list(scope: Scope, nowMs: number, afterKeyId?: string): AsyncIterable<KmsKeyRecord> {
    const range = kindRange(scope, "kms", "kms-key");
    const gte = afterKeyId === undefined ? range.gte : recordKey(scope, "kms", "kms-key", afterKeyId) + "\u0000";
    for await (const [, key] of this.store.range<KmsKeyRecord>({ gte, lt: range.lt })) {
      if (!deletionDue(key, nowMs)) yield key;
    }
  }

  /**
   * Appends a new backing key. It is generated in the token first, with no lock held; then, under the lock,
   * `check` decides on the current record whether the rotation still goes ahead. A rotation that loses the
   * race leaves nothing behind: the material existed only wrapped, in this call.
   */
  async rotate(scope: Scope, keyId: string, nowMs: number, type: RotationType, check: RotationCheck): Promise<KmsKeyRecord | undefined> {
    const backingKey = await this.newBackingKey(nowMs, type);
    const key = recordKey(scope, "kms", "kms-key", keyId);
    return this.store.withLock(key, async () => {
      const current = await this.store.get<KmsKeyRecord>(key);
      if (current === undefined || deletionDue(current, nowMs)) return undefined;
      if (!check(current)) return current;
      // "On-demand rotations do not change existing automatic rotation schedules" (RotateKeyOnDemand).
      const rotation = type === "AUTOMATIC" && current.rotation !== undefined ? nextRotation(current.rotation, nowMs) : current.rotation;
      const updated: KmsKeyRecord = { ...current, backingKeys: [...current.backingKeys, backingKey], rotation };
      await this.write(key, [{ type: "put", key, value: updated }, ...scheduleChanges(scope, current, updated)]);
      return updated;
    });
  }

  private rotateAutomatically(scope: Scope, keyId: string, nowMs: number): Promise<KmsKeyRecord | undefined> {
    return this.rotate(scope, keyId, nowMs, "AUTOMATIC", (current) => rotationDue(current, nowMs));
  }

  /**
   * Destroys a key whose deletion date has passed: the record (and with it every wrapped backing key), its
   * usage record, its schedule entries and every alias that points at it go in one batch ("KMS deletes the
   * KMS key, its key material, and all KMS data associated with it, including all aliases that refer to
   * it": ScheduleKeyDeletion). Then the token forgets its unwrapped copies and the key's range is compacted
   * so the wrapped material leaves the data files, not only the index. Always resolves to undefined.
   */
  async destroy(scope: Scope, keyId: string, nowMs: number): Promise<undefined> {
    const key = recordKey(scope, "kms", "kms-key", keyId);
    const destroyed = await this.store.withLock(key, async () => {
      const current = await this.store.get<KmsKeyRecord>(key);
      if (current === undefined || !deletionDue(current, nowMs)) return undefined;
      const ops: BatchOp[] = [{ type: "del", key }, this.usage.forget(scope, keyId), ...scheduleChanges(scope, current, undefined)];
      // Aliases are few per scope and destruction is rare: a scan beats keeping a reverse index in step.
      for await (const [aliasKey, alias] of this.store.range<KmsAliasRecord>(kindRange(scope, "kms", "kms-alias"))) {
        if (alias.targetKeyId === keyId) ops.push({ type: "del", key: aliasKey });
      }
      await this.write(key, ops);
      return current;
    });
    if (destroyed === undefined) return undefined;
    for (const backingKey of destroyed.backingKeys) this.keyStore.forget(backingKeyOf(destroyed, backingKey).id);
    await this.store.compact(key, key + "\uffff");
    return undefined;
  }

  /** Carries out one schedule entry the sweep found due; an entry its record no longer backs is removed. */
  async runScheduled(entry: ScheduleEntry, nowMs: number): Promise<void> {
    const scope = entryScope(entry);
    const key = await this.store.get<KmsKeyRecord>(recordKey(scope, "kms", "kms-key", entry.keyId));
    const backed = entry.kind === "destroy" ? key?.deletionDate === entry.due : key?.rotation?.nextAt === entry.due;
    if (!backed) {
      await this.store.batch([{ type: "del", key: storedEntryKey(entry) }]);
      return;
    }
    // A due rotation of a disabled or pending-deletion key waits in the schedule until the key is enabled.
    await this.load(scope, entry.keyId, nowMs);
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

  /**
   * Imports 32 bytes of key material into an Origin EXTERNAL key, the core ImportKeyMaterial will share (seed
   * fixtures use it now): the key store wraps the material under the root key, the record keeps only that, and a
   * PendingImport key becomes Enabled. The KeyMaterialId depends on the key id and the material alone, so a
   * ciphertext made anywhere with the same id and material opens here. Importing the same material again changes
   * nothing; other material is refused, as AWS refuses it for a key that already had material.
   */
  async importMaterial(scope: Scope, keyId: string, material: Uint8Array, now: Date): Promise<KmsKeyRecord> {
    if (this.keyStore.importBackingKey === undefined) throw unsupportedOperation("This key store cannot import key material.");
    const materialId = importedKeyMaterialId(keyId, material);
    const present = await this.get(scope, keyId);
    if (present !== undefined && present.backingKeys.some((backingKey) => backingKey.id === materialId)) return present;
    // The token call happens before the lock, as for every backing key.
    const wrapped = Buffer.from(await this.keyStore.importBackingKey(material)).toString("base64");
    return this.update(scope, keyId, (current) => {
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
   * A record from the cache or the store. A read is cached only when no write began or ended while it was
   * under way, so a record read just before a write landed can never outlive that write's drop.
   */
  private async cachedRecord(name: string): Promise<KmsKeyRecord | undefined> {
    const cached = this.records.get(name);
    if (cached !== undefined) return cached;
    const writes = this.writes;
    const key = await this.store.get<KmsKeyRecord>(name);
    if (key !== undefined && writes === this.writes && this.writing === 0) {
      if (this.records.size >= RECORD_CACHE_MAX) this.records.clear();
      this.records.set(name, key);
    }
    return key;
  }

  /** Every batch that writes a key record: its cached copy goes before and after, failed or not. */
  private async write(name: string, ops: BatchOp[]): Promise<void> {
    this.writes++;
    this.writing++;
    this.records.delete(name);
    try {
      await this.store.batch(ops);
    } finally {
      this.writing--;
      this.writes++;
      this.records.delete(name);
    }
  }

  private async newBackingKey(nowMs: number, rotationType: RotationType | undefined): Promise<BackingKeyRecord> {
    const wrapped = await this.keyStore.createBackingKey();
    return {
      id: randomBytes(32).toString("hex"),
      wrapped: Buffer.from(wrapped).toString("base64"),
      createdAt: nowMs,
      ...(rotationType === undefined ? {} : { rotationType }),
    };
  }
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
 * The key store's view of one backing key, made once per record read: the key store compares the wrapped
 * bytes on every call (its handle cache must not trust the id alone), so they are decoded once, not per
 * request. A backing key record belongs to one KMS key, so it alone keys the map.
 */
const wrappedBackingKeys = new WeakMap<BackingKeyRecord, WrappedBackingKey>();

export function backingKeyOf(key: KmsKeyRecord, backingKey: BackingKeyRecord): WrappedBackingKey {
  let wrapped = wrappedBackingKeys.get(backingKey);
  if (wrapped === undefined) {
    wrapped = { id: key.keyId + "/" + backingKey.id, wrapped: Buffer.from(backingKey.wrapped, "base64") };
    wrappedBackingKeys.set(backingKey, wrapped);
  }
  return wrapped;
}

export function keyMetadata(key: KmsKeyRecord): KeyMetadata {
  const current = key.backingKeys[key.backingKeys.length - 1];
  return {
    AWSAccountId: key.account,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: new Date(key.createdAt),
    Enabled: key.keyState === "Enabled",
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: key.keyState,
    // PendingDeletionWindowInDays is only for multi-Region primaries in PendingReplicaDeletion; secretslite
    // has no replicas, so a scheduled key always shows its DeletionDate instead.
    DeletionDate: key.deletionDate === undefined ? undefined : new Date(key.deletionDate),
    Origin: key.origin,
    // "Present only when Origin is EXTERNAL"; nothing to say before material is imported.
    ExpirationModel: key.origin === "EXTERNAL" ? key.expirationModel : undefined,
    KeyManager: key.keyManager,
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
    MultiRegion: key.multiRegion,
    // A multi-Region key names itself as the primary; replicas come with replication.
    MultiRegionConfiguration: key.multiRegion
      ? { MultiRegionKeyType: "PRIMARY", PrimaryKey: { Arn: key.arn, Region: key.arn.split(":")[3] }, ReplicaKeys: [] }
      : undefined,
    CurrentKeyMaterialId: current?.id,
  };
}
