// `secretslite token clone DIR`: a data dir holding nothing but a copy of another's token, for one more node of a cluster.
import { chmod, lstat, mkdir, readdir, rm, rmdir } from "node:fs/promises";
import path from "node:path";
import { copyTokenFiles, tokenDirectories } from "./token-files";

/** Why a clone was refused or failed: the CLI prints the message as it is (exit code 1). */
export class TokenCloneError extends Error {
  override readonly name = "TokenCloneError";
}

export interface TokenCloneResult {
  /** The new data dir (absolute). */
  readonly dir: string;
  /** What was written under `<dir>/token`, as paths relative to it, sorted. */
  readonly files: readonly string[];
}

/**
 * Copies the token secretslite made in `<dataDir>/token` into `<dir>/token`, so that `secretslite --data-dir DIR`
 * on another node logs in to the same token with the same PIN and finds the same root key: every node of a
 * cluster sharing one store must, or none could open what another sealed. The copy is the one backups take
 * (copyTokenFiles: under the token's lock, the newest verified copy of the files), so it is safe while a server
 * runs on `dataDir`. The PIN file is copied as a file and never read into a message.
 */
export async function cloneToken(dataDir: string, dir: string): Promise<TokenCloneResult> {
  const tokenHome = path.join(path.resolve(dataDir), "token");
  const destination = path.resolve(dir);
  // Inside the token home, the copy would be copied into itself (and SoftHSM would find two tokens there).
  if (destination === tokenHome || destination.startsWith(`${tokenHome}${path.sep}`)) {
    throw new TokenCloneError(`${destination} is inside the token directory ${tokenHome}: give a dir outside it`);
  }
  // Checked before anything is created: a data dir that never started has no token, and a clone of nothing
  // would start as a node with a new token and root key of its own, which the cluster's canary then refuses.
  const hasPin = await lstat(path.join(tokenHome, "pin")).then(
    (stats) => stats.isFile(),
    () => false,
  );
  if (!hasPin || (await tokenDirectories(tokenHome)).length === 0) {
    throw new TokenCloneError(
      `${dataDir} holds no token secretslite made (${tokenHome} has no token or no PIN file): start secretslite on it once, then clone it`,
    );
  }
  // The first directory mkdir made (undefined when DIR existed): removed again should the copy fail.
  const made = await mkdir(destination, { recursive: true, mode: 0o700 });
  const present = await readdir(destination);
  // A clone over another data dir would mix two tokens: the older token's keys would be lost to that node.
  if (present.length > 0) {
    throw new TokenCloneError(`${destination} is not empty (${present.slice(0, 3).join(", ")}…): give a new or empty dir`);
  }
  // The dir will hold the PIN: its owner's alone, whatever the umask (and an existing empty dir may have been looser).
  await chmod(destination, 0o700);
  const target = path.join(destination, "token");
  await mkdir(target, { mode: 0o700 });
  try {
    await copyTokenFiles(tokenHome, target);
    const files = await privateTree(target);
    return { dir: destination, files: files.sort() };
  } catch (error) {
    // A half-made clone must not stay: it would start as a node whose token lacks files, and block a retry (not empty).
    await rm(target, { recursive: true, force: true });
    if (made !== undefined) await removeMadeDirs(made, destination);
    throw error;
  }
}

/** Removes `destination` and its parents up to `made`, the first one mkdir created, each only if empty. */
async function removeMadeDirs(made: string, destination: string): Promise<void> {
  for (let dir = destination; dir.length >= made.length; dir = path.dirname(dir)) {
    if (!(await rmdir(dir).then(() => true, () => false))) return;
  }
}

/** Sets every directory under `root` 0700 and every file 0600 (copyTokenFiles leaves modes to the umask); returns the files. */
async function privateTree(root: string, relative = ""): Promise<string[]> {
  const files: string[] = [];
  const here = path.join(root, relative);
  await chmod(here, 0o700);
  for (const name of await readdir(here)) {
    const entry = path.join(relative, name);
    const stats = await lstat(path.join(root, entry));
    if (stats.isDirectory()) files.push(...(await privateTree(root, entry)));
    else {
      await chmod(path.join(root, entry), 0o600);
      files.push(entry);
    }
  }
  return files;
}

