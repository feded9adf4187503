// The start-up summary: one info line saying where data lives, which token, how many KMS keys and secrets (and what
// the seed added), the audit log and the TLS certificate; /_secretslite/health shows the same under `startup`.
import path from "node:path";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { parseConfig } from "../../src/config";
import { createLogger } from "../../src/logger";
import { startSecretslite, type RunningSecretslite } from "../../src/main";
import { temporaryDirs } from "../support/files";
import { credentials } from "../support/server";

const ROOT = path.join(__dirname, "..", "..");
const SEED = path.join(ROOT, "fixtures", "seed.yaml");
const tempDir = temporaryDirs("secretslite-summary-");

/** Starts in-process with the given flags; the log lines it wrote at start, parsed. */
async function start(flags: readonly string[]): Promise<{ running: RunningSecretslite; lines: Array<Record<string, unknown>> }> {
  const config = parseConfig(["--port", "0", ...flags], {});
  if (config === undefined) throw new Error("unreachable");
  const raw: string[] = [];
  const running = await startSecretslite(config, { logger: createLogger("info", (line) => raw.push(line)) });
  return { running, lines: raw.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

const summaries = (lines: Array<Record<string, unknown>>) => lines.filter((line) => String(line.msg).startsWith("secretslite started on "));

async function healthStartup(url: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}/_secretslite/health`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { startup: Record<string, unknown> }).startup;
}

/** The summary's fields as the log line carries them (without pino's own). */
const fieldsOf = (line: Record<string, unknown>): Record<string, unknown> => {
  const { level: _level, time: _time, msg: _msg, pid: _pid, hostname: _hostname, ...fields } = line;
  return fields;
};

describe("behaviour", () => {
  it("logs one summary at info with the data dir, token, counts, what the seed added and the audit log; health shows the same", async () => {
    const dataDir = path.join(tempDir(), "data");
    const auditLog = path.join(tempDir(), "audit.jsonl");
    const flags = ["--data-dir", dataDir, "--seed", SEED, "--audit-log", auditLog];
    const first = await start(flags);
    let secretsAfterFirst: number;
    try {
      const lines = summaries(first.lines);
      expect(lines).toHaveLength(1);
      const summary = lines[0]!;
      expect(summary.level).toBe("info");
      expect(summary).toMatchObject({
        url: first.running.url,
        data: path.join(dataDir, "db"),
        token: `SoftHSM2 token in ${path.join(dataDir, "token")}`,
        auditLog,
        strictHsm: false,
      });
      // A fresh data dir: everything there is what the seed added.
      expect(summary.kmsKeys).toBeGreaterThan(0);
      expect(summary.secrets).toBeGreaterThan(0);
      expect(summary.seeded).toEqual({ file: SEED, kmsKeys: summary.kmsKeys, secrets: summary.secrets });
      expect(summary.msg).toContain(`data in ${path.join(dataDir, "db")}`);
      expect(summary.msg).toContain(`${String(summary.kmsKeys)} KMS keys and ${String(summary.secrets)} secrets (the seed added ${String(summary.kmsKeys)} and ${String(summary.secrets)})`);
      expect(summary.msg).toContain(`audit log ${auditLog}`);
      expect(await healthStartup(first.running.url)).toEqual(JSON.parse(JSON.stringify(fieldsOf(summary))));

      const client = new SecretsManagerClient({ endpoint: first.running.url, region: "us-east-1", credentials, maxAttempts: 1 });
      await client.send(new CreateSecretCommand({ Name: "summary/added-by-hand", SecretString: "x" }));
      client.destroy();
      secretsAfterFirst = (summary.secrets as number) + 1;
    } finally {
      await first.running.close();
    }

    // Restarted on the same data: the seed adds nothing, the counts include what was created in between.
    const second = await start(flags);
    try {
      const summary = summaries(second.lines)[0]!;
      expect(summary.secrets).toBe(secretsAfterFirst);
      expect(summary.seeded).toEqual({ file: SEED, kmsKeys: 0, secrets: 0 });
      expect(summary.msg).toContain("(the seed added 0 and 0)");
    } finally {
      await second.running.close();
    }
  });

  it("says an --in-memory start keeps nothing, names its temporary token, and leaves out what is not configured", async () => {
    const { running, lines } = await start(["--in-memory"]);
    try {
      const summary = summaries(lines)[0]!;
      expect(summary).toMatchObject({ data: "in memory", kmsKeys: 0, secrets: 0, token: "SoftHSM2 token in a temporary directory, removed at exit" });
      expect(summary).not.toHaveProperty("seeded");
      expect(summary).not.toHaveProperty("auditLog");
      expect(summary).not.toHaveProperty("tlsCertificate");
      expect(summary.msg).toContain("data in memory (nothing kept after exit)");
      expect(await healthStartup(running.url)).toEqual(JSON.parse(JSON.stringify(fieldsOf(summary))));
    } finally {
      await running.close();
    }
  });

  it("names the self-signed TLS certificate clients must trust", async () => {
    const dataDir = path.join(tempDir(), "tls");
    const { running, lines } = await start(["--data-dir", dataDir, "--tls"]);
    try {
      const summary = summaries(lines)[0]!;
      expect(summary.tlsCertificate).toBe(running.tlsCertificate);
      expect(String(summary.tlsCertificate).startsWith(dataDir)).toBe(true);
      expect(summary.msg).toContain(`TLS certificate ${String(running.tlsCertificate)}`);
    } finally {
      await running.close();
    }
  });
});
