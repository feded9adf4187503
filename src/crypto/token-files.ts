// The SoftHSM token's files on disk: the cross-process lock, a verified copy of the files, and restoring from it.

import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { link, mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { hostProcess } from "./token-environment";

/**
 * SoftHSM2 rewrites `tokens/<uuid>/token.object` in place on every login (ftruncate(0), then write): a
 * kill in that gap leaves 0 bytes and the token, with every key under it, is gone. Its other files are
 * written the same way when made (an object one attribute at a time). So secretslite keeps a copy of
 * the files taken when they are known good (right after the token is made, before its first login; and
 * once the root key exists, before anything is encrypted under it), each copy complete or absent, and
 * before SoftHSM reads the files (C_Initialize) puts back any that a kill damaged. Everything here
 * runs under the token home's lock, which every start holds from before the check until the copy is
 * current: no second process restores over a login in progress, nor copies half-written files.
 *
 * Layout under the token home (`<data-dir>/token`):
 *   tokens/<uuid>/{token.object, generation, <uuid>.object…}   SoftHSM's own files, live
 *   backups/<n>/tokens/<uuid>/…  and  backups/<n>/MANIFEST.json   the copies, highest n is newest
 *   quarantine/<time>/<uuid>/<uuid>.object                         half-made objects moved aside
 *   init.lock                                                      the lock: "<pid> <start time>"
 */

export const LOCK_FILE = "init.lock";
const BACKUPS_DIR = "backups";
const MANIFEST_FILE = "MANIFEST.json";
/** Where object files a killed start left half-made go, under the token home (never deleted by secretslite). */
const QUARANTINE_DIR = "quarantine";
const MANIFEST_VERSION = 1;
// Two complete copies: should the newest ever fail its checksums, the one before still holds the token.
const BACKUPS_KEPT = 2;
/** SoftHSM's record of the token itself (label, flags, PIN-wrapped token key), rewritten on every login. */
const TOKEN_OBJECT = "token.object";
/** SoftHSM's change counter, 8 bytes rewritten in place. */
const GENERATION = "generation";

interface ManifestEntry {
  /** `<uuid>/<file>`, relative to the tokens directory. */
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

interface Manifest {
  readonly version: number;
  readonly files: readonly ManifestEntry[];
}

export interface TokenBackup {
  readonly dir: string;
  readonly manifest: Manifest;
}

export interface TokenRepair {
  /** The copy the files came from. */
  readonly backup: string;
  /** Live files replaced by their copy, as `<uuid>/<file>`. */
  readonly restored: readonly string[];
  /** Object files moved to `quarantine`: made after the copy by a start that died before using them. */
  readonly removed: readonly string[];
  readonly quarantine: string | undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// The lock

const LOCK_POLL_MS = 25;
const LOCK_WAIT_MS = 120_000;
// A holder that died mid-start leaves its lock behind; past this age (or once its process is gone) it is stale.
const LOCK_STALE_MS = 300_000;
// Lock files are written aside and linked into place, so they are never empty; one left empty by an older
// version, whose holder was killed between create and write, is stale once it is this old.
const EMPTY_LOCK_STALE_MS = 2_000;

/**
 * Lock paths held in this process. Kept on the real process (not this module), because jest loads this module
 * once per spec file in one process: a lock naming our own pid that no code here holds was left by an earlier
 * process that had the same pid (a container's pid 1, restarted), and is stale.
 */
const heldLocks: Set<string> = ((hostProcess as unknown as Record<symbol, Set<string> | undefined>)[Symbol.for("secretslite.tokenLocks")] ??=
  new Set<string>());

/** Runs `work` holding `<tokenHome>/init.lock`: in-process and cross-process callers alike wait their turn. */
export async function withTokenLock<T>(tokenHome: string, work: () => Promise<T>): Promise<T> {
  const lockPath = join(tokenHome, LOCK_FILE);
  const deadline = Date.now() + LOCK_WAIT_MS;
  const holder = `${hostProcess.pid} ${processStartTime(hostProcess.pid) ?? ""}`.trim();
  for (;;) {
    if (!heldLocks.has(lockPath) && (await tryLock(lockPath, holder))) break;
    if (!heldLocks.has(lockPath) && (await lockIsStale(lockPath))) {
      await breakLock(lockPath);
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${lockPath}; remove it if no secretslite is starting on this directory`);
    }
    await new Promise((wake) => setTimeout(wake, LOCK_POLL_MS));
  }
  try {
    await sweepLockLitter(tokenHome);
    return await work();
  } finally {
    heldLocks.delete(lockPath);
    await rm(lockPath, { force: true });
  }
}

async function tryLock(lockPath: string, holder: string): Promise<boolean> {
  // Written aside, then linked: a lock file is never seen empty, so a kill can never leave one nobody can judge.
  const staging = `${lockPath}.${hostProcess.pid}-${randomBytes(4).toString("hex")}.tmp`;
  // Not fsynced: after a power cut the holder it names is gone (or another process, started at another time).
  await writeFile(staging, holder, { mode: 0o600, flag: "wx" });
  try {
    await link(staging, lockPath);
    // At once, before any await: another caller in this process must never judge our fresh lock stale.
    heldLocks.add(lockPath);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await unlink(staging).catch(() => undefined);
  }
}

async function lockIsStale(lockPath: string): Promise<boolean> {
  try {
    const [holder, info] = await Promise.all([readFile(lockPath, "utf8"), stat(lockPath)]);
    const age = Date.now() - info.mtimeMs;
    if (age > LOCK_STALE_MS) return true;
    if (holder === "") return age > EMPTY_LOCK_STALE_MS;
    return !holderIsAlive(holder, lockPath);
  } catch (error) {
    // Released while we looked.
    return (error as NodeJS.ErrnoException).code === "ENOENT";
  }
}

function holderIsAlive(holder: string, lockPath: string): boolean {
  const [pidText, startTime] = holder.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  // Ours, yet not held here: left by an earlier process that had our pid.
  if (pid === hostProcess.pid) return heldLocks.has(lockPath);
  try {
    process.kill(pid, 0);
  } catch (error) {
    // ESRCH: its holder is gone. EPERM: alive, someone else's.
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  // A live pid that started at another time is a reused pid, not the holder.
  const now = processStartTime(pid);
  return startTime === undefined || now === undefined || now === startTime;
}

/** Field 22 of /proc/<pid>/stat (clock ticks after boot): with the pid, names one process even across pid reuse. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/**
 * Moves the stale lock aside before judging it again, so two starters that both found it stale cannot each
 * delete the other's fresh lock: only one rename wins, and a lock that turns out live is put back.
 */
async function breakLock(lockPath: string): Promise<void> {
  const aside = `${lockPath}.${hostProcess.pid}-${randomBytes(4).toString("hex")}.stale`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  const holder = await readFile(aside, "utf8").catch(() => "");
  if (holder !== "" && holderIsAlive(holder, lockPath)) await link(aside, lockPath).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

/** Staging and stale files a killed starter left beside the lock; called holding it. */
async function sweepLockLitter(tokenHome: string): Promise<void> {
  for (const name of await readdir(tokenHome)) {
    const match = /^init\.lock\.(\d+)-[0-9a-f]+\.(tmp|stale)$/.exec(name);
    if (match === null) continue;
    const pid = Number(match[1]);
    // This process's own are in use by its other callers; a live process's likewise.
    if (pid === hostProcess.pid || holderIsAlive(String(pid), "")) continue;
    await rm(join(tokenHome, name), { force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The copy

/** Whether `name`, a file in a SoftHSM token directory, holds data worth keeping (lock files are empty fcntl targets). */
function isTokenDataFile(name: string): boolean {
  return name === TOKEN_OBJECT || name === GENERATION || name.endsWith(".object");
}

/** A key (or other object) file, as opposed to the token's own record. */
function isObjectFile(name: string): boolean {
  return name.endsWith(".object") && name !== TOKEN_OBJECT;
}

/** The live data files, as `<uuid>/<file>`, with their sizes. */
async function liveFiles(tokensDir: string): Promise<Map<string, number>> {
  const files = new Map<string, number>();
  for (const token of await readdirOrEmpty(tokensDir)) {
    const tokenDir = join(tokensDir, token);
    if (!(await stat(tokenDir)).isDirectory()) continue;
    for (const name of await readdir(tokenDir)) {
      if (!isTokenDataFile(name)) continue;
      files.set(`${token}/${name}`, (await stat(join(tokenDir, name))).size);
    }
  }
  return files;
}

/**
 * Copies every data file of every token under `<tokenHome>/tokens` to a new `backups/<n>`: into a temporary
 * directory, each file fsynced, the manifest (sizes and SHA-256) written last and fsynced, then renamed into
 * place and the parent fsynced. A kill at any point leaves the earlier copy whole. Call it holding the lock.
 */
export async function backUpTokenFiles(tokenHome: string): Promise<TokenBackup> {
  const tokensDir = join(tokenHome, "tokens");
  const backupsDir = join(tokenHome, BACKUPS_DIR);
  await mkdir(backupsDir, { recursive: true, mode: 0o700 });
  const numbers = await backupNumbers(backupsDir);
  const next = (numbers.at(-1) ?? 0) + 1;
  const staging = join(backupsDir, `${next}.tmp-${randomBytes(4).toString("hex")}`);
  const entries: ManifestEntry[] = [];
  try {
    for (const [path, size] of await liveFiles(tokensDir)) {
      const name = path.slice(path.indexOf("/") + 1);
      if (size === 0) {
        // An empty object file is one a killed start was writing: it holds nothing anyone used (see repair).
        if (isObjectFile(name)) continue;
        throw new Error(
          `The SoftHSM token file ${join(tokensDir, path)} is empty; refusing to copy a damaged token. It was damaged before ` +
            `secretslite kept a verified copy of it (${join(tokenHome, BACKUPS_DIR)}): restore ${tokenHome} from a backup of the data dir`,
        );
      }
      const bytes = await readFile(join(tokensDir, path));
      const target = join(staging, "tokens", path);
      await mkdir(join(target, ".."), { recursive: true, mode: 0o700 });
      await writeDurably(target, bytes, 0o600);
      entries.push({ path, bytes: bytes.length, sha256: sha256(bytes) });
    }
    for (const token of new Set(entries.map((entry) => entry.path.split("/")[0]!))) await fsyncDir(join(staging, "tokens", token));
    await fsyncDir(join(staging, "tokens")).catch(() => undefined);
    const manifest: Manifest = { version: MANIFEST_VERSION, files: entries };
    // Read back before publishing: a copy that does not verify must never become the one restores trust.
    await verifyBackup(staging, manifest);
    await writeDurably(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`, 0o600);
    await fsyncDir(staging);
    await rename(staging, join(backupsDir, String(next)));
    await fsyncDir(backupsDir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  // Older copies and the leftovers of killed ones go only once the new copy is durable: the newest copies
  // that verify are kept, and nothing that does not verify (it could never be restored from).
  const kept = new Set<string>();
  for (const number of (await backupNumbers(backupsDir)).reverse()) {
    if (kept.size === BACKUPS_KEPT) break;
    if ((await readBackup(join(backupsDir, String(number)))) !== undefined) kept.add(String(number));
  }
  for (const name of await readdir(backupsDir)) {
    if (!kept.has(name)) await rm(join(backupsDir, name), { recursive: true, force: true });
  }
  return { dir: join(backupsDir, String(next)), manifest: { version: MANIFEST_VERSION, files: entries } };
}

/** The newest copy whose every file matches its manifest, or undefined when there is none. */
export async function latestBackup(tokenHome: string): Promise<TokenBackup | undefined> {
  const backupsDir = join(tokenHome, BACKUPS_DIR);
  for (const number of (await backupNumbers(backupsDir)).reverse()) {
    const backup = await readBackup(join(backupsDir, String(number)));
    // Otherwise incomplete or damaged: an older copy may still be whole.
    if (backup !== undefined) return backup;
  }
  return undefined;
}

async function readBackup(dir: string): Promise<TokenBackup | undefined> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), "utf8")) as Manifest;
    if (manifest.version !== MANIFEST_VERSION || !Array.isArray(manifest.files)) return undefined;
    await verifyBackup(dir, manifest);
    return { dir, manifest };
  } catch {
    return undefined;
  }
}

