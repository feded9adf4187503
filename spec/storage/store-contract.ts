// The Store contract: what every implementation (memory, LevelDB, PostgreSQL) must do alike.
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { ROOT_KEY_CANARY } from "../../src/crypto/root-key-canary";
import { everything, kindRange, recordKey } from "../../src/storage/keys";
import type { Store, StoredValue } from "../../src/storage/store";
import { filesContaining } from "../support/files";

const scope = { account: "111122223333", region: "eu-west-1" };
const otherScope = { account: "111122223333", region: "eu-west-2" };
const value = (n: number): StoredValue => ({ v: 1, n });

/**
 * Defines the contract's describe block for one implementation. `open` gives a fresh, empty store, and the
 * directory its files live in when it has one (the compaction case then checks that deleted bytes left it).
 */
export function storeContract(name: string, open: () => Promise<{ store: Store; dir: string | undefined }>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let dir: string | undefined;

    beforeEach(async () => {
      ({ store, dir } = await open());
    });
    afterEach(async () => {
      await store.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it("returns undefined for a missing key and what was put for a present one", async () => {
      const key = recordKey(scope, "kms", "kms-key", "a");
      expect(await store.get(key)).toBeUndefined();
      await store.batch([{ type: "put", key, value: value(1) }]);
      expect(await store.get(key)).toEqual({ v: 1, n: 1 });
    });

    it("applies a batch of puts and deletes together", async () => {
      const a = recordKey(scope, "kms", "kms-key", "a");
      const b = recordKey(scope, "kms", "kms-key", "b");
      await store.batch([{ type: "put", key: a, value: value(1) }]);
      await store.batch([
        { type: "del", key: a },
        { type: "put", key: b, value: value(2) },
      ]);
      expect(await store.get(a)).toBeUndefined();
      expect(await store.get(b)).toEqual({ v: 1, n: 2 });
    });

    it("ranges over one kind in one scope only, in key order, with limit and reverse", async () => {
      await store.batch([
        { type: "put", key: recordKey(scope, "kms", "kms-key", "b"), value: value(2) },
        { type: "put", key: recordKey(scope, "kms", "kms-key", "a"), value: value(1) },
        { type: "put", key: recordKey(scope, "kms", "kms-key", "c/d"), value: value(3) },
        { type: "put", key: recordKey(scope, "kms", "kms-alias", "a"), value: value(9) },
        { type: "put", key: recordKey(otherScope, "kms", "kms-key", "a"), value: value(8) },
      ]);
      const read = async (options: Parameters<Store["range"]>[0]): Promise<number[]> => {
        const out: number[] = [];
        for await (const [, record] of store.range(options)) out.push(record.n as number);
        return out;
      };
      expect(await read(kindRange(scope, "kms", "kms-key"))).toEqual([1, 2, 3]);
      expect(await read({ ...kindRange(scope, "kms", "kms-key"), limit: 2 })).toEqual([1, 2]);
      expect(await read({ ...kindRange(scope, "kms", "kms-key"), reverse: true })).toEqual([3, 2, 1]);
      expect(await read(kindRange(scope, "kms", "kms-key", "c/"))).toEqual([3]);
    });

    it("ranges over keys only when values is false", async () => {
      const a = recordKey(scope, "kms", "kms-key", "a");
      const b = recordKey(scope, "kms", "kms-key", "b");
      await store.batch([
        { type: "put", key: b, value: value(2) },
        { type: "put", key: a, value: value(1) },
      ]);
      const entries: Array<[string, unknown]> = [];
      for await (const entry of store.range({ ...kindRange(scope, "kms", "kms-key"), values: false })) entries.push(entry);
      expect(entries).toEqual([
        [a, undefined],
        [b, undefined],
      ]);
    });

    it("runs read-modify-write changes of one resource one at a time", async () => {
      const key = recordKey(scope, "secretsmanager", "secret", "counter");
      await store.batch([{ type: "put", key, value: value(0) }]);
      const increment = (): Promise<void> =>
        store.withLock(key, async () => {
          const current = (await store.get<StoredValue>(key))?.n as number;
          await new Promise((resolve) => setImmediate(resolve));
          await store.batch([{ type: "put", key, value: value(current + 1) }]);
        });
      await Promise.all(Array.from({ length: 25 }, increment));
      expect((await store.get(key))?.n).toBe(25);
    });

    it("releases a lock when the change throws", async () => {
      const key = "lock-after-failure";
      await expect(store.withLock(key, async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
      await expect(store.withLock(key, async () => "ran")).resolves.toBe("ran");
    });

    it("clears everything", async () => {
      await store.batch([
        { type: "put", key: recordKey(scope, "kms", "kms-key", "a"), value: value(1) },
        { type: "put", key: recordKey(otherScope, "secretsmanager", "secret", "s"), value: value(2) },
      ]);
      // Outside the records' key space, like the root-key canary (src/crypto/root-key-canary.ts): clear() keeps it.
      await store.batch([{ type: "put", key: ROOT_KEY_CANARY, value: value(9) }]);
      await store.clear();
      expect(await store.get(ROOT_KEY_CANARY)).toEqual({ v: 1, n: 9 });
      await store.batch([{ type: "put", key: recordKey(scope, "kms", "kms-key", "b"), value: value(3) }]);
      expect(await store.get(recordKey(scope, "kms", "kms-key", "a"))).toBeUndefined();
      expect(await store.get(recordKey(scope, "kms", "kms-key", "b"))).toEqual({ v: 1, n: 3 });
      expect(await store.get(recordKey(otherScope, "secretsmanager", "secret", "s"))).toBeUndefined();
    });

    it.each([
      ["the kind's range", () => kindRange(scope, "kms", "kms-key")],
      ["the whole store", () => everything],
    ])("compacts deleted records out of the data files (%s)", async (_name, rangeOf) => {
      // Random, so LevelDB's Snappy compression cannot hide it from the byte search.
      const marker = randomBytes(24).toString("hex");
      const key = recordKey(scope, "kms", "kms-key", "gone");
      await store.batch([{ type: "put", key, value: { v: 1, marker } }]);
      await store.batch([{ type: "del", key }]);
      // LevelDB keeps the deleted value in its log until compaction: the test must see it go.
      if (dir !== undefined) expect(filesContaining(dir, marker)).not.toEqual([]);
      const range = rangeOf();
      await store.compact(range.gte, range.lt);
      if (dir !== undefined) expect(filesContaining(dir, marker)).toEqual([]);
      expect(await store.get(key)).toBeUndefined();
    });
  });
}
