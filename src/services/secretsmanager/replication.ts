// Replication: replica secrets in other regions of the same account, re-sealed there, and a sweep that keeps them in step with their primary.
import { AwsError } from "../../errors";
import type { Logger } from "../../logger";
import { GLOBAL, kindRange, recordKey } from "../../storage/keys";
import type { BatchOp, Store, StoredValue } from "../../storage/store";
import { type Scope, partitionOf } from "../scope";
import type { Clock } from "../clock";
import type { SecretsRequestContext } from "./context";
import { Sweeper } from "../sweeper";
import type { Secrets } from "./domain";
import { REPLICA_IN_SYNC, replicaKmsFailure, replicaNameTaken } from "./errors";
import { AWSCURRENT, type ReplicaRecord, type SecretRecord, type VersionSummary } from "./secret";
import { openVersion, sealVersion, storedKmsKeyId, type SecretValue, type SecretVersionRecord } from "./versions";

/** How often primaries are compared with their replicas: AWS replicates asynchronously, within seconds. */
const SWEEP_INTERVAL_MS = 1000;

export interface ReplicaRegion {
  readonly Region?: string;
  readonly KmsKeyId?: string;
}

/** A replica's ARN: the primary's, suffix included, with the replica's region ("MySecret-a1b2c3" in both). */
export const replicaArn = (primaryArn: string, region: string): string => {
  const parts = primaryArn.split(":");
  parts[3] = region;
  return parts.join(":");
};

/** The region a secret lives in, from its ARN. */
export const regionOf = (secret: SecretRecord): string => secret.arn.split(":")[3] ?? "";

/** A secret that copies a primary in another region; a primary shows its own region as PrimaryRegion. */
export const copiesAPrimary = (secret: SecretRecord): boolean =>
  secret.primaryRegion !== undefined && secret.primaryRegion !== regionOf(secret);

const regionScope = (account: string, region: string): Scope => ({ account, region, partition: partitionOf(region) });

const isOurReplica = (secret: SecretRecord | undefined, primary: SecretRecord, region: string): boolean =>
  secret !== undefined && secret.arn === replicaArn(primary.arn, region) && secret.primaryRegion === regionOf(primary);

// --- The index of primaries --------------------------------------------------------------------------------------

interface ReplicationEntry extends StoredValue {
  readonly v: 1;
  readonly account: string;
  readonly region: string;
  readonly name: string;
  readonly arn: string;
}

const entryKey = (scope: Scope, name: string): string =>
  recordKey(GLOBAL, "secretsmanager", "secret-replication", `${scope.account}:${scope.region}:${name}`);
const ENTRIES = kindRange(GLOBAL, "secretsmanager", "secret-replication");

const hasReplicas = (secret: SecretRecord | undefined): secret is SecretRecord =>
  secret !== undefined && secret.replicas.length > 0 && !copiesAPrimary(secret);

/**
 * The index entry that goes with replacing `before` by `after`: one entry per primary that has replicas, derived from
 * the record alone. The repository writes it in every batch that writes a secret (domain.ts derivedOps).
 */
export function replicationIndexOps(scope: Scope, before: SecretRecord | undefined, after: SecretRecord | undefined): BatchOp[] {
  const was = hasReplicas(before);
  const is = hasReplicas(after);
  if (was === is && before?.arn === after?.arn) return [];
  const ops: BatchOp[] = [];
  if (was && before !== undefined) ops.push({ type: "del", key: entryKey(scope, before.name) });
  if (is && after !== undefined) {
    const entry: ReplicationEntry = { v: 1, account: scope.account, region: scope.region, name: after.name, arn: after.arn };
    ops.push({ type: "put", key: entryKey(scope, after.name), value: entry });
  }
  return ops;
}

// --- Replicas ----------------------------------------------------------------------------------------------------

export interface ReplicasOptions {
  readonly store: Store;
  readonly secrets: Secrets;
  readonly clock: Clock;
  readonly logger: Logger | undefined;
  /** A context acting in `scope`, built like a request's, for the sweep's KMS calls. */
  readonly contextFor: (scope: Scope) => SecretsRequestContext;
}

type Outcome = Pick<ReplicaRecord, "status" | "statusMessage">;

const IN_SYNC: Outcome = { status: "InSync", statusMessage: REPLICA_IN_SYNC };

/**
 * Replica secrets: the primary's name, ARN suffix, metadata and versions in another region, each value opened in
 * the primary's region and sealed again in the replica's through that region's KMS (its aws/secretsmanager key unless
 * a KmsKeyId was given). Every record is written through the Secrets repository.
 *
 * Later changes to the primary reach its replicas through the sweep, not from each write operation: AWS replicates
 * asynchronously too, every operation that changes a primary (its own, the tag and policy ones, rotation) is covered
 * without each having to remember, and a replica whose KMS key refused is retried until it copies. The cost is up to
 * a second before a replica shows a change; ReplicateSecretToRegions itself writes before it answers.
 */
