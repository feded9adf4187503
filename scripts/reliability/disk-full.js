#!/usr/bin/env node
// Disk full under write load, the long version of spec/storage/disk-full.spec.ts: each round mounts a small tmpfs as
// the data dir, writes from several clients, fills the disk, keeps writing (refusals counted, reads checked), frees
// the filler and a ballast file (recovery needs room for LevelDB to turn its log into a table), writes again,
// SIGKILLs the server, restarts it, and checks every acknowledged write.
// Needs root (mount) and a build (npm run build). Usage: node scripts/reliability/disk-full.js [--rounds 5]
//   [--size 8m] [--writers 8] [--phase-ms 1500] [--sync always|never]
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } = require("node:fs");
const http = require("node:http");
const os = require("node:os");
const path = require("node:path");
const { parseArgs } = require("node:util");
const { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient, ListAliasesCommand } = require("@aws-sdk/client-kms");
const { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } = require("@aws-sdk/client-secrets-manager");

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    // Half of it is ballast, freed with the filler: recovery needs free space about the size of LevelDB's live log.
    size: { type: "string", default: "8m" },
    writers: { type: "string", default: "8" },
    "phase-ms": { type: "string", default: "1500" },
    // Passed on only when given: the server's default otherwise (and a build from before --sync still runs).
    sync: { type: "string" },
  },
});
const ROUNDS = Number(values.rounds);
const WRITERS = Number(values.writers);
const PHASE_MS = Number(values["phase-ms"]);
const credentials = { accessKeyId: "AKIDDISKFULL", secretAccessKey: "disk-full-secret" };
const REGION = "us-east-1";
const ROOT = path.join(__dirname, "..", "..");

if (process.getuid?.() !== 0) {
  console.error("disk-full.js needs root: it mounts a tmpfs as the data dir (mount -t tmpfs -o size=… tmpfs DIR).");
  process.exit(2);
}

function startServer(dataDir, token) {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, "bin", "secretslite.js"), "--port", "0", "--data-dir", dataDir, "--token-label", token.tokenLabel, "--pin", token.pin, "--log-level", "error", ...(values.sync === undefined ? [] : ["--sync", values.sync])],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SOFTHSM2_CONF: token.softhsmConfigPath } },
  );
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (match) resolve({ child, url: match[1], stderr: () => stderr });
    });
    child.once("exit", (code) => reject(new Error(`secretslite exited with ${code}: ${stderr.slice(-2000)}`)));
  });
}

async function kill(server) {
  if (server.child.exitCode !== null) return;
  server.child.kill("SIGKILL");
  await new Promise((resolve) => server.child.once("exit", resolve));
}

function health(url) {
  return new Promise((resolve, reject) => {
    http
      .get(`${url}/_secretslite/health`, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode, body: JSON.parse(body) }));
      })
      .on("error", reject);
  });
}

function clients(url) {
  const config = { endpoint: url, region: REGION, credentials, maxAttempts: 1 };
  return { sm: new SecretsManagerClient(config), kms: new KMSClient(config) };
}

