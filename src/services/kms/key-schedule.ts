// The KMS schedule: due key destructions, automatic rotations, imported-material expiries and ends of transient states in one GLOBAL range, swept at start, on a timer and on lookup.
import type { Logger } from "../../logger";
import { GLOBAL, kindRange, recordKey, type Partition } from "../../storage/keys";
import type { BatchOp, Store, StoredValue } from "../../storage/store";
import { type Scope, partitionOf } from "../scope";
import type { Clock } from "../clock";
import { forEachDue, padDue, Sweeper } from "../sweeper";
import { nextExpiry } from "./key-material";
import type { KmsKeyRecord } from "./key-record";
import type { KmsKeys } from "./key-repository";
import { isReplica } from "./multi-region";

export type ScheduledKind = "destroy" | "rotate" | "expire" | "settle";

export interface ScheduleEntry extends StoredValue {
  readonly v: 1;
  readonly kind: ScheduledKind;
  readonly account: string;
  readonly region: string;
  readonly keyId: string;
  readonly due: number;
}

/**
 * Entry ids start with the due time in milliseconds, zero-padded to a fixed width, so the store's key order
 * is due order and "everything due by now" is one range scan that ends at the first entry still to come.
 */
const entryKey = (kind: ScheduledKind, scope: Partition, keyId: string, due: number): string =>
  recordKey(GLOBAL, "kms", "kms-schedule", `${padDue(due)}/${kind}/${scope.account}/${scope.region}/${keyId}`);

const SCHEDULE = kindRange(GLOBAL, "kms", "kms-schedule");

/**
 * The schedule entries a change of a key record needs, for the same batch as the record itself: the record
 * is the truth (its deletionDate and rotation.nextAt), the entries only an index of it by due time, and
 * writing both in one batch keeps them from ever disagreeing.
 */
export function scheduleChanges(scope: Partition, before: KmsKeyRecord | undefined, after: KmsKeyRecord | undefined): BatchOp[] {
  const key = before ?? after;
  if (key === undefined) return [];
  const ops: BatchOp[] = [];
  const change = (kind: ScheduledKind, was: number | undefined, is: number | undefined): void => {
    if (was === is) return;
    if (was !== undefined) ops.push({ type: "del", key: entryKey(kind, scope, key.keyId, was) });
    if (is !== undefined) {
      const entry: ScheduleEntry = { v: 1, kind, account: scope.account, region: scope.region, keyId: key.keyId, due: is };
      ops.push({ type: "put", key: entryKey(kind, scope, key.keyId, is), value: entry });
    }
  };
  change("destroy", before?.deletionDate, after?.deletionDate);
  change("rotate", rotationAt(before), rotationAt(after));
  change("expire", nextExpiry(before), nextExpiry(after));
  // A Creating or Updating key ends its transition on time even if nobody looks at it, and after a restart.
  change("settle", before?.transition?.until, after?.transition?.until);
  return ops;
}

/** Only a primary (or single-Region key) rotates on its own: its replicas get the new material with it. */
const rotationAt = (key: KmsKeyRecord | undefined): number | undefined =>
  key === undefined || isReplica(key) ? undefined : key.rotation?.nextAt;

/** The due time of an entry's kind on a record, to tell a live entry from a stale one. */
export function dueOf(kind: ScheduledKind, key: KmsKeyRecord | undefined): number | undefined {
  if (kind === "destroy") return key?.deletionDate;
  if (kind === "rotate") return rotationAt(key);
  if (kind === "expire") return nextExpiry(key);
  return key?.transition?.until;
}

export const entryScope = (entry: ScheduleEntry): Scope => ({
  account: entry.account,
  region: entry.region,
  partition: partitionOf(entry.region),
});

/** The storage key of an entry as read back, for removing a stale one. */
export const storedEntryKey = (entry: ScheduleEntry): string => entryKey(entry.kind, entry, entry.keyId, entry.due);

/** How often the timer looks for due work; lookups see due work at once, so this only bounds idle keys. */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * Runs what is due. Sweeps never overlap, and each entry is carried out by KmsKeys under the key's lock after
 * re-reading the record, so a sweep racing a lookup of the same key does the work once.
 */
export class KeySchedule {
  private readonly sweeper: Sweeper;

  constructor(
    private readonly store: Store,
    private readonly keys: KmsKeys,
    private readonly clock: Clock,
    private readonly logger: Logger | undefined,
  ) {
    this.sweeper = new Sweeper(() => this.runDue(this.clock.now().getTime()), SWEEP_INTERVAL_MS, (error) =>
      this.logger?.error("KMS schedule sweep failed", { cause: error }),
      () => this.store.leads(),
    );
  }

  /**
   * Carries out what fell due while the server was down, then sweeps on a timer. A failed sweep is logged,
   * not thrown: the server must still start, and every lookup of a due key tries again.
   */
  async start(): Promise<void> {
    await this.sweeper.start().catch((error: unknown) => this.logger?.error("KMS schedule sweep failed", { cause: error }));
  }

  /** Everything due by the clock's now; resolves when done. */
  sweep(): Promise<void> {
    return this.sweeper.run();
  }

  private runDue(nowMs: number): Promise<void> {
    return forEachDue<ScheduleEntry>(
      this.store,
      SCHEDULE,
      recordKey(GLOBAL, "kms", "kms-schedule", padDue(nowMs + 1)),
      (_key, entry) => this.keys.runScheduled(entry, nowMs),
      () => this.sweeper.closed,
    );
  }

  close(): Promise<void> {
    return this.sweeper.close();
  }
}
