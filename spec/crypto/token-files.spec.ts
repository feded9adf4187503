// The verified copy of the token's files: taken when good, restored before C_Initialize when a kill damaged them, under a lock.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openSoftHsmKeyStore, type TokenLogger } from "../../src/crypto/softhsm-bootstrap";
import { backUpTokenFiles, copyTokenFiles, latestBackup, withTokenLock } from "../../src/crypto/token-files";
import { temporaryDirs } from "../support/files";

const scratch = temporaryDirs("secretslite-token-files-");

interface Warning {
  readonly message: string;
  readonly fields: Record<string, unknown> | undefined;
}

function recordingLogger(): TokenLogger & { readonly warnings: Warning[] } {
  const warnings: Warning[] = [];
  return { warnings, warn: (message, fields) => warnings.push({ message, fields }) };
}

/** One token directory's data files, by name. */
function tokenDir(home: string): string {
  const [uuid, ...others] = readdirSync(join(home, "tokens"));
  if (uuid === undefined || others.length > 0) throw new Error(`expected one token in ${home}`);
  return join(home, "tokens", uuid);
}

function objectFiles(home: string): string[] {
  return readdirSync(tokenDir(home)).filter((name) => name.endsWith(".object") && name !== "token.object");
}

/** Opens the token, seals a value under a new backing key, closes: what must read back after any repair. */
async function sealed(home: string): Promise<{ wrapped: Uint8Array; iv: Buffer; aad: Buffer; box: Buffer }> {
  const keyStore = await openSoftHsmKeyStore(home);
  try {
    const { wrapped } = await keyStore.generate("SYMMETRIC_DEFAULT");
    const iv = Buffer.alloc(12, 7);
    const aad = Buffer.from("aad");
    const box = keyStore.seal({ id: "k", spec: "SYMMETRIC_DEFAULT" as const, wrapped }, iv, aad, Buffer.from("the secret"));
    return { wrapped, iv, aad, box };
  } finally {
    await keyStore.close();
  }
}

/**
 * Opens the key store on `home` as a server start does (repairs included), checks that `value` still opens under
 * its backing key, and closes the key store whatever happened.
 */
async function expectStillOpens(home: string, value: Awaited<ReturnType<typeof sealed>>, options: { readonly logger?: TokenLogger } = {}): Promise<void> {
  const keyStore = await openSoftHsmKeyStore(home, options);
  try {
    expect(keyStore.open({ id: "k", spec: "SYMMETRIC_DEFAULT", wrapped: value.wrapped }, value.iv, value.aad, value.box).toString()).toBe("the secret");
  } finally {
    await keyStore.close();
  }
}

/** A token with no verified copy and an emptied token.object: damage nothing can be restored from. */
function damageWithoutCopy(home: string): void {
  rmSync(join(home, "backups"), { recursive: true });
  truncateSync(join(tokenDir(home), "token.object"), 0);
}

