// The SoftHSM2 token secretslite provisions for itself on first start, and the PIN of a configured token.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { access, appendFile, link, mkdir, readdir, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { isMainThread } from "node:worker_threads";

export const DEFAULT_SOFTHSM_MODULE_PATH = "/usr/lib/softhsm/libsofthsm2.so";
export const DEFAULT_TOKEN_LABEL = "secretslite";

export interface SoftHsmToken {
  readonly modulePath: string;
  readonly softhsmConfigPath: string;
  readonly tokenLabel: string;
  readonly pin: string;
}

export interface EnsureSoftHsmTokenOptions {
  readonly tokenLabel?: string;
  readonly modulePath?: string;
}

// PKCS#11 pads token labels to 32 bytes; softhsm2-util silently truncates longer ones, after which
// the store would never find the token by the label it was given.
const MAX_TOKEN_LABEL_BYTES = 32;

/**
 * Makes `dir` hold a SoftHSM2 config, a token directory, a user PIN file (0600) and an initialised
 * token labelled `tokenLabel`, creating whatever is missing; on later starts it only reads files.
 * SoftHSM reads the config named by SOFTHSM2_CONF when the module initialises, which is for the key
 * store to arrange: this function leaves the process environment alone.
 */
export async function ensureSoftHsmToken(dir: string, options: EnsureSoftHsmTokenOptions = {}): Promise<SoftHsmToken> {
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
      `The SoftHSM2 PKCS#11 module ${modulePath} is missing: install SoftHSM2 (apt-get install softhsm2) or configure another PKCS#11 module`,
      { cause: error },
    );
  }

  const root = resolve(dir);
  const tokensDir = join(root, "tokens");
  const softhsmConfigPath = join(root, "softhsm2.conf");
  const pinPath = join(root, "pin");
  const markerPath = join(root, "initialised-tokens");

  // The tokens directory holds the (PIN-encrypted) key objects: nobody else needs to list it.
  await mkdir(tokensDir, { recursive: true, mode: 0o700 });
  await publishOnce(softhsmConfigPath, softhsmConfig(tokensDir), 0o644);
  // A PIN written by a concurrent first start wins; whichever file is published is the one we use.
  await publishOnce(pinPath, randomBytes(24).toString("base64url"), 0o600);
  const pin = pinFromFile(pinPath, await readFile(pinPath, "utf8"));

  if (!(await initialisedLabels(markerPath)).includes(tokenLabel)) {
    // Two softhsm2-util runs at once fail, or make two tokens with one label (which the store then
    // refuses as ambiguous, for good): first starts take turns.
    await withLock(join(root, "init.lock"), async () => {
      if ((await initialisedLabels(markerPath)).includes(tokenLabel)) return;
      // The marker may be missing after a crash between init and marker write: ask the token itself. SoftHSM
      // keeps a directory per token, so an empty tokens directory (every in-memory start) spares that spawn.
      const existing = (await readdir(tokensDir)).length === 0
        ? []
        : parseTokenLabels(await softhsmUtil(["--show-slots"], softhsmConfigPath));
      if (!existing.includes(tokenLabel)) {
        // The SO PIN only guards re-initialisation and user-PIN resets. Recovery here is deleting `dir`
        // (the user PIN sits beside the token anyway), so a stored SO PIN would be a second secret on
        // disk that grants nothing useful: it is random and discarded.
        const soPin = randomBytes(24).toString("base64url");
        await softhsmUtil(
          ["--init-token", "--free", "--label", tokenLabel, "--pin", pin, "--so-pin", soPin],
          softhsmConfigPath,
        );
      }
      await appendFile(markerPath, `${tokenLabel}\n`, { mode: 0o644 });
    });
  }
  return { modulePath, softhsmConfigPath, tokenLabel, pin };
}

/**
 * SoftHSM reads SOFTHSM2_CONF with getenv() once, at C_Initialize, from the real process environment.
 * Jest runs each test file with its own `process` whose env is a plain copy, so writing there would
 * never reach SoftHSM. Buffer comes from the host realm, so its Function constructor evaluates in the
 * host's global scope, where `process` is the real one; in plain Node this is simply `process`.
 */
