// --sync always makes LevelDB fsync its log before each write is answered; --sync never does not (seen with strace).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { startCli } from "../support/cli-process";
import { credentials, REGION } from "../support/server";

const BIN = path.join(__dirname, "..", "..", "bin", "secretslite.js");
const WRITES = 20;

/** fdatasync calls the server made (strace -c summary) while it started, took WRITES CreateSecret calls and stopped. */
async function fdatasyncsFor(sync: "always" | "never"): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-sync-"));
  const summary = path.join(dir, "strace.txt");
  const cli = await startCli("strace", [
    "-f", "-c", "-e", "trace=fdatasync", "-o", summary,
    process.execPath, BIN, "--port", "0", "--data-dir", path.join(dir, "data"), "--log-level", "error", "--sync", sync,
  ]);
  const client = new SecretsManagerClient({ endpoint: cli.url, region: REGION, credentials, maxAttempts: 1 });
  try {
    for (let i = 0; i < WRITES; i++) await client.send(new CreateSecretCommand({ Name: `durable/${i}`, SecretString: `v${i}` }));
  } finally {
    client.destroy();
    // SIGTERM to the server itself (strace's child): strace writes its summary once its tracee has exited.
    const serverPid = Number(execFileSync("pgrep", ["-P", String(cli.child.pid)]).toString().trim().split("\n")[0]);
    process.kill(serverPid, "SIGTERM");
    await cli.exit;
  }
  try {
    const line = readFileSync(summary, "utf8").split("\n").find((text) => /\bfdatasync$/.test(text.trim()));
    // "% time seconds usecs/call calls [errors] syscall": calls is the fourth column.
    return line === undefined ? 0 : Number(line.trim().split(/\s+/)[3]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("--sync", () => {
  it("always: an fdatasync of LevelDB's log before each write is answered; never: none per write", async () => {
    const always = await fdatasyncsFor("always");
    const never = await fdatasyncsFor("never");
    // Start-up and shutdown sync the same few files either way; only the writes differ.
    expect(always - never).toBeGreaterThanOrEqual(WRITES);
    expect(never).toBeLessThan(WRITES);
  }, 60_000);
});
