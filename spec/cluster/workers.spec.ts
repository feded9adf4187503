// `--workers N`: one primary, N worker processes on one port and one PostgreSQL store: the token made once on a fresh
// data dir, one admin token for all, a dead worker restarted, a clean stop, a failed start stopping everything.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { DecryptCommand, EncryptCommand, KMSClient, CreateKeyCommand } from "@aws-sdk/client-kms";
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { sharedPostgres, type PostgresCluster } from "../support/postgres";
import { credentials, REGION } from "../support/server";

const BIN = path.join(__dirname, "..", "..", "bin", "secretslite.js");

export interface Primary {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  readonly adminToken: string;
  readonly exit: Promise<number | null>;
  stderr(): string;
}

/** Starts `secretslite --workers N …` and resolves at its admin token line (the last ready line), or rejects with its stderr. */
export function startPrimary(args: readonly string[]): Promise<Primary> {
  const child = spawn(process.execPath, [BIN, "--port", "0", "--log-level", "warn", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const url = /^secretslite listening on (\S+)$/m.exec(stdout)?.[1];
      const adminToken = /^secretslite admin token (\S+)$/m.exec(stdout)?.[1];
      if (url !== undefined && adminToken !== undefined) resolve({ child, pid: child.pid!, url, adminToken, exit, stderr: () => stderr });
    });
    void exit.then((code) => reject(new Error(`exited ${code} before ready: ${stderr}`)));
  });
}

/** The primary's worker processes. */
export function workerPids(primaryPid: number): number[] {
  try {
    return execFileSync("ps", ["--ppid", String(primaryPid), "-o", "pid="], { encoding: "utf8" })
      .split("\n")
      .map((line) => Number(line.trim()))
      .filter((pid) => pid > 0);
  } catch {
    // ps exits 1 when nothing matches.
    return [];
  }
}

