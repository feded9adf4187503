// The write guard: after a failed write, writes are refused and reads go on until the disk is back and the store reopened.
import { KeyUsage } from "../../src/services/kms/key-usage";
import { recordKey } from "../../src/storage/keys";
import { openMemoryBackend } from "../../src/storage/level-store";
import { StoreFault, type Store, type StoredValue } from "../../src/storage/store";
import { guardWrites } from "../../src/storage/write-guard";
import { FaultyStore } from "../support/faulty-store";

const scope = { account: "111122223333", region: "eu-west-1", partition: "aws" };
const key = (name: string): string => recordKey(scope, "secretsmanager", "secret", name);
const put = (name: string, n = 1) => ({ type: "put" as const, key: key(name), value: { v: 1, n } as StoredValue });
const FAST_PROBE = { firstMs: 5, maxMs: 20 };

async function until(condition: () => boolean, what: string, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function readAll(store: Store): Promise<string[]> {
  const keys: string[] = [];
  for await (const [stored] of store.range({ gte: key(""), lt: key("\uffff") })) keys.push(stored);
  return keys;
}

describe("write guard", () => {
  let faulty: FaultyStore;
  let store: Store;

  beforeEach(async () => {
    faulty = new FaultyStore(await openMemoryBackend());
    store = guardWrites(faulty, { probe: FAST_PROBE });
  });
  afterEach(() => store.close());

  it("answers a failed write with a StoreFault naming the cause, then refuses writes without touching the backend", async () => {
    await store.batch([put("before")]);
    faulty.failWrites();
    const failed = await store.batch([put("lost")]).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(StoreFault);
    expect((failed as StoreFault).message).toMatch(/No space left on device/);
    expect((failed as StoreFault).cause).toBeInstanceOf(Error);
    expect(store.status()).toBe("degraded: write failed: IO error: /data/db/000003.log: No space left on device");

    const writesBefore = faulty.count("batch") + faulty.count("batch-failed");
    const refused = await store.batch([put("later")]).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StoreFault);
    expect((refused as StoreFault).message).toMatch(/read-only since a write failed \(IO error: .*No space left on device\)\. Reads still work/);
    await expect(store.clear()).rejects.toBeInstanceOf(StoreFault);
    await expect(store.compact(key(""), key("\uffff"))).rejects.toBeInstanceOf(StoreFault);
    // Nothing more was appended after the failed write: that is what would make replay drop acknowledged writes.
    expect(faulty.count("batch") + faulty.count("batch-failed")).toBe(writesBefore);
  });

  it("keeps answering reads while writes are refused", async () => {
    await store.batch([put("a", 1), put("b", 2)]);
    faulty.failWrites();
    await expect(store.batch([put("c")])).rejects.toBeInstanceOf(StoreFault);
    expect(await store.get(key("a"))).toEqual({ v: 1, n: 1 });
    expect(await readAll(store)).toEqual([key("a"), key("b")]);
  });

  it("probes with backoff while the disk is full, reopens once it is not, and only then accepts writes", async () => {
    faulty.failWrites();
    await expect(store.batch([put("x")])).rejects.toBeInstanceOf(StoreFault);
    await until(() => faulty.count("probe-failed") >= 3, "three failed probes");
    expect(faulty.count("reopen")).toBe(0);
    expect(store.status()).toMatch(/^degraded: write failed: .*; probe failed: .*No space left on device$/);
    await expect(store.batch([put("y")])).rejects.toBeInstanceOf(StoreFault);

    faulty.heal();
    await until(() => store.status() === "open", "the store to reopen");
    // The order that keeps acknowledged writes: failure, probe, reopen (a fresh log), and only then a write.
    const afterFailure = faulty.calls.slice(faulty.calls.indexOf("batch-failed"));
    expect(afterFailure.filter((call) => call !== "probe-failed")).toEqual(["batch-failed", "probe", "reopen"]);
    await store.batch([put("after", 7)]);
    expect(await store.get(key("after"))).toEqual({ v: 1, n: 7 });
    expect(faulty.calls.at(-1)).toBe("batch");
  });

  it("never sends a write to the backend behind one that is failing: those waiting are refused with it", async () => {
    await store.batch([put("first")]);
    const release = faulty.holdBatches();
    const inFlight = store.batch([put("in-flight")]);
    const waiting = [store.batch([put("w1")]), store.batch([put("w2")]), store.batch([put("w3")])];
    await new Promise((resolve) => setImmediate(resolve));
    faulty.failWrites();
    release();
    const outcomes = await Promise.allSettled([inFlight, ...waiting]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected", "rejected", "rejected"]);
    // One failed append, then nothing: the three that waited never reached LevelDB.
    expect(faulty.calls).toEqual(["batch", "batch-failed"]);
  });

  it("sends the batches that queue behind one in flight together, in order, as one batch", async () => {
    const release = faulty.holdBatches();
    const all = [store.batch([put("a", 1)]), store.batch([put("a", 2), put("b", 2)]), store.batch([put("a", 3)])];
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await Promise.all(all);
    expect(faulty.calls).toEqual(["batch", "batch"]);
    expect(await store.get(key("a"))).toEqual({ v: 1, n: 3 });
    expect(await store.get(key("b"))).toEqual({ v: 1, n: 2 });
  });

  it("does not degrade for writes that fail because the store is closing", async () => {
    const closing = guardWrites(faulty, { probe: FAST_PROBE });
    await closing.close();
    await expect(closing.batch([put("late")])).rejects.toThrow(/Storage is closed/);
    expect(faulty.count("probe") + faulty.count("probe-failed")).toBe(0);
    store = guardWrites(new FaultyStore(await openMemoryBackend()));
  });
});

describe("KMS key usage under a store that refuses writes", () => {
  it("keeps usage pending when a flush fails, never rejects, and stores it once writes resume", async () => {
    const faulty = new FaultyStore(await openMemoryBackend());
    const store = guardWrites(faulty, { probe: FAST_PROBE });
    const failures: unknown[] = [];
    const usage = new KeyUsage(store, (error) => failures.push(error));
    const ctx = { scope, now: new Date(1_000), requestId: "r-1", audit: undefined };
    try {
      usage.record(ctx, "key-1", "Encrypt");
      faulty.failWrites();
      await expect(usage.flush()).resolves.toBeUndefined();
      expect(failures).toHaveLength(1);
      expect(await usage.lastUsage(scope, "key-1")).toMatchObject({ operation: "Encrypt", requestId: "r-1" });

      // A newer use while the disk is full wins over the one put back.
      usage.record({ ...ctx, requestId: "r-2" }, "key-1", "Decrypt");
      await usage.flush();
      faulty.heal();
      await until(() => store.status() === "open", "the store to reopen");
      await usage.flush();
      expect(await store.get(recordKey(scope, "kms", "kms-key-usage", "key-1"))).toMatchObject({ operation: "Decrypt", requestId: "r-2" });
    } finally {
      await usage.close();
      await store.close();
    }
  });

  it("does not bring back usage a reset cleared while the failing flush was under way", async () => {
    const faulty = new FaultyStore(await openMemoryBackend());
    const store = guardWrites(faulty, { probe: FAST_PROBE });
    const usage = new KeyUsage(store);
    try {
      usage.record({ scope, now: new Date(1_000), requestId: "r-1", audit: undefined }, "key-1", "Encrypt");
      faulty.failWrites();
      const release = faulty.holdBatches();
      const flushing = usage.flush();
      await new Promise((resolve) => setImmediate(resolve));
      usage.clear();
      release();
      await flushing;
      expect(await usage.lastUsage(scope, "key-1")).toBeUndefined();
    } finally {
      await usage.close();
      await store.close();
    }
  });
});
