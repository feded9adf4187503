// The write guard: one LevelDB write at a time, none after one fails, and a reopen before writes resume.
import type { Logger } from "../logger";
import { StoreFault, type BatchOp, type RangeOptions, type RecoverableStore, type Store, type StoredValue } from "./store";

/*
 * Why: when LevelDB fails to append a batch to its log (ENOSPC, EIO), the log keeps a partial record and
 * LevelDB does not stop: the next batch is appended after it and acknowledged, and the next start's replay
 * drops the rest of that 32 KiB block ("checksum mismatch"), acknowledged writes included. So:
 *  - batches go to LevelDB one at a time; batches that arrive meanwhile wait and go together as one batch
 *    (LevelDB's own group commit, done here), so no write is ever queued behind a failing one;
 *  - after a failure every write is refused at once with a StoreFault, while reads go on from what is open;
 *  - a timer probes the disk (a file as large as recovery needs, written, fsynced and removed, beside the
 *    database but never in its log), backing off; once the probe passes, the database is closed and opened
 *    again, so LevelDB recovers the log up to the partial record into a table and starts a fresh log, and
 *    only then are writes accepted. Reopening without the probe would fail on a still-full disk with the
 *    database closed, and reads with it.
 * A timer rather than the next write attempt: health turns ready again on its own once space is back, and
 * no caller's write ever waits on a probe or a reopen.
 */

export interface WriteGuardOptions {
  readonly logger?: Logger;
  /** The wait before the first probe after a failure, doubled after each failed probe up to maxMs. */
  readonly probe?: { readonly firstMs: number; readonly maxMs: number };
}

const DEFAULT_PROBE = { firstMs: 100, maxMs: 2_000 };

type Work = { readonly kind: "batch"; readonly ops: readonly BatchOp[] } | { readonly kind: "exclusive"; readonly work: () => Promise<void> };
type Job = Work & { readonly resolve: () => void; readonly reject: (error: unknown) => void };

