// `--workers N` under a kill loop: SIGKILL the primary and its workers at random instants of start-up (and of the
// writes that follow a ready start), start again, and check that the token was made once and kept (the same token,
// the root-key canary matching: a node with another root key would be refused), and that every acknowledged write
// reads back. Shared by spec/cluster/workers-kill.spec.ts (a few kills) and workers-kill-loop.sh (many).
// Needs dist/ (npm run build), SoftHSM2 and PostgreSQL (a throwaway cluster: scripts/bench/postgres.js).
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const { randomBytes } = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

// The checkout's bin, its SDK v3 clients and the test credentials, as the token crash checks use them.
const { BIN, sdk, credentials } = require("./token-harness");
const { KMSClient, CreateKeyCommand, EncryptCommand, DecryptCommand } = sdk("client-kms");
const { SecretsManagerClient, CreateSecretCommand, GetSecretValueCommand } = sdk("client-secrets-manager");
const START_TIMEOUT_MS = 90_000;

/** A client per call: cluster hands connections out round-robin, so the calls spread over the workers. */
const sendOnce = async (client, command) => {
  try {
    return await client.send(command);
  } finally {
    // Its keep-alive sockets would hold the process (and jest) open.
    client.destroy();
  }
};
const kms = (url) => ({ send: (command) => sendOnce(new KMSClient({ endpoint: url, region: "us-east-1", credentials, maxAttempts: 1 }), command) });
const sm = (url) => ({ send: (command) => sendOnce(new SecretsManagerClient({ endpoint: url, region: "us-east-1", credentials, maxAttempts: 1 }), command) });

function children(pid) {
  try {
    return execFileSync("ps", ["--ppid", String(pid), "-o", "pid="], { encoding: "utf8" })
      .split("\n")
      .map((line) => Number(line.trim()))
      .filter((child) => child > 0);
  } catch {
    return [];
  }
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** A timeout that does not keep the process alive once everything else is done. */
const deadline = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Spawns the primary: { child, ready (a promise of the URL, or undefined when it exits first), stderr() }. */
function spawnPrimary(dataDir, storeUrl, workers) {
  const child = spawn(process.execPath, [BIN, "--workers", String(workers), "--port", "0", "--data-dir", dataDir, "--store", storeUrl, "--log-level", "warn"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exit = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve) => {
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      if (/^secretslite admin token /m.test(stdout)) resolve(/^secretslite listening on (\S+)$/m.exec(stdout)[1]);
    });
    void exit.then(() => resolve(undefined));
  });
  return { child, ready, exit, stderr: () => stderr };
}

/** SIGKILL to the primary and every worker, in a random order (a worker may die before or after its primary). */
async function killAll(primary) {
  const pids = [primary.child.pid, ...children(primary.child.pid)];
  pids.sort(() => Math.random() - 0.5);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  await primary.exit;
  // Workers of a killed primary are reparented; they must be gone before the next start counts as a restart.
  for (let i = 0; i < 200 && pids.some(alive); i++) await sleep(25);
}

