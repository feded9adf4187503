// The SoftHSM2 token secretslite provisions for itself (made through PKCS#11, kept safe from kills), and the PIN of a configured token.

import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { access, link, mkdir, open, readdir, readFile, rename, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { KeyStore } from "./key-store";
import { openPkcs11KeyStore } from "./pkcs11-key-store";
import { initialisePkcs11Token, listPkcs11Tokens } from "./pkcs11-module";
import { hostProcess, setSoftHsmConfigEnvironment, softHsmConfigEnvironment } from "./token-environment";
import {
  backupIsStale,
  backUpTokenFiles,
  fsyncDir,
  latestBackup,
  repairTokenFiles,
  tokenDirectories,
  withTokenLock,
  writeDurably,
} from "./token-files";

/**
 * Where packages put SoftHSM2's PKCS#11 library, in the order scripts/setup.sh looks: Debian/Ubuntu (and their
 * multiarch directories), Fedora/RHEL, Homebrew on Apple silicon and on Intel macs.
 */
export const SOFTHSM_MODULE_PATHS: readonly string[] = [
  "/usr/lib/softhsm/libsofthsm2.so",
  "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/lib64/pkcs11/libsofthsm2.so",
  "/usr/lib64/softhsm/libsofthsm2.so",
  "/opt/homebrew/lib/softhsm/libsofthsm2.so",
  "/usr/local/lib/softhsm/libsofthsm2.so",
];

/** The first of SOFTHSM_MODULE_PATHS that exists; Debian's path when none does (the start then says how to install). */
export function findSoftHsmModule(candidates: readonly string[] = SOFTHSM_MODULE_PATHS): string {
  return candidates.find((candidate) => existsSync(candidate)) ?? candidates[0] ?? SOFTHSM_MODULE_PATHS[0]!;
}

export const DEFAULT_SOFTHSM_MODULE_PATH = findSoftHsmModule();

/** What to do when the module is not there: install SoftHSM2 (per system) or name a library that is. */
export function missingModuleHint(): string {
  return (
    "install SoftHSM2 (apt-get install softhsm2 on Debian/Ubuntu, dnf install softhsm on Fedora/RHEL, brew install softhsm on macOS) " +
    "or point --pkcs11-module (SECRETSLITE_PKCS11_MODULE) at a PKCS#11 library you have (one other than SoftHSM2 also needs --token-label and --pin); " +
    `SoftHSM2 is looked for in ${SOFTHSM_MODULE_PATHS.join(", ")}`
  );
}
export const DEFAULT_TOKEN_LABEL = "secretslite";

export interface SoftHsmToken {
  readonly modulePath: string;
  readonly softhsmConfigPath: string;
  readonly tokenLabel: string;
  readonly pin: string;
}

// PKCS#11 pads token labels to 32 bytes; longer ones would be truncated, after which the store would
// never find the token by the label it was given.
const MAX_TOKEN_LABEL_BYTES = 32;

/** What a start needs of the token home before it takes the lock. */
interface TokenHome {
  readonly root: string;
  readonly tokenLabel: string;
  readonly modulePath: string;
  readonly softhsmConfigPath: string;
  readonly pinPath: string;
  readonly markerPath: string;
  readonly journalPath: string;
  /** A throwaway token (--in-memory): no copy of its files, no journal, nothing fsynced, no lock. */
  readonly disposable: boolean;
}

export interface EnsureSoftHsmTokenOptions {
  readonly tokenLabel?: string;
  readonly modulePath?: string;
  /** A throwaway token in a directory only this process uses: skips the crash-safety work (lock, copies, fsyncs). */
  readonly disposable?: boolean;
}

/** What the start tells its operator about: restores from the copy of the token files. */
export interface TokenLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Makes `dir` hold a SoftHSM2 config, a token directory, a user PIN file (0600) and an initialised
 * token labelled `tokenLabel`, creating whatever is missing (the token through PKCS#11: the module is
 * initialised for that and finalised again, SOFTHSM2_CONF left as found); on later starts it only
 * reads files. It never repairs token files: openSoftHsmKeyStore does, for secretslite's own token.
 */
export async function ensureSoftHsmToken(dir: string, options: EnsureSoftHsmTokenOptions = {}): Promise<SoftHsmToken> {
  const home = await prepareTokenHome(dir, options);
  if (home.disposable) return provision(home, { repair: false });
  return withTokenLock(home.root, () => provision(home, { repair: false }));
}

/**
 * Opens the key store on the token secretslite keeps in `dir` (`<data-dir>/token`), making the token on
 * first start. One lock is held from before the token files are checked until the copy of them includes
 * the root key: the check and any restore happen before C_Initialize, no other start on the directory can
 * restore over this one's login, and no key store is handed out (so nothing is encrypted) under a root key
 * that a restore could lose.
 */
export async function openSoftHsmKeyStore(
  dir: string,
  options: { readonly modulePath?: string; readonly logger?: TokenLogger } = {},
): Promise<KeyStore> {
  const home = await prepareTokenHome(dir, { modulePath: options.modulePath });
  return withTokenLock(home.root, async () => {
    const token = await provision(home, { repair: true, logger: options.logger });
    let keyStore: KeyStore;
    try {
      keyStore = await openPkcs11KeyStore({
        modulePath: token.modulePath,
        tokenLabel: token.tokenLabel,
        pin: token.pin,
        pinSource: home.pinPath,
        softhsmConfigPath: token.softhsmConfigPath,
      });
    } catch (error) {
      if (/CKR_PIN_INCORRECT|CKR_PIN_LEN_RANGE/.test(errorMessage(error))) throw wrongPin(home, error);
      throw error;
    }
    try {
      // The first open made the root key: copy it before anything can be encrypted under it.
      if (await backupIsStale(home.root)) await backUpTokenFiles(home.root);
    } catch (error) {
      await keyStore.close();
      throw new Error(
        `Cannot write a verified copy of the SoftHSM token files to ${join(home.root, "backups")}: ${errorMessage(error)}. ` +
          "secretslite does not start without it, as a kill could then lose the token; free space or fix permissions and start again",
        { cause: error },
      );
    }
    return keyStore;
  });
}

async function prepareTokenHome(dir: string, options: EnsureSoftHsmTokenOptions): Promise<TokenHome> {
  const tokenLabel = options.tokenLabel ?? DEFAULT_TOKEN_LABEL;
  const modulePath = resolve(options.modulePath ?? DEFAULT_SOFTHSM_MODULE_PATH);
  const labelBytes = Buffer.byteLength(tokenLabel, "utf8");
  if (labelBytes === 0 || labelBytes > MAX_TOKEN_LABEL_BYTES) {
    throw new Error(`SoftHSM token label '${tokenLabel}' must be 1 to ${MAX_TOKEN_LABEL_BYTES} bytes`);
  }
  try {
    await access(modulePath);
  } catch (error) {
    throw new Error(
      `The SoftHSM2 PKCS#11 module ${modulePath} is missing: ${missingModuleHint()}`,
      { cause: error },
    );
  }
  const root = resolve(dir);
  const tokensDir = join(root, "tokens");
  const softhsmConfigPath = join(root, "softhsm2.conf");
  // The tokens directory holds the (PIN-encrypted) key objects: nobody else needs to list it.
  await mkdir(tokensDir, { recursive: true, mode: 0o700 });
  await publishConfig(softhsmConfigPath, softhsmConfig(tokensDir));
  return {
    root,
    tokenLabel,
    modulePath,
    softhsmConfigPath,
    pinPath: join(root, "pin"),
    markerPath: join(root, "initialised-tokens"),
    journalPath: join(root, "making-token"),
    disposable: options.disposable === true,
  };
}

/**
 * Under the lock (or alone, when disposable): undo a half-made token, repair damaged files, then find or make the
 * token. Repair is for openSoftHsmKeyStore only: it relies on every object of the token having been copied by a
 * start that then refreshed the copy, and on objects never being destroyed, which holds for secretslite's own
 * token but not for one a caller of ensureSoftHsmToken (a test suite's shared token) opens however it likes.
 */
async function provision(home: TokenHome, options: { readonly repair: boolean; readonly logger?: TokenLogger }): Promise<SoftHsmToken> {
  const { root, tokenLabel, modulePath, softhsmConfigPath, pinPath, markerPath } = home;
  const logger = options.logger;
  if (!home.disposable) await undoUnfinishedToken(home);
  if (!home.disposable && options.repair) {
    const repair = await repairTokenFiles(root);
    if (repair !== undefined) {
      logger?.warn("token files an interrupted start left damaged were restored from their verified copy (half-made objects moved aside)", {
        tokenDir: join(root, "tokens"),
        copy: join(root, repair.backup),
        restored: repair.restored,
        quarantined: repair.removed,
        quarantine: repair.quarantine,
      });
    }
  }

  const labels = await initialisedLabels(markerPath);
  // A token made by an older secretslite (or whose copies were deleted) has no copy yet: take one now, before
  // this start's login rewrites token.object, rather than after it.
  if (!home.disposable && labels.includes(tokenLabel) && (await latestBackup(root)) === undefined) await backUpTokenFiles(root);
  let pin: string;
  try {
    pin = pinFromFile(pinPath, await readFile(pinPath, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    // A new PIN over an existing token would lock every key out for good (and log in as "CKR_PIN_INCORRECT").
    if (labels.length > 0 || (await tokenDirectories(root)).length > 0) throw lostPin(home);
    // A PIN written by a concurrent disposable first start wins; whichever file is published is the one we use.
    await publishOnce(pinPath, randomBytes(24).toString("base64url"), 0o600, !home.disposable);
    pin = pinFromFile(pinPath, await readFile(pinPath, "utf8"));
  }

  if (!labels.includes(tokenLabel)) {
    // The marker may be missing (an older version's crash, or removed by hand): ask the token itself. SoftHSM
    // keeps a directory per token, so an empty tokens directory (every in-memory start) spares that look.
    const existing = (await tokenDirectories(root)).length === 0 ? [] : listPkcs11Tokens(modulePath, softhsmConfigPath);
    const found = existing.filter((token) => token.label === tokenLabel);
    if (found.some((token) => !token.userPinInitialised)) {
      throw new Error(
        `The SoftHSM token '${tokenLabel}' in ${join(root, "tokens")} was never finished (it has no user PIN, so it holds no keys); ` +
          "remove its directory under tokens/ and start again",
      );
    }
    if (found.length === 0) await makeToken(home, pin);
    await appendDurably(markerPath, `${tokenLabel}\n`, !home.disposable);
    if (!home.disposable) await rm(home.journalPath, { force: true });
  }
  return { modulePath, softhsmConfigPath, tokenLabel, pin };
}

/**
 * Makes the token through PKCS#11 (no PIN on any command line). A journal naming the token directories that
 * existed before is written first and removed only once the marker records the label, so a start killed
 * half-way leaves a record of exactly which directory is the unfinished one (see undoUnfinishedToken). The
 * files are copied before the marker is written, and before the first login rewrites token.object.
 */
async function makeToken(home: TokenHome, pin: string): Promise<void> {
  if (!home.disposable) {
    const journal: Journal = { label: home.tokenLabel, existing: await tokenDirectories(home.root) };
    await writeDurably(home.journalPath, `${JSON.stringify(journal)}\n`, 0o600);
    await fsyncDir(home.root);
  }
  // The SO PIN only guards re-initialisation and user-PIN resets. Recovery here is deleting the data dir
  // (the user PIN sits beside the token anyway), so a stored SO PIN would be a second secret on disk that
  // grants nothing useful: it is random and discarded.
  initialisePkcs11Token({
    modulePath: home.modulePath,
    softhsmConfigPath: home.softhsmConfigPath,
    tokenLabel: home.tokenLabel,
    soPin: randomBytes(24).toString("base64url"),
    pin,
  });
  if (!home.disposable) await backUpTokenFiles(home.root);
}

interface Journal {
  readonly label: string;
  readonly existing: readonly string[];
}

/**
 * After a start killed while making a token: removes the token directories that start made, unless the
 * marker shows it finished. They hold nothing: the root key is made only after the marker records the label,
 * and a directory with any key object is refused rather than removed. Copies that include them go too, or a
 * repair would bring them back.
 */
async function undoUnfinishedToken(home: TokenHome): Promise<void> {
  let journal: Journal;
  try {
    journal = JSON.parse(await readFile(home.journalPath, "utf8")) as Journal;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return;
    // Killed while writing it: nothing was made yet (the journal is written, fsynced, before anything else).
    if (!(error instanceof SyntaxError)) throw error;
    await rm(home.journalPath, { force: true });
    return;
  }
  if (!(await initialisedLabels(home.markerPath)).includes(journal.label)) {
    const tokensDir = join(home.root, "tokens");
    const unfinished = (await tokenDirectories(home.root)).filter((name) => !journal.existing.includes(name));
    for (const name of unfinished) {
      const keys = (await readdir(join(tokensDir, name))).filter((file) => file.endsWith(".object") && file !== "token.object");
      if (keys.length > 0) {
        throw new Error(
          `${join(tokensDir, name)} looks like an unfinished token but holds key objects; secretslite will not remove it. ` +
            `Move it aside only if you know it is disposable, then start again`,
        );
      }
    }
    if (unfinished.length > 0) {
      await dropBackupsListing(home.root, unfinished);
      for (const name of unfinished) await rm(join(tokensDir, name), { recursive: true, force: true });
      await fsyncDir(tokensDir);
    }
  }
  await rm(home.journalPath, { force: true });
  await fsyncDir(home.root);
}

async function dropBackupsListing(root: string, tokenDirs: readonly string[]): Promise<void> {
  for (;;) {
    const backup = await latestBackup(root);
    if (backup === undefined || !backup.manifest.files.some((file) => tokenDirs.includes(file.path.split("/")[0] ?? ""))) return;
    await rm(backup.dir, { recursive: true, force: true });
  }
}

function lostPin(home: TokenHome): Error {
  return new Error(
    `The PIN file ${home.pinPath} is missing, but ${join(home.root, "tokens")} holds a token that was made with it. ` +
      `secretslite will not make a new PIN over an existing token (nothing could be decrypted with it). ` +
      `Restore ${home.pinPath} from a backup of this data dir; or, if the keys and secrets in it are disposable, ` +
      `delete the whole data dir (${dirname(home.root)}) and start again`,
  );
}

function wrongPin(home: TokenHome, cause: unknown): Error {
  return new Error(
    `The PIN in ${home.pinPath} does not open SoftHSM token '${home.tokenLabel}' in ${join(home.root, "tokens")} (CKR_PIN_INCORRECT): ` +
      `the file was replaced or belongs to another data dir. Restore the pin file that was made with this token from a backup; ` +
      `or, if the keys and secrets are disposable, delete the whole data dir (${dirname(home.root)}) and start again`,
    { cause },
  );
}

// Where SoftHSM finds its config moved to token-environment.ts (the key store needs it too); callers import it from here.
export { setSoftHsmConfigEnvironment, softHsmConfigEnvironment } from "./token-environment";

export interface InMemoryToken {
  readonly token: SoftHsmToken;
  /** Call once this user's key store is closed; the last release removes the token and its directory. */
  release(): void;
}

interface InMemoryHome {
  readonly dir: string;
  readonly token: Promise<SoftHsmToken>;
  readonly removeAtExit: () => void;
  /** SOFTHSM2_CONF before this home: a token configured by the user is found again once the home is gone. */
  readonly previousConfig: string | undefined;
  users: number;
}

/**
 * Every --in-memory instance of this process shares one temporary SoftHSM token. PKCS#11 initialises
 * once per process and SoftHSM reads its config only then, so one config is all a process can have
 * (tokens made in-process with C_InitToken show up at once, but only in that config's directory). Instances are
 * isolated by their root keys instead: each makes its own as a session object (see the key store's
 * ephemeralRootKey), which no other instance looks up and which dies with its sessions, so the token
 * itself never holds anything of theirs.
 */
let inMemoryHome: InMemoryHome | undefined;

export async function acquireInMemoryToken(modulePath: string = DEFAULT_SOFTHSM_MODULE_PATH): Promise<InMemoryToken> {
  let home = inMemoryHome;
  if (home === undefined) {
    // The "secretslite-" prefix is what a user finds in TMPDIR after a crash.
    const dir = mkdtempSync(join(tmpdir(), "secretslite-"));
    const removeAtExit = (): void => rmSync(dir, { recursive: true, force: true });
    hostProcess.once("exit", removeAtExit);
    const token = ensureSoftHsmToken(join(dir, "token"), { modulePath, disposable: true });
    home = { dir, token, removeAtExit, previousConfig: softHsmConfigEnvironment(), users: 0 };
    inMemoryHome = home;
  }
  const acquired = home;
  acquired.users++;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    acquired.users--;
    if (acquired.users > 0) return;
    if (inMemoryHome === acquired) inMemoryHome = undefined;
    hostProcess.off("exit", acquired.removeAtExit);
    acquired.removeAtExit();
    if (softHsmConfigEnvironment() === join(acquired.dir, "token", "softhsm2.conf")) setSoftHsmConfigEnvironment(acquired.previousConfig);
  };
  try {
    const token = await acquired.token;
    return { token: { ...token, modulePath: resolve(modulePath) }, release };
  } catch (error) {
    release();
    throw error;
  }
}

/** The user PIN of a token secretslite did not create: given directly (from the environment) or in a file. */
export function readPin(options: { pin?: string; pinFile?: string }): string {
  if (options.pin !== undefined && options.pinFile !== undefined) {
    throw new Error("Configure either a PKCS#11 PIN or a PIN file, not both");
  }
  if (options.pin !== undefined) {
    if (options.pin === "") throw new Error("The configured PKCS#11 PIN is empty");
    return options.pin;
  }
  if (options.pinFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.pinFile, "utf8");
    } catch (error) {
      throw new Error(`Cannot read the PKCS#11 PIN file ${options.pinFile}`, { cause: error });
    }
    return pinFromFile(options.pinFile, text);
  }
  throw new Error("A PKCS#11 user PIN is required for a configured token: set a PIN or a PIN file");
}