async function verifyBackup(dir: string, manifest: Manifest): Promise<void> {
  for (const entry of manifest.files) {
    const bytes = await readFile(join(dir, "tokens", entry.path));
    if (bytes.length !== entry.bytes || sha256(bytes) !== entry.sha256) {
      throw new Error(`The token copy ${join(dir, "tokens", entry.path)} does not match its manifest`);
    }
  }
}

/**
 * Whether the live files hold something the newest copy lacks (a token or an object made since), or there is
 * no copy: then a new copy is due. token.object and generation change at every login and are not compared:
 * their copies are as good as the live ones (the PINs never change), so a login alone needs no new copy.
 */
export async function backupIsStale(tokenHome: string): Promise<boolean> {
  const backup = await latestBackup(tokenHome);
  if (backup === undefined) return true;
  const copied = new Set(backup.manifest.files.map((entry) => entry.path));
  for (const [path, size] of await liveFiles(join(tokenHome, "tokens"))) {
    if (size > 0 && !copied.has(path)) return true;
  }
  return false;
}

/**
 * Puts back, from the newest verified copy, every token file that is missing or damaged: empty, or of another
 * size than its copy, or (for objects, which SoftHSM never rewrites) of other content. Each is written aside,
 * fsynced and renamed over the damaged one. Call it holding the lock, before C_Initialize.
 * Undefined when there is no copy or nothing needed repair.
 */
