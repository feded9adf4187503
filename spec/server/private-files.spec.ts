// The data dir is private: directories 0700 and files 0600, made so by the CLI (umask) and tightened at every start.
// The CLI cases run the built CLI (dist/), which `npm test` builds first.
import { chmodSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CreateAliasCommand, CreateKeyCommand, EncryptCommand, KMSClient } from "@aws-sdk/client-kms";
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { createLogger } from "../../src/logger";
import { makePrivate } from "../../src/storage/private-dir";
import { startCli, startCliLines } from "../support/cli-process";
import { temporaryDirs } from "../support/files";
import { credentials, REGION, startTestServer } from "../support/server";

const BIN = path.join(__dirname, "..", "..", "bin", "secretslite.js");
const tempDir = temporaryDirs("secretslite-modes-");

/** Every entry under `dir` (itself included) with its permission bits, symlinks left out. */
function modes(dir: string): Map<string, number> {
  const found = new Map<string, number>([[dir, lstatSync(dir).mode & 0o7777]]);
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (!entry.isSymbolicLink()) found.set(file, lstatSync(file).mode & 0o7777);
  }
  return found;
}

/** [path, mode in octal] of the entries that are not 0700 directories or 0600 files. */
function notPrivate(dir: string): string[][] {
  return [...modes(dir)]
    .filter(([file, mode]) => mode !== (lstatSync(file).isDirectory() ? 0o700 : 0o600))
    .map(([file, mode]) => [path.relative(dir, file) || ".", mode.toString(8)]);
}

/** Opens every entry to other users, as a data dir made before this fix (or copied with cp -r) would be. */
function loosen(dir: string): void {
  for (const [file] of modes(dir)) chmodSync(file, lstatSync(file).isDirectory() ? 0o755 : 0o644);
}

/** Enough writes that LevelDB has its log, manifest and current files, the token its objects, and a compaction's tables. */
async function write(endpoint: string, prefix: string): Promise<void> {
  const config = { endpoint, region: REGION, credentials, maxAttempts: 1 };
  const secrets = new SecretsManagerClient(config);
  const kms = new KMSClient(config);
  for (let i = 0; i < 10; i++) {
    await secrets.send(new CreateSecretCommand({ Name: `${prefix}/${i}`, SecretString: "x".repeat(2000) }));
    await secrets.send(new PutSecretValueCommand({ SecretId: `${prefix}/${i}`, SecretString: "y".repeat(2000) }));
  }
  const key = await kms.send(new CreateKeyCommand({}));
  await kms.send(new CreateAliasCommand({ AliasName: `alias/${prefix}`, TargetKeyId: key.KeyMetadata!.KeyId! }));
  await kms.send(new EncryptCommand({ KeyId: `alias/${prefix}`, Plaintext: Buffer.from("hello") }));
  // A reset compacts: LevelDB writes new table files now, long after the start tightened what it found.
  expect((await fetch(`${endpoint}/_secretslite/reset`, { method: "POST" })).status).toBe(200);
  await secrets.send(new CreateSecretCommand({ Name: `${prefix}/after-reset`, SecretString: "z" }));
  secrets.destroy();
  kms.destroy();
}

describe("behaviour", () => {
  it("the CLI makes the data dir, db/ and token/ 0700 and every file in them 0600, --tls files included", async () => {
    const dataDir = path.join(tempDir(), "data");
    // A first start with --tls makes the certificate and key; the second writes over plain HTTP.
    const tls = await startCli(BIN, ["--port", "0", "--data-dir", dataDir, "--tls"]);
    expect(await tls.stop()).toBe(0);
    const cli = await startCli(BIN, ["--port", "0", "--data-dir", dataDir]);
    try {
      await write(cli.url, "modes");
      // While it runs, too: LevelDB's log and the token's files are open and written.
      expect(notPrivate(dataDir)).toEqual([]);
    } finally {
      expect(await cli.stop()).toBe(0);
    }
    const entries = [...modes(dataDir).keys()].map((file) => path.relative(dataDir, file));
    expect(entries).toEqual(expect.arrayContaining(["db", "db/CURRENT", "token", "token/pin", "tls/cert.pem", "tls/key.pem"]));
    expect(notPrivate(dataDir)).toEqual([]);
  }, 60_000);

  it("the CLI tightens a data dir that is open to others at start, says so, and its new files are 0600", async () => {
    const dataDir = path.join(tempDir(), "data");
    const first = await startCli(BIN, ["--port", "0", "--data-dir", dataDir]);
    await write(first.url, "first");
    expect(await first.stop()).toBe(0);
    loosen(dataDir);
    expect(notPrivate(dataDir).length).toBeGreaterThan(5);

    const second = await startCli(BIN, ["--port", "0", "--data-dir", dataDir]);
    try {
      expect(notPrivate(dataDir)).toEqual([]);
      expect(second.stderr()).toContain("the data dir was open to other users: made it private");
      await write(second.url, "second");
    } finally {
      expect(await second.stop()).toBe(0);
    }
    expect(notPrivate(dataDir)).toEqual([]);
  }, 60_000);

  it("start() in another program's process makes the dirs 0700 and tightens files that exist at start, leaving its umask alone", async () => {
    const dataDir = path.join(tempDir(), "data");
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    const umask = process.umask();
    const first = await startTestServer({ dataDir });
    await write(first.url, "in-process");
    await first.stop();
    expect(process.umask()).toBe(umask);
    expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);
    expect(lstatSync(path.join(dataDir, "db")).mode & 0o777).toBe(0o700);

    loosen(dataDir);
    writeFileSync(path.join(dataDir, "notes.txt"), "a file of the user's beside ours", { mode: 0o644 });
    chmodSync(path.join(dataDir, "notes.txt"), 0o644);
    const second = await startTestServer({ dataDir });
    try {
      expect(notPrivate(dataDir)).toEqual([]);
    } finally {
      await second.close();
    }
  });

  it("leaves alone what is not secretslite's: other dirs beside db/ and token/, and a sticky shared dir given as the data dir", () => {
    const lines: string[] = [];
    const logger = createLogger("warn", (line) => lines.push(line));
    const project = tempDir();
    mkdirSync(path.join(project, "src"), { mode: 0o755 });
    mkdirSync(path.join(project, "db"), { mode: 0o755 });
    for (const dir of [project, path.join(project, "src"), path.join(project, "db")]) chmodSync(dir, 0o755);
    makePrivate(project, logger);
    expect(lstatSync(path.join(project, "src")).mode & 0o7777).toBe(0o755);
    expect(lstatSync(path.join(project, "db")).mode & 0o7777).toBe(0o700);
    expect(lstatSync(project).mode & 0o7777).toBe(0o700);

    const shared = tempDir();
    chmodSync(shared, 0o1777);
    makePrivate(shared, logger);
    expect(lstatSync(shared).mode & 0o7777).toBe(0o1777);
    expect(lines.join("")).toContain("left as they are");
  });

  it("prints the admin token on its own line after the ready line", async () => {
    const { child, lines, exit } = await startCliLines(BIN, ["--port", "0", "--in-memory"], 2);
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
    expect(lines[0]).toMatch(/^secretslite listening on http:\/\/127\.0\.0\.1:\d+$/);
    expect(lines[1]).toMatch(/^secretslite admin token [A-Za-z0-9_-]{43}$/);
  });
});