export class Replicas {
  private readonly sweeper: Sweeper;

  constructor(private readonly options: ReplicasOptions) {
    this.sweeper = new Sweeper(() => this.reconcileAll(), SWEEP_INTERVAL_MS, (error) =>
      this.options.logger?.error("replication sweep failed", { cause: error }),
      () => this.options.store.leads(),
    );
  }

  private get closed(): boolean {
    return this.sweeper.closed;
  }

  start(): Promise<void> {
    return this.sweeper.start();
  }

  sweep(): Promise<void> {
    return this.sweeper.run();
  }

  close(): Promise<void> {
    return this.sweeper.close();
  }

  /**
   * ReplicateSecretToRegions: records each replica on the primary as InProgress, as AWS answers, and starts a sweep
   * that writes them (InSync), or finds why it cannot (Failed: a region holding another secret of that name, unless
   * `overwrite`; a KMS key that refuses). A region already replicated is copied again (the console's "Retry
   * replication" calls this operation for a Failed replica).
   */
  async add(ctx: SecretsRequestContext, primary: SecretRecord, regions: readonly ReplicaRegion[], overwrite: boolean): Promise<SecretRecord> {
    const added: ReplicaRecord[] = [];
    for (const { Region: region = "", KmsKeyId: kmsKeyId } of regions) {
      if (added.some((replica) => replica.region === region)) continue;
      added.push({ region, kmsKeyId: kmsKeyId || undefined, status: "InProgress", statusMessage: undefined, lastAccessedDay: undefined, forceOverwrite: overwrite });
    }
    const nowMs = ctx.now.getTime();
    const updated = await this.options.secrets.update(ctx.scope, primary.name, (current) => {
      if (current.arn !== primary.arn) return { secret: current };
      const replicas = [...current.replicas.filter((r) => !added.some((a) => a.region === r.region)), ...added];
      // AWS shows a replicated primary's own region as its PrimaryRegion.
      return { secret: { ...current, replicas, primaryRegion: ctx.scope.region, lastChangedAt: nowMs } };
    });
    // Not awaited: the caller has its answer now, and the replicas follow within moments, as on AWS.
    this.sweeper.run().catch((error: unknown) => this.options.logger?.error("replication sweep failed", { cause: error }));
    return updated;
  }

  /** RemoveRegionsFromReplication: deletes those replicas at once; regions not replicated are passed over, as moto's AWS-style tests expect. */
  async remove(ctx: SecretsRequestContext, primary: SecretRecord, regions: readonly string[]): Promise<SecretRecord> {
    for (const region of new Set(regions)) {
      if (!primary.replicas.some((replica) => replica.region === region)) continue;
      const scope = regionScope(ctx.scope.account, region);
      const replica = await this.options.secrets.find(scope, primary.name);
      if (replica !== undefined && isOurReplica(replica, primary, region)) await this.options.secrets.purge(scope, replica.name, replica.arn);
    }
    return this.options.secrets.update(ctx.scope, primary.name, (current) => ({
      secret: current.arn !== primary.arn ? current : withoutReplicas(current, regions, ctx.now.getTime()),
    }));
  }

  /**
   * StopReplicationToReplica, called in the replica's region: the replica becomes a standalone secret and its primary
   * forgets it. Its rotation stays off until RotateSecret turns it on there (AWS suggests promoting a replica "if you
   * want to turn on rotation for the replica").
   */
  async promote(ctx: SecretsRequestContext, replica: SecretRecord): Promise<SecretRecord> {
    const nowMs = ctx.now.getTime();
    const primaryScope = regionScope(ctx.scope.account, replica.primaryRegion ?? "");
    const promoted = await this.options.secrets.update(ctx.scope, replica.name, (current) => {
      if (current.arn !== replica.arn) return { secret: current };
      const rotation = current.rotation === undefined ? undefined : { ...current.rotation, enabled: false };
      return { secret: { ...current, primaryRegion: undefined, rotation, lastChangedAt: nowMs } };
    });
    const primary = await this.options.secrets.find(primaryScope, replica.name);
    if (primary !== undefined && replicaArn(primary.arn, ctx.scope.region) === replica.arn) {
      await this.options.secrets.update(primaryScope, primary.name, (current) => ({
        secret: current.arn !== primary.arn ? current : withoutReplicas(current, [ctx.scope.region], nowMs),
      }));
    }
    return promoted;
  }