export async function repairTokenFiles(tokenHome: string): Promise<TokenRepair | undefined> {
  const backup = await latestBackup(tokenHome);
  if (backup === undefined) return undefined;
  const tokensDir = join(tokenHome, "tokens");
  const restored: string[] = [];
  const removed: string[] = [];
  // What a restore killed before its rename left behind (never indexed by SoftHSM, but litter).
  for (const token of await tokenDirectories(tokenHome)) {
    for (const name of await readdir(join(tokensDir, token))) {
      if (name.endsWith(".restoring")) await rm(join(tokensDir, token, name), { force: true });
    }
  }
  for (const entry of backup.manifest.files) {
    const live = join(tokensDir, entry.path);
    const name = entry.path.slice(entry.path.indexOf("/") + 1);
    let damaged: boolean;
    try {
      const size = (await stat(live)).size;
      damaged = size === 0 || size !== entry.bytes || (isObjectFile(name) && sha256(await readFile(live)) !== entry.sha256);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      damaged = true;
    }
    if (!damaged) continue;
    const bytes = await readFile(join(backup.dir, "tokens", entry.path));
    await mkdir(join(live, ".."), { recursive: true, mode: 0o700 });
    // Not ending in ".object": SoftHSM would index a half-written one as an object.
    const staging = `${live}.restoring`;
    await writeDurably(staging, bytes, 0o600);
    await rename(staging, live);
    await fsyncDir(join(live, ".."));
    restored.push(entry.path);
  }
  // Objects the copy lacks, in a token it has: made by a start that died before refreshing the copy, which it
  // does before handing out its key store, so nothing was ever encrypted under them. SoftHSM writes an object
  // one attribute at a time, so such a file may be a root key without its value or its usage flags; left in
  // place it would be found by label and refused (or worse, used). Moved aside, not deleted.
  const copied = new Set(backup.manifest.files.map((entry) => entry.path));
  const copiedTokens = new Set(backup.manifest.files.map((entry) => entry.path.split("/")[0]));
  const quarantine = join(tokenHome, QUARANTINE_DIR, new Date().toISOString().replace(/[:.]/g, "-"));
  for (const path of (await liveFiles(tokensDir)).keys()) {
    const [token, name] = path.split("/") as [string, string];
    if (copied.has(path) || !copiedTokens.has(token) || !isObjectFile(name)) continue;
    await mkdir(join(quarantine, token), { recursive: true, mode: 0o700 });
    await rename(join(tokensDir, path), join(quarantine, path));
    removed.push(path);
  }
  if (removed.length > 0) {
    for (const token of new Set(removed.map((path) => path.split("/")[0]!))) await fsyncDir(join(tokensDir, token));
  }
  return restored.length === 0 && removed.length === 0
    ? undefined
    : { backup: relative(tokenHome, backup.dir), restored, removed, quarantine: removed.length === 0 ? undefined : quarantine };
}

