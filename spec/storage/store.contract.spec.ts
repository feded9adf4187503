// Contract suite for the Store interface on LevelDB and memory (PostgreSQL: pg-store.contract.spec.ts).
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { recordKey } from "../../src/storage/keys";
import { openLevelBackend, openLevelStore, openMemoryBackend, openMemoryStore } from "../../src/storage/level-store";
import type { RecoverableStore, StoredValue } from "../../src/storage/store";
import { storeContract } from "./store-contract";

const scope = { account: "111122223333", region: "eu-west-1" };
const value = (n: number): StoredValue => ({ v: 1, n });

storeContract("level", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-store-"));
  return { store: await openLevelStore(path.join(dir, "db")), dir };
});
storeContract("memory", async () => ({ store: await openMemoryStore(), dir: undefined }));

/** What the write guard relies on to recover from a failed write (src/storage/write-guard.ts). */
describe.each([
  {
    name: "level",
    open: async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-backend-"));
      return { backend: await openLevelBackend(path.join(dir, "db")), dir };
    },
  },
  { name: "memory", open: async () => ({ backend: await openMemoryBackend(), dir: undefined }) },
])("Recoverable backend: $name", (implementation) => {
  let backend: RecoverableStore;
  let dir: string | undefined;

  beforeEach(async () => {
    ({ backend, dir } = await implementation.open());
  });
  afterEach(async () => {
    await backend.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("reopens in place: every record is still there, and reads and writes work after", async () => {
    const a = recordKey(scope, "kms", "kms-key", "a");
    const b = recordKey(scope, "kms", "kms-key", "b");
    await backend.batch([{ type: "put", key: a, value: value(1) }]);
    await backend.reopen();
    expect(backend.status()).toBe("open");
    expect(await backend.get(a)).toEqual({ v: 1, n: 1 });
    await backend.batch([{ type: "put", key: b, value: value(2) }]);
    expect(await backend.get(b)).toEqual({ v: 1, n: 2 });
  });

  it("probes that the disk takes a write and leaves no file behind", async () => {
    const before = dir === undefined ? [] : readdirSync(path.join(dir, "db")).sort();
    await expect(backend.probeWritable()).resolves.toBeUndefined();
    if (dir !== undefined) expect(readdirSync(path.join(dir, "db")).sort()).toEqual(before);
  });
});
