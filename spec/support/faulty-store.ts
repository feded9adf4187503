// A storage backend wrapper that fails writes on demand, like a full disk, and records what reached the backend.
import type { BatchOp, RangeOptions, RecoverableStore, StoredValue } from "../../src/storage/store";

/** What LevelDB (classic-level) throws when its log cannot be appended to on a full disk. */
export const diskFullError = (): Error =>
  Object.assign(new Error("IO error: /data/db/000003.log: No space left on device"), { code: "LEVEL_IO_ERROR" });

export class FaultyStore implements RecoverableStore {
  /** While set, every write and every probe fails with it, as on a full disk. */
  private failure: (() => Error) | undefined;
  /** What reached the backend, in order: "batch", "batch-failed", "clear", "probe", "probe-failed", "reopen". */
  readonly calls: string[] = [];
  /** Holds batches back (the test releases them) to see what queues behind one in flight. */
  private gate: Promise<void> | undefined;

  constructor(private readonly inner: RecoverableStore) {}

  get kind(): RecoverableStore["kind"] {
    return this.inner.kind;
  }
  get shared(): boolean {
    return this.inner.shared;
  }
  leads(): boolean {
    return this.inner.leads();
  }

  readonly status = (): string => this.inner.status();

  /** Writes fail from now on (the disk is full). */
  failWrites(error: () => Error = diskFullError): void {
    this.failure = error;
  }

  /** Writes succeed again (space was freed). */
  heal(): void {
    this.failure = undefined;
  }

  /** Batches wait until the returned function is called. */
  holdBatches(): () => void {
    let release!: () => void;
    this.gate = new Promise((resolve) => (release = resolve));
    return () => {
      this.gate = undefined;
      release();
    };
  }

  /** How many times `call` reached the backend. */
  count(call: string): number {
    return this.calls.filter((made) => made === call).length;
  }

  get<T extends StoredValue>(key: string): Promise<T | undefined> {
    return this.inner.get<T>(key);
  }

  async batch(ops: readonly BatchOp[]): Promise<void> {
    if (this.gate !== undefined) await this.gate;
    if (this.failure !== undefined) {
      this.calls.push("batch-failed");
      throw this.failure();
    }
    this.calls.push("batch");
    await this.inner.batch(ops);
  }

  range<T extends StoredValue>(options: RangeOptions): AsyncIterable<[string, T]> {
    return this.inner.range<T>(options);
  }

  withLock<R>(resource: string, change: () => Promise<R>): Promise<R> {
    return this.inner.withLock(resource, change);
  }

  async compact(gte: string, lt: string): Promise<void> {
    if (this.failure !== undefined) throw this.failure();
    await this.inner.compact(gte, lt);
  }

  async clear(): Promise<void> {
    if (this.failure !== undefined) throw this.failure();
    this.calls.push("clear");
    await this.inner.clear();
  }

  async probeWritable(): Promise<void> {
    if (this.failure !== undefined) {
      this.calls.push("probe-failed");
      throw this.failure();
    }
    this.calls.push("probe");
    await this.inner.probeWritable();
  }

  async reopen(): Promise<void> {
    this.calls.push("reopen");
    await this.inner.reopen();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