class WriteGuard implements Store {
  readonly kind: Store["kind"];
  readonly shared = false;
  readonly leads = (): boolean => true;
  private readonly probe: { readonly firstMs: number; readonly maxMs: number };
  private readonly jobs: Job[] = [];
  private draining = false;
  private drained: Promise<void> = Promise.resolve();
  /** Set from the failed write until the reopen after it; the cause is in the text health shows. */
  private fault: { reason: string; recovery: string | undefined } | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  /** Set while the database is closed for a reopen: reads wait for it. */
  private reopening: Promise<void> | undefined;
  /** Iterators and compactions under way, which a reopen must let finish. */
  private inFlight = 0;
  private idle: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly inner: RecoverableStore,
    private readonly options: WriteGuardOptions,
  ) {
    this.kind = inner.kind;
    this.probe = options.probe ?? DEFAULT_PROBE;
  }

  readonly status = (): string => {
    if (this.fault === undefined) return this.inner.status();
    return `degraded: write failed: ${this.fault.reason}${this.fault.recovery === undefined ? "" : `; ${this.fault.recovery}`}`;
  };

  get<T extends StoredValue>(key: string): Promise<T | undefined> {
    return this.reopening === undefined ? this.inner.get<T>(key) : this.reopening.then(() => this.inner.get<T>(key));
  }

  batch(ops: readonly BatchOp[]): Promise<void> {
    if (ops.length === 0) return Promise.resolve();
    return this.enqueue({ kind: "batch", ops });
  }

  async *range<T extends StoredValue>(options: RangeOptions): AsyncIterable<[string, T]> {
    await this.enter();
    try {
      yield* this.inner.range<T>(options);
    } finally {
      this.leave();
    }
  }

  withLock<R>(resource: string, change: () => Promise<R>): Promise<R> {
    return this.inner.withLock(resource, change);
  }

  /** Compaction writes tables: refused while writes are, and a failure stops writes as a failed batch does. */
  async compact(gte: string, lt: string): Promise<void> {
    if (this.fault !== undefined) throw this.refusal();
    await this.enter();
    try {
      await this.inner.compact(gte, lt);
    } catch (error) {
      throw this.failed(error);
    } finally {
      this.leave();
    }
  }

  /** A clear appends deletions to the log like a batch, so it takes its turn among the writes, alone. */
  clear(): Promise<void> {
    return this.enqueue({ kind: "exclusive", work: () => this.inner.clear() });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.probeTimer !== undefined) clearTimeout(this.probeTimer);
    await this.drained;
    await this.reopening;
    await this.inner.close();
  }

  private enqueue(job: Work): Promise<void> {
    if (this.fault !== undefined) return Promise.reject(this.refusal());
    return new Promise<void>((resolve, reject) => {
      this.jobs.push({ ...job, resolve, reject });
      if (!this.draining) this.drained = this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (let first = this.jobs[0]; first !== undefined; first = this.jobs[0]) {
        let taken = 1;
        if (first.kind === "batch") while (this.jobs[taken]?.kind === "batch") taken++;
        const group = this.jobs.splice(0, taken);
        if (this.fault !== undefined) {
          const refusal = this.refusal();
          for (const job of group) job.reject(refusal);
          continue;
        }
        try {
          if (first.kind === "exclusive") await first.work();
          else await this.inner.batch(group.length === 1 ? first.ops : group.flatMap((job) => (job.kind === "batch" ? job.ops : [])));
          for (const job of group) job.resolve();
        } catch (error) {
          const fault = this.failed(error);
          for (const job of group) job.reject(fault);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** The fault a failed write answers with; from now on writes are refused, unless the store is closing. */
  private failed(error: unknown): StoreFault {
    if (this.closed) return new StoreFault("Storage is closed: the server is shutting down.", { cause: error });
    if (this.fault === undefined) {
      this.fault = { reason: describe(error), recovery: undefined };
      this.options.logger?.error("a storage write failed: writes are refused, reads go on, until the disk accepts writes and the database is reopened", {
        cause: error,
      });
      this.scheduleRecovery(this.probe.firstMs);
    }
    return new StoreFault(`Storage refused the write: ${describe(error)}. ${this.readOnlyText()}`, { cause: error });
  }

  private refusal(): StoreFault {
    if (this.closed) return new StoreFault("Storage is closed: the server is shutting down.");
    return new StoreFault(`Storage is read-only since a write failed (${this.fault?.reason ?? "unknown cause"}). ${this.readOnlyText()}`);
  }

  private readOnlyText(): string {
    return "Reads still work; writes resume once the disk accepts writes again.";
  }

  private scheduleRecovery(delayMs: number): void {
    if (this.closed) return;
    this.probeTimer = setTimeout(() => void this.recover(delayMs), delayMs);
    // Recovery must never keep a process alive on its own.
    this.probeTimer.unref();
  }

  private async recover(delayMs: number): Promise<void> {
    const fault = this.fault;
    if (this.closed || fault === undefined) return;
    const retry = (recovery: string): void => {
      fault.recovery = recovery;
      this.scheduleRecovery(Math.min(delayMs * 2, this.probe.maxMs));
    };
    try {
      await this.inner.probeWritable();
    } catch (error) {
      retry(`probe failed: ${describe(error)}`);
      return;
    }
    if (this.closed) return;
    let release!: () => void;
    this.reopening = new Promise<void>((resolve) => (release = resolve));
    try {
      await this.idleNow();
      if (this.closed) return;
      await this.inner.reopen();
    } catch (error) {
      this.options.logger?.error("reopening storage after a failed write failed; trying again", { cause: error });
      retry(`reopen failed: ${describe(error)}`);
      return;
    } finally {
      this.reopening = undefined;
      release();
    }
    this.fault = undefined;
    this.options.logger?.warn("storage accepts writes again: the database was reopened on a fresh log", { after: fault.reason });
  }

  private async enter(): Promise<void> {
    while (this.reopening !== undefined) await this.reopening;
    this.inFlight++;
  }

  private leave(): void {
    this.inFlight--;
    if (this.inFlight === 0) this.idle?.();
  }

  private idleNow(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.idle = () => {
        this.idle = undefined;
        resolve();
      };
    });
  }
}

/** The cause as health and answers show it; classic-level sometimes prefixes the native text with "Error: ". */
const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error)).replace(/^Error: /, "");

/** Wraps a backend in the guard; every store secretslite serves from is one. */
export function guardWrites(inner: RecoverableStore, options: WriteGuardOptions = {}): Store {
  return new WriteGuard(inner, options);
}
