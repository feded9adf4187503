// The Secrets Manager domain objects an operation reaches through its RequestContext, and their start and close.
import type { Logger } from "../../logger";
import { kindRange, secretVersionsPrefix } from "../../storage/keys";
import { StoreFault, type BatchOp, type Store } from "../../storage/store";
import { type Clock, systemClock } from "../clock";
import type { Scope } from "../scope";
import { deletionScheduleOps, entryScope, SecretDeletionSchedule, storedEntryKey, type DeletionEntry } from "./deletion-schedule";
import { markedForDeletion, nameScheduledForDeletion, secretExists, secretNotFound } from "./errors";
import { replicationIndexOps, type Replicas } from "./replication";
import { rotationScheduleOps } from "./rotation-schedule";
import type { Rotations } from "./rotation";
import { attemptsKey } from "./rotation-attempts";
import { SecretListing } from "./secret-listing";
import { secretIndexOps } from "./secret-index";
import { deletionDue, findSecret, secretKey, type SecretRecord } from "./secret";
import { versionKey, type SecretVersionRecord } from "./versions";

/** For writes a read makes on the side: a store refusing writes must not fail the read. */
const ignoreStoreFault = (error: unknown): void => {
  if (!(error instanceof StoreFault)) throw error;
};

const versionsRange = (scope: Scope, name: string) =>
  kindRange(scope, "secretsmanager", "secret-version", secretVersionsPrefix(name));

/**
 * The records derived from a secret record — ListSecrets' indexes, the deletion and rotation schedules, the index
 * of primaries with replicas — for the same batch as the record, so none of them can drift from it whoever writes it.
 */
const derivedOps = (scope: Scope, before: SecretRecord | undefined, after: SecretRecord | undefined): BatchOp[] => [
  ...secretIndexOps(scope, before, after),
  ...deletionScheduleOps(scope, before, after),
  ...rotationScheduleOps(scope, before, after),
  ...replicationIndexOps(scope, before, after),
];

/**
 * What Secrets.update's `change` answers: the secret record to store, and the version records written and removed
 * with it. The repository turns them into one storage batch; handlers never build storage operations.
 */
export interface Change {
  readonly secret: SecretRecord;
  readonly writeVersions?: readonly SecretVersionRecord[];
  readonly deleteVersions?: readonly string[];
}

/**
 * The secrets repository: every read and write of secret and version records goes through it. A secret whose
 * recovery window has ended is gone from the moment anything looks it up: the lookup purges it first.
 */
