// What the token crash checks share (the suite's spec/crypto/token-crash.spec.ts and the long scripts beside this
// file): start bin/secretslite.js under strace with a SIGKILL injected at the N-th write, then check every key and
// secret through the SDK v3 clients. Needs dist/ (npm run build), SoftHSM2 and strace.
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const { randomBytes } = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..", "..");
const BIN = path.join(ROOT, "bin", "secretslite.js");
const sdk = (name) => require(path.join(ROOT, "node_modules", "@aws-sdk", name));
const { KMSClient, CreateKeyCommand, EncryptCommand, DecryptCommand } = sdk("client-kms");
const { SecretsManagerClient, CreateSecretCommand, GetSecretValueCommand } = sdk("client-secrets-manager");
const credentials = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const START_TIMEOUT_MS = 60_000;

/** Fails loudly when strace is missing: a kill test that cannot kill must never pass. */
function requireStrace() {
  try {
    execFileSync("strace", ["-V"], { stdio: "ignore" });
  } catch {
    throw new Error("strace is not installed: these checks inject kills with it (apt-get install strace; npm test installs it)");
  }
}

/**
 * Starts secretslite on `dataDir`; with `inject`, under strace with SIGKILL injected at the `inject.n`-th call of
 * `inject.syscalls` (on `inject.paths` only, when given). Resolves once the process is ready, or has exited:
 * { ready, url, stop() → { code, signal }, stderr(), exit } or { ready: false, code, signal, stderr() }.
 */
function start(dataDir, inject) {
  const args = [BIN, "--port", "0", "--data-dir", dataDir, "--log-level", "warn"];
  let command = process.execPath;
  let argv = args;
  if (inject !== undefined) {
    command = "strace";
    const syscalls = inject.syscalls.join(",");
    argv = ["-f", "-qq", "-o", "/dev/null", "-e", "signal=none", "-e", `trace=${syscalls}`];
    for (const file of inject.paths ?? []) argv.push("-P", file);
    for (const syscall of inject.syscalls) argv.push("-e", `inject=${syscall}:signal=KILL:when=${inject.n}`);
    argv.push(process.execPath, ...args);
  }
  const child = spawn(command, argv, { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH, HOME: process.env.HOME } });
  let stdout = "";
  let stderr = "";
  let timedOut = false;
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exit = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal, timedOut })));
  return new Promise((resolve) => {
    // A start that neither gets ready nor exits (a hang) is a failed start: killed, and reported as such.
    const timer = setTimeout(() => {
      timedOut = true;
      stderr += `\n(no ready line nor exit within ${START_TIMEOUT_MS} ms: killed)`;
      child.kill("SIGKILL");
    }, START_TIMEOUT_MS);
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const match = /^secretslite listening on (\S+)/.exec(stdout);
      if (match === null) return;
      clearTimeout(timer);
      resolve({
        ready: true,
        url: match[1],
        stderr: () => stderr,
        exit,
        // SIGTERM to secretslite itself (under strace, strace's child), so its shutdown runs under the injection too.
        stop: async () => {
          // The CLI installs its SIGTERM handler just after the ready line: a signal in between would end it uncleanly.
          await new Promise((wake) => setTimeout(wake, 100));
          const pid = inject === undefined ? child.pid : tracedChild(child.pid);
          if (pid !== undefined) {
            try {
              process.kill(pid, "SIGTERM");
            } catch {
              // Already gone: a kill during shutdown.
            }
          }
          // A shutdown that hangs is a failure too, never a wait without end.
          const hung = setTimeout(() => {
            timedOut = true;
            stderr += `\n(no exit within ${START_TIMEOUT_MS} ms of SIGTERM: killed)`;
            child.kill("SIGKILL");
          }, START_TIMEOUT_MS);
          const result = await exit;
          clearTimeout(hung);
          return { ...result, timedOut };
        },
      });
    });
    void exit.then(({ code, signal }) => {
      clearTimeout(timer);
      resolve({ ready: false, code, signal, timedOut, stderr: () => stderr });
    });
  });
}

function tracedChild(stracePid) {
  try {
    const children = fs.readFileSync(`/proc/${stracePid}/task/${stracePid}/children`, "utf8").trim().split(/\s+/);
    return children[0] === undefined || children[0] === "" ? undefined : Number(children[0]);
  } catch {
    return undefined;
  }
}

function clients(url) {
  const settings = { endpoint: url, region: "us-east-1", credentials, maxAttempts: 1 };
  return { kms: new KMSClient(settings), secrets: new SecretsManagerClient(settings) };
}

/** On a running server: one secret under the default key, one KMS key and a ciphertext under it. */
async function writeData(url) {
  const { kms, secrets } = clients(url);
  try {
    const tag = randomBytes(4).toString("hex");
    const secretName = `crash/${tag}`;
    const secretValue = `value-${randomBytes(12).toString("hex")}`;
    await secrets.send(new CreateSecretCommand({ Name: secretName, SecretString: secretValue }));
    const keyId = (await kms.send(new CreateKeyCommand({ Description: `crash ${tag}` }))).KeyMetadata.KeyId;
    const plaintext = randomBytes(32).toString("base64");
    const ciphertext = Buffer.from((await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(plaintext, "base64") }))).CiphertextBlob).toString("base64");
    return { secrets: [{ name: secretName, value: secretValue }], keys: [{ keyId, plaintext, ciphertext }] };
  } finally {
    kms.destroy();
    secrets.destroy();
  }
}

