// The `secretslite` command as users run it: first start creates the token, one ready line, clean exit on signals.
// Runs the built CLI (dist/), which `npm test` builds first.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
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

  /** Runs the CLI to its exit: code and output. */
  async function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    return { code, stdout, stderr };
  }

  it("rejects a bad value in one line that points to --help, with exit code 2", async () => {
    const { code, stdout, stderr } = await runCli(["--port", "http"]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toBe("secretslite: --port must be a whole number from 0 to 65535, not 'http'; secretslite --help lists the options\n");
  });

  it("answers an unknown option with the closest one in one line, not the whole usage", async () => {
    expect(await runCli(["--prot", "4566"])).toEqual({
      code: 2,
      stdout: "",
      stderr: "secretslite: unknown option --prot (did you mean --port?); secretslite --help lists the options\n",
    });
    expect((await runCli(["--in-memroy"])).stderr).toContain("unknown option --in-memroy (did you mean --in-memory?)");
    expect((await runCli(["--datadir=./d"])).stderr).toContain("unknown option --datadir (did you mean --data-dir?)");
    // Nothing close: no guess.
    const far = await runCli(["--xyzzy"]);
    expect(far.stderr).toBe("secretslite: unknown option --xyzzy; secretslite --help lists the options\n");
  });

  it("prints its version with --version and exits 0 without starting", async () => {
    const { version } = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")) as { version: string };
    expect(await runCli(["--version"])).toEqual({ code: 0, stdout: `secretslite ${version}\n`, stderr: "" });
    expect((await runCli(["--help"])).stdout).toMatch(/^ {2}--version +print the version$/m);
  });
});
