// Starts secretslite in-process on a free port with this worker's SoftHSM2 token, plus SDK clients for it.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { KMSClient } from "@aws-sdk/client-kms";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import aws4 from "aws4";
import pg from "pg";
import request from "supertest";
import { parseConfig } from "../../src/config";
import { startSecretslite, type RunningSecretslite } from "../../src/main";
import type { Clock } from "../../src/services/clock";
import { openLevelStore } from "../../src/storage/level-store";
import { RECORDS_TABLE } from "../../src/storage/pg-schema";
import { openPgStore } from "../../src/storage/pg-store";
import type { Store } from "../../src/storage/store";
import { sharedPostgres } from "./postgres";
import { testSoftHsm } from "./softhsm";

export const REGION = "us-east-1";
export const ACCOUNT = "000000000000";
export const credentials = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };

export interface TestServer extends RunningSecretslite {
  readonly dataDir: string;
  readonly tokenDir: string;
  kms(options?: ClientOptions): KMSClient;
  secretsManager(options?: ClientOptions): SecretsManagerClient;
  /** Closes the server but keeps its data dir, for a restart or a look at the files. */
  stop(): Promise<void>;
}

export interface ClientOptions {
  readonly region?: string;
  readonly accessKeyId?: string;
}

export interface TestServerOptions {
  readonly clock?: Clock;
  /** Extra CLI flags, e.g. ["--verify-signatures", "--credentials-file", file]. */
  readonly flags?: readonly string[];
  /** Reuse a data dir (a restart); a fresh temporary one otherwise. */
  readonly dataDir?: string;
  /**
   * --store: a postgres:// URL, or "level" for the data dir's LevelDB. Unset: LevelDB, or with SECRETSLITE_TEST_STORE=postgres
   * (the suite's PostgreSQL job) a fresh database on the run's PostgreSQL, remembered in the data dir so a restart on it
   * finds its records again.
   */
  readonly store?: string;
}

/** Which store the suite runs on: SECRETSLITE_TEST_STORE=postgres runs every server-backed spec on PostgreSQL. */
export const TEST_STORE = process.env.SECRETSLITE_TEST_STORE === "postgres" ? "postgres" : "level";

const STORE_URL_FILE = ".spec-store-url";

async function storeFlags(option: string | undefined, dataDir: string): Promise<string[]> {
  if (option === "level" || (option === undefined && TEST_STORE === "level")) return [];
  if (option !== undefined) return ["--store", option];
  const remembered = path.join(dataDir, STORE_URL_FILE);
  if (existsSync(remembered)) return ["--store", readFileSync(remembered, "utf8")];
  const url = await (await sharedPostgres()).createDatabase();
  writeFileSync(remembered, url, { mode: 0o600 });
  return ["--store", url];
}

/**
 * The store a stopped test server on `dataDir` kept its records in, opened as that server opened it: the PostgreSQL
 * database remembered in the data dir, or the data dir's LevelDB. For specs that read or patch records directly.
 */
export async function openServerStore(dataDir: string): Promise<Store> {
  const remembered = path.join(dataDir, STORE_URL_FILE);
  if (existsSync(remembered)) return openPgStore({ connectionString: readFileSync(remembered, "utf8"), poolSize: 2 });
  return openLevelStore(path.join(dataDir, "db"));
}

/**
 * A number that grows with every write to the store of a (running or stopped) test server on `dataDir`, and with
 * nothing else: LevelDB appends each write to its log before answering, so the log's bytes; on PostgreSQL every
 * inserted or updated row carries its transaction's id (xmin), newer than every row before it, so the newest one.
 */
export async function storeWrites(dataDir: string): Promise<number> {
  const remembered = path.join(dataDir, STORE_URL_FILE);
  if (!existsSync(remembered)) {
    const db = path.join(dataDir, "db");
    return readdirSync(db)
      .filter((name) => name.endsWith(".log"))
      .reduce((total, name) => total + statSync(path.join(db, name)).size, 0);
  }
  const client = new pg.Client({ connectionString: readFileSync(remembered, "utf8") });
  await client.connect();
  try {
    const result = await client.query<{ newest: string | null }>(`SELECT max(xmin::text::bigint) AS newest FROM ${RECORDS_TABLE}`);
    return Number(result.rows[0]?.newest ?? 0);
  } finally {
    await client.end();
  }
}

/** A server on a free port with its own data dir, sharing this worker's token (one C_Initialize per process). */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const token = await testSoftHsm();
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), "secretslite-spec-data-"));
  const store = await storeFlags(options.store, dataDir);
  const config = parseConfig(
    ["--port", "0", "--data-dir", dataDir, "--token-label", token.tokenLabel, `--pin=${token.pin}`, "--log-level", "error", ...store, ...(options.flags ?? [])],
    {},
  );
  if (config === undefined) throw new Error("unreachable: no --help given");
  const running = await startSecretslite(config, { clock: options.clock });
  const clients: Array<{ destroy(): void }> = [];
  const clientConfig = (clientOptions: ClientOptions = {}) => ({
    endpoint: running.url,
    region: clientOptions.region ?? REGION,
    credentials: { ...credentials, accessKeyId: clientOptions.accessKeyId ?? credentials.accessKeyId },
    maxAttempts: 1,
  });
  return {
    ...running,
    dataDir,
    tokenDir: token.dir,
    kms: (clientOptions) => {
      const client = new KMSClient(clientConfig(clientOptions));
      clients.push(client);
      return client;
    },
    secretsManager: (clientOptions) => {
      const client = new SecretsManagerClient(clientConfig(clientOptions));
      clients.push(client);
      return client;
    },
    stop: async () => {
      for (const client of clients) client.destroy();
      await running.close();
    },
    close: async () => {
      for (const client of clients) client.destroy();
      await running.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface RawRequest {
  /** `TrentService.Encrypt`, `secretsmanager.GetSecretValue`; omitted to send no target. */
  readonly target?: string;
  readonly body?: string | Buffer;
  readonly headers?: Record<string, string>;
  /** Sign with SigV4 (aws4) unless false. */
  readonly sign?: boolean;
  readonly region?: string;
  readonly service?: string;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** The headers a raw request is sent with: content type, target, and SigV4 by the `aws4` package. */
export function signedHeaders(server: { url: string }, raw: RawRequest): Record<string, string> {
  const url = new URL(server.url);
  const service = raw.service ?? (raw.target?.startsWith("TrentService.") ? "kms" : "secretsmanager");
  const headers: Record<string, string> = {
    "Content-Type": "application/x-amz-json-1.1",
    ...(raw.target === undefined ? {} : { "X-Amz-Target": raw.target }),
    ...raw.headers,
  };
  if (raw.sign === false) return headers;
  const signed = aws4.sign(
    { host: url.host, method: "POST", path: "/", service, region: raw.region ?? REGION, headers, body: raw.body ?? "{}" },
    raw.credentials ?? credentials,
  );
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers ?? {})) {
    // supertest sets these two itself from the URL and the body.
    if (name.toLowerCase() !== "host" && name.toLowerCase() !== "content-length") out[name] = String(value);
  }
  return out;
}

/** A raw JSON-1.1 request through supertest, SigV4-signed by the `aws4` package unless `sign` is false. */
export function rawRequest(server: { url: string }, raw: RawRequest): request.Test {
  return request(server.url).post("/").set(signedHeaders(server, raw)).send(raw.body ?? "{}");
}