/** The token directories (uuids) under `<tokenHome>/tokens`. */
export async function tokenDirectories(tokenHome: string): Promise<string[]> {
  const tokensDir = join(tokenHome, "tokens");
  const dirs: string[] = [];
  for (const name of await readdirOrEmpty(tokensDir)) {
    if ((await stat(join(tokensDir, name))).isDirectory()) dirs.push(name);
  }
  return dirs;
}

/**
 * Writes to `destinationDir` a consistent, verified copy of the token secretslite keeps in `tokenHome`
 * (`<data-dir>/token`): `tokens/` as of the newest verified copy (the live files when there is none yet), the
 * user PIN file and the record of initialised tokens. Safe while a server runs on the data dir: it holds the
 * token lock, so no start is changing the files meanwhile. The SoftHSM config is left out on purpose: it names
 * the tokens directory by absolute path, and a start writes it for wherever the copy is put back.
 */
export async function copyTokenFiles(tokenHomeDir: string, destinationDir: string): Promise<void> {
  await withTokenLock(tokenHomeDir, async () => {
    const backup = await latestBackup(tokenHomeDir);
    const source = backup === undefined ? join(tokenHomeDir, "tokens") : join(backup.dir, "tokens");
    const files = backup?.manifest.files ?? [...(await liveFiles(source))].map(([path, bytes]) => ({ path, bytes, sha256: undefined }));
    await mkdir(join(destinationDir, "tokens"), { recursive: true, mode: 0o700 });
    for (const entry of files) {
      const name = entry.path.slice(entry.path.indexOf("/") + 1);
      const bytes = await readFile(join(source, entry.path));
      if (bytes.length === 0 && isObjectFile(name)) continue;
      if (bytes.length === 0 || bytes.length !== entry.bytes || (entry.sha256 !== undefined && sha256(bytes) !== entry.sha256)) {
        throw new Error(`The token file ${join(source, entry.path)} is damaged; not copying it`);
      }
      const target = join(destinationDir, "tokens", entry.path);
      await mkdir(join(target, ".."), { recursive: true, mode: 0o700 });
      await writeDurably(target, bytes, 0o600);
      // What reached the destination is what was read: a copy that does not verify is an error, not a backup.
      if (sha256(await readFile(target)) !== sha256(bytes)) throw new Error(`The copy ${target} does not read back as written`);
    }
    for (const [name, mode] of [["pin", 0o600], ["initialised-tokens", 0o644]] as const) {
      let bytes: Buffer;
      try {
        bytes = await readFile(join(tokenHomeDir, name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
        throw error;
      }
      await writeDurably(join(destinationDir, name), bytes, mode);
    }
    for (const token of new Set(files.map((entry) => entry.path.split("/")[0]!))) {
      await fsyncDir(join(destinationDir, "tokens", token)).catch(() => undefined);
    }
    await fsyncDir(join(destinationDir, "tokens"));
    await fsyncDir(destinationDir);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Durable file helpers

/** Writes `path` whole (created or replaced) and fsyncs it before returning. */
export async function writeDurably(path: string, content: string | Uint8Array, mode: number): Promise<void> {
  const handle = await open(path, "w", mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes a directory's entries (creations, renames, removals) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function backupNumbers(backupsDir: string): Promise<number[]> {
  return (await readdirOrEmpty(backupsDir))
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .sort((a, b) => a - b);
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
