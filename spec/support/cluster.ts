// Several secretslite nodes on one fresh PostgreSQL database, and SDK clients that spread calls over them round-robin.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BuildMiddleware } from "@smithy/types";
import { KMSClient } from "@aws-sdk/client-kms";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { LEADER_LOCK_KEY } from "../../src/storage/pg-leader";
import { RECORDS_TABLE } from "../../src/storage/pg-schema";
import { startCli, type RunningCli } from "./cli-process";
import { sharedPostgres, type PostgresCluster } from "./postgres";
import { credentials, REGION, startTestServer, type TestServer, type TestServerOptions } from "./server";
import { testSoftHsm } from "./softhsm";

const BIN = path.join(__dirname, "..", "..", "bin", "secretslite.js");

export interface ClusterNode {
  readonly url: string;
  /** The process id of a process node; undefined for an in-process one. */
  readonly pid: number | undefined;
  /** What admin routes (reset) take under --verify-signatures: an in-process node's; undefined for a process node. */
  readonly adminToken: string | undefined;
  /** A process node's stderr (its log) so far; "" for an in-process one. */
  log(): string;
  /** A clean shutdown (SIGTERM, or close() in process); its data dir goes. */
  stop(): Promise<void>;
}

export interface Cluster {
  /** The database every node serves. */
  readonly store: string;
  readonly nodes: ClusterNode[];
  /** Clients whose every request goes to the next node in turn (over the nodes alive when the client was made). */
  kms(nodes?: readonly ClusterNode[]): KMSClient;
  secretsManager(nodes?: readonly ClusterNode[]): SecretsManagerClient;
  /** Another node on the same database. */
  add(): Promise<ClusterNode>;
  /** process.kill(pid, SIGKILL) and wait for the exit: the node dies without closing anything. */
  kill(node: ClusterNode): Promise<void>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  readonly nodes: number;
  /**
   * "process": each node is `bin/secretslite.js` in a process of its own (needs dist/: `npx tsc -p tsconfig.build.json`),
   * so it can be killed with -9. "in-process": startTestServer in this process, so a TestClock can move every node's time.
   */
  readonly mode: "process" | "in-process";
  readonly clock?: TestServerOptions["clock"];
  readonly flags?: readonly string[];
}

/** The middleware that sends each request to the next endpoint; before signing, so the Host header signed is the right one. */
function roundRobin(urls: readonly string[]): BuildMiddleware<any, any> {
  let next = 0;
  return (handler) => async (args) => {
    const request = args.request as { hostname: string; port?: number; protocol: string; headers: Record<string, string> };
    const url = new URL(urls[next++ % urls.length]!);
    request.hostname = url.hostname;
    request.port = Number(url.port);
    request.protocol = url.protocol;
    request.headers.host = url.host;
    return handler(args);
  };
}
const ROUND_ROBIN = { step: "build", name: "clusterRoundRobin", priority: "high" } as const;

