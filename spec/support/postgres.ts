// Throwaway PostgreSQL clusters for specs: initdb in a temp dir, a free port, the socket inside the temp dir.
// Never the package's default cluster (5432). initdb and postgres refuse root: as root they run as `postgres`.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";

export interface PostgresCluster {
  readonly port: number;
  readonly dir: string;
  /** postgres://postgres@127.0.0.1:<port>/<database> (trust auth: no password). */
  url(database: string): string;
  /** A fresh, empty database (TEMPLATE template0); its URL. */
  createDatabase(): Promise<string>;
  /** Runs SQL as the superuser in a database (default "postgres"). */
  sql(text: string, params?: unknown[], database?: string): Promise<pg.QueryResult>;
  /** Password (SCRAM) authentication on TCP for one role from now on (the others stay trusted); restarts the server. */
  enforcePassword(role: string): Promise<void>;
  /** Stops the server (fast: clients are disconnected), keeping the data. */
  halt(): Promise<void>;
  /** Starts a halted (or killed) server again on the same port. */
  start(): Promise<void>;
  /** halt() then start(): every connection is cut. */
  restart(): Promise<void>;
  /** SIGKILL to the postmaster: a crash; start() recovers. */
  kill(): Promise<void>;
  /** Stops the server and removes its directory (a no-op for the run's shared cluster: its teardown does that). */
  stop(): Promise<void>;
}

/** Where the run's shared cluster is described (set by postgres-global-setup.js for the e2e project). */
export const SHARED_ENV = "SECRETSLITE_TEST_POSTGRES";

const isRoot = (): boolean => process.getuid?.() === 0;

/** Debian puts the binaries under /usr/lib/postgresql/<version>/bin, off PATH; the newest version wins. */
export function postgresBin(name: string): string {
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
function runAsOwner(file: string, args: string[], dir: string): string {
  const [command, argv] = isRoot() ? ["runuser", ["-u", "postgres", "--", file, ...args]] : [file, args];
  return execFileSync(command, argv, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function clusterAt(port: number, dir: string, owned: boolean): PostgresCluster {
  const data = path.join(dir, "data");
  const pgCtl = (...args: string[]): string => runAsOwner(postgresBin("pg_ctl"), ["-D", data, ...args], dir);
  const options = `-p ${port} -k ${path.join(dir, "sock")} -c listen_addresses=127.0.0.1 -c fsync=on`;
  const url = (database: string): string => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const sql = async (text: string, params: unknown[] = [], database = "postgres"): Promise<pg.QueryResult> => {
    const client = new pg.Client({ connectionString: url(database) });
    await client.connect();
    try {
      return await client.query(text, params);
    } finally {
      await client.end();
    }
  };
  const cluster: PostgresCluster = {
    port,
    dir,
    url,
    sql,
    async createDatabase() {
      const name = `secretslite_${randomBytes(6).toString("hex")}`;
      await sql(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8'`);
      return url(name);
    },
    async enforcePassword(role: string) {
      // Restarted rather than reloaded: a reload is applied asynchronously, a restart is done when pg_ctl returns.
      await cluster.halt();
      const hba = path.join(data, "pg_hba.conf");
      writeFileSync(hba, `host all ${role} 127.0.0.1/32 scram-sha-256\n` + readFileSync(hba, "utf8"));
      await cluster.start();
    },
    async halt() {
      pgCtl("stop", "-m", "fast", "-w");
    },
    async start() {
      pgCtl("-l", path.join(dir, "postgres.log"), "-o", options, "-w", "start");
    },
    async restart() {
      await cluster.halt();
      await cluster.start();
    },
    async kill() {
      const pid = Number(readFileSync(path.join(data, "postmaster.pid"), "utf8").split("\n")[0]);
      process.kill(pid, "SIGKILL");
      // The postmaster is gone once signal 0 fails; its backends notice and exit on their own.
      for (;;) {
        try {
          process.kill(pid, 0);
        } catch {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      if (!owned) return;
      try {
        pgCtl("stop", "-m", "immediate", "-w");
      } catch {
        // Already halted or killed.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** initdb in a fresh temp dir (owned by `postgres` when root) and start it on a free port. */
export async function startPostgres(): Promise<PostgresCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-pg-"));
  if (isRoot()) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
  }
  runAsOwner(postgresBin("initdb"), ["-D", path.join(dir, "data"), "-E", "UTF8", "--locale=C", "-A", "trust", "-U", "postgres"], dir);
  runAsOwner("mkdir", [path.join(dir, "sock")], dir);
  const cluster = clusterAt(await freePort(), dir, true);
  await cluster.start();
  return cluster;
}

/**
 * The run's shared cluster when postgres-global-setup.js started one; otherwise (a spec run alone, or from the
 * unit project) a cluster of this spec file's own. Either way call stop() in afterAll.
 */
export async function sharedPostgres(): Promise<PostgresCluster> {
  const shared = process.env[SHARED_ENV];
  if (shared !== undefined && shared !== "") {
    const { port, dir } = JSON.parse(shared) as { port: number; dir: string };
    return clusterAt(port, dir, false);
  }
  return startPostgres();
}

/** For postgres-global-setup.js: the env var value describing a cluster. */
export const describeCluster = (cluster: PostgresCluster): string => JSON.stringify({ port: cluster.port, dir: cluster.dir });

/** For postgres-global-teardown.js: stops a shared cluster described by describeCluster. */
export async function stopShared(description: string): Promise<void> {
  const { port, dir } = JSON.parse(description) as { port: number; dir: string };
  await clusterAt(port, dir, true).stop();
}
