// The start-up check of a data dir: can it be used, is another process using it, and is every file LevelDB reads sound.
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { checkDbFiles, holdsDatabase, listDbFiles, type Damage } from "./level-format";

/** The newest record schema this build reads (every record is JSON with `v`). */
export const NEWEST_SCHEMA = 1;

/** A data dir that must not be opened; the message says what happened, names the path and says what to do. */
export class DataDirError extends Error {
  override readonly name = "DataDirError";
}

/** `<dataDir>/run.json`: written by a running server (mode 0600), removed when it closes cleanly. */
export interface RunFile {
  readonly pid: number;
  readonly url: string;
  readonly adminToken?: string;
}

export const runFilePath = (dataDir: string): string => path.join(dataDir, "run.json");

export function readRunFile(dataDir: string): RunFile | undefined {
  try {
    const parsed = JSON.parse(readFileSync(runFilePath(dataDir), "utf8")) as RunFile;
    return typeof parsed.pid === "number" && typeof parsed.url === "string" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is alive and, where /proc tells, a node process: a pid left in a stale run file may have been reused. */
/** Written 0600 (it may hold the admin token) by a write to a temporary name and a rename, so a reader never sees half. */
export function writeRunFile(dataDir: string, run: RunFile): void {
  const file = runFilePath(dataDir);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(run) + "\n", { mode: 0o600 });
  renameSync(temporary, file);
}

/**
 * The run file of a server that has this data dir open now: its pid is alive and, where /proc tells, holds
 * db/LOCK open (a pid from a stale run file may since belong to any process). undefined otherwise.
 */
export function runningServer(dataDir: string): RunFile | undefined {
  const run = readRunFile(dataDir);
  if (run === undefined || run.pid === process.pid || !processAlive(run.pid)) return undefined;
  const lock = path.join(dataDir, "db", "LOCK");
  try {
    for (const fd of readdirSync(`/proc/${run.pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${run.pid}/fd/${fd}`) === lock) return run;
      } catch {
        // Closed meanwhile.
      }
    }
    return undefined;
  } catch {
    // No /proc, or not allowed to look: trust the live pid.
    return run;
  }
}

/** Only this process's own run file: a second process refused for the lock must not remove the first's. */
export function removeRunFile(dataDir: string): void {
  if (readRunFile(dataDir)?.pid === process.pid) removeIfPresent(runFilePath(dataDir));
}

export const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    return /node|secretslite/.test(readFileSync(`/proc/${pid}/cmdline`, "latin1"));
  } catch {
    return true;
  }
};

const whatToDo = (dataDir: string): string =>
  `Nothing was changed. Restore a backup into ${dataDir} (made with \`secretslite backup\`), or run \`secretslite repair --data-dir ${dataDir}\`: ` +
  "it keeps a copy of the damaged files and reports what it could not recover";

export const damageMessage = (dataDir: string, damage: Damage): string =>
  `the data dir ${dataDir} is damaged: ${damage.file} ${damage.cause}. ${whatToDo(dataDir)}`;

const ownerOf = (file: string): string => {
  try {
    const { uid } = statSync(file);
    return `uid ${uid}`;
  } catch {
    return "another user, or a dir above it cannot be entered";
  }
};

const userName = (): string => {
  try {
    return `${os.userInfo().username} (uid ${process.getuid?.() ?? "?"})`;
  } catch {
    return `uid ${process.getuid?.() ?? "?"}`;
  }
};

/** One sentence per system error that can stop LevelDB or us from using `target`, with what to do. */
export function describeFsError(code: string | undefined, target: string, dataDir: string): string | undefined {
  switch (code) {
    case "EROFS":
      return `${target} is on a read-only file system: secretslite writes to its data dir even to read. Mount it read-write, or choose another --data-dir`;
    case "EACCES":
    case "EPERM":
      return `${target} cannot be written by ${userName()}: it belongs to ${ownerOf(target)}. Run secretslite as that user, or give the dir to this one (chown -R), or choose another --data-dir`;
    case "ENOSPC":
    case "EDQUOT":
      return `the disk holding ${dataDir} is full (${code}): LevelDB needs room for a new log and MANIFEST to open. Free some space there, then start again; nothing was changed`;
    default:
      return undefined;
  }
}

const lockedMessage = (dataDir: string): string => {
  const run = runningServer(dataDir);
  const who = run !== undefined ? `secretslite (pid ${run.pid}, ${run.url})` : "secretslite or another process (find it with `fuser " + path.join(dataDir, "db", "LOCK") + "`)";
  return `another ${who} has ${dataDir} open: LevelDB allows one process per data dir. Stop it, or give this one another --data-dir; to copy its data while it runs, use \`secretslite backup DIR --data-dir ${dataDir}\``;
};