/** Zeros into `file` until the file system is full (the last few bytes too). */
function fill(file) {
  const fd = openSync(file, "w");
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (let size = chunk.length; size >= 1; size = Math.floor(size / 2)) {
      try {
        for (;;) writeSync(fd, chunk.subarray(0, size));
      } catch (error) {
        if (error.code !== "ENOSPC") throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** "8m" → bytes, as mount's size= reads it (k, m, g). */
function parseSize(text) {
  const match = /^(\d+)([kmg]?)$/i.exec(text);
  if (!match) throw new Error(`--size must be like 8m, not ${text}`);
  return Number(match[1]) * { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2].toLowerCase()];
}

const EXPECTED_FAULT = { secretsmanager: "InternalServiceError", kms: "KMSInternalException" };

async function round(n, token, totals) {
  const work = mkdtempSync(path.join(os.tmpdir(), "secretslite-disk-full-"));
  const dataDir = path.join(work, "data");
  require("node:fs").mkdirSync(dataDir);
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${values.size},mode=0700`, "tmpfs", dataDir]);
  const ballast = path.join(dataDir, "ballast");
  writeFileSync(ballast, Buffer.alloc(parseSize(values.size) / 2));
  const stats = { acknowledged: 0, refused: 0, wrongErrors: 0, readsWhileFull: 0, readFailuresWhileFull: 0, checked: 0, lost: 0, corrupt: 0, unacknowledgedLanded: 0, recoveryMs: 0 };
  let server;
  try {
    server = await startServer(dataDir, token);
    let { sm, kms } = clients(server.url);
    /** name → { acked: the last acknowledged value, later: values sent after it whose answer was not 200 } */
    const secrets = new Map();
    const keys = new Map(); // keyId → alias name or undefined
    let phase = "before";
    let stop = false;
    const wrongErrors = [];

    const outcome = (service, error) => {
      if (error && error.$metadata && error.$metadata.httpStatusCode === 500 && error.name === EXPECTED_FAULT[service]) {
        stats.refused++;
      } else {
        stats.wrongErrors++;
        if (wrongErrors.length < 3) wrongErrors.push(`${service}: ${error && error.name} ${error && error.message}`);
      }
    };

    const writer = async (w) => {
      let i = 0;
      while (!stop) {
        i++;
        const choice = i % 10;
        if (choice < 4 || secrets.size === 0) {
          const name = `w${w}/s${i}`;
          const value = `${name}=${"v".repeat(200)}`;
          try {
            await sm.send(new CreateSecretCommand({ Name: name, SecretString: value }));
            secrets.set(name, { acked: value, later: [] });
            stats.acknowledged++;
          } catch (error) {
            outcome("secretsmanager", error);
          }
        } else if (choice < 8) {
          // Only this writer's secrets: one change at a time per secret, so "the last acknowledged" is well defined.
          const mine = [...secrets.keys()].filter((name) => name.startsWith(`w${w}/`));
          const name = mine[i % Math.max(1, mine.length)];
          if (name === undefined) continue;
          const value = `${name}@${i}=${"p".repeat(200)}`;
          try {
            await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
            secrets.set(name, { acked: value, later: [] });
            stats.acknowledged++;
          } catch (error) {
            secrets.get(name).later.push(value);
            outcome("secretsmanager", error);
          }
        } else if (choice === 8) {
          try {
            const key = await kms.send(new CreateKeyCommand({ Description: `w${w} k${i}` }));
            keys.set(key.KeyMetadata.KeyId, undefined);
            stats.acknowledged++;
            const alias = `alias/w${w}-k${i}`;
            await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: key.KeyMetadata.KeyId }));
            keys.set(key.KeyMetadata.KeyId, alias);
            stats.acknowledged++;
          } catch (error) {
            outcome("kms", error);
          }
        } else if (phase === "full" && secrets.size > 0) {
          const names = [...secrets.keys()];
          const name = names[i % names.length];
          stats.readsWhileFull++;
          try {
            await sm.send(new GetSecretValueCommand({ SecretId: name }));
          } catch {
            stats.readFailuresWhileFull++;
          }
        }
      }
    };

    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
    await new Promise((resolve) => setTimeout(resolve, PHASE_MS));
    const filler = path.join(dataDir, "filler");
    fill(filler);
    phase = "full";
    await new Promise((resolve) => setTimeout(resolve, PHASE_MS));
    const degraded = await health(server.url);
    rmSync(filler);
    rmSync(ballast);
    const freed = Date.now();
    for (;;) {
      const { status } = await health(server.url);
      if (status === 200) break;
      if (Date.now() - freed > 30_000) throw new Error("not ready 30 s after space was freed");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    stats.recoveryMs = Date.now() - freed;
    phase = "after";
    await new Promise((resolve) => setTimeout(resolve, PHASE_MS));
    stop = true;
    await Promise.all(writers);
    sm.destroy();
    kms.destroy();
    await kill(server);

    server = await startServer(dataDir, token);
    ({ sm, kms } = clients(server.url));
    for (const [name, { acked, later }] of secrets) {
      stats.checked++;
      try {
        const got = (await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
        if (got === acked) continue;
        if (later.includes(got)) stats.unacknowledgedLanded++;
        else stats.corrupt++;
      } catch {
        stats.lost++;
      }
    }
    const aliasNames = new Set();
    let marker;
    do {
      const page = await kms.send(new ListAliasesCommand({ Limit: 100, Marker: marker }));
      for (const alias of page.Aliases ?? []) aliasNames.add(`${alias.AliasName}→${alias.TargetKeyId}`);
      marker = page.NextMarker;
    } while (marker !== undefined);
    for (const [keyId, alias] of keys) {
      stats.checked++;
      try {
        const described = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
        if (described.KeyMetadata.KeyState !== "Enabled") stats.corrupt++;
      } catch {
        stats.lost++;
      }
      if (alias !== undefined) {
        stats.checked++;
        if (!aliasNames.has(`${alias}→${keyId}`)) stats.lost++;
      }
    }
    sm.destroy();
    kms.destroy();
    console.log(
      JSON.stringify({
        round: n,
        ...stats,
        healthWhileFull: `${degraded.status} ${degraded.body.status}: ${degraded.body.storage}`.slice(0, 160),
        ...(wrongErrors.length > 0 ? { wrongErrorSamples: wrongErrors } : {}),
      }),
    );
    for (const [name, value] of Object.entries(stats)) if (typeof value === "number" && name !== "recoveryMs") totals[name] = (totals[name] ?? 0) + value;
    totals.maxRecoveryMs = Math.max(totals.maxRecoveryMs ?? 0, stats.recoveryMs);
  } finally {
    if (server !== undefined) await kill(server);
    execFileSync("umount", [dataDir]);
    rmSync(work, { recursive: true, force: true });
  }
}

async function main() {
  const { ensureSoftHsmToken } = require(path.join(ROOT, "dist", "crypto", "softhsm-bootstrap"));
  const tokenDir = mkdtempSync(path.join(os.tmpdir(), "secretslite-disk-full-token-"));
  // The token lives off the tmpfs: this script is about LevelDB on a full disk (the token has its own script).
  const token = await ensureSoftHsmToken(tokenDir);
  console.log(`disk-full: ${ROUNDS} rounds, tmpfs ${values.size}, ${WRITERS} writers, ${PHASE_MS} ms per phase, --sync ${values.sync ?? "(server default)"}, node ${process.version}`);
  const totals = {};
  try {
    for (let n = 1; n <= ROUNDS; n++) await round(n, token, totals);
  } finally {
    rmSync(tokenDir, { recursive: true, force: true });
  }
  console.log(
    `writes acknowledged ${totals.acknowledged}, refused while full ${totals.refused} (wrong error ${totals.wrongErrors}), ` +
      `reads while full ${totals.readsWhileFull} (failed ${totals.readFailuresWhileFull}), checked after restart ${totals.checked}, ` +
      `lost ${totals.lost}, corrupt ${totals.corrupt}, unacknowledged writes that landed ${totals.unacknowledgedLanded}, ` +
      `slowest recovery ${totals.maxRecoveryMs} ms`,
  );
  if (totals.lost > 0 || totals.corrupt > 0 || totals.wrongErrors > 0 || totals.readFailuresWhileFull > 0) process.exit(1);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
