// The data dir is its owner's alone: 0700 directories and 0600 files (names, tags and policies sit in LevelDB in clear).
import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync, type Stats } from "node:fs";
import path from "node:path";
import type { Logger } from "../logger";

/**
 * What secretslite keeps in a data dir (and copies set aside beside them, db.broken-…); only these are walked,
 * so a data dir pointed at a busy directory (`--data-dir .`) is left alone beyond them and its top-level files.
 */
const OWN_DIR = /^(?:db|token|tls)(?:[.-].*)?$/;

export interface Tightened {
  /** Entries whose mode was looser and is now private. */
  readonly changed: readonly string[];
  /** Entries left as they were, with why (not ours to change, a read-only mount, …). */
  readonly skipped: readonly string[];
}

/**
 * Creates `dir` 0700 if missing, then takes group and other permissions off it, off its regular files and off
 * everything under db*, token* and tls*. LevelDB creates files from native code with 0666 & ~umask, so in
 * another program's process (start()) new files are 0644 but sit in 0700 directories nobody else can enter;
 * the CLI sets umask 077 so that its files are 0600 too. Never fails a start: a mode that cannot be changed is
 * reported and left.
 */
export function makePrivate(dir: string, logger: Logger, reason: "start" | "opened" = "start"): Tightened {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const changed: string[] = [];
  const skipped: string[] = [];
  const tighten = (entry: string, stats: Stats): void => {
    const mode = stats.mode & 0o7777;
    if ((mode & 0o077) === 0) return;
    const uid = process.getuid?.();
    // /tmp and its kind (sticky, shared) or an entry someone else owns: changing it would break others, not protect us.
    if ((stats.isDirectory() && (mode & 0o1000) !== 0) || (uid !== undefined && stats.uid !== uid)) {
      skipped.push(`${entry} (mode ${mode.toString(8)}, not secretslite's to change)`);
      return;
    }
    try {
      chmodSync(entry, stats.isDirectory() ? 0o700 : mode & 0o700);
      changed.push(entry);
    } catch (error) {
      skipped.push(`${entry} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  };
  const walk = (entry: string): void => {
    let stats: Stats;
    try {
      stats = lstatSync(entry);
    } catch {
      return;
    }
    if (stats.isSymbolicLink()) return;
    tighten(entry, stats);
    if (!stats.isDirectory()) return;
    let names: string[];
    try {
      names = readdirSync(entry);
    } catch {
      return;
    }
    for (const name of names) walk(path.join(entry, name));
  };

  // The data dir itself may be a symlink (to a volume, say): its target is what must be private.
  tighten(dir, statSync(dir));
  for (const name of readdirSync(dir)) {
    const entry = path.join(dir, name);
    if (OWN_DIR.test(name)) walk(entry);
    else {
      const stats = lstatSync(entry, { throwIfNoEntry: false });
      if (stats?.isFile() === true) tighten(entry, stats);
    }
  }
  if (reason === "start" && changed.length > 0) {
    logger.warn("the data dir was open to other users: made it private (directories 0700, files 0600)", { dir, changed: changed.length, first: changed.slice(0, 5) });
  }
  if (reason === "start" && skipped.length > 0) logger.warn("the data dir has entries other users can read that were left as they are", { dir, skipped });
  return { changed, skipped };
}