export class Secrets {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock = systemClock,
  ) {}

  /** By name, then full ARN, then partial ARN, as AWS resolves a SecretId. Scheduled secrets are found too. */
  async find(scope: Scope, secretId: string): Promise<SecretRecord | undefined> {
    const secret = await findSecret(this.store, scope, secretId);
    if (secret === undefined || !deletionDue(secret, this.clock.now().getTime())) return secret;
    // Gone either way: a purge that storage refuses (a full disk) is left to the deletion sweep.
    await this.purge(scope, secret.name, secret.arn).catch(ignoreStoreFault);
    return undefined;
  }

  /** The secret, which must exist and not be scheduled for deletion. */
  async requireLive(scope: Scope, secretId: string): Promise<SecretRecord> {
    const secret = await this.find(scope, secretId);
    if (secret === undefined) throw secretNotFound();
    if (secret.deletedAt !== undefined) throw markedForDeletion();
    return secret;
  }

  version(scope: Scope, secretName: string, versionId: string): Promise<SecretVersionRecord | undefined> {
    return this.store.get<SecretVersionRecord>(versionKey(scope, secretName, versionId));
  }

  /**
   * Stores a new secret and its first version in one batch, unless the name is taken meanwhile. A secret of
   * that name whose recovery window ended but that no sweep has purged yet goes in the same batch.
   *
   * `idempotent` (CreateSecret): when the live secret holding the name already has a version with the first
   * version's id, the call may be a retry of the one that created it, racing it or not; the secret and that
   * version, read under the name's lock and so after the other call's write, are returned for the caller to
   * compare values (a KMS call, which never runs under the lock) instead of refusing the name.
   */
  async create(
    scope: Scope,
    secret: SecretRecord,
    firstVersion: SecretVersionRecord | undefined,
    idempotent = false,
  ): Promise<{ readonly taken: SecretRecord; readonly version: SecretVersionRecord | undefined } | undefined> {
    const key = secretKey(scope, secret.name);
    let taken: { readonly taken: SecretRecord; readonly version: SecretVersionRecord | undefined } | undefined;
    const replaced = await this.store.withLock(key, async () => {
      const existing = await this.store.get<SecretRecord>(key);
      const ops: BatchOp[] = [];
      if (existing !== undefined) {
        if (!deletionDue(existing, this.clock.now().getTime())) {
          if (existing.deletedAt !== undefined) throw nameScheduledForDeletion();
          if (idempotent && firstVersion !== undefined && existing.versions[firstVersion.versionId] !== undefined) {
            taken = { taken: existing, version: await this.version(scope, existing.name, firstVersion.versionId) };
            return undefined;
          }
          throw secretExists(secret.name);
        }
        ops.push(...(await this.purgeOps(scope, existing)));
      }
      // Derived from nothing: whatever the purged secret had is already deleted in this batch.
      ops.push({ type: "put", key, value: secret }, ...derivedOps(scope, undefined, secret));
      if (firstVersion !== undefined) {
        ops.push({ type: "put", key: versionKey(scope, secret.name, firstVersion.versionId), value: firstVersion });
      }
      await this.store.batch(ops);
      return existing;
    });
    if (replaced !== undefined) await this.compact(scope, secret.name);
    return taken;
  }

  /**
   * Read-modify-write of one secret under its lock, with its derived records (derivedOps) in the same batch.
   * `change` gets the current record (throwing keeps it as it is) and returns the new one plus any other
   * operations to apply with it (versions written or removed). It must not call KMS or the token: the lock is
   * never held across slow work, so seal values before calling update. It may read the store (a version record,
   * which then reflects every write made before this one). AWS's LastChangedDate moves with "any"
   * change (DescribeSecret), so `change` sets lastChangedAt whenever it changes something.
   */
  async update(
    scope: Scope,
    name: string,
    change: (current: SecretRecord) => Change | Promise<Change>,
  ): Promise<SecretRecord> {
    const key = secretKey(scope, name);
    return this.store.withLock(key, async () => {
      const current = await this.store.get<SecretRecord>(key);
      // A secret past its recovery window is gone for every change, even before the sweep gets to it.
      if (current === undefined || deletionDue(current, this.clock.now().getTime())) throw secretNotFound();
      const { secret, writeVersions = [], deleteVersions = [] } = await change(current);
      if (secret === current && writeVersions.length === 0 && deleteVersions.length === 0) return current;
      await this.store.batch([
        { type: "put", key, value: secret },
        ...derivedOps(scope, current, secret),
        ...writeVersions.map((version): BatchOp => ({ type: "put", key: versionKey(scope, name, version.versionId), value: version })),
        ...deleteVersions.map((versionId): BatchOp => ({ type: "del", key: versionKey(scope, name, versionId) })),
      ]);
      return secret;
    });
  }

  /**
   * Records that a version was read on `day` (midnight UTC). AWS keeps LastAccessedDate to the day,
   * so this writes at most once per secret and version per day; every other read writes nothing.
   * Best-effort: while storage refuses writes (a full disk) the read still answers, and a later read records the day.
   */
  async recordAccess(scope: Scope, secret: SecretRecord, versionId: string, day: number): Promise<void> {
    if (secret.lastAccessedDay === day && secret.versions[versionId]?.lastAccessedDay === day) return;
    const key = secretKey(scope, secret.name);
    await this.store.withLock(key, async () => {
      const current = await this.store.get<SecretRecord>(key);
      const version = current?.versions[versionId];
      if (current === undefined || current.arn !== secret.arn || version === undefined) return;
      const updated: SecretRecord = {
        ...current,
        lastAccessedDay: day,
        versions: { ...current.versions, [versionId]: { ...version, lastAccessedDay: day } },
      };
      await this.store.batch([{ type: "put", key, value: updated }, ...derivedOps(scope, current, updated)]);
    }).catch(ignoreStoreFault);
  }

  /**
   * Removes a secret now: its record, every version and its derived records in one batch,
   * then compacts their ranges so the sealed values leave the data files, not only the index. `arn` guards
   * against purging a secret created under the same name since the caller looked. False if nothing matched.
   */
  async purge(scope: Scope, name: string, arn: string): Promise<boolean> {
    const key = secretKey(scope, name);
    const purged = await this.store.withLock(key, async () => {
      const current = await this.store.get<SecretRecord>(key);
      if (current === undefined || current.arn !== arn) return false;
      await this.store.batch(await this.purgeOps(scope, current));
      return true;
    });
    if (purged) await this.compact(scope, name);
    return purged;
  }

  /** Carries out one entry the deletion sweep found due; an entry its secret no longer backs is dropped. */
  async runScheduledDeletion(entry: DeletionEntry, nowMs: number): Promise<void> {
    const scope = entryScope(entry);
    const key = secretKey(scope, entry.name);
    const purged = await this.store.withLock(key, async () => {
      const current = await this.store.get<SecretRecord>(key);
      if (current === undefined || current.arn !== entry.arn || current.deletionDueAt !== entry.due || !deletionDue(current, nowMs)) {
        await this.store.batch([{ type: "del", key: storedEntryKey(entry) }]);
        return false;
      }
      await this.store.batch(await this.purgeOps(scope, current));
      return true;
    });
    if (purged) await this.compact(scope, entry.name);
  }

  /** One secret's versions are one key range (storage/keys.ts), so removing them reads no other secret. */
  private async purgeOps(scope: Scope, secret: SecretRecord): Promise<BatchOp[]> {
    // The rotation attempts go with it: their errors and version ids are the secret's history, not the name's.
    const ops: BatchOp[] = [{ type: "del", key: secretKey(scope, secret.name) }, { type: "del", key: attemptsKey(scope, secret.name) }, ...derivedOps(scope, secret, undefined)];
    for await (const [key] of this.store.range<SecretVersionRecord>(versionsRange(scope, secret.name))) ops.push({ type: "del", key });
    return ops;
  }

  private async compact(scope: Scope, name: string): Promise<void> {
    const key = secretKey(scope, name);
    const versions = versionsRange(scope, name);
    await this.store.compact(key, key + "\u0000");
    await this.store.compact(versions.gte, versions.lt);
  }
}

export interface SecretsDomain {
  readonly secrets: Secrets;
  readonly listing: SecretListing;
  /**
   * The rotation driver and the replicas: main.ts adds them once the KMS domain and the server's URL exist
   * (rotation functions call back into it). Domains built for unit-level specs have neither.
   */
  readonly rotations?: Rotations;
  readonly replicas?: Replicas;
  /** Stops the deletion schedule; the store closes after it. */
  close(): Promise<void>;
}

/** A domain without the deletion timer (due secrets are still purged when looked up). */
export const createSecretsDomain = (store: Store, clock: Clock = systemClock): SecretsDomain => ({
  secrets: new Secrets(store, clock),
  listing: new SecretListing(store),
  close: async () => undefined,
});

/** Builds the domain and purges whatever fell due while the server was down, before it answers a request. */
export async function startSecretsDomain(store: Store, clock: Clock, logger?: Logger): Promise<SecretsDomain> {
  const secrets = new Secrets(store, clock);
  const schedule = new SecretDeletionSchedule(store, secrets, clock, logger);
  try {
    await schedule.start();
  } catch (error) {
    await schedule.close();
    throw error;
  }
  return { secrets, listing: new SecretListing(store), close: () => schedule.close() };
}
