// `secretslite token clone DIR`, as an operator provisioning one more cluster node runs it: the clone starts with the same root key.
// Runs the built CLI (dist/), which `npm test` builds first.
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from "@aws-sdk/client-kms";
import { startCli, type RunningCli } from "../support/cli-process";
import { credentials } from "../support/server";
import { temporaryDirs } from "../support/files";

const BIN = path.join(__dirname, "..", "..", "bin", "secretslite.js");
const tempDir = temporaryDirs("secretslite-token-clone-");

interface Exited {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Exited> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const start = (dataDir: string): Promise<RunningCli> => startCli(BIN, ["--port", "0", "--data-dir", dataDir, "--log-level", "error"]);
const kmsClient = (url: string): KMSClient => new KMSClient({ endpoint: url, region: "us-east-1", credentials, maxAttempts: 1 });

/** Every entry under `dir` with its permission bits, as `relative path → mode`. */
function modes(dir: string): Map<string, number> {
  const found = new Map<string, number>([[".", statSync(dir).mode & 0o777]]);
  for (const entry of readdirSync(dir, { recursive: true }) as string[]) found.set(entry, statSync(path.join(dir, entry)).mode & 0o777);
  return found;
}

/** A data dir a real start made, stopped: its token holds a root key. */
async function startedOnce(): Promise<string> {
  const dataDir = path.join(tempDir(), "data");
  const server = await start(dataDir);
  expect(await server.stop()).toBe(0);
  return dataDir;
}

describe("behaviour: secretslite token clone", () => {
  it("copies a running server's token; a node on the clone decrypts what the original sealed, a node with a token of its own cannot", async () => {
    const dataDir = path.join(tempDir(), "data");
    const cloneDir = path.join(tempDir(), "node-b");
    const original = await start(dataDir);
    const kms = kmsClient(original.url);
    const key = await kms.send(new CreateKeyCommand({ Description: "sealed on node A" }));
    const ciphertext = (await kms.send(new EncryptCommand({ KeyId: key.KeyMetadata!.KeyId!, Plaintext: Buffer.from("one root key") }))).CiphertextBlob!;
    kms.destroy();

    // While A runs: the copy is taken under the token's lock.
    const cloned = await run(["token", "clone", cloneDir, "--data-dir", dataDir]);
    expect(cloned.stderr).toBe("");
    expect(cloned.code).toBe(0);
    expect(original.stderr()).toBe("");
    expect(await original.stop()).toBe(0);

    const pin = readFileSync(path.join(dataDir, "token", "pin"), "utf8").trim();
    expect(pin.length).toBeGreaterThan(8);
    // The PIN travels as a file, never in the output.
    expect(cloned.stdout).not.toContain(pin);
    expect(cloned.stdout).toContain(`the token of ${dataDir} copied to ${path.join(cloneDir, "token")}: `);
    expect(cloned.stdout).toContain(`secretslite --data-dir ${cloneDir} --store postgres://`);
    // What was copied, listed: the PIN file and the token's own files (the SoftHSM config is written by each start).
    const tokenDir = readdirSync(path.join(dataDir, "token", "tokens"))[0]!;
    for (const file of ["pin", path.join("tokens", tokenDir, "token.object")]) expect(cloned.stdout).toContain(file);
    expect(readFileSync(path.join(cloneDir, "token", "pin"), "utf8").trim()).toBe(pin);
    expect(existsSync(path.join(cloneDir, "token", "softhsm2.conf"))).toBe(false);
    expect(existsSync(path.join(cloneDir, "db"))).toBe(false);

    // The clone is its user's alone: directories 0700, files 0600.
    const cloneModes = modes(cloneDir);
    expect(cloneModes.size).toBeGreaterThan(4);
    for (const [entry, mode] of cloneModes) {
      const isDir = statSync(path.join(cloneDir, entry)).isDirectory();
      expect(`${entry} ${mode.toString(8)}`).toBe(`${entry} ${isDir ? "700" : "600"}`);
    }

    // The records a cluster would share in PostgreSQL: here A's LevelDB, copied beside the cloned token.
    cpSync(path.join(dataDir, "db"), path.join(cloneDir, "db"), { recursive: true });
    const nodeB = await start(cloneDir);
    const kmsB = kmsClient(nodeB.url);
    const opened = await kmsB.send(new DecryptCommand({ CiphertextBlob: ciphertext }));
    expect(Buffer.from(opened.Plaintext!).toString()).toBe("one root key");
    kmsB.destroy();
    expect(await nodeB.stop()).toBe(0);

    // The control: the same records beside a token made fresh (another root key) do not open.
    const fresh = await startedOnce();
    const other = path.join(tempDir(), "node-c");
    mkdirSync(other, { mode: 0o700 });
    cpSync(path.join(fresh, "token"), path.join(other, "token"), { recursive: true });
    cpSync(path.join(dataDir, "db"), path.join(other, "db"), { recursive: true });
    const nodeC = await start(other);
    const kmsC = kmsClient(nodeC.url);
    // The KMS key's backing key was wrapped by A's root key: this token cannot unwrap it.
    await expect(kmsC.send(new DecryptCommand({ CiphertextBlob: ciphertext }))).rejects.toMatchObject({ name: "InvalidCiphertextException" });
    kmsC.destroy();
    await nodeC.stop();
  }, 120_000);

  it("refuses a DIR that is not empty, and touches nothing in it", async () => {
    const dataDir = await startedOnce();
    const target = tempDir();
    writeFileSync(path.join(target, "keep.txt"), "mine");
    const result = await run(["token", "clone", target, "--data-dir", dataDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`secretslite token clone: ${target} is not empty (keep.txt…): give a new or empty dir\n`);
    expect(readdirSync(target)).toEqual(["keep.txt"]);
  }, 60_000);

  it("clones into an existing empty DIR, tightening its mode to 0700", async () => {
    const dataDir = await startedOnce();
    const target = path.join(tempDir(), "empty");
    mkdirSync(target, { mode: 0o755 });
    const result = await run(["token", "clone", target], { SECRETSLITE_DATA_DIR: dataDir });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(statSync(target).mode & 0o777).toBe(0o700);
    expect(readFileSync(path.join(target, "token", "pin"))).toEqual(readFileSync(path.join(dataDir, "token", "pin")));
  }, 60_000);

  it("refuses a --token-label token (the user's own HSM), by flag or environment, creating nothing", async () => {
    const target = path.join(tempDir(), "never");
    for (const [args, env] of [
      [["token", "clone", target, "--token-label", "team-hsm"], {}],
      [["token", "clone", target], { SECRETSLITE_TOKEN_LABEL: "team-hsm", SECRETSLITE_PIN_FILE: "/nonexistent" }],
    ] as const) {
      const result = await run(args, env);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/not ours to copy; give each node that token's PKCS#11 library \(--pkcs11-module\) and label \(--token-label\)/);
      expect(existsSync(target)).toBe(false);
    }
  });

  it("fails on a damaged token and leaves no half-made clone behind", async () => {
    const dataDir = await startedOnce();
    const tokenHome = path.join(dataDir, "token");
    // No verified copy to fall back on, and the live token record emptied (a kill mid-login, before copies existed).
    rmSync(path.join(tokenHome, "backups"), { recursive: true });
    const tokenDir = readdirSync(path.join(tokenHome, "tokens"))[0]!;
    writeFileSync(path.join(tokenHome, "tokens", tokenDir, "token.object"), "");
    const parent = path.join(tempDir(), "made");
    const target = path.join(parent, "node-b");
    const result = await run(["token", "clone", target, "--data-dir", dataDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^secretslite token clone: The token file .*token\.object is damaged; not copying it\n$/);
    // Both directories the command made are gone again; a retry after the repair is not refused as "not empty".
    expect(existsSync(parent)).toBe(false);
  }, 60_000);

  it("refuses a data dir that never started (no token to clone), creating nothing", async () => {
    const empty = tempDir();
    const target = path.join(tempDir(), "never");
    const result = await run(["token", "clone", target, "--data-dir", empty]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("holds no token secretslite made");
    expect(existsSync(target)).toBe(false);
  });

  it("prints its usage for --help (exit 0) and on a usage mistake (exit 2)", async () => {
    const help = await run(["token", "clone", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("secretslite token clone DIR [--data-dir DATA]");
    expect(help.stdout).toContain("token clone\n");
    for (const args of [["token", "clone"], ["token"], ["token", "copy", "x"], ["token", "clone", "a", "b"], ["token", "clone", "a", "--port", "1"]]) {
      const result = await run(args);
      expect(`${args.join(" ")}: ${result.code}`).toBe(`${args.join(" ")}: 2`);
      expect(result.stderr).toMatch(/^secretslite token: .+\n\nUsage: secretslite repair/);
    }
  });
});
