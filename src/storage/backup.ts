// `secretslite backup DIR`: a data dir of its own, from one LevelDB snapshot plus the token's files, taken while the server runs or not.
import { mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { ClassicLevel } from "classic-level";
import { copyTokenFiles } from "../crypto/token-files";
import { checkDataDir, DataDirError, describeOpenError, runningServer } from "./data-dir-check";
import type { StoredValue } from "./store";

export interface BackupResult {
  readonly records: number;
  readonly dir: string;
  /** "server" when the running server wrote it, "direct" when the CLI opened the data dir itself. */
  readonly via: "server" | "direct";
}

/** Everything a store holds, read through one iterator: LevelDB gives an iterator an implicit snapshot. */
export type RecordSource = AsyncIterable<[string, StoredValue]>;

/** The key space in full: the compaction bounds (\x01, \uffff\uffff) included. */
export const WHOLE_KEY_SPACE = { gte: "\x00", lt: "\uffff\uffff\uffff" } as const;

/** A backup dir must be new or empty: a backup over another data dir would mix two databases. */
export function prepareBackupDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const present = readdirSync(dir);
  if (present.length > 0) throw new DataDirError(`the backup dir ${dir} is not empty (${present.slice(0, 3).join(", ")}…): give a new or empty dir`);
}

/**
 * Writes `source` into a fresh LevelDB at `<dir>/db`, then copies the token of `dataDir` under the token's lock
 * (token-files.ts), so the copy can start as a data dir: `secretslite --data-dir DIR`. The records come first:
 * the token only gains material, so a token newer than the records still opens every key they wrap.
 */
export async function writeBackup(source: RecordSource, tokenHome: string | undefined, dir: string): Promise<number> {
  prepareBackupDir(dir);
  const target = new ClassicLevel<string, StoredValue>(path.join(dir, "db"), { valueEncoding: "json", compression: false, errorIfExists: true });
  await target.open();
  let records = 0;
  try {
    let batch = target.batch();
    for await (const [key, value] of source) {
      batch.put(key, value);
      records++;
      if (batch.length >= 1000) {
        await batch.write();
        batch = target.batch();
      }
    }
    await batch.write();
  } finally {
    await target.close();
  }
  // A --token-label token is the user's own, outside the data dir: not ours to copy.
  if (tokenHome !== undefined) await copyTokenFiles(tokenHome, path.join(dir, "token"));
  return records;
}

export interface BackupOptions {
  /** For a data dir whose server runs: fetch, overridable in tests. */
  readonly fetch?: typeof fetch;
}

/** The CLI side: ask the running server (found by `<dataDir>/run.json`), or open the data dir directly. */
export async function backupDataDir(dataDir: string, tokenHome: string | undefined, dir: string, options: BackupOptions = {}): Promise<BackupResult> {
  const destination = path.resolve(dir);
  const run = runningServer(dataDir);
  if (run !== undefined) {
    const response = await (options.fetch ?? fetch)(`${run.url}/_secretslite/backup`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(run.adminToken === undefined ? {} : { "x-secretslite-admin-token": run.adminToken }) },
      body: JSON.stringify({ dir: destination }),
    }).catch((error: unknown) => {
      throw new DataDirError(`secretslite (pid ${run.pid}) holds ${dataDir} but does not answer at ${run.url}: ${(error as Error).message}`);
    });
    const body = (await response.json().catch(() => ({}))) as { records?: number; message?: string };
    if (!response.ok) throw new DataDirError(`the running secretslite (${run.url}) refused the backup: ${body.message ?? `HTTP ${response.status}`}`);
    return { records: body.records ?? 0, dir: destination, via: "server" };
  }
  // No server: the same check a start makes, so a damaged dir is refused, not copied, and LevelDB never aborts us.
  const checked = await checkDataDir(dataDir);
  if (!checked.existing) throw new DataDirError(`${dataDir} holds no database to back up`);
  const db = new ClassicLevel<string, StoredValue>(path.join(dataDir, "db"), { createIfMissing: false, compression: false, valueEncoding: "json" });
  try {
    await db.open();
  } catch (error) {
    throw new DataDirError(describeOpenError(error, dataDir));
  }
  try {
    const records = await writeBackup(db.iterator(WHOLE_KEY_SPACE), tokenHome, destination);
    return { records, dir: destination, via: "direct" };
  } finally {
    await db.close();
  }
}
