#!/usr/bin/env node
// Kills secretslite at every write of its token's files, at every write of a first start, at every write of a
// restart, and at random instants of start-up, then checks that the next start reads every key and secret.
// Usage: node scripts/reliability/token-crash.js [token-files|double|first-start|token-creation|restart|kill-loop|token-kill-loop ...]
//          [--step K] [--kills N] [--json]
// No mode runs all of them. --step K tries every K-th write in first-start/restart (1: all). --kills N sets the
// kill loop's length. Needs dist/ (npm run build), SoftHSM2 and strace; prints the figures docs/reliability.md quotes.
"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const harness = require("./token-harness");

// Far above any thread's write count in one start (about 65): a sweep whose runs keep failing still ends.
const MAX_N = 300;

/** A tally: runs (strace runs), kills (runs the injection ended), survived (kills after which everything read back). */
function tally(name) {
  return { name, runs: 0, kills: 0, survived: 0, startsChecked: 0, secretsChecked: 0, keysChecked: 0, lost: 0, corrupt: 0, failures: [] };
}

function add(t, result, label) {
  t.startsChecked++;
  t.secretsChecked += result.secretsChecked;
  t.keysChecked += result.keysChecked;
  t.lost += result.lost;
  t.corrupt += result.corrupt;
  if (result.lost + result.corrupt === 0 && result.started) t.survived++;
  else t.failures.push(`${label}: ${result.errors.join("; ")}`);
}

const lastLine = (text) => text.trim().split("\n").pop();

/** One strace run of a start on `data` with a SIGKILL injected as `injection` says; counted, a bad exit recorded. */
async function talliedRun(t, data, injection, label) {
  t.runs++;
  const run = await harness.injectedRun(data, injection);
  if (run.exitedBadly) t.failures.push(`${label}: exited ${run.code ?? run.signal}: ${lastLine(run.stderr)}`);
  return run;
}

/**
 * The sweeps' step: a start killed at the n-th write of any thread. "killed" (counted) when the kill came; "failed"
 * when the run failed without being killed (a child process of the start killed instead), a failure and not the
 * end; "done" when it ended cleanly, so there is no n-th write and the sweep is over.
 */
async function killAtWrite(t, data, n) {
  const run = await talliedRun(t, data, { n, syscalls: ["write"] }, `n=${n}`);
  if (run.killed) {
    t.kills++;
    return "killed";
  }
  return run.exitedBadly ? "failed" : "done";
}

/**
 * After a kill in a first start: the next start must succeed and take a secret and a key, and a further start (the
 * check) must read them back, so the root key the recovering start settled on is the one that persists.
 */
async function checkAfterFirstStartKill(t, data, label) {
  const running = await harness.start(data);
  if (!running.ready) {
    t.startsChecked++;
    t.failures.push(`${label}: the start after the kill failed: ${lastLine(running.stderr())}`);
    return;
  }
  let written;
  try {
    written = await harness.writeData(running.url);
  } finally {
    await running.stop();
  }
  add(t, await harness.check(data, written), label);
}

/**
 * An existing token with a secret and a KMS key: kill at the n-th write of any of the token's files (start-up,
 * login and shutdown), for n = 1, 2, … until a run is no longer killed; after each kill a normal start must read
 * everything. With `nested`, the start after each kill is itself killed at each of its token-file writes first.
 */