describe("the verified copy of the token files", () => {
  test("is taken at first start and refreshed once the root key exists, before the key store is handed out", async () => {
    const home = join(scratch(), "token");
    const keyStore = await openSoftHsmKeyStore(home);
    try {
      const backup = await latestBackup(home);
      expect(backup).toBeDefined();
      const copied = backup!.manifest.files.map((file) => file.path.split("/")[1]);
      // token.object, generation and the root key's object file: the root key is in the copy.
      expect(copied).toEqual(expect.arrayContaining(["token.object", "generation", ...objectFiles(home)]));
      expect(objectFiles(home)).toHaveLength(1);
      // Two copies: the one taken right after the token was made (no root key yet) and the one with it.
      expect(readdirSync(join(home, "backups")).sort()).toEqual(["1", "2"]);
    } finally {
      await keyStore.close();
    }
    // A later start changes only token.object and generation (every login): no new copy.
    await (await openSoftHsmKeyStore(home)).close();
    expect(readdirSync(join(home, "backups")).sort()).toEqual(["1", "2"]);
  });

  test("a token.object left empty by a kill during login is restored before C_Initialize, and every key still opens", async () => {
    const home = join(scratch(), "token");
    const value = await sealed(home);
    // What SoftHSM leaves when killed between its ftruncate(0) and its write.
    truncateSync(join(tokenDir(home), "token.object"), 0);
    const logger = recordingLogger();
    await expectStillOpens(home, value, { logger });
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]!.message).toMatch(/restored from their verified copy/);
    expect(logger.warnings[0]!.fields).toMatchObject({ restored: [expect.stringMatching(/\/token\.object$/)], copy: join(home, "backups", "2") });
    expect(statSync(join(tokenDir(home), "token.object")).size).toBeGreaterThan(0);
  });

  test("a missing or altered root key file and a missing generation file are restored too", async () => {
    const home = join(scratch(), "token");
    const value = await sealed(home);
    const [rootKeyFile] = objectFiles(home);
    unlinkSync(join(tokenDir(home), rootKeyFile!));
    unlinkSync(join(tokenDir(home), "generation"));
    const logger = recordingLogger();
    await expectStillOpens(home, value, { logger });
    expect(logger.warnings[0]!.fields?.restored).toEqual(expect.arrayContaining([expect.stringMatching(rootKeyFile!), expect.stringMatching(/generation$/)]));

    // Same size, other bytes: only a checksum tells.
    const path = join(tokenDir(home), rootKeyFile!);
    const bytes = readFileSync(path);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    writeFileSync(path, bytes);
    await expectStillOpens(home, value);
  });

  test("an object file the copy lacks (a root key half-written by a killed first start) is moved aside, not used", async () => {
    const home = join(scratch(), "token");
    const value = await sealed(home);
    // Attribute by attribute: a kill can leave an object with a label and without its value or its flags.
    const stray = "0b1cb9d3-fb2f-ecf7-27a0-5f568f3d9186.object";
    writeFileSync(join(tokenDir(home), stray), readFileSync(join(tokenDir(home), objectFiles(home)[0]!)).subarray(0, 200));
    const logger = recordingLogger();
    await expectStillOpens(home, value, { logger });
    expect(objectFiles(home)).not.toContain(stray);
    const quarantine = logger.warnings[0]!.fields?.quarantine as string;
    expect(readdirSync(join(quarantine, readdirSync(join(home, "tokens"))[0]!))).toEqual([stray]);
  });

  test("a copy a kill interrupted, or one that fails its checksums, is never restored from: the one before is", async () => {
    const home = join(scratch(), "token");
    const value = await sealed(home);
    await withTokenLock(home, async () => {
      await backUpTokenFiles(home);
    });
    const backups = join(home, "backups");
    expect(readdirSync(backups).sort()).toEqual(["2", "3"]);
    // The newest copy's root key file rots; a later copy was being written when a kill came (no manifest yet).
    const newest = join(backups, "3", "tokens", readdirSync(join(home, "tokens"))[0]!);
    const rootKeyCopy = join(newest, objectFiles(home)[0]!);
    writeFileSync(rootKeyCopy, Buffer.alloc(statSync(rootKeyCopy).size));
    mkdirSync(join(backups, "4.tmp-deadbeef", "tokens"), { recursive: true });
    mkdirSync(join(backups, "5"));
    expect((await latestBackup(home))?.dir).toBe(join(backups, "2"));
    truncateSync(join(tokenDir(home), "token.object"), 0);
    unlinkSync(join(tokenDir(home), objectFiles(home)[0]!));
    const logger = recordingLogger();
    await expectStillOpens(home, value, { logger });
    expect(logger.warnings[0]!.fields?.copy).toBe(join(backups, "2"));
    // The next copy keeps only copies that verify: the rotten 3, the unnumbered 4 and the empty 5 go.
    await withTokenLock(home, async () => {
      await backUpTokenFiles(home);
    });
    expect(readdirSync(backups).sort()).toEqual(["2", "6"]);
  });

  test("a token without a copy (made by an older version) is copied before its first login here", async () => {
    const home = join(scratch(), "token");
    const value = await sealed(home);
    rmSync(join(home, "backups"), { recursive: true });
    await expectStillOpens(home, value);
    // One copy, taken before the login: a kill in that login's rewrite is repaired from it.
    expect(readdirSync(join(home, "backups"))).toEqual(["1"]);
    truncateSync(join(tokenDir(home), "token.object"), 0);
    await (await openSoftHsmKeyStore(home)).close();
  });

  test("a token damaged before any copy existed is not 'repaired' into something else: the start fails", async () => {
    const home = join(scratch(), "token");
    await sealed(home);
    damageWithoutCopy(home);
    await expect(openSoftHsmKeyStore(home)).rejects.toThrow(/token\.object is empty; refusing to copy a damaged token/);
    // Nothing was made over it: the damaged token is still there for a backup to be put back over.
    expect(readdirSync(join(home, "tokens"))).toHaveLength(1);
  });
});

