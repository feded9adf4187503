// The secret deletion schedule: due deletions in one GLOBAL range, swept at start, on an unref'd timer and on lookup.
import type { Logger } from "../../logger";
import type { Partition } from "../../storage/keys";
import type { BatchOp, Store } from "../../storage/store";
import type { Clock } from "../clock";
import { forEachDue, Sweeper } from "../sweeper";
import type { Secrets } from "./domain";
import { dueBound, dueIndexOps, dueIndexRange, storedEntryKey as storedDueEntryKey, type SecretDueEntry } from "./due-index";
import type { SecretRecord } from "./secret";

export type DeletionEntry = SecretDueEntry;

/** The index of secrets by the time their recovery window ends: a record's deletionDueAt is the truth. */
export const deletionScheduleOps = (scope: Partition, before: SecretRecord | undefined, after: SecretRecord | undefined): BatchOp[] =>
  dueIndexOps("secret-schedule", (secret) => secret?.deletionDueAt, scope, before, after);

/** The storage key of an entry as read back, for removing one its secret no longer backs. */
export const storedEntryKey = (entry: DeletionEntry): string => storedDueEntryKey("secret-schedule", entry);

/** How often the timer looks for due deletions; lookups see a due secret as gone at once, so this only bounds idle ones. */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * Carries out due deletions. Sweeps never overlap, and each purge re-reads the secret under its lock, so a
 * sweep racing a lookup of the same secret purges it once.
 */
export class SecretDeletionSchedule {
  private readonly sweeper: Sweeper;

  constructor(
    private readonly store: Store,
    private readonly secrets: Secrets,
    private readonly clock: Clock,
    private readonly logger: Logger | undefined,
  ) {
    this.sweeper = new Sweeper(() => this.runDue(this.clock.now().getTime()), SWEEP_INTERVAL_MS, (error) =>
      this.logger?.error("secret deletion sweep failed", { cause: error }),
      () => this.store.leads(),
    );
  }

  /** Purges what fell due while the server was down, then sweeps on a timer that never keeps the process alive. */
  start(): Promise<void> {
    return this.sweeper.start();
  }

  /** Everything due by the clock's now; resolves when done. */
  sweep(): Promise<void> {
    return this.sweeper.run();
  }

  private runDue(nowMs: number): Promise<void> {
    return forEachDue<DeletionEntry>(
      this.store,
      dueIndexRange("secret-schedule"),
      dueBound("secret-schedule", nowMs),
      (_key, entry) => this.secrets.runScheduledDeletion(entry, nowMs),
      () => this.sweeper.closed,
    );
  }

  /** Stops the timer and waits for a sweep in progress, so the store is never closed under one. */
  close(): Promise<void> {
    return this.sweeper.close();
  }
}

export { entryScope } from "./due-index";
