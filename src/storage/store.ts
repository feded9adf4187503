// The storage interface every service writes through; keys come only from storage/keys.ts.

export type StoredValue = { readonly v: number } & Record<string, unknown>;

export type BatchOp =
  | { readonly type: "put"; readonly key: string; readonly value: StoredValue }
  | { readonly type: "del"; readonly key: string };

export interface RangeOptions {
  /** Inclusive lower bound and exclusive upper bound, both full keys. */
  readonly gte: string;
  readonly lt: string;
  readonly limit?: number;
  readonly reverse?: boolean;
  /** false: the keys only, each yielded with an undefined value (no value is read or decoded). */
  readonly values?: false;
}

export interface Store {
  get<T extends StoredValue>(key: string): Promise<T | undefined>;
  /** Applies every operation or none. */
  batch(ops: readonly BatchOp[]): Promise<void>;
  range<T extends StoredValue>(options: RangeOptions): AsyncIterable<[string, T]>;
  /** Runs `change` with the resource locked against other read-modify-write changes to it. */
  withLock<R>(resource: string, change: () => Promise<R>): Promise<R>;
  /** Asks the backend to rewrite the files holding [gte, lt) so deleted bytes leave the disk. */
  compact(gte: string, lt: string): Promise<void>;
  /** Removes everything. */
  clear(): Promise<void>;
  readonly kind: "level" | "memory" | "postgres";
  /** Other processes write this store too, so nothing read from it may be cached across requests. */
  readonly shared: boolean;
  /**
   * Whether this node runs the timed work (schedules, sweeps). Always true on a store of one process; on a shared
   * store, true on one node of the cluster at a time (pg-leader.ts).
   */
  leads(): boolean;
  /** "open" while it works; "degraded: …" with the cause while it refuses writes (see write-guard.ts). */
  readonly status: () => string;
  close(): Promise<void>;
}

/** What the write guard needs of a backend to come back after a failed write. */
export interface RecoverableStore extends Store {
  /** Resolves once a write as large as recovery needs can land now; touches nothing LevelDB reads. */
  probeWritable(): Promise<void>;
  /** Closes the database and opens it again: LevelDB then recovers its log into a table and starts a new log. */
  reopen(): Promise<void>;
}

/**
 * A write the store did not make: it failed now, or the store refuses writes since an earlier one failed.
 * protocol/ answers it with the calling service's own fault (InternalServiceError, KMSInternalException; 500).
 */
export class StoreFault extends Error {
  override readonly name = "StoreFault";
}