/** Reads back every secret and decrypts every ciphertext of `expected`: { secretsChecked, keysChecked, lost, corrupt, errors }. */
async function readData(url, expected) {
  const { kms, secrets } = clients(url);
  const result = { secretsChecked: 0, keysChecked: 0, lost: 0, corrupt: 0, errors: [] };
  try {
    for (const secret of expected.secrets) {
      result.secretsChecked++;
      try {
        const got = await secrets.send(new GetSecretValueCommand({ SecretId: secret.name }));
        if (got.SecretString !== secret.value) {
          result.corrupt++;
          result.errors.push(`secret ${secret.name} reads '${got.SecretString}'`);
        }
      } catch (error) {
        result.lost++;
        result.errors.push(`secret ${secret.name}: ${error.name}: ${error.message}`);
      }
    }
    for (const key of expected.keys) {
      result.keysChecked++;
      try {
        const got = await kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from(key.ciphertext, "base64") }));
        if (Buffer.from(got.Plaintext).toString("base64") !== key.plaintext || got.KeyId.split("/").pop() !== key.keyId) {
          result.corrupt++;
          result.errors.push(`key ${key.keyId} decrypts to other bytes`);
        }
      } catch (error) {
        result.lost++;
        result.errors.push(`key ${key.keyId}: ${error.name}: ${error.message}`);
      }
    }
  } finally {
    kms.destroy();
    secrets.destroy();
  }
  return result;
}

/** Starts normally, reads `expected` back, stops. A start that fails counts every secret and key as lost. */
async function check(dataDir, expected) {
  const running = await start(dataDir);
  if (!running.ready) {
    return {
      started: false,
      secretsChecked: expected.secrets.length,
      keysChecked: expected.keys.length,
      lost: expected.secrets.length + expected.keys.length,
      corrupt: 0,
      errors: [`start failed (${running.code ?? running.signal}): ${running.stderr().trim().split("\n").slice(-3).join(" | ")}`],
      stderr: running.stderr(),
    };
  }
  try {
    return { started: true, ...(await readData(running.url, expected)), stderr: running.stderr() };
  } finally {
    await running.stop();
  }
}

/** A data dir with a token, one secret, one KMS key and a ciphertext: { expected }. */
async function populate(dataDir) {
  const running = await start(dataDir);
  if (!running.ready) throw new Error(`populate: start failed: ${running.stderr()}`);
  try {
    return await writeData(running.url);
  } finally {
    const { code } = await running.stop();
    if (code !== 0) throw new Error(`populate: exit ${code}: ${running.stderr()}`);
  }
}

/** The data files of the token (what SoftHSM writes), for strace's -P. */
function tokenFiles(dataDir) {
  const tokens = path.join(dataDir, "token", "tokens");
  const files = [];
  for (const token of fs.readdirSync(tokens)) {
    for (const name of fs.readdirSync(path.join(tokens, token))) files.push(path.join(tokens, token, name));
  }
  return files.sort();
}

/**
 * One injected run: start under strace with the kill at the n-th matching call, stop cleanly if it got ready.
 * { killed } says whether the injection fired (in start-up or in shutdown); `exitedBadly` a run that neither
 * was killed nor exited 0.
 */
async function injectedRun(dataDir, inject) {
  const running = await start(dataDir, inject);
  let outcome = running;
  if (running.ready) outcome = await running.stop();
  const killed = !outcome.timedOut && (outcome.signal === "SIGKILL" || outcome.code === 137);
  return { killed, exitedBadly: !killed && outcome.code !== 0, code: outcome.code, signal: outcome.signal, stderr: running.stderr() };
}

function copyDir(from, to) {
  fs.rmSync(to, { recursive: true, force: true });
  fs.cpSync(from, to, { recursive: true, preserveTimestamps: true });
}

/** The count of write(2) calls in one clean start-and-stop (a first start when `dataDir` is empty), under strace -c. */
async function countWrites(dataDir, paths) {
  const summary = `${dataDir}.count`;
  const argv = ["-f", "-qq", "-c", "-o", summary, "-e", "signal=none", "-e", "trace=write"];
  for (const file of paths ?? []) argv.push("-P", file);
  argv.push(process.execPath, BIN, "--port", "0", "--data-dir", dataDir, "--log-level", "warn");
  const child = spawn("strace", argv, { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise((resolve) => {
    let stdout = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      if (stdout.includes("\n")) {
        const pid = tracedChild(child.pid);
        if (pid !== undefined) process.kill(pid, "SIGTERM");
      }
    });
    child.once("exit", resolve);
  });
  const text = fs.readFileSync(summary, "utf8");
  fs.rmSync(summary, { force: true });
  return Number(/^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?write$/m.exec(text)?.[1] ?? 0);
}

// BIN, sdk and credentials also serve workers-kill.js: the same checkout, SDK and test credentials.
module.exports = { BIN, sdk, credentials, requireStrace, start, writeData, readData, check, populate, tokenFiles, injectedRun, copyDir, countWrites };
