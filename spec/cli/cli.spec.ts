// The `secretslite` command as users run it: first start creates the token, one ready line, clean exit on signals.
// Runs the built CLI (dist/), which `npm test` builds first.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import request from "supertest";
import { startCli as startCliProcess, type RunningCli } from "../support/cli-process";
import { credentials } from "../support/server";
import { temporaryDirs } from "../support/files";

const BIN = path.join(__dirname, "..", "..", "bin", "secretslite.js");

/** Starts the built CLI; it must print its ready line first, on loopback as configured. */
async function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunningCli> {
  const started = await startCliProcess(BIN, args, env);
  expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  return started;
}

const tempDir = temporaryDirs("secretslite-cli-");

describe("behaviour", () => {
  it("creates a SoftHSM2 token and PIN under the data dir on first start, keeps data across restarts, and exits cleanly on SIGTERM", async () => {
    const dataDir = path.join(tempDir(), "data");
    const first = await startCli(["--port", "0", "--data-dir", dataDir]);
    const health = await request(first.url).get("/_secretslite/health");
    expect(health.status).toBe(200);
    expect(health.body.keyStore.ok).toBe(true);

    const pinFile = path.join(dataDir, "token", "pin");
    expect(statSync(pinFile).mode & 0o777).toBe(0o600);
    expect(readdirSync(path.join(dataDir, "token", "tokens")).length).toBe(1);

    const client = new SecretsManagerClient({ endpoint: first.url, region: "us-east-1", credentials, maxAttempts: 1 });
    await client.send(new CreateSecretCommand({ Name: "survives-restart", SecretString: "still here" }));
    client.destroy();
    first.child.kill("SIGTERM");
    expect(await first.exit).toBe(0);

    const second = await startCli(["--port", "0"], { SECRETSLITE_DATA_DIR: dataDir });
    const again = new SecretsManagerClient({ endpoint: second.url, region: "us-east-1", credentials, maxAttempts: 1 });
    expect((await again.send(new GetSecretValueCommand({ SecretId: "survives-restart" }))).SecretString).toBe("still here");
    again.destroy();
    second.child.kill("SIGINT");
    expect(await second.exit).toBe(0);
  });

  it("--in-memory keeps nothing on disk and removes its temporary token at exit", async () => {
    const tmp = tempDir();
    const started = await startCli(["--port", "0", "--in-memory", "--data-dir", path.join(tmp, "unused")], { TMPDIR: tmp });
    const created = readdirSync(tmp).filter((name) => name.startsWith("secretslite-"));
    expect(created).toHaveLength(1);
    expect((await request(started.url).get("/_secretslite/health")).status).toBe(200);
    started.child.kill("SIGTERM");
    expect(await started.exit).toBe(0);
    expect(existsSync(path.join(tmp, created[0]!))).toBe(false);
    expect(existsSync(path.join(tmp, "unused"))).toBe(false);
  });

  it("rejects a bad option with usage and exit code 2", async () => {
    const child = spawn(process.execPath, [BIN, "--port", "http"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(2);
    expect(stderr).toContain("--port must be a whole number");
    expect(stderr).toContain("Usage: secretslite");
  });
});