describe("the token lock", () => {
  test("a start waits while another live process holds it, and goes on once it is released", async () => {
    const home = join(scratch(), "token");
    await (await openSoftHsmKeyStore(home)).close();
    const holder = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      const start = readFileSync(`/proc/${holder.pid}/stat`, "utf8");
      const startTime = start.slice(start.lastIndexOf(")") + 2).split(" ")[19];
      writeFileSync(join(home, "init.lock"), `${holder.pid} ${startTime}`);
      truncateSync(join(tokenDir(home), "token.object"), 0);
      let opened = false;
      const opening = openSoftHsmKeyStore(home).then((keyStore) => {
        opened = true;
        return keyStore;
      });
      await new Promise((wake) => setTimeout(wake, 400));
      // No restore under someone else's login: the damaged file is untouched while the lock is held.
      expect(opened).toBe(false);
      expect(statSync(join(tokenDir(home), "token.object")).size).toBe(0);
      unlinkSync(join(home, "init.lock"));
      await (await opening).close();
      expect(statSync(join(tokenDir(home), "token.object")).size).toBeGreaterThan(0);
    } finally {
      holder.kill("SIGKILL");
    }
  });

  test("a lock naming a reused pid (alive, started at another time), our own pid, or a dead process is stale", async () => {
    const home = join(scratch(), "token");
    await (await openSoftHsmKeyStore(home)).close();
    for (const holder of [`1 1`, `${process.pid}`, "999999999"]) {
      writeFileSync(join(home, "init.lock"), holder);
      const began = Date.now();
      await (await openSoftHsmKeyStore(home)).close();
      expect(Date.now() - began).toBeLessThan(5_000);
      expect(existsSync(join(home, "init.lock"))).toBe(false);
    }
  });
});

describe("copyTokenFiles", () => {
  test("writes a verified copy of the token, PIN included, from which a moved data dir opens with every key", async () => {
    const home = join(scratch(), "token");
    const value = await sealed(home);
    // While a key store is open on the token, as under a running server.
    const running = await openSoftHsmKeyStore(home);
    const destination = join(scratch(), "token");
    try {
      await copyTokenFiles(home, destination);
    } finally {
      await running.close();
    }
    expect(readdirSync(destination).sort()).toEqual(["initialised-tokens", "pin", "tokens"]);
    expect(statSync(join(destination, "pin")).mode & 0o777).toBe(0o600);
    // The original goes; the copy (another path, so its config is written afresh) opens the same root key.
    rmSync(home, { recursive: true });
    await expectStillOpens(destination, value);
  });

  test("refuses to copy a damaged token when there is no verified copy to take it from", async () => {
    const home = join(scratch(), "token");
    await sealed(home);
    damageWithoutCopy(home);
    await expect(copyTokenFiles(home, join(scratch(), "copy"))).rejects.toThrow(/token\.object is damaged/);
  });

  test("moves a token whose config names an old path: the config is written for the new one", async () => {
    const first = join(scratch(), "token");
    const value = await sealed(first);
    const moved = join(scratch(), "moved");
    renameSync(first, moved);
    await expectStillOpens(moved, value);
    expect(readFileSync(join(moved, "softhsm2.conf"), "utf8")).toContain(`directories.tokendir = ${join(moved, "tokens")}\n`);
  });
});