  private async reconcileAll(): Promise<void> {
    const entries: Array<[string, ReplicationEntry]> = [];
    for await (const entry of this.options.store.range<ReplicationEntry>(ENTRIES)) entries.push(entry);
    for (const [key, entry] of entries) {
      if (this.closed) return;
      const scope = regionScope(entry.account, entry.region);
      const primary = await this.options.secrets.find(scope, entry.name);
      if (!hasReplicas(primary) || primary.arn !== entry.arn) {
        await this.options.store.batch([{ type: "del", key }]);
        continue;
      }
      try {
        await this.reconcile(scope, primary);
      } catch (error) {
        this.options.logger?.error("replicating a secret failed", { secret: primary.arn, cause: error });
      }
    }
  }

  /**
   * Brings each replica of one primary in line with it: InProgress ones (CreateSecret's AddReplicaRegions) are
   * written, written ones copy whatever changed, and each replica's LastAccessedDate is carried back to the primary's
   * ReplicationStatus. Failed ones that were never written wait for ReplicateSecretToRegions.
   */
  private async reconcile(scope: Scope, primary: SecretRecord): Promise<void> {
    const ctx = this.options.contextFor(scope);
    const values = valueReader(ctx, primary);
    const changed = new Map<string, ReplicaRecord>();
    try {
      for (const replica of primary.replicas) {
        const replicaScope = regionScope(scope.account, replica.region);
        let next = replica;
        if (replica.status === "InProgress") {
          const outcome = await this.copy(ctx, primary, replica.region, storedKmsKeyId(replica.kmsKeyId), values, replica.forceOverwrite === true);
          next = { ...next, ...outcome };
        } else {
          const current = await this.options.secrets.find(replicaScope, primary.name);
          if (current === undefined || !isOurReplica(current, primary, replica.region)) continue;
          const missingValues = Object.entries(primary.versions).some(
            ([id, summary]) => summary.kmsKeyArns.length > 0 && (current.versions[id]?.kmsKeyArns.length ?? 0) === 0,
          );
          if (missingValues || !sameRecord(current, replicaRecord(primary, current.arn, current.kmsKeyId, current, new Map(), current.lastChangedAt))) {
            next = { ...next, ...(await this.copy(ctx, primary, replica.region, current.kmsKeyId, values, false)) };
          }
          next = { ...next, lastAccessedDay: current.lastAccessedDay };
        }
        if (next.status !== replica.status || next.statusMessage !== replica.statusMessage || next.lastAccessedDay !== replica.lastAccessedDay) {
          changed.set(replica.region, next);
        }
      }
    } finally {
      values.forget();
    }
    if (changed.size === 0) return;
    await this.options.secrets.update(scope, primary.name, (current) => {
      if (current.arn !== primary.arn) return { secret: current };
      return { secret: { ...current, replicas: current.replicas.map((replica) => changed.get(replica.region) ?? replica) } };
    });
  }

  /**
   * Writes the replica of `primary` in `region`, creating it (after purging another secret of that name when
   * `overwrite`) or bringing an existing one up to date. Versions the replica already holds keep their sealed values
   * (a version's value never changes); the others are sealed before any lock is taken, as the repository requires.
   */
  private async copy(
    ctx: SecretsRequestContext,
    primary: SecretRecord,
    region: string,
    kmsKeyId: string | undefined,
    values: ValueReader,
    overwrite: boolean,
  ): Promise<Outcome> {
    const { secrets } = this.options;
    const scope = regionScope(ctx.scope.account, region);
    let existing = await secrets.find(scope, primary.name);
    if (existing !== undefined && !isOurReplica(existing, primary, region)) {
      if (!overwrite) return { status: "Failed", statusMessage: replicaNameTaken(primary.name, region) };
      await secrets.purge(scope, existing.name, existing.arn);
      existing = undefined;
    }
    const arn = replicaArn(primary.arn, region);
    const replicaCtx: SecretsRequestContext = { ...ctx, scope };
    const sealed = new Map<string, Sealed>();
    try {
      for (const [versionId, summary] of Object.entries(primary.versions)) {
        if (summary.kmsKeyArns.length === 0 || (existing?.versions[versionId]?.kmsKeyArns.length ?? 0) > 0) continue;
        const value = await values.read(versionId);
        if (value !== undefined) sealed.set(versionId, await sealVersion(replicaCtx, arn, versionId, kmsKeyId, value));
      }
    } catch (error) {
      if (error instanceof AwsError) return { status: "Failed", statusMessage: replicaKmsFailure(error) };
      throw error;
    }
    const nowMs = ctx.now.getTime();
    const versionPuts = (only?: string): SecretVersionRecord[] => [...sealed].filter(([id]) => id !== only).map(([, { record }]) => record);
    try {
      if (existing === undefined) {
        // create() takes one version: the replica appears with its current version, and the rest follow at once.
        const full = replicaRecord(primary, arn, kmsKeyId, undefined, sealed, nowMs);
        const firstId = Object.keys(full.versions).find((id) => full.versions[id]?.stages.includes(AWSCURRENT) && sealed.has(id));
        const firstVersions = firstId === undefined ? {} : { [firstId]: full.versions[firstId] as VersionSummary };
        await secrets.create(scope, { ...full, versions: firstVersions }, firstId === undefined ? undefined : sealed.get(firstId)?.record);
        await secrets.update(scope, primary.name, (current) =>
          current.arn !== arn ? { secret: current } : { secret: full, writeVersions: versionPuts(firstId) },
        );
        return IN_SYNC;
      }
      let outcome: Outcome = IN_SYNC;
      await secrets.update(scope, primary.name, (current) => {
        // Removed, promoted or replaced since it was read: a replica is only written back while it is still ours.
        if (!isOurReplica(current, primary, region)) {
          outcome = { status: "Failed", statusMessage: replicaNameTaken(primary.name, region) };
          return { secret: current };
        }
        const next = replicaRecord(primary, arn, kmsKeyId, current, sealed, nowMs);
        const gone = Object.keys(current.versions).filter((id) => next.versions[id] === undefined);
        return { secret: next, writeVersions: versionPuts(), deleteVersions: gone };
      });
      return outcome;
    } catch (error) {
      // Another secret took the name between the look and the write.
      if (error instanceof AwsError && existing === undefined) return { status: "Failed", statusMessage: replicaNameTaken(primary.name, region) };
      throw error;
    }
  }
}