/** The one message for a failed LevelDB open, from classic-level's error (code LEVEL_LOCKED, or the cause's text). */
export function describeOpenError(error: unknown, dataDir: string): string {
  const chain: Array<{ code?: string; message?: string }> = [];
  for (let e = error as { code?: string; message?: string; cause?: unknown } | undefined; e !== undefined && e !== null && chain.length < 5; e = e.cause as typeof e) chain.push(e);
  const codes = chain.map((e) => e.code);
  const text = chain.map((e) => e.message ?? "").join(": ");
  const dbDir = path.join(dataDir, "db");
  if (codes.includes("LEVEL_LOCKED") || /IO error: lock /.test(text)) return lockedMessage(dataDir);
  const errno: Array<[RegExp, string]> = [
    [/Read-only file system/, "EROFS"],
    [/Permission denied/, "EACCES"],
    [/Operation not permitted/, "EPERM"],
    [/No space left on device/, "ENOSPC"],
    [/Disk quota exceeded/, "EDQUOT"],
  ];
  for (const [pattern, code] of errno) if (pattern.test(text)) return describeFsError(code, dbDir, dataDir)!;
  if (codes.includes("LEVEL_CORRUPTION") || /Corruption/.test(text)) return `the data dir ${dataDir} is damaged: LevelDB says ${JSON.stringify(text)}. ${whatToDo(dataDir)}`;
  return `LevelDB could not open ${dbDir}: ${text}`;
}

/** Creates the data dir if needed and proves it writable with a small file, so a failure names its real cause. */
export function ensureWritableDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataDirError(describeFsError(code, dataDir, dataDir) ?? `cannot create the data dir ${dataDir}: ${(error as Error).message}`);
  }
  for (const dir of [dataDir, path.join(dataDir, "db")]) {
    const probe = path.join(dir, `.secretslite-probe-${process.pid}`);
    let fd: number | undefined;
    try {
      fd = openSync(probe, "wx", 0o600);
      // A few KiB: creating a file on a full disk can succeed, writing to it cannot.
      writeSync(fd, Buffer.alloc(16384));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && dir !== dataDir) continue; // no db yet: LevelDB creates it in a dir just proven writable
      throw new DataDirError(describeFsError(code, dir, dataDir) ?? `cannot write in ${dir}: ${(error as Error).message}`);
    } finally {
      if (fd !== undefined) closeSync(fd);
      rmSync(probe, { force: true });
    }
  }
}

export interface DataDirCheck {
  /** The dir already held a database (open it with createIfMissing false). */
  readonly existing: boolean;
  readonly records: number;
  readonly milliseconds: number;
  /** Things worth a log line that do not stop the start (a write cut short by a crash). */
  readonly warnings: string[];
}

/**
 * Checks `<dataDir>/db` before the server opens it: every byte LevelDB reads (level-format.ts), then a child
 * process opens it and reads every record (JSON with a known schema `v`). The child, because LevelDB aborts the
 * process on a failed assertion, which no JavaScript can catch: a dead child is a report, not a dead server.
 * Throws DataDirError with the one message to print. `runFile`, when given, is written once the files are known
 * sound and before LevelDB opens them: never over a refused dir, always before the first write.
 */
export async function checkDataDir(dataDir: string, runFile?: RunFile): Promise<DataDirCheck> {
  const started = Date.now();
  ensureWritableDataDir(dataDir);
  const dbDir = path.join(dataDir, "db");
  const files = listDbFiles(dbDir);
  if (!holdsDatabase(files)) {
    if (runFile !== undefined) writeRunFile(dataDir, runFile);
    return { existing: false, records: 0, milliseconds: Date.now() - started, warnings: [] };
  }

  if (runningServer(dataDir) !== undefined) throw new DataDirError(lockedMessage(dataDir));
  const run = readRunFile(dataDir);
  const check = checkDbFiles(dbDir);
  if (check.damage !== undefined) throw new DataDirError(damageMessage(dataDir, check.damage));
  const warnings: string[] = [];
  if (check.tornTails.length > 0) {
    const tail = check.tornTails[0]!;
    // A run file left behind means the last run did not close: a write it never acknowledged was cut short, and
    // LevelDB drops it. After a clean close every record is whole, so a cut-short one means the file was truncated.
    if (run === undefined) {
      throw new DataDirError(damageMessage(dataDir, { file: tail.file, cause: `is cut short after a clean shutdown (${tail.cause}): the file was truncated, and records after the cut are lost`, dataLost: true }));
    }
    warnings.push(`the last run did not close cleanly; an unacknowledged write it left unfinished is dropped: ${tail.file}: ${tail.cause}`);
  }
  // The run file goes down before anything opens LevelDB (the child's open may already turn the log into a table):
  // a kill from here on, of this process and its child alike, leaves it behind, marking the run as not closed.
  if (runFile !== undefined) writeRunFile(dataDir, runFile);
  const scan = await scanInChild(dbDir);
  if (scan.kind === "stopped") {
    throw new DataDirError(
      `the check of ${dbDir} was stopped by ${scan.signal} before it finished (not a sign of damage: LevelDB aborts with SIGABRT or SIGSEGV). ` +
        "Nothing was changed; start again",
    );
  }
  if (scan.kind === "signal") {
    throw new DataDirError(`the data dir ${dataDir} is damaged: LevelDB aborted (${scan.signal}) while reading ${dbDir}${scan.detail === "" ? "" : ` (${scan.detail})`}. ${whatToDo(dataDir)}`);
  }
  if (scan.kind === "open") throw new DataDirError(describeOpenError(scan.error, dataDir));
  if (scan.kind === "record") throw new DataDirError(`the data dir ${dataDir} is damaged: the record ${JSON.stringify(scan.key)} in ${dbDir} ${scan.cause}. ${whatToDo(dataDir)}`);
  if (scan.kind === "newer") throw new DataDirError(`the data dir ${dataDir} was written by a newer secretslite (record schema ${scan.v}; this one reads up to ${NEWEST_SCHEMA}): run that version, or restore a backup made by this one`);
  return { existing: true, records: scan.records, milliseconds: Date.now() - started, warnings };
}

