// First-start provisioning of the SoftHSM2 token (through PKCS#11), its reuse on later starts, lost and wrong PINs, and reading configured PINs.

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openPkcs11KeyStore } from "../../src/crypto/pkcs11-key-store";
import { initialisePkcs11Token } from "../../src/crypto/pkcs11-module";
import {
  DEFAULT_SOFTHSM_MODULE_PATH,
  ensureSoftHsmToken,
  openSoftHsmKeyStore,
  readPin,
  softHsmConfigEnvironment,
} from "../../src/crypto/softhsm-bootstrap";

describe("ensureSoftHsmToken", () => {
  let scratch: string;
  const originalPath = process.env.PATH;

  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), "secretslite-bootstrap-"));
  });
  afterEach(() => {
    process.env.PATH = originalPath;
    rmSync(scratch, { recursive: true, force: true });
  });

  const tokenLabels = (softhsmConfigPath: string): string[] =>
    execFileSync("softhsm2-util", ["--show-slots"], { env: { ...process.env, SOFTHSM2_CONF: softhsmConfigPath } })
      .toString()
      .split("\n")
      .flatMap((line) => /^\s*Label:\s*(\S.*?)\s*$/.exec(line)?.[1] ?? []);

  test("on first start creates the config, the tokens directory, a 0600 PIN file and the token, under missing parents", async () => {
    const dir = join(scratch, "not", "yet", "there");
    const token = await ensureSoftHsmToken(dir);
    expect(token).toEqual({
      modulePath: DEFAULT_SOFTHSM_MODULE_PATH,
      softhsmConfigPath: join(dir, "softhsm2.conf"),
      tokenLabel: "secretslite",
      pin: expect.stringMatching(/^[\w-]{32}$/),
    });
    const config = readFileSync(token.softhsmConfigPath, "utf8");
    expect(config).toContain(`directories.tokendir = ${join(dir, "tokens")}\n`);
    expect(config).toContain("objectstore.backend = file\n");
    expect(config).toContain("log.level = ERROR\n");
    expect(statSync(join(dir, "pin")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, "pin"), "utf8")).toBe(token.pin);
    expect(readdirSync(join(dir, "tokens"))).toHaveLength(1);
    expect(tokenLabels(token.softhsmConfigPath)).toEqual(["secretslite"]);
    expect(readdirSync(dir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  test("makes the token through PKCS#11 itself: no softhsm2-util, so no PIN on any command line", async () => {
    // With softhsm2-util out of reach, a first start can only succeed by not calling it.
    process.env.PATH = "/nonexistent";
    const token = await ensureSoftHsmToken(scratch);
    process.env.PATH = originalPath;
    expect(tokenLabels(token.softhsmConfigPath)).toEqual(["secretslite"]);
  });

  test("leaves SOFTHSM2_CONF as it found it", async () => {
    const before = softHsmConfigEnvironment();
    await ensureSoftHsmToken(scratch);
    expect(softHsmConfigEnvironment()).toBe(before);
  });

  test("on later starts reuses everything without running softhsm2-util", async () => {
    const first = await ensureSoftHsmToken(scratch, { tokenLabel: "reused" });
    const tokenDirs = readdirSync(join(scratch, "tokens"));
    // With softhsm2-util out of reach, a second start can only succeed by not calling it.
    process.env.PATH = "/nonexistent";
    const second = await ensureSoftHsmToken(scratch, { tokenLabel: "reused" });
    expect(second).toEqual(first);
    expect(readdirSync(join(scratch, "tokens"))).toEqual(tokenDirs);
  });

  test("concurrent first starts agree on one PIN and one token", async () => {
    const results = await Promise.all([ensureSoftHsmToken(scratch), ensureSoftHsmToken(scratch), ensureSoftHsmToken(scratch)]);
    expect(new Set(results.map((result) => result.pin)).size).toBe(1);
    expect(readFileSync(join(scratch, "pin"), "utf8")).toBe(results[0]?.pin);
    expect(tokenLabels(join(scratch, "softhsm2.conf"))).toEqual(["secretslite"]);
    expect(readdirSync(scratch).sort()).toEqual(["backups", "initialised-tokens", "pin", "softhsm2.conf", "tokens"]);
  });

  test("a lock left by a dead process does not block the first start", async () => {
    const dead = execFileSync("sh", ["-c", "echo $$"]).toString().trim();
    writeFileSync(join(scratch, "init.lock"), dead);
    await ensureSoftHsmToken(scratch);
    expect(tokenLabels(join(scratch, "softhsm2.conf"))).toEqual(["secretslite"]);
  });

  test("a new label in an existing directory adds a token beside the first, with the same PIN", async () => {
    const first = await ensureSoftHsmToken(scratch, { tokenLabel: "one" });
    const second = await ensureSoftHsmToken(scratch, { tokenLabel: "two" });
    expect(second.pin).toBe(first.pin);
    expect(tokenLabels(second.softhsmConfigPath).sort()).toEqual(["one", "two"]);
  });

  test("a lost marker does not initialise a second token with the same label", async () => {
    const token = await ensureSoftHsmToken(scratch);
    rmSync(join(scratch, "initialised-tokens"));
    await ensureSoftHsmToken(scratch);
    expect(tokenLabels(token.softhsmConfigPath)).toEqual(["secretslite"]);
  });

  test("a lost PIN file is refused, naming the path and what to do, and no new PIN is made over the token", async () => {
    await ensureSoftHsmToken(scratch);
    rmSync(join(scratch, "pin"));
    const refusal = ensureSoftHsmToken(scratch);
    await expect(refusal).rejects.toThrow(`The PIN file ${join(scratch, "pin")} is missing`);
    await expect(refusal).rejects.toThrow(/will not make a new PIN over an existing token.*Restore .*pin from a backup.*delete the whole data dir/);
    expect(existsSync(join(scratch, "pin"))).toBe(false);
  });

  test("a PIN file that does not open the token names the file (CKR_PIN_INCORRECT)", async () => {
    const keyStore = await openSoftHsmKeyStore(scratch);
    await keyStore.close();
    writeFileSync(join(scratch, "pin"), "not-the-pin");
    await expect(openSoftHsmKeyStore(scratch)).rejects.toThrow(
      new RegExp(`The PIN in ${join(scratch, "pin")} does not open SoftHSM token 'secretslite'.*CKR_PIN_INCORRECT.*Restore the pin file`),
    );
    // A configured token (--token-label with --pin-file) names its PIN file too.
    const configured = openPkcs11KeyStore({
      modulePath: DEFAULT_SOFTHSM_MODULE_PATH,
      softhsmConfigPath: join(scratch, "softhsm2.conf"),
      tokenLabel: "secretslite",
      pin: "not-the-pin",
      pinSource: "/etc/secretslite/pin",
    });
    await expect(configured).rejects.toThrow("Cannot log in to PKCS#11 token 'secretslite': CKR_PIN_INCORRECT with the PIN in /etc/secretslite/pin");
  });

  test("a first start killed while making the token is undone: the unfinished token goes, a fresh one is made", async () => {
    await ensureSoftHsmToken(scratch, { tokenLabel: "kept" });
    const kept = readdirSync(join(scratch, "tokens"));
    // What a kill after C_InitToken leaves: the journal naming the directories made before, a token not in the marker.
    writeFileSync(join(scratch, "making-token"), JSON.stringify({ label: "secretslite", existing: kept }));
    initialisePkcs11Token({ modulePath: DEFAULT_SOFTHSM_MODULE_PATH, softhsmConfigPath: join(scratch, "softhsm2.conf"), tokenLabel: "secretslite", soPin: "so-pin-of-the-kill", pin: "another-user-pin" });
    const unfinished = readdirSync(join(scratch, "tokens")).filter((name) => !kept.includes(name));
    expect(unfinished).toHaveLength(1);
    await ensureSoftHsmToken(scratch);
    const now = readdirSync(join(scratch, "tokens"));
    expect(now).toEqual(expect.arrayContaining(kept));
    expect(now).not.toContain(unfinished[0]);
    expect(now).toHaveLength(2);
    expect(tokenLabels(join(scratch, "softhsm2.conf")).sort()).toEqual(["kept", "secretslite"]);
    expect(existsSync(join(scratch, "making-token"))).toBe(false);
  });

  test("an unfinished token that holds key objects is refused, never removed", async () => {
    await ensureSoftHsmToken(scratch, { tokenLabel: "other" });
    writeFileSync(join(scratch, "making-token"), JSON.stringify({ label: "secretslite", existing: [] }));
    const [dir] = readdirSync(join(scratch, "tokens"));
    writeFileSync(join(scratch, "tokens", dir!, "0b1cb9d3-fb2f-ecf7-27a0-5f568f3d9186.object"), "a key");
    await expect(ensureSoftHsmToken(scratch)).rejects.toThrow(/holds key objects; secretslite will not remove it/);
    expect(readdirSync(join(scratch, "tokens"))).toEqual([dir]);
  });

  test("a missing module or an over-long label fails before touching the directory", async () => {
    await expect(ensureSoftHsmToken(join(scratch, "a"), { modulePath: "/nonexistent/libsofthsm2.so" })).rejects.toThrow(
      /module \/nonexistent\/libsofthsm2\.so is missing.*apt-get install softhsm2/,
    );
    await expect(ensureSoftHsmToken(join(scratch, "b"), { tokenLabel: "x".repeat(33) })).rejects.toThrow(/1 to 32 bytes/);
    expect(readdirSync(scratch)).toEqual([]);
  });
});

describe("readPin", () => {
  let scratch: string;
  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), "secretslite-pin-"));
  });
  afterEach(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  test("takes the PIN as given", () => {
    expect(readPin({ pin: "1234" })).toBe("1234");
  });

  test("reads a PIN file, without the final newline an editor adds", () => {
    const pinFile = join(scratch, "pin");
    writeFileSync(pinFile, "s3cret pin\n");
    expect(readPin({ pinFile })).toBe("s3cret pin");
  });

  test("refuses both, neither, empty values and unreadable files", () => {
    const empty = join(scratch, "empty");
    writeFileSync(empty, "\n");
    expect(() => readPin({ pin: "1", pinFile: empty })).toThrow(/not both/);
    expect(() => readPin({})).toThrow(/PIN is required/);
    expect(() => readPin({ pin: "" })).toThrow(/empty/);
    expect(() => readPin({ pinFile: empty })).toThrow(/empty/);
    expect(() => readPin({ pinFile: join(scratch, "missing") })).toThrow(/Cannot read the PKCS#11 PIN file/);
  });
});