interface Sealed {
  readonly record: SecretVersionRecord;
  readonly kmsKeyArn: string;
  readonly kmsKeyListedId: string;
}

/** The primary without the replicas in `regions`; once it has none left it is an ordinary secret again. */
function withoutReplicas(primary: SecretRecord, regions: readonly string[], nowMs: number): SecretRecord {
  const replicas = primary.replicas.filter((replica) => !regions.includes(replica.region));
  if (replicas.length === primary.replicas.length) return primary;
  return { ...primary, replicas, primaryRegion: replicas.length === 0 ? undefined : primary.primaryRegion, lastChangedAt: nowMs };
}

/**
 * The replica as it should be: the primary's metadata, labels and rotation settings (DescribeSecret in the replica's
 * region shows them; the replica never rotates itself), its own key, dates of creation and access, and sealed values.
 */
function replicaRecord(
  primary: SecretRecord,
  arn: string,
  kmsKeyId: string | undefined,
  before: SecretRecord | undefined,
  sealed: ReadonlyMap<string, Sealed>,
  nowMs: number,
): SecretRecord {
  const versions: Record<string, VersionSummary> = {};
  for (const [versionId, summary] of Object.entries(primary.versions)) {
    const mine = before?.versions[versionId];
    const fresh = sealed.get(versionId);
    const keys = fresh !== undefined ? { kmsKeyArns: [fresh.kmsKeyArn], kmsKeyIds: [fresh.kmsKeyListedId] } : { kmsKeyArns: mine?.kmsKeyArns ?? [], kmsKeyIds: mine?.kmsKeyIds };
    versions[versionId] = { stages: summary.stages, createdAt: summary.createdAt, lastAccessedDay: mine?.lastAccessedDay, ...keys };
  }
  return {
    v: 1,
    name: primary.name,
    arn,
    description: primary.description,
    kmsKeyId,
    type: primary.type,
    createdAt: before?.createdAt ?? nowMs,
    lastChangedAt: nowMs,
    lastAccessedDay: before?.lastAccessedDay,
    deletedAt: undefined,
    deletionDueAt: undefined,
    tags: primary.tags,
    ...(primary.tagsCleared ? { tagsCleared: true as const } : {}),
    versions,
    rotation: primary.rotation,
    resourcePolicy: primary.resourcePolicy,
    owningService: primary.owningService,
    primaryRegion: regionOf(primary),
    replicas: [],
  };
}

/** Deep equality of stored JSON values, where an absent member and an undefined one are the same. */
function sameRecord(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    if (!sameRecord((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

interface ValueReader {
  read(versionId: string): Promise<SecretValue | undefined>;
  /** Zeroes the binary values read (strings cannot be). */
  forget(): void;
}

/** Opens the primary's versions in its own region on first need, once each, for every replica written in one go. */
function valueReader(ctx: SecretsRequestContext, primary: SecretRecord): ValueReader {
  const opened = new Map<string, Promise<SecretValue | undefined>>();
  return {
    read: (versionId) => {
      let value = opened.get(versionId);
      if (value === undefined) {
        value = ctx.secrets.secrets
          .version(ctx.scope, primary.name, versionId)
          .then((record) => (record === undefined ? undefined : openVersion(ctx, primary.arn, record)));
        opened.set(versionId, value);
      }
      return value;
    },
    forget: () => {
      for (const value of opened.values()) {
        value.then((v) => v?.type === "binary" && v.value.fill(0)).catch(() => undefined);
      }
    },
  };
}