/** The token directories under the data dir: one, always the same, once the first start made it. */
function tokens(dataDir) {
  const dir = path.join(dataDir, "token", "tokens");
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

/**
 * `kills` iterations on one data dir and one database: a start killed at a random instant in [0, maxDelayMs] (writes
 * run once it is ready; those answered are recorded), then a start that must come up and read everything back.
 * Returns a tally; failures lists what went wrong (empty when all held).
 */
async function killLoop({ dataDir, storeUrl, kills, workers = 3, maxDelayMs = 2500, log = () => {} }) {
  const tally = { kills: 0, killedBeforeReady: 0, killedDuringWrites: 0, checks: 0, acknowledged: 0, failures: [], token: undefined };
  /** Acknowledged writes: secret name → value; ciphertext (base64) → plaintext. */
  const secrets = new Map();
  const sealed = new Map();
  let keyId;
  let counter = 0;
  for (let i = 0; i < kills; i++) {
    const delay = Math.floor(Math.random() * maxDelayMs);
    const primary = spawnPrimary(dataDir, storeUrl, workers);
    let stopWrites = false;
    const writes = primary.ready.then(async (url) => {
      if (url === undefined) return;
      while (!stopWrites) {
        const n = counter++;
        try {
          if (keyId === undefined) {
            const made = (await kms(url).send(new CreateKeyCommand({}))).KeyMetadata.KeyId;
            keyId = made;
          }
          const name = `kill/${n}`;
          const value = randomBytes(12).toString("hex");
          await sm(url).send(new CreateSecretCommand({ Name: name, SecretString: value }));
          secrets.set(name, value);
          const plaintext = `p-${n}`;
          const blob = (await kms(url).send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(plaintext) }))).CiphertextBlob;
          sealed.set(Buffer.from(blob).toString("base64"), plaintext);
        } catch {
          // Killed under the call: not acknowledged, so not expected back (a CreateKey that landed unanswered is an
          // orphan key, harmless).
          return;
        }
      }
    });
    const outcome = await Promise.race([sleep(delay).then(() => "timer"), primary.exit.then(() => "exited")]);
    if (outcome === "exited") {
      const { code } = await primary.exit;
      tally.failures.push(`kill ${i}: the primary exited (code ${code}) before the kill at ${delay} ms: ${primary.stderr().slice(-400)}`);
      continue;
    }
    const wasReady = await Promise.race([primary.ready.then((url) => url !== undefined), sleep(0).then(() => false)]);
    await killAll(primary);
    stopWrites = true;
    await writes;
    tally.kills++;
    if (wasReady) tally.killedDuringWrites++;
    else tally.killedBeforeReady++;

    // The check: a start that must come up on what the kill left, with the one token and every acknowledged write.
    const check = spawnPrimary(dataDir, storeUrl, workers);
    const url = await Promise.race([check.ready, deadline(START_TIMEOUT_MS).then(() => undefined)]);
    if (url === undefined) {
      tally.failures.push(`kill ${i} (at ${delay} ms): the next start failed: ${check.stderr().slice(-600)}`);
      await killAll(check);
      break;
    }
    const found = tokens(dataDir);
    if (found.length !== 1 || (tally.token !== undefined && found[0] !== tally.token)) {
      tally.failures.push(`kill ${i}: tokens in the data dir: ${JSON.stringify(found)} (first was ${tally.token})`);
    }
    tally.token ??= found[0];
    for (const [name, value] of secrets) {
      const got = await sm(url).send(new GetSecretValueCommand({ SecretId: name })).then((answer) => answer.SecretString, (error) => `error ${error.name}`);
      if (got !== value) tally.failures.push(`kill ${i}: ${name} read ${got}, acknowledged ${value}`);
    }
    for (const [blob, plaintext] of sealed) {
      const got = await kms(url)
        .send(new DecryptCommand({ CiphertextBlob: Buffer.from(blob, "base64") }))
        .then((answer) => Buffer.from(answer.Plaintext).toString(), (error) => `error ${error.name}`);
      if (got !== plaintext) tally.failures.push(`kill ${i}: a ciphertext opened to ${got}, sealed ${plaintext}`);
    }
    process.kill(check.child.pid, "SIGTERM");
    const { code } = await check.exit;
    if (code !== 0) tally.failures.push(`kill ${i}: the checking start stopped with exit code ${code}: ${check.stderr().slice(-400)}`);
    tally.checks++;
    tally.acknowledged = secrets.size + sealed.size;
    log(`kill ${i + 1}/${kills} at ${delay} ms (${wasReady ? "during writes" : "during start-up"}): ${secrets.size} secrets and ${sealed.size} ciphertexts read back, one token`);
    if (tally.failures.length > 0) break;
  }
  return tally;
}

module.exports = { killLoop };

/**
 * First starts: `count` times a fresh data dir and database, the start killed at a random instant of its first
 * second and a half (token creation, the root-key canary's first write), then the checking start. Same tally.
 */
async function firstStarts({ newDataDir, newStoreUrl, count, workers = 3, maxDelayMs = 1500, log = () => {} }) {
  const total = { kills: 0, killedBeforeReady: 0, killedDuringWrites: 0, checks: 0, acknowledged: 0, failures: [] };
  for (let i = 0; i < count; i++) {
    const tally = await killLoop({ dataDir: newDataDir(), storeUrl: await newStoreUrl(), kills: 1, workers, maxDelayMs, log });
    for (const field of ["kills", "killedBeforeReady", "killedDuringWrites", "checks", "acknowledged"]) total[field] += tally[field];
    total.failures.push(...tally.failures.map((failure) => `first start ${i}: ${failure}`));
    if (total.failures.length > 0) break;
  }
  return total;
}

module.exports = { killLoop, firstStarts };

if (require.main === module) {
  const { startPostgres } = require("../bench/postgres");
  const kills = Number(process.argv[2] ?? "20");
  const firsts = Number(process.argv[3] ?? "10");
  const os = require("node:os");
  (async () => {
    const postgres = await startPostgres();
    const dirs = [];
    const newDataDir = () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "secretslite-workers-kill-"));
      dirs.push(dir);
      return dir;
    };
    try {
      const log = (line) => console.log(line);
      const first = await firstStarts({ newDataDir, newStoreUrl: () => postgres.createDatabase(), count: firsts, log });
      const loop = await killLoop({ dataDir: newDataDir(), storeUrl: await postgres.createDatabase(), kills, log });
      for (const [name, tally] of [["first starts", first], ["kill loop", loop]]) {
        console.log(`${name}: ${JSON.stringify({ ...tally, failures: tally.failures.length })}`);
        for (const failure of tally.failures) console.error(`FAILED: ${failure}`);
      }
      process.exitCode = first.failures.length + loop.failures.length === 0 && first.checks === firsts && loop.checks === kills ? 0 : 1;
    } finally {
      postgres.stop();
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    }
  })().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
