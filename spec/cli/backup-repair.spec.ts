// `secretslite backup DIR` (while the server runs and writes, and with no server) and `secretslite repair`, as users run them.
// Runs the built CLI (dist/), which `npm test` builds first.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from "@aws-sdk/client-kms";
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { startCli, type RunningCli } from "../support/cli-process";
import { credentials } from "../support/server";
import { temporaryDirs } from "../support/files";

const BIN = path.join(__dirname, "..", "..", "bin", "secretslite.js");
const tempDir = temporaryDirs("secretslite-backup-");

interface Exited {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: readonly string[]): Promise<Exited> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const start = (dataDir: string): Promise<RunningCli> => startCli(BIN, ["--port", "0", "--data-dir", dataDir, "--log-level", "error"]);
const clients = (url: string) => ({
  sm: new SecretsManagerClient({ endpoint: url, region: "us-east-1", credentials, maxAttempts: 1 }),
  kms: new KMSClient({ endpoint: url, region: "us-east-1", credentials, maxAttempts: 1 }),
});

/** Every secret the dir's server lists is read and decrypted; returns name → value. */
async function readEverySecret(url: string): Promise<Map<string, string>> {
  const { sm, kms } = clients(url);
  const values = new Map<string, string>();
  let NextToken: string | undefined;
  do {
    const page = await sm.send(new ListSecretsCommand({ NextToken, MaxResults: 100 }));
    for (const secret of page.SecretList ?? []) {
      const got = await sm.send(new GetSecretValueCommand({ SecretId: secret.Name! }));
      values.set(secret.Name!, got.SecretString!);
    }
    NextToken = page.NextToken;
  } while (NextToken !== undefined);
  sm.destroy();
  kms.destroy();
  return values;
}

describe("behaviour: secretslite backup", () => {
  it("copies a running server's data dir while it takes writes; the copy starts as a data dir and decrypts everything in it", async () => {
    const dataDir = path.join(tempDir(), "data");
    const backupDir = path.join(tempDir(), "backup");
    const server = await start(dataDir);
    const { sm, kms } = clients(server.url);
    const key = await kms.send(new CreateKeyCommand({ Description: "backed up" }));
    const keyId = key.KeyMetadata!.KeyId!;
    const ciphertext = (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("sealed before the backup") }))).CiphertextBlob!;
    for (let i = 0; i < 30; i++) await sm.send(new CreateSecretCommand({ Name: `before/${i}`, SecretString: `v0-${i}`, ...(i % 2 === 0 ? { KmsKeyId: keyId } : {}) }));

    // Writes keep going during the backup: new secrets and new versions of old ones.
    let writing = true;
    let written = 0;
    const writer = (async () => {
      for (let round = 1; writing; round++) {
        await Promise.all([
          sm.send(new CreateSecretCommand({ Name: `during/${round}`, SecretString: `d-${round}`, ...(round % 2 === 0 ? { KmsKeyId: keyId } : {}) })),
          sm.send(new PutSecretValueCommand({ SecretId: `before/${round % 30}`, SecretString: `v${round}-${round % 30}` })),
        ]);
        written += 2;
      }
    })();
    while (written < 20) await new Promise((wake) => setTimeout(wake, 10));
    const writtenAtStart = written;
    const backup = await run(["backup", backupDir, "--data-dir", dataDir]);
    const writtenAtEnd = written;
    writing = false;
    await writer;
    sm.destroy();
    kms.destroy();
    expect(backup.stderr).toBe("");
    expect(backup.code).toBe(0);
    expect(backup.stdout).toMatch(new RegExp(`^secretslite backup: \\d+ records and the token of ${dataDir} written to ${backupDir} \\(by the running server\\)`));
    // The writes really overlapped the backup.
    expect(writtenAtEnd).toBeGreaterThan(writtenAtStart);
    expect(await server.stop()).toBe(0);

    // The original server is stopped; the copy is a data dir of its own, token included.
    expect(existsSync(path.join(backupDir, "run.json"))).toBe(false);
    const restored = await start(backupDir);
    const values = await readEverySecret(restored.url);
    for (let i = 0; i < 30; i++) expect(values.get(`before/${i}`)).toMatch(new RegExp(`^v\\d+-${i}$`));
    // Some writes made during the backup are in it, each whole: a listed secret always decrypts.
    expect([...values.keys()].filter((name) => name.startsWith("during/")).length).toBeGreaterThan(0);
    const again = clients(restored.url);
    const plaintext = await again.kms.send(new DecryptCommand({ CiphertextBlob: ciphertext }));
    expect(Buffer.from(plaintext.Plaintext!).toString()).toBe("sealed before the backup");
    again.sm.destroy();
    again.kms.destroy();
    expect(await restored.stop()).toBe(0);

    // With no server running, the CLI opens the data dir itself; that copy starts too, with the same secrets.
    const direct = path.join(tempDir(), "direct");
    const offline = await run(["backup", direct, "--data-dir", backupDir]);
    expect(offline.code).toBe(0);
    expect(offline.stdout).toContain("(directly)");
    const fromDirect = await start(direct);
    expect(await readEverySecret(fromDirect.url)).toEqual(values);
    expect(await fromDirect.stop()).toBe(0);

    // A backup never goes over something else.
    const refused = await run(["backup", direct, "--data-dir", backupDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`secretslite backup: the backup dir ${direct} is not empty`);
  }, 60_000);
});

