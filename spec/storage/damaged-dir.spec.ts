// A damaged, locked or unusable data dir: the CLI refuses to start with one message naming the file, the cause and what to do.
// Runs the built CLI (dist/), which `npm test` builds first.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { startCli, type RunningCli } from "../support/cli-process";
import { credentials } from "../support/server";
import { temporaryDirs } from "../support/files";

const BIN = path.join(__dirname, "..", "..", "bin", "secretslite.js");
const tempDir = temporaryDirs("secretslite-damaged-");
const isRoot = process.getuid?.() === 0;
const SECRETS = 60;
const LATER = 20;

interface Exited {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI to its end: a refused start exits by itself; a start that gets as far as its ready line is a failure here. */
function runToExit(
  args: readonly string[],
  options: { uid?: number; gid?: number; under?: readonly string[]; program?: { node: string; bin: string } } = {},
): Promise<Exited> {
  const { under = [], program = { node: process.execPath, bin: BIN }, ...ids } = options;
  const command = [...under, program.node, program.bin, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), {
      env: { PATH: process.env.PATH ?? "" },
      stdio: ["ignore", "pipe", "pipe"],
      ...ids,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      // It started on a damaged dir: stop it, the assertions below report what it printed.
      if (stdout.includes("listening on")) child.kill("SIGTERM");
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const client = (url: string): SecretsManagerClient => new SecretsManagerClient({ endpoint: url, region: "us-east-1", credentials, maxAttempts: 1 });

async function createSecrets(url: string, from: number, to: number): Promise<void> {
  const sm = client(url);
  for (let i = from; i < to; i += 20) {
    await Promise.all(Array.from({ length: Math.min(20, to - i) }, (_, j) => sm.send(new CreateSecretCommand({ Name: `s-${i + j}`, SecretString: `value-${i + j}` }))));
  }
  sm.destroy();
}

const stopCli = async (cli: RunningCli): Promise<void> => {
  expect(await cli.stop()).toBe(0);
};

/** The largest of the db's files matching `pattern`. */
const dbFile = (dataDir: string, pattern: RegExp): string => {
  const names = readdirSync(path.join(dataDir, "db")).filter((name) => pattern.test(name));
  names.sort((a, b) => statSync(path.join(dataDir, "db", b)).size - statSync(path.join(dataDir, "db", a)).size);
  if (names[0] === undefined) throw new Error(`no ${pattern} in ${dataDir}/db`);
  return path.join(dataDir, "db", names[0]);
};

/** sha256 of every LevelDB file but its diary (LOG) and LOCK, which any open attempt rewrites. */
const fingerprint = (dataDir: string): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const name of readdirSync(path.join(dataDir, "db")).sort()) {
    if (name === "LOG" || name === "LOG.old" || name === "LOCK") continue;
    out[name] = createHash("sha256").update(readFileSync(path.join(dataDir, "db", name))).digest("hex");
  }
  return out;
};

/** Deterministic damage: byte i of the 20 is at an even spread over the file's first nine tenths (its data blocks). */
const flipBytes = (file: string, count: number): void => {
  const bytes = readFileSync(file);
  for (let i = 0; i < count; i++) {
    const at = Math.floor(((i + 0.5) / count) * bytes.length * 0.9);
    bytes[at] = bytes[at]! ^ 0x5a;
  }
  writeFileSync(file, bytes);
};

let base: string;

beforeAll(async () => {
  // SECRETS in a table (a restart turns the log into one), LATER more only in the log, then a clean stop.
  base = path.join(tempDir(), "base");
  let cli = await startCli(BIN, ["--port", "0", "--data-dir", base, "--log-level", "error"]);
  await createSecrets(cli.url, 0, SECRETS);
  await stopCli(cli);
  cli = await startCli(BIN, ["--port", "0", "--data-dir", base, "--log-level", "error"]);
  await createSecrets(cli.url, SECRETS, SECRETS + LATER);
  await stopCli(cli);
}, 60_000);

const copyOfBase = (): string => {
  const dir = path.join(tempDir(), "data");
  cpSync(base, dir, { recursive: true });
  return dir;
};

describe("behaviour: a damaged data dir is refused, never half-opened, never changed", () => {
  const cases: Array<[string, (dataDir: string) => string, RegExp]> = [
    ["20 flipped bytes in a table (today: a LevelDB assertion aborts every start)", (d) => { const f = dbFile(d, /\.ldb$/); flipBytes(f, 20); return f; }, /fails its CRC32C checksum/],
    ["a truncated table (today: starts ready, then every call answers 500)", (d) => { const f = dbFile(d, /\.ldb$/); truncateSync(f, Math.floor(statSync(f).size / 2)); return f; }, /where the MANIFEST recorded \d+: the file was truncated/],
    ["CURRENT deleted (today: an empty database over the old tables, which LevelDB deletes)", (d) => { const f = path.join(d, "db", "CURRENT"); rmSync(f); return f; }, /is missing, yet the dir holds \d+ table file\(s\).*would create an empty database and delete those tables/],
    ["the log truncated after a clean stop (today: starts with the last secrets missing)", (d) => { const f = dbFile(d, /\.log$/); truncateSync(f, Math.floor(statSync(f).size / 2)); return f; }, /is cut short after a clean shutdown/],
    ["a bit-flipped log (today: starts with the rest of that 32 KiB block silently dropped)", (d) => { const f = dbFile(d, /\.log$/); flipBytes(f, 1); return f; }, /fails its CRC32C checksum/],
    ["a garbage MANIFEST (today: \"Database failed to open\" with no cause)", (d) => { const f = dbFile(d, /^MANIFEST-/); writeFileSync(f, Buffer.alloc(statSync(f).size, 0xa7)); return f; }, /MANIFEST-\d+ (the record at offset 0 .*(bad record length|CRC32C)|holds no complete record \(the record at offset 0 needs \d+ bytes)/],
  ];

  it.each(cases)("%s", async (_name, damage, cause) => {
    const dataDir = copyOfBase();
    const file = damage(dataDir);
    const before = fingerprint(dataDir);
    const result = await runToExit(["--port", "0", "--data-dir", dataDir]);
    expect(result.stdout).not.toContain("listening on");
    expect(result.signal).toBeNull();
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/Assertion|Aborted|core dumped|Database failed to open/);
    // One message: the file, the cause, what to do.
    const lines = result.stderr.split("\n").filter((line) => line.startsWith("secretslite:"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`secretslite: could not start: the data dir ${dataDir} is damaged: ${file} `);
    expect(lines[0]).toMatch(cause);
    expect(lines[0]).toContain(`secretslite repair --data-dir ${dataDir}`);
    expect(lines[0]).toContain("Restore a backup");
    expect(fingerprint(dataDir)).toEqual(before);
  });

  it("a log cut short by a crash (the run file left behind) is an unacknowledged write: the start goes on with every acknowledged secret", async () => {
    const dataDir = copyOfBase();
    const log = dbFile(dataDir, /\.log$/);
    // The last record loses its last bytes, as a write killed half-way leaves it; the run file says the run never closed.
    truncateSync(log, statSync(log).size - 3);
    writeFileSync(path.join(dataDir, "run.json"), JSON.stringify({ pid: 2 ** 22 + 1, url: "http://127.0.0.1:1" }));
    const cli = await startCli(BIN, ["--port", "0", "--data-dir", dataDir, "--log-level", "error"]);
    const sm = client(cli.url);
    let readable = 0;
    for (let i = 0; i < SECRETS + LATER; i++) {
      const got = await sm.send(new GetSecretValueCommand({ SecretId: `s-${i}` })).catch(() => undefined);
      if (got?.SecretString === `value-${i}`) readable++;
    }
    sm.destroy();
    await stopCli(cli);
    // The one cut short was the last write (a secret, or the usage flush at close); it never finished, so it was never acknowledged.
    expect(readable).toBeGreaterThanOrEqual(SECRETS + LATER - 1);
  });
});

describe("behaviour: what is not damage", () => {
  it("a first start killed between LevelDB's MANIFEST and CURRENT (no record anywhere yet) starts afresh", async () => {
    const dataDir = path.join(tempDir(), "data");
    mkdirSync(path.join(dataDir, "db"), { recursive: true });
    writeFileSync(path.join(dataDir, "db", "MANIFEST-000001"), Buffer.from("half-made"));
    const cli = await startCli(BIN, ["--port", "0", "--data-dir", dataDir, "--log-level", "error"]);
    await createSecrets(cli.url, 0, 1);
    await stopCli(cli);
  });
});

describe("behaviour: a check that is stopped is not a damaged dir", () => {
  it("(needs strace) the checking child SIGKILLed (as the OOM killer would) says so, changes nothing, and the next start works", async () => {
    const dataDir = copyOfBase();
    const before = fingerprint(dataDir);
    // Only the checking child opens db/LOCK before the server does: kill whoever opens it first.
    const lock = path.join(dataDir, "db", "LOCK");
    const strace = ["strace", "-f", "-qq", "-e", "signal=none", "-P", lock, "-e", "trace=openat", "-e", "inject=openat:signal=KILL:when=1"];
    const result = await runToExit(["--port", "0", "--data-dir", dataDir], { under: strace });
    expect(result.stdout).not.toContain("listening on");
    expect(result.code).toBe(1);
    const lines = result.stderr.split("\n").filter((line) => line.startsWith("secretslite:"));
    expect(lines).toEqual([`secretslite: could not start: the check of ${path.join(dataDir, "db")} was stopped by SIGKILL before it finished (not a sign of damage: LevelDB aborts with SIGABRT or SIGSEGV). Nothing was changed; start again`]);
    expect(fingerprint(dataDir)).toEqual(before);
    const cli = await startCli(BIN, ["--port", "0", "--data-dir", dataDir, "--log-level", "error"]);
    const got = await client(cli.url).send(new GetSecretValueCommand({ SecretId: "s-0" }));
    expect(got.SecretString).toBe("value-0");
    await stopCli(cli);
  });
});

/**
 * The node binary and CLI as uid `uid` can run them. A checkout in a private dir is out of that user's reach (CI may
 * clone under /root; scripts/test-current-node.sh works in a 0700 mktemp dir): then node and the package's runtime
 * files are copied into a dir everyone can read, which is what the test needs, not where they came from.
 */
function programRunnableBy(uid: number): { node: string; bin: string } {
  const root = path.join(__dirname, "..", "..");
  const needed = [BIN, path.join(root, "dist", "cli.js"), path.join(root, "node_modules", "classic-level", "package.json")];
  const probe = spawnSync(process.execPath, ["-e", `for (const file of ${JSON.stringify(needed)}) require("node:fs").accessSync(file, 4)`], {
    uid,
    gid: uid,
    stdio: "ignore",
  });
  if (probe.error === undefined && probe.status === 0) return { node: process.execPath, bin: BIN };
  const dir = tempDir();
  chmodSync(dir, 0o755);
  cpSync(process.execPath, path.join(dir, "node"));
  chmodSync(path.join(dir, "node"), 0o755);
  for (const part of ["bin", "dist", "node_modules", "package.json"]) cpSync(path.join(root, part), path.join(dir, "app", part), { recursive: true });
  return { node: path.join(dir, "node"), bin: path.join(dir, "app", "bin", "secretslite.js") };
}

describe("behaviour: start-up messages for a data dir LevelDB cannot open", () => {
  it("a second instance on the same data dir names the first one's pid and URL", async () => {
    const dataDir = copyOfBase();
    const first = await startCli(BIN, ["--port", "0", "--data-dir", dataDir, "--log-level", "error"]);
    try {
      const second = await runToExit(["--port", "0", "--data-dir", dataDir]);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`secretslite: could not start: another secretslite (pid ${first.child.pid}, ${first.url}) has ${dataDir} open`);
      expect(second.stderr).toContain("Stop it, or give this one another --data-dir");
      // The first one's run file is still there and it still serves.
      expect(JSON.parse(readFileSync(path.join(dataDir, "run.json"), "utf8")).pid).toBe(first.child.pid);
      const got = await client(first.url).send(new GetSecretValueCommand({ SecretId: "s-1" }));
      expect(got.SecretString).toBe("value-1");
    } finally {
      await stopCli(first);
    }
  });

  it("a data dir another user owns (runs the CLI as nobody, needs root)", async () => {
    if (!isRoot) throw new Error("NOT RUN: this test needs root to run the CLI as another user (CI runs as root); run the suite as root to run it.");
    const dataDir = copyOfBase();
    chmodSync(path.dirname(dataDir), 0o755);
    chmodSync(dataDir, 0o755);
    chmodSync(path.join(dataDir, "db"), 0o755);
    const result = await runToExit(["--port", "0", "--data-dir", dataDir], { uid: 65534, gid: 65534, program: programRunnableBy(65534) });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`secretslite: could not start: ${dataDir} cannot be written by \\S+ \\(uid 65534\\): it belongs to uid 0\\. Run secretslite as that user`));
  });

