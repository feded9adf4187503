#!/usr/bin/env node
// Damages copies of a data dir in each way issue 9 measured and starts secretslite on each: refused clearly, aborted,
// half-opened, data lost. Usage: node scripts/reliability/corrupt-data-dir.js [trials per case (20)] [secrets (200)].
// Needs dist/ (npm run build) and SoftHSM2. Prints one line per case and a total.
"use strict";
const { spawn } = require("node:child_process");
const { createHash, randomInt } = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.join(__dirname, "..", "..");
const BIN = path.join(ROOT, "bin", "secretslite.js");
const { SecretsManagerClient, CreateSecretCommand, GetSecretValueCommand } = require(path.join(ROOT, "node_modules", "@aws-sdk", "client-secrets-manager"));
const { credentials, exited, startCli, stopCli: stop } = require("./common");

/** Starts the CLI; resolves { url, child } at the ready line or { code, signal, stderr } when it exits first. */
const start = (dataDir) => startCli(BIN, ["--port", "0", "--data-dir", dataDir, "--log-level", "error"]);
const client = (url) => new SecretsManagerClient({ endpoint: url, region: "us-east-1", credentials, maxAttempts: 1 });

async function create(url, from, to) {
  const sm = client(url);
  for (let i = from; i < to; i += 25) {
    await Promise.all(Array.from({ length: Math.min(25, to - i) }, (_, j) => sm.send(new CreateSecretCommand({ Name: `s-${i + j}`, SecretString: `value-${i + j}` }))));
  }
  sm.destroy();
}

/** A data dir with `count` secrets in tables and 50 more only in the log, as a server left it at a clean stop. */
async function makeBase(dir, count) {
  let running = await start(dir);
  await create(running.url, 0, count);
  await stop(running);
  running = await start(dir); // the restart turns the log into a table
  await create(running.url, count, count + 50);
  await stop(running);
}

const dbFile = (dir, pattern) => {
  const names = fs.readdirSync(path.join(dir, "db")).filter((name) => pattern.test(name));
  names.sort((a, b) => fs.statSync(path.join(dir, "db", b)).size - fs.statSync(path.join(dir, "db", a)).size);
  return path.join(dir, "db", names[0]);
};
const flip = (file, count) => {
  const bytes = fs.readFileSync(file);
  for (let i = 0; i < count; i++) bytes[randomInt(bytes.length)] ^= 1 << randomInt(8);
  fs.writeFileSync(file, bytes);
};

const CASES = {
  "20 flipped bytes in a table": (dir) => flip(dbFile(dir, /\.ldb$/), 20),
  "a truncated table": (dir) => { const file = dbFile(dir, /\.ldb$/); fs.truncateSync(file, randomInt(1, fs.statSync(file).size)); },
  "CURRENT deleted": (dir) => fs.rmSync(path.join(dir, "db", "CURRENT")),
  "the log truncated": (dir) => { const file = dbFile(dir, /\.log$/); fs.truncateSync(file, randomInt(1, fs.statSync(file).size)); },
  "a bit-flipped log": (dir) => flip(dbFile(dir, /\.log$/), 1),
  "a garbage MANIFEST": (dir) => { const file = dbFile(dir, /^MANIFEST-/); fs.writeFileSync(file, Buffer.from(Array.from({ length: fs.statSync(file).size }, () => randomInt(256)))); },
};

async function readAll(url, count) {
  const sm = client(url);
  let readable = 0;
  for (let i = 0; i < count; i++) {
    const got = await sm.send(new GetSecretValueCommand({ SecretId: `s-${i}` })).catch(() => undefined);
    if (got !== undefined && got.SecretString === `value-${i}`) readable++;
  }
  sm.destroy();
  return { readable };
}

const runRepair = (dir) => new Promise((resolve) => {
  const child = spawn(process.execPath, [BIN, "repair", "--data-dir", dir], { stdio: ["ignore", "ignore", "ignore"] });
  child.once("exit", (code, signal) => resolve({ code, signal }));
});

