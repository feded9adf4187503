// A throwaway PostgreSQL cluster for the bench and the reliability scripts: initdb in a temp dir, a free port, the
// socket inside the temp dir, never the package's default cluster on 5432; as `postgres` when run as root. Plain
// Node, so these scripts can load it; spec/support/postgres.ts requires its helpers rather than keep copies.
"use strict";
const { execFileSync } = require("node:child_process");
const { randomBytes } = require("node:crypto");
const { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } = require("node:fs");
const { freePort } = require("./ports");
const os = require("node:os");
const path = require("node:path");
const pg = require("pg");

const isRoot = () => process.getuid?.() === 0;

/** Debian puts the binaries under /usr/lib/postgresql/<version>/bin, off PATH; the newest version wins. */
function postgresBin(name) {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base) ? readdirSync(base).filter((entry) => /^\d+$/.test(entry)) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const file = path.join(base, version, "bin", name);
    if (existsSync(file)) return file;
  }
  throw new Error(`PostgreSQL's ${name} not found under ${base}/<version>/bin: run SECRETSLITE_SETUP_FOR=test scripts/setup.sh`);
}

/** As `postgres` when root (initdb and postgres refuse root), as this user otherwise. */
function runAsOwner(file, args, dir) {
  const [command, argv] = isRoot() ? ["runuser", ["-u", "postgres", "--", file, ...args]] : [file, args];
  return execFileSync(command, argv, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** initdb in a fresh temp dir (owned by `postgres` when root), its socket dir beside the data; the temp dir's path. */
function initCluster() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-pg-"));
  if (isRoot()) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
  }
  runAsOwner(postgresBin("initdb"), ["-D", path.join(dir, "data"), "-E", "UTF8", "--locale=C", "-A", "trust", "-U", "postgres"], dir);
  runAsOwner("mkdir", [path.join(dir, "sock")], dir);
  return dir;
}

/** The server options pg_ctl passes on: the port, the socket in the cluster's dir, loopback only, fsync on. */
const serverOptions = (port, dir) => `-p ${port} -k ${path.join(dir, "sock")} -c listen_addresses=127.0.0.1 -c fsync=on`;

/** Starts a fresh cluster: { port, dir, url(db), createDatabase(), postmasterPid(), stop() }. */
async function startPostgres() {
  const dir = initCluster();
  const data = path.join(dir, "data");
  const port = await freePort();
  runAsOwner(postgresBin("pg_ctl"), ["-D", data, "-l", path.join(dir, "postgres.log"), "-o", serverOptions(port, dir), "-w", "start"], dir);
  const url = (database) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    dir,
    url,
    async createDatabase() {
      const name = `secretslite_${randomBytes(6).toString("hex")}`;
      const client = new pg.Client({ connectionString: url("postgres") });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8'`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    /** The postmaster's pid: its backends are its children (the bench sums their CPU). */
    postmasterPid() {
      return Number(readFileSync(path.join(data, "postmaster.pid"), "utf8").split("\n")[0]);
    },
    stop() {
      try {
        runAsOwner(postgresBin("pg_ctl"), ["-D", data, "stop", "-m", "immediate", "-w"], dir);
      } catch {
        // Already stopped.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

module.exports = { startPostgres, postgresBin, runAsOwner, freePort, initCluster, serverOptions };