// Editors and `echo` add a final newline that is not part of the PIN.
function pinFromFile(path: string, text: string): string {
  const pin = text.replace(/\r?\n$/, "");
  if (pin === "") throw new Error(`The PKCS#11 PIN file ${path} is empty`);
  return pin;
}

function softhsmConfig(tokensDir: string): string {
  return [
    CONFIG_HEADER,
    `directories.tokendir = ${tokensDir}`,
    "objectstore.backend = file",
    "log.level = ERROR",
    "slots.removable = false",
    "",
  ].join("\n");
}

/**
 * Creates `path` with `content` unless it exists. Written aside and hard-linked into place so a
 * concurrent reader never sees a half-written file (a PIN read half-written would lock us out).
 */
async function publishOnce(path: string, content: string, mode: number, durable: boolean): Promise<void> {
  const staging = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  if (durable) await writeDurably(staging, content, mode);
  else await writeFile(staging, content, { mode, flag: "wx" });
  try {
    await link(staging, path);
    // A PIN lost to a power cut after the token was made with it would lock every key out.
    if (durable) await fsyncDir(dirname(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    await unlink(staging);
  }
}

const CONFIG_HEADER = "# SoftHSM2 configuration written by secretslite on first start.";

/**
 * Writes the SoftHSM config, and writes it again when it names another tokens directory (the data dir was
 * moved, or restored elsewhere from a backup): it is derived from the path, and a stale one would point
 * SoftHSM at an empty or foreign directory. A config someone wrote by hand (not our header) is left alone.
 */
async function publishConfig(path: string, content: string): Promise<void> {
  let current: string;
  try {
    current = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    await publishOnce(path, content, 0o644, false);
    return;
  }
  if (current === content || !current.startsWith(CONFIG_HEADER)) return;
  const staging = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  await writeDurably(staging, content, 0o644);
  await rename(staging, path);
}

async function appendDurably(path: string, text: string, durable: boolean): Promise<void> {
  const handle = await open(path, "a", 0o644);
  try {
    await handle.writeFile(text);
    if (durable) await handle.sync();
  } finally {
    await handle.close();
  }
}

async function initialisedLabels(markerPath: string): Promise<string[]> {
  try {
    return (await readFile(markerPath, "utf8")).split("\n").filter((line) => line !== "");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