const fingerprint = (dir) => {
  const out = {};
  for (const name of fs.readdirSync(path.join(dir, "db")).sort()) {
    if (name === "LOG" || name === "LOG.old" || name === "LOCK") continue; // LevelDB's own diary and lock file
    out[name] = createHash("sha256").update(fs.readFileSync(path.join(dir, "db", name))).digest("hex");
  }
  return JSON.stringify(out);
};

const line = (f, perDir) =>
  `tried ${f.tried}, refused clearly ${f.refused}, refused without naming file and cause ${f.unclear}, aborted ${f.aborted}, half-opened ${f.halfOpened} (of which died serving ${f.abortedServing}), ` +
  `secrets unreadable after a half-open start ${f.dataLost}, ` +
  `files changed by a refused start ${f.touched}; after repair: failed to start ${f.repairFailed}, secrets readable ${f.repairedReadable} of ${f.refused * perDir}, ` +
  `repairs that lost data but exited 0 ${f.repairSilentLoss}`;

async function main() {
  const trials = Number(process.argv[2] ?? 20);
  const secrets = Number(process.argv[3] ?? 200);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "secretslite-corrupt-"));
  const base = path.join(work, "base");
  try {
    await makeBase(base, secrets);
    const totals = { tried: 0, refused: 0, aborted: 0, halfOpened: 0, dataLost: 0, touched: 0, repairFailed: 0, repairedReadable: 0, repairSilentLoss: 0, abortedServing: 0, unclear: 0 };
    for (const [name, damage] of Object.entries(CASES)) {
      const figures = { tried: 0, refused: 0, aborted: 0, halfOpened: 0, dataLost: 0, touched: 0, repairFailed: 0, repairedReadable: 0, repairSilentLoss: 0, abortedServing: 0, unclear: 0 };
      for (let trial = 0; trial < trials; trial++) {
        const dir = path.join(work, `case-${trial}`);
        fs.cpSync(base, dir, { recursive: true });
        damage(dir);
        const before = fingerprint(dir);
        const result = await start(dir);
        figures.tried++;
        if (result.url === undefined) {
          const text = result.stderr();
          if (result.signal !== null || /Assertion|Aborted|core dumped/.test(text)) figures.aborted++;
          else if (result.code !== 0 && /could not start: the data dir .* is damaged: \/\S+ /.test(text)) figures.refused++;
          else figures.unclear++;
          if (fingerprint(dir) !== before) figures.touched++;
          // Then what `secretslite repair` gets back, and whether its exit code owns up to any loss.
          const repair = await runRepair(dir);
          const repaired = await start(dir);
          if (repaired.url === undefined) figures.repairFailed++;
          else {
            const { readable } = await readAll(repaired.url, secrets + 50);
            await stop(repaired);
            figures.repairedReadable += readable;
            if (readable < secrets + 50 && repair.code === 0) figures.repairSilentLoss++;
          }
        } else {
          // It started: count what a client can still read.
          const { readable } = await readAll(result.url, secrets + 50);
          const missing = secrets + 50 - readable;
          // A LevelDB assertion met by a read kills the server half-way through.
          if (exited(result.child)) figures.abortedServing++;
          await stop(result);
          if (missing > 0) { figures.halfOpened++; figures.dataLost += missing; }
        }
        fs.rmSync(dir, { recursive: true, force: true });
      }
      console.log(`${name}: ${line(figures, secrets + 50)}`);
      for (const key of Object.keys(totals)) totals[key] += figures[key];
    }
    console.log(`total: ${line(totals, secrets + 50)}`);
    process.exitCode = totals.unclear + totals.aborted + totals.halfOpened + totals.abortedServing + totals.touched + totals.repairFailed + totals.repairSilentLoss > 0 ? 1 : 0;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => { console.error(error); process.exit(1); });