export type ScanResult =
  | { kind: "ok"; records: number; byKind: Record<string, number> }
  | { kind: "open"; error: { code?: string; message: string } }
  | { kind: "record"; key: string; cause: string }
  | { kind: "newer"; v: number }
  | { kind: "signal"; signal: string; detail: string }
  /** Ended from outside (an OOM kill, a stop): says nothing about the files. */
  | { kind: "stopped"; signal: string };

// Signals something outside the child sends; LevelDB's own failures arrive as SIGABRT, SIGSEGV or SIGBUS.
const STOPPED_FROM_OUTSIDE = new Set(["SIGKILL", "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"]);

/**
 * The child: opens with createIfMissing false (never a fresh database over a damaged dir), reads every record.
 * Plain JS in a string so it runs the same from dist/ and from the TypeScript sources under test.
 */
const SCAN_CHILD = `
const [classicLevel, location, task, newest] = process.argv.slice(1);
const { ClassicLevel } = require(classicLevel);
const say = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
(async () => {
  if (task === "repair") {
    try { await ClassicLevel.repair(location); } catch (e) { say({ kind: "open", error: { code: e.code, message: String(e.message) } }); return; }
  }
  // compression: false as the server opens it: this open may turn the log into a table, and tables stay plain.
  const db = new ClassicLevel(location, { createIfMissing: false, compression: false, keyEncoding: "utf8", valueEncoding: "utf8" });
  try { await db.open(); } catch (e) {
    const c = e.cause || e;
    say({ kind: "open", error: { code: c.code || e.code, message: String(c.message || e.message) } });
    return;
  }
  let records = 0;
  const byKind = {};
  let bad;
  for await (const [key, value] of db.iterator()) {
    records++;
    const kind = key.split("\\x1f")[3] || "(internal)";
    byKind[kind] = (byKind[kind] || 0) + 1;
    if (bad !== undefined) continue;
    let parsed;
    try { parsed = JSON.parse(value); } catch { bad = { kind: "record", key, cause: "is not JSON" }; continue; }
    if (parsed === null || typeof parsed !== "object" || !Number.isInteger(parsed.v) || parsed.v < 1) bad = { kind: "record", key, cause: "has no schema version v" };
    else if (parsed.v > Number(newest)) bad = { kind: "newer", v: parsed.v };
  }
  await db.close();
  say(bad ?? { kind: "ok", records, byKind });
})().catch((e) => { say({ kind: "open", error: { code: e.code, message: String(e.message) } }); });
`;

/** Runs the scan (or LevelDB's repair, then the scan) in a child node process. */
export function scanInChild(dbDir: string, task: "scan" | "repair" = "scan"): Promise<ScanResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", SCAN_CHILD, require.resolve("classic-level"), dbDir, task, String(NEWEST_SCHEMA)], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.once("error", reject);
    child.once("close", (code, signal) => {
      const lines = stdout.trim().split("\n").filter((line) => line !== "");
      const last = lines[lines.length - 1];
      if (signal !== null && STOPPED_FROM_OUTSIDE.has(signal)) {
        resolve({ kind: "stopped", signal });
        return;
      }
      if (signal !== null || last === undefined) {
        const detail = stderr.trim().split("\n").filter((line) => line !== "").pop() ?? (code === null ? "" : `exit code ${code}`);
        resolve({ kind: "signal", signal: signal ?? `exit ${code}`, detail });
        return;
      }
      resolve(JSON.parse(last) as ScanResult);
    });
  });
}

/** Removes a file ignoring its absence. */
export const removeIfPresent = (file: string): void => {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
};