async function tokenFiles(scratch, options) {
  const t = tally(options.nested ? "double (a kill, then a kill during the recovering start)" : "token-files (existing token, every write of its files)");
  const pristine = path.join(scratch, "pristine");
  const data = path.join(scratch, "data");
  // Made where it runs (the SoftHSM config names the tokens directory by absolute path), then kept aside.
  const expected = await harness.populate(data);
  copy(data, pristine);
  const paths = harness.tokenFiles(data);
  for (let n = 1; n <= MAX_N; n++) {
    copy(pristine, data);
    const run = await talliedRun(t, data, { n, syscalls: ["write"], paths }, `n=${n}`);
    if (!run.killed) break;
    // In nested mode the kills counted are the second ones, each followed by a check; the first ones are not checked alone.
    if (!options.nested) t.kills++;
    if (options.nested) {
      const afterFirst = path.join(scratch, "after-first");
      copy(data, afterFirst);
      for (let m = 1; m <= MAX_N; m++) {
        copy(afterFirst, data);
        const second = await talliedRun(t, data, { n: m, syscalls: ["write"], paths: harness.tokenFiles(data) }, `n=${n} m=${m}`);
        if (!second.killed) break;
        t.kills++;
        add(t, await harness.check(data, expected), `n=${n} m=${m}`);
      }
    } else {
      add(t, await harness.check(data, expected), `n=${n}`);
    }
  }
  return t;
}

/**
 * A first start (the token is made, its root key generated, the copy taken): kill at the n-th write of any
 * thread, every `step`-th n (or each n of `ns`); after each kill a start must succeed, take a secret and a key, and a further start
 * must read them back (the root key the recovering start settled on is the one that persists).
 */
async function firstStart(scratch, options) {
  const what = options.existingDb ? "first start of the token, LevelDB already made" : "first start";
  const t = tally(`${what} (every ${options.step === 1 ? "" : `${ordinal(options.step)} `}write of the process)`);
  const data = path.join(scratch, "data");
  const pristine = path.join(scratch, "pristine");
  if (options.existingDb) await emptyDatabase(pristine);
  const ns = options.ns ?? [];
  for (let n = ns[0] ?? options.from ?? 1, i = 0; n <= MAX_N; n = options.ns === undefined ? n + options.step : ns[++i] ?? MAX_N + 1) {
    if (options.existingDb) copy(pristine, data);
    else fs.rmSync(data, { recursive: true, force: true });
    const outcome = await killAtWrite(t, data, n);
    if (outcome === "done") break;
    if (outcome === "killed") await checkAfterFirstStartKill(t, data, `n=${n}`);
  }
  return t;
}

/** A restart of a data dir with a token and data: kill at the n-th write of any thread (LevelDB, logs, token, shutdown). */
async function restart(scratch, options) {
  const t = tally(`restart (every ${options.step === 1 ? "" : `${ordinal(options.step)} `}write of the process)`);
  const pristine = path.join(scratch, "pristine");
  const data = path.join(scratch, "data");
  const expected = await harness.populate(data);
  copy(data, pristine);
  for (let n = 1; n <= MAX_N; n += options.step) {
    copy(pristine, data);
    const outcome = await killAtWrite(t, data, n);
    if (outcome === "done") break;
    if (outcome === "killed") add(t, await harness.check(data, expected), `n=${n}`);
  }
  return t;
}

/**
 * SIGKILL at random instants of start-up, on one data dir kept across kills: first starts (the dir wiped before
 * each) for a third of the kills, then starts of a dir that holds data. Each kill is followed by a checked start.
 */
async function killLoop(scratch, options) {
  const t = tally(`kill-loop (${options.kills} SIGKILLs at random instants of start-up${options.existingDb ? ", LevelDB made before first starts" : ""})`);
  const data = path.join(scratch, "data");
  const pristine = path.join(scratch, "pristine");
  if (options.existingDb) await emptyDatabase(pristine);
  const firstStarts = Math.ceil(options.kills / 3);
  let expected;
  for (let i = 0; i < options.kills; i++) {
    const first = i < firstStarts;
    if (first && options.existingDb) copy(pristine, data);
    else if (first) fs.rmSync(data, { recursive: true, force: true });
    if (!first && expected === undefined) {
      // A fresh dir for the second phase: the first phase's last start may have failed and left it unusable.
      fs.rmSync(data, { recursive: true, force: true });
      expected = await harness.populate(data);
    }
    t.runs++;
    const delay = options.minDelayMs + Math.floor(Math.random() * (options.maxDelayMs - options.minDelayMs));
    const killed = await killAfter(data, delay);
    if (killed) t.kills++;
    if (first) await checkAfterFirstStartKill(t, data, `kill ${i} at ${delay} ms (first start)`);
    else add(t, await harness.check(data, expected), `kill ${i} at ${delay} ms`);
  }
  return t;
}