  it("a read-only file system (a read-only bind mount, needs root)", async () => {
    if (!isRoot) throw new Error("NOT RUN: this test needs root to mount a read-only bind mount (CI runs as root); run the suite as root to run it.");
    const dataDir = copyOfBase();
    execFileSync("mount", ["--bind", dataDir, dataDir]);
    try {
      execFileSync("mount", ["-o", "remount,ro,bind", dataDir]);
      const result = await runToExit(["--port", "0", "--data-dir", dataDir]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`secretslite: could not start: ${dataDir} is on a read-only file system`);
      expect(result.stderr).toContain("Mount it read-write, or choose another --data-dir");
    } finally {
      execFileSync("umount", [dataDir]);
    }
  });

  it("a full disk (a full 1 MiB tmpfs, needs root)", async () => {
    if (!isRoot) throw new Error("NOT RUN: this test needs root to mount a tmpfs (CI runs as root); run the suite as root to run it.");
    const mount = tempDir();
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", mount]);
    try {
      const dataDir = path.join(mount, "data");
      mkdirSync(dataDir);
      try {
        writeFileSync(path.join(mount, "filler"), Buffer.alloc(2 * 1024 * 1024));
      } catch {
        // Full: what the test wants.
      }
      const result = await runToExit(["--port", "0", "--data-dir", dataDir]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`secretslite: could not start: the disk holding ${dataDir} is full (ENOSPC)`);
      expect(result.stderr).toContain("Free some space there");
    } finally {
      execFileSync("umount", [mount]);
    }
  });
});
