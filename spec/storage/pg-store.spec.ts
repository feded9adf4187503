// The PostgreSQL store beyond the contract: its schema migrations, locks across nodes, key order, and faults.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { compactionBounds } from "../../src/storage/keys";
import { openLevelStore } from "../../src/storage/level-store";
import { SCHEMA_VERSION, VERSION_TABLE } from "../../src/storage/pg-schema";
import { openPgStore, type PgStore } from "../../src/storage/pg-store";
import { StoreFault, type Store, type StoredValue } from "../../src/storage/store";
import { sharedPostgres, startPostgres, type PostgresCluster } from "../support/postgres";

const value = (n: number): StoredValue => ({ v: 1, n });
const keysOf = async (store: Store, gte: string, lt: string, reverse = false): Promise<string[]> => {
  const keys: string[] = [];
  for await (const [key] of store.range({ gte, lt, reverse, values: false })) keys.push(key);
  return keys;
};
/** Polls (no fixed sleep) until the condition holds; jest's timeout bounds it. */
const until = async (condition: () => boolean): Promise<void> => {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 25));
};

describe("PgStore on the run's cluster", () => {
  let cluster: PostgresCluster;
  const opened: Store[] = [];
  const open = async (connectionString: string): Promise<PgStore> => {
    const store = await openPgStore({ connectionString });
    opened.push(store);
    return store;
  };

  beforeAll(async () => {
    cluster = await sharedPostgres();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });
  afterAll(async () => {
    await cluster.stop();
  });

  const versions = async (url: string): Promise<number[]> => {
    const database = new URL(url).pathname.slice(1);
    const result = await cluster.sql(`SELECT version FROM ${VERSION_TABLE} ORDER BY version`, [], database);
    return result.rows.map((row: { version: number }) => row.version);
  };

  describe("schema", () => {
    it("gives a fresh database every migration, once, and a second open changes nothing", async () => {
      const url = await cluster.createDatabase();
      const first = await open(url);
      expect(await versions(url)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
      await first.batch([{ type: "put", key: "kept", value: value(1) }]);
      await first.close();
      const second = await open(url);
      expect(await versions(url)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
      expect(await second.get("kept")).toEqual({ v: 1, n: 1 });
      expect(second.kind).toBe("postgres");
      expect(second.shared).toBe(true);
      expect(second.status()).toBe("open");
    });

    it("migrates once when several nodes open a fresh database at the same moment", async () => {
      const url = await cluster.createDatabase();
      const stores = await Promise.all(Array.from({ length: 5 }, () => open(url)));
      expect(await versions(url)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
      await stores[0]!.batch([{ type: "put", key: "k", value: value(7) }]);
      expect(await stores[4]!.get("k")).toEqual({ v: 1, n: 7 });
    });

    it("refuses a database whose schema is newer than this build", async () => {
      const url = await cluster.createDatabase();
      await (await open(url)).close();
      const database = new URL(url).pathname.slice(1);
      await cluster.sql(`INSERT INTO ${VERSION_TABLE} (version) VALUES ($1)`, [SCHEMA_VERSION + 1], database);
      await expect(openPgStore({ connectionString: url })).rejects.toThrow(
        `the PostgreSQL database holds secretslite schema version ${SCHEMA_VERSION + 1}, newer than this build's ${SCHEMA_VERSION}`,
      );
    });
  });

  describe("locks across two nodes on one database", () => {
    let a: PgStore;
    let b: PgStore;
    let database: string;
    /** Polls until the query's `n` is positive. */
    const waitUntilSql = async (text: string, params: unknown[]): Promise<void> => {
      while (((await cluster.sql(text, params)).rows[0] as { n: number }).n === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    beforeEach(async () => {
      const url = await cluster.createDatabase();
      database = new URL(url).pathname.slice(1);
      [a, b] = [await open(url), await open(url)];
    });

    it("serializes 200 concurrent read-modify-write increments split across both", async () => {
      const key = "counter";
      await a.batch([{ type: "put", key, value: value(0) }]);
      const increment = (store: PgStore): Promise<void> =>
        store.withLock(key, async () => {
          const current = (await store.get<StoredValue>(key))?.n as number;
          await new Promise((resolve) => setImmediate(resolve));
          await store.batch([{ type: "put", key, value: value(current + 1) }]);
        });
      await Promise.all(Array.from({ length: 200 }, (_, i) => increment(i % 2 === 0 ? a : b)));
      expect((await a.get(key))?.n).toBe(200);
      expect((await b.get(key))?.n).toBe(200);
    });

    it("lands a nested change's writes together at commit, unseen by the other node before", async () => {
      let seenInside: unknown[] = [];
      await a.withLock("one", () =>
        a.withLock("two", async () => {
          await a.batch([{ type: "put", key: "one", value: value(1) }]);
          await a.batch([{ type: "put", key: "two", value: value(2) }]);
          // The change's own reads see its writes; the other node, reading outside any lock, does not yet.
          expect(await a.get("one")).toEqual({ v: 1, n: 1 });
          seenInside = [await b.get("one"), await b.get("two")];
        }),
      );
      expect(seenInside).toEqual([undefined, undefined]);
      expect([await b.get("one"), await b.get("two")]).toEqual([
        { v: 1, n: 1 },
        { v: 1, n: 2 },
      ]);
    });

    it("holds a nested lock against the other node until the outer change commits", async () => {
      const order: string[] = [];
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      let finish!: () => void;
      const finishing = new Promise<void>((resolve) => (finish = resolve));
      const outer = a.withLock("outer", () =>
        a.withLock("inner", async () => {
          entered();
          await finishing;
          order.push("a done");
        }),
      );
      await inside;
      const other = b.withLock("inner", async () => {
        order.push("b ran");
      });
      // b waits in PostgreSQL, on a's advisory lock: seen in pg_locks, so a broken lock would hang here instead.
      await waitUntilSql(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = $1)",
        [database],
      );
      expect(order).toEqual([]);
      finish();
      await Promise.all([outer, other]);
      expect(order).toEqual(["a done", "b ran"]);
    });

    it("never deadlocks a nested lock behind a change waiting for the last pooled connection", async () => {
      const url = await cluster.createDatabase();
      const single = await openPgStore({ connectionString: url, poolSize: 1 });
      opened.push(single);
      let entered!: () => void;
      const inA = new Promise<void>((resolve) => (entered = resolve));
      let queued!: () => void;
      const topLevelQueued = new Promise<void>((resolve) => (queued = resolve));
      const outer = single.withLock("A", async () => {
        // Holding the pool's only connection, while a top-level change of B waits for it, first in line for B...
        entered();
        await topLevelQueued;
        // ...this nested lock of B must not queue behind it.
        return single.withLock("B", async () => {
          await single.batch([{ type: "put", key: "B", value: value(1) }]);
          return "nested B";
        });
      });
      await inA;
      // Called here, outside A's transaction: a top-level change.
      const topLevel = single.withLock("B", async () => "top-level B");
      await new Promise((resolve) => setImmediate(resolve));
      queued();
      await expect(outer).resolves.toBe("nested B");
      await expect(topLevel).resolves.toBe("top-level B");
      expect(await single.get("B")).toEqual(value(1));
    });

    it("writes nothing of a change that throws, and rethrows its error", async () => {
      await a.batch([{ type: "put", key: "x", value: value(1) }]);
      await expect(
        a.withLock("x", async () => {
          await a.batch([
            { type: "put", key: "x", value: value(2) },
            { type: "put", key: "y", value: value(3) },
          ]);
          throw new Error("change failed");
        }),
      ).rejects.toThrow("change failed");
      expect(await b.get("x")).toEqual({ v: 1, n: 1 });
      expect(await b.get("y")).toBeUndefined();
      // The lock was released on both nodes.
      await expect(b.withLock("x", async () => "ran")).resolves.toBe("ran");
    });
  });

  describe("keys and values", () => {
    // Separators (U+001F), the range end (U+FFFF), and characters whose UTF-8 order differs from UTF-16's
    // (an astral emoji sorts after U+FFFF in UTF-8, before it in UTF-16).
    const keys = ["a", "a\x1f", "a\x1fb", "a\x1f\uffff", "a\x1fz", "b", "é", "中", "\uffff", "\u{1F600}", "~", "A", "a b"];

    it("orders keys as LevelDB does (UTF-8 bytes), in both directions and within U+FFFF-bounded ranges", async () => {
      const store = await open(await cluster.createDatabase());
      const dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-order-"));
      const level = await openLevelStore(path.join(dir, "db"));
      try {
        const ops = keys.map((key, n) => ({ type: "put" as const, key, value: value(n) }));
        await store.batch(ops);
        await level.batch(ops);
        const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
        expect(await keysOf(store, "", "\u{10FFFF}")).toEqual(expected);
        // LevelDB's store also holds its two compaction bound records (keys.ts): left out of the comparison.
        const bounds: string[] = [compactionBounds.low, compactionBounds.high];
        const levelKeys = (await keysOf(level, "", "\u{10FFFF}")).filter((key) => !bounds.includes(key));
        expect(await keysOf(store, "", "\u{10FFFF}")).toEqual(levelKeys);
        expect(await keysOf(store, "", "\u{10FFFF}", true)).toEqual([...expected].reverse());
        expect(await keysOf(store, "a\x1f", "a\x1f\uffff")).toEqual(await keysOf(level, "a\x1f", "a\x1f\uffff"));
        expect(await keysOf(store, "a\x1f", "a\x1f\uffff")).toEqual(["a\x1f", "a\x1fb", "a\x1fz"]);
        for (const [n, key] of keys.entries()) expect(await store.get(key)).toEqual(value(n));
      } finally {
        await level.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("keeps the JSON text exactly as written and reads it back equal", async () => {
      const url = await cluster.createDatabase();
      const store = await open(url);
      const record = { v: 3, text: "line\u2028sep \u0000-free é 中 \u{1F600}", big: 2 ** 53 - 1, small: 1e-7, nested: { list: [1, "2", null, true] } };
      await store.batch([{ type: "put", key: "k", value: record }]);
      expect(await store.get("k")).toEqual(record);
      const database = new URL(url).pathname.slice(1);
      const row = await cluster.sql("SELECT value FROM secretslite_records WHERE key = 'k'", [], database);
      expect(row.rows[0].value).toBe(JSON.stringify(record));
    });

    it("pages through ranges longer than a page, and stops at the consumer's break and at limit", async () => {
      const store = await open(await cluster.createDatabase());
      const all = Array.from({ length: 700 }, (_, i) => `k${String(i).padStart(4, "0")}`);
      await store.batch(all.map((key, n) => ({ type: "put" as const, key, value: value(n) })));
      expect(await keysOf(store, "k", "k\uffff")).toEqual(all);
      expect(await keysOf(store, "k", "k\uffff", true)).toEqual([...all].reverse());
      const limited: number[] = [];
      for await (const [, record] of store.range({ gte: "k", lt: "k\uffff", limit: 300, reverse: true })) limited.push(record.n as number);
      expect(limited).toEqual(Array.from({ length: 300 }, (_, i) => 699 - i));
      let seen = 0;
      for await (const entry of store.range({ gte: "k", lt: "k\uffff" })) {
        expect(entry[1]).toEqual(value(seen));
        if (++seen === 3) break;
      }
      expect(seen).toBe(3);
      // The break left no connection checked out: the store closes at once and cleanly.
      await store.close();
    });

    it("applies the last operation on a key within one batch, as LevelDB does", async () => {
      const store = await open(await cluster.createDatabase());
      await store.batch([
        { type: "put", key: "p", value: value(1) },
        { type: "del", key: "p" },
        { type: "put", key: "q", value: value(1) },
        { type: "del", key: "q" },
        { type: "put", key: "q", value: value(2) },
      ]);
      expect(await store.get("p")).toBeUndefined();
      expect(await store.get("q")).toEqual(value(2));
    });
  });
});

describe("PgStore when PostgreSQL goes away", () => {
  let cluster: PostgresCluster;
  let url: string;
  let store: PgStore | undefined;

  beforeAll(async () => {
    // A cluster of its own: these cases stop and kill it.
    cluster = await startPostgres();
  });
  beforeEach(async () => {
    url = await cluster.createDatabase();
    store = await openPgStore({ connectionString: url, probe: { firstMs: 50, maxMs: 200 } });
  });
  afterEach(async () => {
    await store?.close();
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it.each([
    ["restarted", (c: PostgresCluster) => c.halt()],
    ["killed", (c: PostgresCluster) => c.kill()],
  ])("answers StoreFault and reports degraded while it is %s, then recovers without a reopen", async (_name, down) => {
    const s = store!;
    await s.batch([{ type: "put", key: "before", value: value(1) }]);
    // Idle connections sit in both pools when the server goes: their 'error' events must not crash the process.
    await Promise.all([s.get("before"), s.withLock("r", async () => s.get("before"))]);
    await down(cluster);
    await expect(s.get("before")).rejects.toBeInstanceOf(StoreFault);
    await expect(s.batch([{ type: "put", key: "gap", value: value(2) }])).rejects.toBeInstanceOf(StoreFault);
    await expect(s.withLock("r", async () => "never")).rejects.toBeInstanceOf(StoreFault);
    await expect(s.range({ gte: "", lt: "\uffff" })[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(StoreFault);
    expect(s.status()).toMatch(/^degraded: PostgreSQL unreachable: /);
    await cluster.start();
    await until(() => s.status() === "open");
    expect(await s.get("before")).toEqual(value(1));
    expect(await s.get("gap")).toBeUndefined();
    await s.batch([{ type: "put", key: "after", value: value(3) }]);
    await expect(s.withLock("r", async () => s.get("after"))).resolves.toEqual(value(3));
  });

  it("rejects a change whose COMMIT fails, and nothing of it lands", async () => {
    const s = store!;
    await expect(
      s.withLock("r", async () => {
        await s.batch([{ type: "put", key: "uncommitted", value: value(1) }]);
        await cluster.halt();
        return "would be acknowledged";
      }),
    ).rejects.toBeInstanceOf(StoreFault);
    await cluster.start();
    await until(() => s.status() === "open");
    expect(await s.get("uncommitted")).toBeUndefined();
  });

  it("takes the password from the option, PGPASSWORD or a password file, never needing it in the URL", async () => {
    const database = new URL(url).pathname.slice(1);
    await cluster.sql("CREATE ROLE secretslite_pw LOGIN PASSWORD 'correct horse'");
    await cluster.sql(`GRANT ALL ON DATABASE ${database} TO secretslite_pw`);
    await cluster.sql(`ALTER DATABASE ${database} OWNER TO secretslite_pw`);
    await cluster.sql(`ALTER TABLE secretslite_records OWNER TO secretslite_pw`, [], database);
    await cluster.sql(`ALTER TABLE ${VERSION_TABLE} OWNER TO secretslite_pw`, [], database);
    // Password authentication for that role only (the cluster trusts everyone else), then a reload.
    await cluster.enforcePassword("secretslite_pw");
    const roleUrl = `postgres://secretslite_pw@127.0.0.1:${cluster.port}/${database}`;
    await expect(openPgStore({ connectionString: roleUrl, password: "wrong" })).rejects.toThrow(/password authentication failed/);
    const withOption = await openPgStore({ connectionString: roleUrl, password: "correct horse" });
    await withOption.batch([{ type: "put", key: "pw", value: value(1) }]);
    await withOption.close();
    const saved = process.env.PGPASSWORD;
    process.env.PGPASSWORD = "correct horse";
    try {
      const fromEnv = await openPgStore({ connectionString: roleUrl });
      expect(await fromEnv.get("pw")).toEqual(value(1));
      await fromEnv.close();
    } finally {
      if (saved === undefined) delete process.env.PGPASSWORD;
      else process.env.PGPASSWORD = saved;
    }
    // And a password file (~/.pgpass, or where PGPASSFILE points), private to its owner as libpq requires.
    const dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-pgpass-"));
    const savedFile = process.env.PGPASSFILE;
    try {
      const file = path.join(dir, "pgpass");
      writeFileSync(file, `127.0.0.1:${cluster.port}:${database}:secretslite_pw:correct horse\n`, { mode: 0o600 });
      process.env.PGPASSFILE = file;
      const fromFile = await openPgStore({ connectionString: roleUrl });
      expect(await fromFile.get("pw")).toEqual(value(1));
      await fromFile.close();
    } finally {
      if (savedFile === undefined) delete process.env.PGPASSFILE;
      else process.env.PGPASSFILE = savedFile;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
