// The bench's store-scaling section: GetSecretValue and Encrypt at c=32 on one node on LevelDB, one node on PostgreSQL
// and `--workers 2` on PostgreSQL, beside the bare node:http and token floors, with the CPU each process spends per
// request (secretslite's processes, PostgreSQL's) and how busy the whole machine was: what bounds the scaling.
"use strict";
const { execFileSync } = require("node:child_process");
const { readFileSync } = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { startPostgres } = require("./postgres");

const TICK_US = 1e6 / 100; // USER_HZ (getconf CLK_TCK): 100 on every Linux the bench runs on.
const OPERATIONS = ["GetSecretValue", "Encrypt"];
const C = 32;

/** A process and its children (a primary's workers, the postmaster's backends). */
function family(pid) {
  try {
    const children = execFileSync("ps", ["--ppid", String(pid), "-o", "pid="], { encoding: "utf8" })
      .split("\n")
      .map((line) => Number(line.trim()))
      .filter((child) => child > 0);
    return [pid, ...children];
  } catch {
    return [pid];
  }
}

/** CPU µs (user + system) the processes have used; a process gone meanwhile counts 0. */
function cpuOf(pids) {
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += (Number(fields[11]) + Number(fields[12])) * TICK_US;
    } catch {
      // Exited.
    }
  }
  return total;
}

/** The machine's busy and total jiffies (all cores) from /proc/stat: busy ÷ total over a run is how loaded it was. */
function machineTicks() {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0];
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = values[3] + values[4];
  const total = values.reduce((sum, value) => sum + value, 0);
  return { busy: total - idle, total };
}

/**
 * Runs the section. `bench` gives what scripts/bench.js has: startSecretslite(dir, args), stopProcess, signed, call,
 * load (which takes the CPU of `server.pids()` when set), the bare and token-floor servers, fmt and fmtCpu.
 */
async function storeScaling(work, bench) {
  const { startSecretslite, stopProcess, signed, call, load, bare, floor, fmt, fmtCpu } = bench;
  console.log(`Store scaling: ${OPERATIONS.join(" and ")} at c=${C}; ${os.cpus().length} cores shared by the load generator, secretslite and PostgreSQL`);
  const postgres = await startPostgres();
  const rows = [];
  try {
    const setups = [
      { setup: "1 node, LevelDB", args: [] },
      { setup: "1 node, PostgreSQL", args: ["--store", await postgres.createDatabase()] },
      { setup: "2 workers, PostgreSQL", args: ["--store", await postgres.createDatabase(), "--workers", "2"] },
    ];
    const floors = new Map();
    for (const { setup, args } of setups) {
      const server = await startSecretslite(path.join(work, `stores-${rows.length}`), args);
      // The primary and its workers: their CPU together is this setup's cost per request.
      const pids = family(server.child.pid);
      server.pids = () => pids;
      try {
        const key = await call(server, signed(server, "TrentService.CreateKey", {}));
        await call(server, signed(server, "secretsmanager.CreateSecret", { Name: "bench/secret", SecretString: "s".repeat(256), ClientRequestToken: "bench-token-000000000000000000000000" }));
        const requests = {
          GetSecretValue: signed(server, "secretsmanager.GetSecretValue", { SecretId: "bench/secret" }),
          Encrypt: signed(server, "TrentService.Encrypt", { KeyId: key.KeyMetadata.KeyId, Plaintext: Buffer.alloc(32, 2).toString("base64") }),
        };
        for (const operation of OPERATIONS) {
          const request = requests[operation];
          for (let i = 0; i < 200; i++) await call(server, request);
          if (!floors.has(operation)) floors.set(operation, { bare: await load(bare, request, C), floor: await load(floor, request, C) });
          const { bare: ceiling, floor: tokenFloor } = floors.get(operation);
          const pg = args.length === 0 ? undefined : family(postgres.postmasterPid());
          const pgBefore = pg === undefined ? 0 : cpuOf(pg);
          const machineBefore = machineTicks();
          const measured = await load(server, request, C);
          const machineAfter = machineTicks();
          const pgCpu = pg === undefined ? undefined : (cpuOf(pg) - pgBefore) / measured.requests;
          const busy = (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total);
          const row = {
            setup,
            operation,
            c: C,
            generator: measured.generator,
            "req/s": Math.round(measured.rps),
            "p50 ms": fmt(measured.p50),
            "p99 ms": fmt(measured.p99),
            // All of secretslite's processes (primary and workers), per request.
            "secretslite cpu µs": fmtCpu(measured.cpu),
            "postgres cpu µs": fmtCpu(pgCpu),
            // Of all cores, load generator included: near 100 % the machine, not secretslite, is the bound.
            "machine busy %": Math.round(busy * 100),
            "bare req/s": Math.round(ceiling.rps),
            "floor req/s": Math.round(tokenFloor.rps),
          };
          rows.push(row);
          console.log(JSON.stringify(row));
        }
      } finally {
        await stopProcess(server);
      }
    }
  } finally {
    postgres.stop();
  }
  console.table(rows);
  for (const operation of OPERATIONS) {
    const of = (setup) => rows.find((row) => row.setup === setup && row.operation === operation);
    const level = of("1 node, LevelDB");
    const one = of("1 node, PostgreSQL");
    const two = of("2 workers, PostgreSQL");
    if (level === undefined || one === undefined || two === undefined) continue;
    const cores = (row) => ((row["req/s"] * ((Number(row["secretslite cpu µs"]) || 0) + (Number(row["postgres cpu µs"]) || 0))) / 1e6).toFixed(2);
    console.log(
      `${operation}: 2 workers ÷ 1 node on PostgreSQL = ${(two["req/s"] / one["req/s"]).toFixed(2)}×, 1 node PostgreSQL ÷ LevelDB = ` +
        `${(one["req/s"] / level["req/s"]).toFixed(2)}×; cores used by secretslite + PostgreSQL: ${cores(one)} (1 node), ${cores(two)} (2 workers) ` +
        `of ${os.cpus().length}, machine ${two["machine busy %"]} % busy with 2 workers (the load generator takes the rest)`,
    );
  }
  return rows;
}

module.exports = { storeScaling };