describe("behaviour: secretslite backup under --verify-signatures", () => {
  it("sends the admin token from run.json; the route refuses a request without it", async () => {
    const dir = tempDir();
    const dataDir = path.join(dir, "data");
    const credentialsFile = path.join(dir, "credentials");
    writeFileSync(credentialsFile, `[default]\naws_access_key_id = ${credentials.accessKeyId}\naws_secret_access_key = ${credentials.secretAccessKey}\n`);
    const server = await startCli(BIN, ["--port", "0", "--data-dir", dataDir, "--log-level", "error", "--verify-signatures", "--credentials-file", credentialsFile]);
    try {
      const bare = await fetch(`${server.url}/_secretslite/backup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ dir: path.join(dir, "stolen") }) });
      expect(bare.status).toBeGreaterThanOrEqual(401);
      expect(bare.status).toBeLessThanOrEqual(403);
      expect(existsSync(path.join(dir, "stolen"))).toBe(false);
      const backup = await run(["backup", path.join(dir, "copy"), "--data-dir", dataDir]);
      expect(backup.stderr).toBe("");
      expect(backup.code).toBe(0);
      expect(backup.stdout).toContain("(by the running server)");
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 30_000);
});

describe("behaviour: secretslite repair", () => {
  const fingerprint = (dir: string): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const name of readdirSync(dir).sort()) {
      if (name === "LOG" || name === "LOG.old" || name === "LOCK") continue;
      out[name] = createHash("sha256").update(readFileSync(path.join(dir, name))).digest("hex");
    }
    return out;
  };

  async function makeDataDir(count: number, intoTable = true): Promise<string> {
    const dataDir = path.join(tempDir(), "data");
    let server = await start(dataDir);
    let { sm } = clients(server.url);
    for (let i = 0; i < count; i += 20) {
      await Promise.all(Array.from({ length: Math.min(20, count - i) }, (_, j) => sm.send(new CreateSecretCommand({ Name: `s-${i + j}`, SecretString: `value-${i + j}` }))));
    }
    sm.destroy();
    expect(await server.stop()).toBe(0);
    if (!intoTable) return dataDir;
    // A restart turns the log into a table: the damage below hits a table.
    server = await start(dataDir);
    expect(await server.stop()).toBe(0);
    return dataDir;
  }

  /**
   * Starts the repaired dir and reads s-0 … s-(count-1) as makeDataDir wrote them: a secret that reads must hold its
   * own value (a repair never serves garbage); returns how many read. The server must then stop cleanly.
   */
  async function countReadable(dataDir: string, count: number): Promise<number> {
    const server = await start(dataDir);
    const { sm } = clients(server.url);
    let readable = 0;
    for (let i = 0; i < count; i++) {
      const got = await sm.send(new GetSecretValueCommand({ SecretId: `s-${i}` })).catch(() => undefined);
      if (got !== undefined) {
        expect(got.SecretString).toBe(`value-${i}`);
        readable++;
      }
    }
    sm.destroy();
    expect(await server.stop()).toBe(0);
    return readable;
  }

  const largestTable = (dataDir: string): string => {
    const names = readdirSync(path.join(dataDir, "db")).filter((name) => name.endsWith(".ldb"));
    names.sort((a, b) => statSync(path.join(dataDir, "db", b)).size - statSync(path.join(dataDir, "db", a)).size);
    return path.join(dataDir, "db", names[0]!);
  };

  it("keeps the damaged files, recovers the blocks whose checksums hold, names what is lost, and exits 1", async () => {
    const dataDir = await makeDataDir(120);
    const table = largestTable(dataDir);
    const bytes = readFileSync(table);
    for (const at of [0.2, 0.5]) bytes[Math.floor(bytes.length * at)] = bytes[Math.floor(bytes.length * at)]! ^ 0xff;
    writeFileSync(table, bytes);
    const damaged = fingerprint(path.join(dataDir, "db"));
    expect((await run(["--port", "0", "--data-dir", dataDir])).code).toBe(1);

    const repair = await run(["repair", "--data-dir", dataDir]);
    expect(repair.code).toBe(1);
    const saved = /copied \S+ to (\S+) before changing anything/.exec(repair.stdout)?.[1];
    expect(saved).toBeDefined();
    // The evidence: the copy holds the damaged files byte for byte.
    expect(fingerprint(saved!)).toEqual(damaged);
    expect(repair.stdout).toContain(`damaged: ${table} a data block at offset`);
    expect(repair.stdout).toMatch(/salvaged \d+\.ldb: kept \d+ data block\(s\) \(\d+ records\) whose checksums hold, dropped 2/);
    expect(repair.stdout).toMatch(/recovered \d+ records: /);
    expect(repair.stdout).toMatch(/unrecoverable: \d+ (secret versions are gone|secrets are gone)/);
    expect(repair.stdout).toContain("some data could not be recovered");

    // It starts now, serves what was recovered, and what it serves is right.
    const readable = await countReadable(dataDir, 120);
    expect(readable).toBeGreaterThan(60);
    expect(readable).toBeLessThan(120);
  }, 60_000);

  it("drops a log's damaged writes whole (LevelDB's RepairDB alone would keep a flipped record's garbage)", async () => {
    const dataDir = await makeDataDir(60, false);
    const log = readdirSync(path.join(dataDir, "db")).find((name) => name.endsWith(".log"))!;
    const bytes = readFileSync(path.join(dataDir, "db", log));
    // Inside a record's value, a third of the way in: its checksum fails.
    bytes[Math.floor(bytes.length / 3)] = bytes[Math.floor(bytes.length / 3)]! ^ 0x01;
    writeFileSync(path.join(dataDir, "db", log), bytes);
    const repair = await run(["repair", "--data-dir", dataDir]);
    expect(repair.code).toBe(1);
    expect(repair.stdout).toMatch(new RegExp(`salvaged ${log}: kept \\d+ whole write\\(s\\) whose checksums hold, dropped \\d+ bytes`));
    const readable = await countReadable(dataDir, 60);
    expect(readable).toBeGreaterThan(0);
    expect(readable).toBeLessThan(60);
  }, 60_000);

  it("rebuilds a lost CURRENT with nothing lost (exit 0), and refuses while a server runs", async () => {
    const dataDir = await makeDataDir(40);
    const server = await start(dataDir);
    const busy = await run(["repair", "--data-dir", dataDir]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`secretslite repair: secretslite (pid ${server.child.pid}, ${server.url}) is running on ${dataDir}: stop it before repairing`);
    expect(await server.stop()).toBe(0);

    cpSync(path.join(dataDir, "db", "CURRENT"), path.join(tempDir(), "CURRENT"));
    rmSync(path.join(dataDir, "db", "CURRENT"));
    const repair = await run(["repair", "--data-dir", dataDir]);
    expect(repair.stdout).toContain(`damaged: ${path.join(dataDir, "db", "CURRENT")} is missing`);
    expect(repair.stdout).toContain("nothing was lost");
    expect(repair.code).toBe(0);
    const restarted = await start(dataDir);
    const values = await readEverySecret(restarted.url);
    expect(values.size).toBe(40);
    for (let i = 0; i < 40; i++) expect(values.get(`s-${i}`)).toBe(`value-${i}`);
    expect(await restarted.stop()).toBe(0);
  }, 60_000);
});
