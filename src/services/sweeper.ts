// Background work on a timer (schedules, replication): serialised runs, an unref'd timer, a clean close.
import type { Store, StoredValue } from "../storage/store";

/** How soon a node that became the leader runs timed work it did not lead before. */
const LEADERSHIP_CHECK_MS = 1_000;

/**
 * Runs `work` now and then on a timer that never keeps the process alive. Runs never overlap: each waits
 * for the one before, and close() waits for the last, so the store is never closed under one.
 *
 * In a cluster only the leader's timer runs the work (`leads`, from Store.leads): the others' timers tick idle, so
 * the first tick after a node takes leadership over runs it. Explicit run() calls (a reset's replica sweep, a
 * lookup's sweep of due keys) run on any node: the work re-reads each record under its lock, so it is done once.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly intervalMs: number,
    /** Where a failed timer run is reported; the timer keeps going. */
    private readonly onError: (error: unknown) => void,
    /** Whether this node runs the timed work now; checked before each timer run, not during one. */
    private readonly leads: () => boolean,
  ) {}

  get closed(): boolean {
    return this.stopped;
  }

  /**
   * One run first when this node leads (its failure is the caller's to handle), then the timer. The timer ticks at
   * least every second so a node that takes leadership over runs the work within a second (a dead leader's due
   * work would otherwise wait a whole interval), then every interval while it keeps leading.
   */
  async start(): Promise<void> {
    const tickMs = Math.min(this.intervalMs, LEADERSHIP_CHECK_MS);
    // Counted in ticks rather than read off the wall clock: a tick a millisecond early must not skip a run.
    const ticksPerRun = Math.ceil(this.intervalMs / tickMs);
    let led = this.leads();
    let ticks = 0;
    if (led) await this.run();
    this.timer = setInterval(
      () => {
        const leads = this.leads();
        ticks++;
        const due = leads && (!led || ticks >= ticksPerRun);
        led = leads;
        if (!due) return;
        ticks = 0;
        this.run().catch(this.onError);
      },
      tickMs,
    );
    this.timer.unref();
  }

  /** One more run after any in progress; resolves when it is done. */
  run(): Promise<void> {
    const run = this.running.then(() => (this.stopped ? undefined : this.work()));
    this.running = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.running;
  }
}

/** Due times as fixed-width text, so storage keys sort in time order. */
export const padDue = (due: number): string => String(due).padStart(16, "0");

/**
 * Visits every entry of a due-time index (keys `…<padDue(due)>…`, within `range`) that is due by `nowMs`,
 * in slices: each slice's iterator is closed before its entries' work, which may write and compact.
 * `dueBound(nowMs)` is the first key past everything due. Stops early when `stop()` says so.
 */
export async function forEachDue<E extends StoredValue>(
  store: Store,
  range: { readonly gte: string },
  dueBound: string,
  visit: (key: string, entry: E) => Promise<void>,
  stop: () => boolean,
): Promise<void> {
  const SLICE = 100;
  let gte = range.gte;
  for (;;) {
    const slice: Array<[string, E]> = [];
    for await (const entry of store.range<E>({ gte, lt: dueBound, limit: SLICE })) slice.push(entry);
    for (const [key, entry] of slice) {
      if (stop()) return;
      await visit(key, entry);
    }
    const last = slice[slice.length - 1];
    if (last === undefined || slice.length < SLICE) return;
    // Entries left in place (a rotation due on a disabled key) must not be read again in this sweep.
    gte = last[0] + "\u0000";
  }
}
