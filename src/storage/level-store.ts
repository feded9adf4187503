// Store over abstract-level: `level` (LevelDB on disk) by default, `memory-level` for --in-memory.
import { open as openFile, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Level } from "level";
import { MemoryLevel } from "memory-level";
import { holdsDatabase, listDbFiles } from "./level-format";
import { compactionBounds, everything } from "./keys";
import type { BatchOp, RangeOptions, RecoverableStore, Store, StoredValue } from "./store";
import { guardWrites, type WriteGuardOptions } from "./write-guard";
import { ResourceLocks } from "./resource-locks";

export interface LevelStoreOptions extends WriteGuardOptions {
  /**
   * fsync LevelDB's log before a write is acknowledged. Without it an acknowledged write survives a process
   * crash (it is in the OS page cache) but not a power loss or kernel crash (docs/reliability.md).
   */
  readonly sync?: boolean;
  /** Tests wrap the backend to inject faults under the write guard. */
  readonly wrapBackend?: (backend: RecoverableStore) => RecoverableStore;
}

interface LevelLike {
  open(): Promise<void>;
  close(): Promise<void>;
  getSync(key: string): StoredValue | undefined;
  batch(
    ops: Array<{ type: "put"; key: string; value: StoredValue } | { type: "del"; key: string }>,
    options?: { sync: boolean },
  ): Promise<void>;
  iterator(options: {
    gte: string;
    lt: string;
    limit?: number;
    reverse?: boolean;
  }): AsyncIterable<[string, StoredValue]> & { close(): Promise<void> };
  clear(range: { gte: string; lt: string }): Promise<void>;
  readonly status: string;
}

interface Backend {
  /** undefined: nothing reaches a disk, so there is nothing to compact. */
  readonly compactor: ((gte: string, lt: string) => Promise<void>) | undefined;
  readonly probeWritable: () => Promise<void>;
  /** The options of every batch: `sync` for LevelDB, none for memory. */
  readonly writeOptions: { sync: boolean } | undefined;
}

class AbstractLevelStore implements RecoverableStore {
  private readonly locks = new ResourceLocks();
  readonly shared = false;
  readonly leads = (): boolean => true;

  constructor(
    private readonly db: LevelLike,
    readonly kind: "level" | "memory",
    private readonly backend: Backend,
  ) {}

  readonly status = (): string => this.db.status;

  /**
   * Reads synchronously: measured here, an async LevelDB get costs 30–100 µs (a thread-pool hop per
   * read) and getSync 2–3 µs, and the hot paths read two or three records per request. The records
   * are small and LevelDB's blocks sit in its cache or the page cache, so the event loop barely waits.
   */
  async get<T extends StoredValue>(key: string): Promise<T | undefined> {
    return this.db.getSync(key) as T | undefined;
  }

  batch(ops: readonly BatchOp[]): Promise<void> {
    return this.db.batch(ops as BatchOp[] as Parameters<LevelLike["batch"]>[0], this.backend.writeOptions);
  }

  async *range<T extends StoredValue>(options: RangeOptions): AsyncIterable<[string, T]> {
    const iterator = this.db.iterator({ ...options });
    try {
      for await (const entry of iterator) yield entry as [string, T];
    } finally {
      await iterator.close();
    }
  }

  withLock<R>(resource: string, change: () => Promise<R>): Promise<R> {
    return this.locks.run(resource, change);
  }

  async compact(gte: string, lt: string): Promise<void> {
    if (this.backend.compactor) await this.backend.compactor(gte, lt);
  }

  probeWritable(): Promise<void> {
    return this.backend.probeWritable();
  }

  async reopen(): Promise<void> {
    if (this.kind === "memory") return;
    // abstract-level reopens a closed instance in place; LevelDB replays the old log into a table on open.
    await this.db.close();
    await this.db.open();
  }

  clear(): Promise<void> {
    return this.db.clear({ ...everything });
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** The guarded store on LevelDB: what secretslite serves from. */
export async function openLevelStore(location: string, options: LevelStoreOptions = {}): Promise<Store> {
  const backend = await openLevelBackend(location, options.sync ?? false);
  return guardWrites(options.wrapBackend?.(backend) ?? backend, options);
}

/** The guarded store in memory (--in-memory, unit-level specs). */
export async function openMemoryStore(options: Omit<LevelStoreOptions, "sync"> = {}): Promise<Store> {
  const backend = await openMemoryBackend();
  return guardWrites(options.wrapBackend?.(backend) ?? backend, options);
}

/** Beside LevelDB's files, never one of them: LevelDB ignores names it did not make. */
const PROBE_FILE = "secretslite-write-probe";
const PROBE_HEADROOM = 64 * 1024;

/**
 * Whether the disk takes what a reopen writes: the memtable, about as large as the live logs, becomes a table,
 * and a new log and manifest start. Written, fsynced and removed; any failure (ENOSPC) rejects.
 */
async function probeWritable(location: string): Promise<void> {
  let bytes = PROBE_HEADROOM;
  for (const name of await readdir(location)) if (name.endsWith(".log")) bytes += (await stat(path.join(location, name))).size;
  const file = path.join(location, PROBE_FILE);
  try {
    const handle = await openFile(file, "w", 0o600);
    try {
      const chunk = Buffer.alloc(PROBE_HEADROOM);
      for (let written = 0; written < bytes; written += chunk.length) await handle.write(chunk);
      await handle.sync();
    } finally {
      await handle.close();
      await rm(file, { force: true });
    }
  } catch (error) {
    // What an operator needs to know: how much room recovery wants (about the live log's size).
    throw new Error(`${Math.ceil(bytes / 1024)} KiB must be free in ${location} to reopen the database: ${(error as Error).message}`, { cause: error });
  }
}

/** The LevelDB backend without the write guard (its contract spec and fault specs wrap it themselves). */
export async function openLevelBackend(location: string, sync = false): Promise<RecoverableStore> {
  // Uncompressed: what is stored is almost all ciphertext, which Snappy cannot shrink, and plain
  // tables let the at-rest tests prove by byte search that no secret reaches the disk.
  // Never a fresh database over a dir that holds one (CURRENT lost, say): LevelDB would then delete its tables.
  const createIfMissing = !holdsDatabase(listDbFiles(location));
  const db = new Level<string, StoredValue>(location, { valueEncoding: "json", compression: false, createIfMissing });
  await db.open();
  // `level` is classic-level on Node; its compactRange is not in level's own typings.
  const classic = db as unknown as { compactRange(start: string, end: string): Promise<void> };
  if ((await db.get(compactionBounds.low)) === undefined) {
    const bound = { v: 1 } as const;
    await db.batch([
      { type: "put", key: compactionBounds.low, value: bound },
      { type: "put", key: compactionBounds.high, value: bound },
    ]);
    // Flushed into a table of their own now, so later changes land in a level above it.
    await classic.compactRange(compactionBounds.low, compactionBounds.high);
  }
  return new AbstractLevelStore(db as unknown as LevelLike, "level", {
    compactor: (gte, lt) => classic.compactRange(gte, lt),
    probeWritable: () => probeWritable(location),
    writeOptions: { sync },
  });
}

export async function openMemoryBackend(): Promise<RecoverableStore> {
  const db = new MemoryLevel<string, StoredValue>({ valueEncoding: "json" });
  await db.open();
  // Nothing of a memory store reaches a disk: nothing to compact, and a write can only fail for lack of memory.
  return new AbstractLevelStore(db as unknown as LevelLike, "memory", {
    compactor: undefined,
    probeWritable: async () => undefined,
    writeOptions: undefined,
  });
}