export async function startCluster(postgres: PostgresCluster, options: ClusterOptions): Promise<Cluster> {
  const store = await postgres.createDatabase();
  const token = await testSoftHsm();
  const nodes: ClusterNode[] = [];
  const clients: Array<{ destroy(): void }> = [];
  const processes = new Map<ClusterNode, RunningCli>();

  const startProcess = async (): Promise<ClusterNode> => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "secretslite-spec-node-"));
    // The PIN in the environment, never on a command line; the same token files as this worker's servers.
    const cli = await startCli(
      BIN,
      ["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir, "--token-label", token.tokenLabel, "--store", store, "--log-level", "info", ...(options.flags ?? [])],
      { SOFTHSM2_CONF: token.softhsmConfigPath, SECRETSLITE_PIN: token.pin },
    );
    const node: ClusterNode = {
      url: cli.url,
      pid: cli.child.pid,
      adminToken: undefined,
      log: () => cli.stderr(),
      stop: async () => {
        await cli.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
    processes.set(node, cli);
    return node;
  };
  const startInProcess = async (): Promise<ClusterNode> => {
    const server: TestServer = await startTestServer({ store, clock: options.clock, flags: options.flags });
    return { url: server.url, pid: undefined, adminToken: server.adminToken, log: () => "", stop: () => server.close() };
  };
  const add = async (): Promise<ClusterNode> => {
    const node = options.mode === "process" ? await startProcess() : await startInProcess();
    nodes.push(node);
    return node;
  };

  // One after another: the first makes the schema and the root-key canary the others check.
  try {
    for (let i = 0; i < options.nodes; i++) await add();
  } catch (error) {
    for (const node of nodes) await node.stop().catch(() => undefined);
    throw error;
  }

  const config = { region: REGION, credentials, maxAttempts: 1 };
  const urlsOf = (chosen: readonly ClusterNode[] | undefined): string[] => (chosen ?? nodes).map((node) => node.url);
  return {
    store,
    nodes,
    kms: (chosen) => {
      const client = new KMSClient({ ...config, endpoint: urlsOf(chosen)[0] });
      client.middlewareStack.add(roundRobin(urlsOf(chosen)), ROUND_ROBIN);
      clients.push(client);
      return client;
    },
    secretsManager: (chosen) => {
      const client = new SecretsManagerClient({ ...config, endpoint: urlsOf(chosen)[0] });
      client.middlewareStack.add(roundRobin(urlsOf(chosen)), ROUND_ROBIN);
      clients.push(client);
      return client;
    },
    add,
    kill: async (node) => {
      const cli = processes.get(node);
      if (cli === undefined) throw new Error("only a process node can be killed");
      process.kill(node.pid!, "SIGKILL");
      await cli.exit;
      processes.delete(node);
      nodes.splice(nodes.indexOf(node), 1);
    },
    close: async () => {
      for (const client of clients) client.destroy();
      for (const node of nodes.splice(0)) await node.stop().catch(() => undefined);
    },
  };
}

/** How many sessions on the cluster's database hold the leader lock (a bigint advisory lock: classid high, objid low). */
export async function leaderSessions(postgres: PostgresCluster, store: string): Promise<number> {
  const database = new URL(store).pathname.slice(1);
  const held = await postgres.sql(
    `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND d.datname = $1 AND ((l.classid::bigint << 32) | l.objid::bigint) = $2::bigint`,
    [database, LEADER_LOCK_KEY],
  );
  return (held.rows[0] as { n: number }).n;
}

/** Polls `check` until it holds (each try a round trip); fails after `tries`. Waits on the system, never asserts a duration. */
export async function until(check: () => Promise<boolean>, what: string, tries = 200, pauseMs = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((wake) => setTimeout(wake, pauseMs));
  }
  throw new Error(`still not so: ${what}`);
}

export interface ClusterPerTest {
  /** The worker's shared PostgreSQL (set in beforeAll). */
  readonly postgres: PostgresCluster;
  /** A cluster on a fresh database of it, closed after the test that started it. */
  start(options: ClusterOptions): Promise<Cluster>;
}

/**
 * Registers a describe block's hooks for tests that each start a cluster of their own: the worker's shared PostgreSQL
 * for the block, and each test's cluster closed after it (pass or fail), so a failed test leaves no node running.
 */
export function clusterPerTest(): ClusterPerTest {
  let postgres: PostgresCluster | undefined;
  let cluster: Cluster | undefined;
  beforeAll(async () => {
    postgres = await sharedPostgres();
  });
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });
  afterAll(async () => {
    await postgres?.stop();
  });
  return {
    get postgres(): PostgresCluster {
      if (postgres === undefined) throw new Error("clusterPerTest: PostgreSQL is started in beforeAll");
      return postgres;
    },
    start: async (options) => {
      if (postgres === undefined) throw new Error("clusterPerTest: PostgreSQL is started in beforeAll");
      cluster = await startCluster(postgres, options);
      return cluster;
    },
  };
}

/**
 * Records every DELETE of a record on the cluster's database from now on, so a purge done twice (a record deleted,
 * written back by a stale node, deleted again) shows as a key deleted more than once. Returns a query of the deletes
 * so far: each key containing `fragment`, with how many times it was deleted.
 */
export async function recordDeletes(postgres: PostgresCluster, store: string): Promise<(fragment: string) => Promise<Array<{ key: string; n: number }>>> {
  const database = new URL(store).pathname.slice(1);
  await postgres.sql(
    `CREATE TABLE spec_deleted (key text NOT NULL);
     CREATE FUNCTION spec_count_delete() RETURNS trigger AS $$ BEGIN INSERT INTO spec_deleted VALUES (OLD.key); RETURN OLD; END $$ LANGUAGE plpgsql;
     CREATE TRIGGER spec_count_delete AFTER DELETE ON ${RECORDS_TABLE} FOR EACH ROW EXECUTE FUNCTION spec_count_delete();`,
    [],
    database,
  );
  return async (fragment) => {
    const result = await postgres.sql("SELECT key, count(*)::int AS n FROM spec_deleted WHERE strpos(key, $1) > 0 GROUP BY key", [fragment], database);
    return result.rows as Array<{ key: string; n: number }>;
  };
}