/** One request on a connection of its own: cluster hands out connections round-robin, so each may reach another worker. */
export function freshRequest(
  url: string,
  method: string,
  route: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${route}`, { method, agent: false, headers: { connection: "close", ...headers } }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    req.once("error", reject);
    req.end(body);
  });
}

/** The session cookie a Set-Cookie header list holds (the last one: a sign-in's replaces the visit's). */
const sessionCookieOf = (headers: http.IncomingHttpHeaders): string => {
  const set = (headers["set-cookie"] ?? []).filter((line) => line.startsWith("secretslite_console="));
  return set[set.length - 1]!.split(";")[0]!;
};

const kms = (url: string): KMSClient => new KMSClient({ endpoint: url, region: REGION, credentials, maxAttempts: 1 });
const sm = (url: string): SecretsManagerClient => new SecretsManagerClient({ endpoint: url, region: REGION, credentials, maxAttempts: 1 });

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("--workers N", () => {
  let postgres: PostgresCluster;
  const dirs: string[] = [];
  const primaries: Primary[] = [];
  const newDir = (): string => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-spec-workers-"));
    dirs.push(dir);
    return dir;
  };
  const start = async (args: readonly string[]): Promise<Primary> => {
    const primary = await startPrimary(args);
    primaries.push(primary);
    return primary;
  };

  beforeAll(async () => {
    postgres = await sharedPostgres();
  });
  afterEach(async () => {
    for (const primary of primaries.splice(0)) {
      if (primary.child.exitCode === null && primary.child.signalCode === null) process.kill(primary.pid, "SIGTERM");
      await primary.exit;
    }
  });
  afterAll(async () => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await postgres.stop();
  });

  it("three workers on a fresh data dir make the token once and all serve the one port with its root key", async () => {
    const dataDir = newDir();
    const store = await postgres.createDatabase();
    const primary = await start(["--workers", "3", "--data-dir", dataDir, "--store", store]);
    expect(workerPids(primary.pid)).toHaveLength(3);
    // One token (one directory under tokens/): three workers opening a fresh data dir at once did not each make one.
    expect(readdirSync(path.join(dataDir, "token", "tokens"))).toHaveLength(1);

    // Each call on a client (a connection) of its own, so the calls land on every worker in turn.
    const keyId = (await kms(primary.url).send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const sealed: Uint8Array[] = [];
    for (let i = 0; i < 6; i++) sealed.push((await kms(primary.url).send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(`p${i}`) }))).CiphertextBlob!);
    for (let i = 0; i < 6; i++) {
      // Opened on another worker than the one that sealed it (the next in the rotation): one root key for all.
      const opened = await kms(primary.url).send(new DecryptCommand({ CiphertextBlob: sealed[(i + 1) % 6]! }));
      expect(Buffer.from(opened.Plaintext!).toString()).toBe(`p${(i + 1) % 6}`);
    }
    for (let i = 0; i < 6; i++) await sm(primary.url).send(new CreateSecretCommand({ Name: `w/${i}`, SecretString: `v${i}` }));
    for (let i = 0; i < 6; i++) expect((await sm(primary.url).send(new GetSecretValueCommand({ SecretId: `w/${i}` }))).SecretString).toBe(`v${i}`);
  });

  it("gives every worker the primary's one admin token (--verify-signatures admin routes)", async () => {
    const dataDir = newDir();
    const file = path.join(dataDir, "credentials");
    writeFileSync(file, `[default]\naws_access_key_id = ${credentials.accessKeyId}\naws_secret_access_key = ${credentials.secretAccessKey}\n`);
    const primary = await start(["--workers", "3", "--data-dir", dataDir, "--store", await postgres.createDatabase(), "--verify-signatures", "--credentials-file", file]);
    // Nine connections, three rounds of the three workers: each accepts the token the primary printed.
    for (let i = 0; i < 9; i++) {
      expect((await freshRequest(primary.url, "POST", "/_secretslite/reset", { "x-secretslite-admin-token": primary.adminToken })).status).toBe(200);
    }
    for (let i = 0; i < 3; i++) {
      expect((await freshRequest(primary.url, "POST", "/_secretslite/reset", { "x-secretslite-admin-token": "not-the-token" })).status).toBe(401);
    }
  });

  it("restarts a worker that dies, and a SIGTERM to the primary stops every worker with exit code 0", async () => {
    // At info, the primary says when the restarted worker is ready.
    const primary = await start(["--workers", "2", "--data-dir", newDir(), "--store", await postgres.createDatabase(), "--log-level", "info"]);
    const [victim, survivor] = workerPids(primary.pid);
    process.kill(victim!, "SIGKILL");
    await waitFor(() => primary.stderr().includes("worker restarted and ready"), "the restarted worker");
    expect(primary.stderr()).toContain("a worker died: restarting it");
    expect(workerPids(primary.pid)).toHaveLength(2);
    expect(workerPids(primary.pid)).not.toContain(victim);
    const client = (): SecretsManagerClient => sm(primary.url);
    await client().send(new CreateSecretCommand({ Name: "after-restart", SecretString: "kept" }));
    for (let i = 0; i < 6; i++) {
      // A worker still starting has not taken the port yet, so cluster gives it no connection: every call answers.
      expect((await client().send(new GetSecretValueCommand({ SecretId: "after-restart" }))).SecretString).toBe("kept");
    }
    const workers = workerPids(primary.pid);
    expect(workers).toContain(survivor);
    process.kill(primary.pid, "SIGTERM");
    expect(await primary.exit).toBe(0);
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
  });

  it("stops the whole start, exit 1 with the worker's message, when a worker cannot start (another root key)", async () => {
    const store = await postgres.createDatabase();
    const first = await start(["--workers", "2", "--data-dir", newDir(), "--store", store]);
    process.kill(first.pid, "SIGTERM");
    expect(await first.exit).toBe(0);
    // A fresh data dir makes a token of its own, whose root key cannot open the canary the first start stored.
    const refused = await startPrimary(["--workers", "2", "--data-dir", newDir(), "--store", store]).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(refused).toContain("exited 1 before ready");
    expect(refused).toContain("secretslite: could not start: this node's root key does not match the cluster's");
  });
  it("keeps a console session signed in whichever worker answers (a cookie MAC'd with a key from the shared admin token)", async () => {
    const dataDir = newDir();
    const file = path.join(dataDir, "credentials");
    writeFileSync(file, `[default]\naws_access_key_id = ${credentials.accessKeyId}\naws_secret_access_key = ${credentials.secretAccessKey}\n`);
    const primary = await start(["--workers", "2", "--data-dir", dataDir, "--store", await postgres.createDatabase(), "--verify-signatures", "--credentials-file", file]);
    const UI = "/_secretslite/ui";
    // The login page on one connection (one worker), the sign-in on the next (the other): the visit's cookie and
    // CSRF token, made by the first, are good on the second.
    const login = await freshRequest(primary.url, "GET", `${UI}/login`);
    expect(login.status).toBe(200);
    const csrf = /name="csrf" value="([^"]+)"/.exec(login.body)![1]!;
    const form = new URLSearchParams({ csrf, token: primary.adminToken, next: `${UI}/overview` }).toString();
    const signIn = await freshRequest(
      primary.url,
      "POST",
      `${UI}/login`,
      { cookie: sessionCookieOf(login.headers), origin: primary.url, "content-type": "application/x-www-form-urlencoded" },
      form,
    );
    expect(signIn.status).toBe(303);
    expect(signIn.headers.location).toBe(`${UI}/overview`);
    const signedIn = sessionCookieOf(signIn.headers);
    // Six connections, three rounds of both workers: each serves the signed-in session (in-memory sessions would
    // send every other one to the login page).
    for (let i = 0; i < 6; i++) {
      const page = await freshRequest(primary.url, "GET", `${UI}/secrets`, { cookie: signedIn });
      expect(page.status).toBe(200);
      expect(page.body).toContain('name="csrf"');
    }
    // A cookie changed by its holder (the MAC no longer matches) is no session: sent to sign in.
    const [name, value] = signedIn.split("=") as [string, string];
    const [body, mac] = value.split(".") as [string, string];
    const forged = Buffer.from(Buffer.from(body, "base64url").toString().replace('"admin"', '"open"')).toString("base64url");
    for (let i = 0; i < 2; i++) {
      const refused = await freshRequest(primary.url, "GET", `${UI}/secrets`, { cookie: `${name}=${forged}.${mac}` });
      expect(refused.status).toBe(303);
      expect(refused.headers.location).toContain(`${UI}/login`);
    }
  });
  it("makes the --tls self-signed certificate once, in the primary, and every worker serves it", async () => {
    const dataDir = newDir();
    // At info, the certificate's making and each reuse are logged.
    const primary = await start(["--workers", "3", "--data-dir", dataDir, "--store", await postgres.createDatabase(), "--tls", "--log-level", "info"]);
    expect(primary.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(primary.stderr().match(/made a self-signed certificate/g)).toHaveLength(1);
    expect(primary.stderr().match(/using the self-signed certificate made earlier/g)).toHaveLength(3);
    const ca = readFileSync(path.join(dataDir, "tls", "cert.pem"));
    const fingerprints = new Set<string>();
    for (let i = 0; i < 6; i++) {
      fingerprints.add(
        await new Promise<string>((resolve, reject) => {
          const req = https.request(`${primary.url}/_secretslite/health`, { agent: false, ca, headers: { connection: "close" } }, (res) => {
            resolve((res.socket as import("node:tls").TLSSocket).getPeerCertificate().fingerprint256);
            res.resume();
          });
          req.once("error", reject);
          req.end();
        }),
      );
    }
    expect(fingerprints.size).toBe(1);
  });
  it("stops cleanly (exit 0, no worker left) on a SIGTERM while the workers are still starting", async () => {
    const child = spawn(process.execPath, [BIN, "--port", "0", "--log-level", "warn", "--workers", "3", "--data-dir", newDir(), "--store", await postgres.createDatabase()], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    let stdout = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    // Forked, so the primary's handlers are in place; a fresh data dir's token takes the workers a while to make.
    await waitFor(() => workerPids(child.pid!).length === 3, "the forks");
    const workers = workerPids(child.pid!);
    process.kill(child.pid!, "SIGTERM");
    expect(await exit).toBe(0);
    expect(stdout).not.toContain("secretslite listening on");
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
  });
});