const hostProcess = (Buffer.constructor as FunctionConstructor)("return process")() as NodeJS.Process;

/** Points SoftHSM at `softhsmConfigPath` (or its default when undefined) for the next C_Initialize in this process. */
export function setSoftHsmConfigEnvironment(softhsmConfigPath: string | undefined): void {
  // A worker thread's process.env is its own copy whatever we do, and C_Initialize is per process anyway.
  if (!isMainThread) {
    throw new Error(
      "secretslite's own SoftHSM token must be opened on the main thread: SoftHSM reads SOFTHSM2_CONF from the " +
        "process environment, which a worker thread cannot set (start secretslite in a global setup, or use a " +
        "test runner pool of processes rather than threads)",
    );
  }
  for (const env of new Set([hostProcess.env, process.env])) {
    if (softhsmConfigPath === undefined) delete env.SOFTHSM2_CONF;
    else env.SOFTHSM2_CONF = softhsmConfigPath;
  }
}

/** The SOFTHSM2_CONF that SoftHSM will read (see setSoftHsmConfigEnvironment). */
export function softHsmConfigEnvironment(): string | undefined {
  return hostProcess.env.SOFTHSM2_CONF;
}

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
 * once per process and SoftHSM reads its config only then, so one config is all a process can have;
 * and SoftHSM 2.6 does not see tokens that softhsm2-util creates after C_Initialize. Instances are
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
    const token = ensureSoftHsmToken(join(dir, "token"), { modulePath });
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
    "# SoftHSM2 configuration written by secretslite on first start.",
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
async function publishOnce(path: string, content: string, mode: number): Promise<void> {
  const staging = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(staging, content, { mode, flag: "wx" });
  try {
    await link(staging, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    await unlink(staging);
  }
}

const LOCK_POLL_MS = 25;
const LOCK_WAIT_MS = 120_000;
// A holder that died mid-init leaves its lock behind; past this age (or once its pid is gone) it is stale.
const LOCK_STALE_MS = 300_000;

/** A lock file naming its holder's pid: in-process and cross-process callers alike wait their turn. */
async function withLock(lockPath: string, work: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await writeFile(lockPath, String(process.pid), { flag: "wx", mode: 0o600 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    if (await lockIsStale(lockPath)) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${lockPath}; remove it if no secretslite is starting on this directory`);
    }
    await new Promise((wake) => setTimeout(wake, LOCK_POLL_MS));
  }
  try {
    await work();
  } finally {
    await rm(lockPath, { force: true });
  }
}

async function lockIsStale(lockPath: string): Promise<boolean> {
  try {
    const [holder, info] = await Promise.all([readFile(lockPath, "utf8"), stat(lockPath)]);
    if (Date.now() - info.mtimeMs > LOCK_STALE_MS) return true;
    const pid = Number(holder);
    // An empty file is a holder between create and write.
    if (holder === "" || !Number.isSafeInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return false;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOENT: released while we looked; ESRCH: its holder is gone. EPERM: alive, someone else's.
    return code === "ENOENT" || code === "ESRCH";
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

function parseTokenLabels(showSlots: string): string[] {
  const labels: string[] = [];
  for (const line of showSlots.split("\n")) {
    const match = /^\s*Label:\s*(.*?)\s*$/.exec(line);
    // The spare uninitialised slot SoftHSM always offers shows an empty label.
    if (match?.[1]) labels.push(match[1]);
  }
  return labels;
}

function softhsmUtil(args: readonly string[], softhsmConfigPath: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      "softhsm2-util",
      args,
      { env: { ...process.env, SOFTHSM2_CONF: softhsmConfigPath }, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error === null) {
          resolvePromise(stdout);
          return;
        }
        // Never error.message nor error as a cause: they carry the command line, PINs included.
        if ((error as NodeJS.ErrnoException).code === "ENOENT") {
          reject(new Error("softhsm2-util was not found on PATH: install SoftHSM2 (apt-get install softhsm2)"));
          return;
        }
        const output = (stderr.trim() || stdout.trim()).split("\n").slice(0, 5).join(" ");
        reject(new Error(`softhsm2-util ${args[0] ?? ""} failed (exit ${String(error.code ?? error.signal)}): ${output}`));
      },
    );
  });
}