/**
 * A data dir holding an empty database made by a clean start, its token removed: a start on a copy makes only the
 * token under the kills. (A kill while LevelDB makes its very first files is the damaged-dir checks' business.)
 */
async function emptyDatabase(dir) {
  const running = await harness.start(dir);
  if (!running.ready) throw new Error(`first start: ${running.stderr()}`);
  await running.stop();
  fs.rmSync(path.join(dir, "token"), { recursive: true, force: true });
}

/** Starts secretslite and SIGKILLs it after `delayMs` (or at its ready line if sooner, then it is a running server). */
async function killAfter(dataDir, delayMs) {
  const { spawn } = require("node:child_process");
  const child = spawn(process.execPath, [path.join(__dirname, "..", "..", "bin", "secretslite.js"), "--port", "0", "--data-dir", dataDir, "--log-level", "warn"], {
    stdio: "ignore",
  });
  const exit = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  await new Promise((wake) => setTimeout(wake, delayMs));
  const alive = child.exitCode === null && child.signalCode === null;
  if (alive) child.kill("SIGKILL");
  const { signal } = await exit;
  return signal === "SIGKILL";
}

function copy(from, to) {
  harness.copyDir(from, to);
}

function ordinal(n) {
  return n === 2 ? "2nd" : n === 3 ? "3rd" : `${n}th`;
}

function report(t) {
  const line =
    `${t.name}: ${t.runs} runs, ${t.kills} kills, ${t.survived} survived; ` +
    `${t.startsChecked} starts checked, ${t.secretsChecked} secrets and ${t.keysChecked} keys checked; lost ${t.lost}, corrupt ${t.corrupt}`;
  process.stdout.write(`${line}\n`);
  for (const failure of t.failures) process.stdout.write(`  FAILED ${failure}\n`);
}

async function main() {
  const args = process.argv.slice(2);
  const option = (name, fallback) => {
    const at = args.indexOf(name);
    if (at === -1) return fallback;
    const value = Number(args[at + 1]);
    args.splice(at, 2);
    return value;
  };
  const step = option("--step", 1);
  const kills = option("--kills", 100);
  const json = args.includes("--json");
  const modes = args.filter((arg) => !arg.startsWith("--"));
  const all = ["token-files", "double", "first-start", "token-creation", "restart", "kill-loop", "token-kill-loop"];
  harness.requireStrace();
  const results = [];
  for (const mode of modes.length === 0 ? all : modes) {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `secretslite-token-${mode}-`));
    const started = Date.now();
    try {
      let t;
      if (mode === "token-files") t = await tokenFiles(scratch, { nested: false });
      else if (mode === "double") t = await tokenFiles(scratch, { nested: true });
      else if (mode === "first-start") t = await firstStart(scratch, { step });
      else if (mode === "token-creation") t = await firstStart(scratch, { step, existingDb: true });
      else if (mode === "restart") t = await restart(scratch, { step });
      else if (mode === "kill-loop") t = await killLoop(scratch, { kills, minDelayMs: 50, maxDelayMs: 1500 });
      else if (mode === "token-kill-loop") t = await killLoop(scratch, { kills, minDelayMs: 50, maxDelayMs: 1500, existingDb: true });
      else throw new Error(`unknown mode ${mode}; modes: ${all.join(", ")}`);
      t.seconds = Math.round((Date.now() - started) / 1000);
      results.push(t);
      if (!json) report(t);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }
  if (json) process.stdout.write(`${JSON.stringify(results)}\n`);
  const failed = results.some((t) => t.failures.length > 0 || t.lost + t.corrupt > 0);
  process.exitCode = failed ? 1 : 0;
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exitCode = 2;
  });
}

module.exports = { tokenFiles, firstStart, restart, killLoop };
