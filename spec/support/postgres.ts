// Throwaway PostgreSQL clusters for specs: initdb in a temp dir, a free port, the socket inside the temp dir.
// Never the package's default cluster (5432). initdb and postgres refuse root: as root they run as `postgres`.
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
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

// The helpers the bench and reliability scripts use (plain Node, so they cannot load this file), not copies of them.
interface PostgresHelpers {
  postgresBin(name: string): string;
  runAsOwner(file: string, args: string[], dir: string): string;
  freePort(): Promise<number>;
  initCluster(): string;
  serverOptions(port: number, dir: string): string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const helpers = require("../../scripts/bench/postgres") as PostgresHelpers;
const { runAsOwner } = helpers;

/** Debian puts the binaries under /usr/lib/postgresql/<version>/bin, off PATH; the newest version wins. */
export const postgresBin = (name: string): string => helpers.postgresBin(name);

function clusterAt(port: number, dir: string, owned: boolean): PostgresCluster {
  const data = path.join(dir, "data");
  const pgCtl = (...args: string[]): string => runAsOwner(postgresBin("pg_ctl"), ["-D", data, ...args], dir);
  const options = helpers.serverOptions(port, dir);
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
  const dir = helpers.initCluster();
  const cluster = clusterAt(await helpers.freePort(), dir, true);
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
