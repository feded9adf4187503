// Composition root: config → store → key store → services → server.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { createAdminApp } from "./admin/app";
import { createConsole, type Console } from "./console/app";
import { CallRing } from "./console/calls";
import type { ConsoleActions } from "./console/pages/actions";
import type { OverviewFacts, PartitionCounts } from "./console/pages/overview";
import { AuditLog } from "./audit/audit-log";
import type { Config, StoreConfig } from "./config";
import type { KeyStore } from "./crypto/key-store";
import { specsOutsideToken } from "./crypto/key-specs";
import { openPkcs11KeyStore } from "./crypto/pkcs11-key-store";
import { acquireInMemoryToken, openSoftHsmKeyStore, readPin, type InMemoryToken } from "./crypto/softhsm-bootstrap";
import { createLogger, type Logger } from "./logger";
import { createAwsEndpoint } from "./protocol/json11";
import { loadCredentialsFile, SignatureVerifier } from "./protocol/sigv4";
import { listen } from "./server";
import { serverTls } from "./tls/server-options";
import { systemClock, type Clock } from "./services/clock";
import { readClusterFile } from "./services/kms/cloudhsm-clusters";
import { callXksProxy, readXksProxyFile } from "./xks/client";
import { startKmsDomain, type KmsDomain } from "./services/kms/domain";
import { startSecretsDomain, type SecretsDomain } from "./services/secretsmanager/domain";
import { Replicas } from "./services/secretsmanager/replication";
import { Rotations } from "./services/secretsmanager/rotation";
import { loadRotationFunctions, RotationFunctions, urlTarget } from "./services/secretsmanager/rotation-functions";
import { applySeed, checkSeed, concatPlans, readSeedFile, selects, wipePartitions, type PartitionSelector, type SeedPlan } from "./seed";
import { everything, GLOBAL, kindRange, partitionOfKey, scopeRange, type Partition } from "./storage/keys";
import { openLevelStore, openMemoryStore } from "./storage/level-store";
import { openPgStore } from "./storage/pg-store";
import { checkRootKeyCanary } from "./crypto/root-key-canary";
import { makePrivate } from "./storage/private-dir";
import { WHOLE_KEY_SPACE, writeBackup } from "./storage/backup";
import { checkDataDir, DataDirError, describeOpenError, removeRunFile } from "./storage/data-dir-check";
import type { RecoverableStore, Store } from "./storage/store";
import { readPrincipalsFile, type Principals } from "./iam/principals-file";

/**
 * Seeding and resets take this lock: on a store several nodes share, nodes starting together would otherwise each
 * create a seed's fixed-id key with material of their own, and the last write would orphan what the first sealed. On
 * PostgreSQL the lock's transaction also makes a reset land whole or not at all. Outside the records' key space.
 */
const SEED_LOCK = "\x02secretslite-seed";

/** How long KMS waits for an XKS proxy. AWS waits 250 ms (the XKS proxy API spec); a loaded test machine needs more. */
const XKS_TIMEOUT_MS = 2000;

export interface StartOptions {
  /** Tests inject a clock to reach deletion windows and day boundaries. */
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** A seed document already parsed (the shape of a --seed file), applied after config.seedFile's, and on every reset. */
  readonly seed?: unknown;
  /** Tests wrap the storage backend to inject faults (spec/support/faulty-store.ts); the write guard goes around it. */
  readonly wrapStoreBackend?: (backend: RecoverableStore) => RecoverableStore;
  /** The admin token to accept instead of a new one: --workers' primary makes one for all its workers (src/workers.ts). */
  readonly adminToken?: string;
}

export interface RunningSecretslite {
  /** `http://HOST:PORT` (`https://` with TLS), the endpoint to give SDKs and the CLI. */
  readonly url: string;
  /** The self-signed certificate `--tls` made or reused: clients trust it as their CA bundle. */
  readonly tlsCertificate: string | undefined;
  readonly host: string;
  readonly port: number;
  /**
   * Accepted on the admin routes (header `x-secretslite-admin-token`, or `Authorization: Bearer`); with
   * --verify-signatures they need it (or a signed request). New at every start.
   */
  readonly adminToken: string;
  /**
   * Wipes every account and region, backing keys included, and applies the seed again; with a partition, only that
   * account, region, or account's region (src/seed/reset.ts says how replicas across the cut are kept consistent).
   */
  reset(partition?: PartitionSelector): Promise<void>;
  /** Stops listening and closes LevelDB and the token; removes an --in-memory token. */
  close(): Promise<void>;
}

/** What a start found and made, logged once at info and shown by /_secretslite/health under `startup`. */
export interface StartSummary {
  readonly url: string;
  /** LevelDB's directory, or "in memory" (nothing kept after exit). */
  readonly data: string;
  /** The token holding the root key, as an operator finds it. */
  readonly token: string;
  readonly pkcs11Module: string;
  /** KMS keys and secrets in storage once the seed is in (every account and region). */
  readonly kmsKeys: number;
  readonly secrets: number;
  /** What the seed added at this start; undefined without one. */
  readonly seeded: { readonly file: string | undefined; readonly kmsKeys: number; readonly secrets: number } | undefined;
  readonly auditLog: string | undefined;
  readonly tlsCertificate: string | undefined;
  /** Key specs whose private keys are used in Node, not in the token (refused under --strict-hsm). */
  readonly specsOutsideToken: readonly string[];
  readonly strictHsm: boolean;
}

/** The version in package.json (the one --version prints and health reports). */
export const packageVersion = (): string => {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { version: string };
  return manifest.version;
};

export async function startSecretslite(config: Config, options: StartOptions = {}): Promise<RunningSecretslite> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  const principals = config.principalsFile === undefined ? undefined : readPrincipalsFile(config.principalsFile);
  const verifier = !config.verifySignatures
    ? undefined
    : principals !== undefined
      ? verifierFor(principals)
      : config.credentialsFile === undefined
        ? undefined
        : new SignatureVerifier(loadCredentialsFile(config.credentialsFile));
  // Read before listening, so a bad functions file stops the start at once. Local commands inherit this
  // process's environment, as any child process does (rotation-functions.ts adds the AWS settings).
  const rotationFunctions = new RotationFunctions(
    config.rotationFunctionsFile === undefined ? new Map() : loadRotationFunctions(config.rotationFunctionsFile),
    config.lambdaEndpoint === undefined ? undefined : urlTarget(config.lambdaEndpoint, "--lambda-endpoint"),
    process.env,
  );

  // Seed files are read once, here: a bad one stops the start before anything opens, and resets re-apply this plan.
  const seedPlan: SeedPlan = concatPlans([
    ...(config.seedFile === undefined ? [] : [readSeedFile(config.seedFile, config.defaultAccount)]),
    ...(options.seed === undefined ? [] : [checkSeed(options.seed, "options.seed", config.defaultAccount)]),
  ]);
  // Like the seed, read once before anything opens: a bad clusters file stops the start.
  const cloudHsmClusters = config.cloudHsmClustersFile === undefined ? undefined : readClusterFile(config.cloudHsmClustersFile, config.pkcs11.modulePath);
  const xksProxies = config.xksProxiesFile === undefined ? new Map() : readXksProxyFile(config.xksProxiesFile);
  /** Health says ready only once the seed is in, so a suite that waits for it never sees a half-seeded server. */
  let seeded = false;

  let store: Store | undefined;
  let keyStore: KeyStore | undefined;
  let kms: KmsDomain | undefined;
  let secrets: SecretsDomain | undefined;
  let rotations: Rotations | undefined;
  let replicas: Replicas | undefined;
  let inMemoryToken: InMemoryToken | undefined;
  let auditLog: AuditLog | undefined;

  // Resets run one after another: two interleaved seedings would each create the same fixed-id key.
  let resetting: Promise<void> = Promise.resolve();
  const reset = (partition: PartitionSelector = {}): Promise<void> => {
    const run = resetting.then(() => resetNow(partition));
    resetting = run.catch(() => undefined);
    return run;
  };
  const resetNow = async (partition: PartitionSelector): Promise<void> => {
    if (store === undefined || keyStore === undefined || kms === undefined || secrets === undefined) throw new Error("secretslite is not started");
    const [held, keys, domains] = [store, keyStore, { kms, secrets }];
    await held.withLock(SEED_LOCK, async () => {
      if (partition.account === undefined && partition.region === undefined) {
        domains.kms.usage.clear();
        // A flush that took its batch before the clear must land before the wipe, not after it.
        await domains.kms.usage.flush();
        await held.clear();
        domains.kms.keys.forgetCached();
        keys.forgetAll();
        // The wipe took the custom key stores' records: their tokens are logged out of too.
        domains.kms.customKeyStores.closeAll();
        // Wrapped backing keys and sealed values must leave the data files, not only the index.
        await held.compact(everything.gte, everything.lt);
      } else {
        await wipePartitions({ store: held, keyStore: keys, kms: domains.kms, secrets: domains.secrets }, partition);
      }
      await applySeed(seedPlan, domains, clock, (scope) => selects(partition, scope));
    });
    // Replicas the wipe sent back to InProgress are copied again before the reset answers (after the lock: the sweep
    // takes each secret's own).
    await secrets.replicas?.sweep();
  };

  let summary: StartSummary | undefined;
  const adminToken = options.adminToken ?? randomBytes(32).toString("base64url");
  const health = (): ReturnType<Parameters<typeof createAdminApp>[0]["health"]> =>
    !seeded || store === undefined || keyStore === undefined
      ? undefined
      : { storage: store.status(), keyStore: keyStore.health(), ...(store.shared ? { leader: store.leads() } : {}) };
  const startedAt = clock.now();
  const version = packageVersion();
  // The last calls, whatever the audit-log setting: the console's Calls page and its live list (src/console/calls.ts).
  const calls = config.console ? new CallRing() : undefined;
  const overview: OverviewFacts = {
    health,
    version,
    nodeVersion: process.version,
    dataLocation: config.inMemory ? "in memory" : config.store.kind === "postgres" ? `PostgreSQL ${config.store.url} (the token in ${config.dataDir})` : config.dataDir,
    startedAt,
    token: {
      label: config.pkcs11.tokenLabel ?? (config.inMemory ? "a SoftHSM2 token in a temporary directory" : `the SoftHSM2 token in ${path.join(config.dataDir, "token")}`),
      supports: (spec) => keyStore?.supports(spec),
    },
    partitions: async () => (store === undefined ? [] : countPartitions(store)),
  };
  const consoleActions: ConsoleActions = {
    reset,
    applySeed: async (plan) => {
      if (store === undefined || kms === undefined || secrets === undefined) throw new Error("secretslite is not started");
      const domains = { kms, secrets };
      await store.withLock(SEED_LOCK, () => applySeed(plan, domains, clock));
      await secrets.replicas?.sweep();
    },
  };
  // The console runs the API's own operations as its user (src/console/context.ts): it needs what the endpoint does.
  const browserConsole: Console | undefined = !config.console
    ? undefined
    : createConsole({
        defaultAccount: config.defaultAccount,
        clock,
        domains: () => (!seeded || kms === undefined || secrets === undefined ? undefined : { kms, secrets }),
        principals,
        enforceAuth: config.enforceAuth,
        verifySignatures: config.verifySignatures,
        audit: () => auditLog,
        adminToken,
        secure: config.tls !== undefined,
        facts: () => ({ version, startedAt, startup: summary, health: health() }),
        server: { ring: calls as CallRing, overview, actions: consoleActions },
      });
  const admin = createAdminApp({
    startup: () => summary,
    version,
    nodeVersion: process.version,
    health,
    reset,
    backup: config.inMemory
      ? undefined
      : async (dir) => {
          if (store === undefined) throw new Error("secretslite is not started");
          return { records: await writeBackup(store.range(WHOLE_KEY_SPACE), config.pkcs11.tokenLabel === undefined ? path.join(config.dataDir, "token") : undefined, dir) };
        },
    ...(browserConsole === undefined ? {} : { console: browserConsole.router }),
  });
  // Like the functions file, read before listening: a bad certificate, key or group stops the start at once.
  const tls = config.tls === undefined ? undefined : await serverTls(config.tls, config.inMemory ? undefined : config.dataDir, logger);
  // Listening first lets /_secretslite/health answer 503 while the token opens.
  const http = await listen(config.host, config.port, admin, {
    tls: tls?.options,
    cors: config.cors,
    anyOrigin: config.verifySignatures,
    allowedHosts: config.allowedHosts,
    adminCredentials: { token: adminToken, verifier, now: () => clock.now() },
    requireAdminCredentials: config.verifySignatures,
    maxConnections: config.maxConnections,
    consoleAdmits: browserConsole?.admits,
  }).catch((error: unknown) => {
    tls?.release();
    throw error;
  });

  const url = `${tls === undefined ? "http" : "https"}://${config.host.includes(":") ? `[${config.host}]` : config.host}:${http.port}`;

  const closeResources = async (): Promise<void> => {
    // Open live lists would keep the listener from closing.
    calls?.closeStreams();
    await rotations?.close();
    await replicas?.close();
    await secrets?.close();
    await kms?.close();
    await keyStore?.close();
    // A store degraded by a failed write may leave a log ending in a cut-short record: keep the run file then, so the
    // next start reads that as the crash-like end it is, not as a truncation.
    const closedClean = store === undefined || !store.status().startsWith("degraded");
    await store?.close();
    // Only once LevelDB is closed is the run clean; removes only this process's own run file.
    if (!config.inMemory && closedClean) removeRunFile(config.dataDir);
    // After the key store: its close is what lets the last user finalise before the token goes.
    inMemoryToken?.release();
    tls?.release();
    // Last: everything that could still make a call is closed, and what is queued reaches the file.
    await auditLog?.close();
  };

  try {
    auditLog = config.auditLogFile === undefined ? undefined : AuditLog.open(config.auditLogFile, (error) => logger.error("the audit log cannot be written; auditing stops", { file: config.auditLogFile, error }));
    if (config.inMemory) {
      store = await openMemoryStore({ logger, wrapBackend: options.wrapStoreBackend });
    } else if (config.store.kind === "postgres") {
      // The data dir holds only the token (and a self-signed certificate): records live in PostgreSQL, shared by the
      // cluster's nodes; nothing here is LevelDB's, so the data-dir check and run file (one process's) do not apply.
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      makePrivate(config.dataDir, logger);
      store = await openPgStore({
        connectionString: config.store.url,
        password: config.store.passwordFile === undefined ? undefined : readStorePassword(config.store.passwordFile, logger),
        poolSize: config.store.poolSize,
        logger,
        applicationName: `secretslite ${process.pid}`,
      }).catch((error: unknown) => {
        throw new Error(`cannot open the PostgreSQL store ${describeStoreUrl(config.store)}: ${(error as Error).message}`, { cause: error });
      });
    } else {
      // Before anything opens it: a damaged, locked or unwritable data dir is refused with one message (data-dir-check.ts).
      // It also writes <dataDir>/run.json before LevelDB opens: how `secretslite backup` finds this server and, left
      // behind by a kill, what tells the next start that a log cut short is a crash's, not a truncation.
      const checked = await checkDataDir(config.dataDir, { pid: process.pid, url, adminToken });
      for (const warning of checked.warnings) logger.warn(warning, { dataDir: config.dataDir });
      makePrivate(config.dataDir, logger);
      store = await openLevelStore(path.join(config.dataDir, "db"), { sync: config.sync === "always", logger, wrapBackend: options.wrapStoreBackend }).catch((error: unknown) => {
        throw new DataDirError(describeOpenError(error, config.dataDir));
      });
    }
    if (config.inMemory && config.pkcs11.tokenLabel === undefined) {
      // PKCS#11 is per process: in-memory instances share one temporary token, each with its own root key.
      inMemoryToken = await acquireInMemoryToken(config.pkcs11.modulePath);
      keyStore = await openPkcs11KeyStore({ ...inMemoryToken.token, ephemeralRootKey: true });
    } else {
      keyStore = await openKeyStore(config, config.dataDir, logger);
    }
    // Every node of a cluster must wrap keys under one root key: a node with another token is refused here, before it
    // could wrap a key no other node opens (the first node to start makes the canary).
    if (store.shared) await checkRootKeyCanary(store, keyStore, hostname(), clock.now());
    kms = await startKmsDomain(store, keyStore, clock, logger, {
      strictHsm: config.strictHsm,
      transientStateMs: config.transientStateMs,
      cloudHsmClusters,
      // Signed with the real time, not the server's clock: the proxy is another party, which checks against its own.
      xksCaller: (call, operation, body) => callXksProxy(xksProxies, call, operation, body, new Date(), XKS_TIMEOUT_MS),
    });
    secrets = await startSecretsDomain(store, clock, logger);
    // Again, quietly, over what this start created (in another program's process the umask is not ours to set).
    if (!config.inMemory) makePrivate(config.dataDir, logger, "opened");
    const kmsDomain = kms;
    rotations = new Rotations({ store, secrets: secrets.secrets, functions: rotationFunctions, clock, logger });
    replicas = new Replicas({
      store,
      secrets: secrets.secrets,
      clock,
      logger,
      contextFor: (scope) => ({ requestId: randomUUID(), scope, now: clock.now(), kms: kmsDomain, secrets: secretsDomain }),
    });
    const secretsDomain: SecretsDomain = { ...secrets, rotations, replicas };
    secrets = secretsDomain;
    const beforeSeed = seedPlan.keys.length + seedPlan.aliases.length + seedPlan.secrets.length === 0 ? undefined : await countRecords(store);
    const seedDomains = { kms, secrets };
    await store.withLock(SEED_LOCK, () => applySeed(seedPlan, seedDomains, clock));
    const counts = await countRecords(store);
    summary = startSummary(url, config, keyStore, counts, beforeSeed, auditLog === undefined ? undefined : config.auditLogFile, tls?.selfSignedCertFile ?? config.tls?.certFile);
  } catch (error) {
    await http.close();
    await closeResources();
    throw error;
  }

  http.setAwsEndpoint(
    createAwsEndpoint({
      maxBodyBytes: config.maxBodyBytes,
      defaultAccount: config.defaultAccount,
      verifier,
      principals,
      enforceAuth: config.enforceAuth,
      ...(calls === undefined ? {} : { onCall: calls.record }),
      clock,
      domains: { kms, secrets },
      logger,
      audit: auditLog,
    }),
  );

  seeded = true;

  try {
    // Rotation functions call back into this server, so rotations that fell due while it was down start now.
    await rotations.start(url);
    await replicas.start();
  } catch (error) {
    await http.close();
    await closeResources();
    throw error;
  }

  logger.info(describeStart(summary!), { ...summary! });

  let closing: Promise<void> | undefined;
  return {
    url,
    tlsCertificate: tls?.selfSignedCertFile,
    host: config.host,
    port: http.port,
    adminToken,
    reset,
    close: () => {
      closing ??= (async () => {
        await http.close();
        await closeResources();
      })();
      return closing;
    },
  };
}

/**
 * KMS keys and secrets per account and region (the console's overview, on every load). It reads keys only, and only
 * those two kinds: a partition is found with one one-key seek, then its "kms-key" and "secret" ranges are counted,
 * and the next seek starts past the partition. The versions, the ListSecrets indexes, grants and aliases (five or
 * more records per secret) are never walked, so the cost grows with the keys and secrets alone; scanning every
 * stored key took 190 ms with 10,000 secrets (npm run bench -- --console).
 */
async function countPartitions(store: Store): Promise<PartitionCounts[]> {
  const partitions: PartitionCounts[] = [];
  let from: string = everything.gte;
  for (;;) {
    let found: Partition | undefined;
    for await (const [key] of store.range({ gte: from, lt: everything.lt, limit: 1, values: false })) found = partitionOfKey(key);
    // GLOBAL's records (schedules, custom key stores) belong to no partition; "_" sorts after every account id.
    if (found === undefined || found.account === GLOBAL.account) break;
    const [kmsKeys, secrets] = await Promise.all([countKeys(store, kindRange(found, "kms", "kms-key")), countKeys(store, kindRange(found, "secretsmanager", "secret"))]);
    // A partition holding only other records (aliases of keys since deleted, say) is not "in use".
    if (kmsKeys + secrets > 0) partitions.push({ account: found.account, region: found.region, kmsKeys, secrets });
    from = scopeRange(found.account, found.region).lt;
  }
  return partitions;
}

/** How many keys lie in one range: keys only, no value read or decoded. */
async function countKeys(store: Store, range: { gte: string; lt: string }): Promise<number> {
  let count = 0;
  for await (const _ of store.range({ ...range, values: false })) count++;
  return count;
}

/** KMS keys and secrets in storage, in every account and region (the start-up summary): the overview's count, summed. */
async function countRecords(store: Store): Promise<{ kmsKeys: number; secrets: number }> {
  let kmsKeys = 0;
  let secrets = 0;
  for (const partition of await countPartitions(store)) {
    kmsKeys += partition.kmsKeys;
    secrets += partition.secrets;
  }
  return { kmsKeys, secrets };
}

function startSummary(
  url: string,
  config: Config,
  keyStore: KeyStore,
  counts: { kmsKeys: number; secrets: number },
  beforeSeed: { kmsKeys: number; secrets: number } | undefined,
  auditLog: string | undefined,
  tlsCertificate: string | undefined,
): StartSummary {
  const { tokenLabel, modulePath } = config.pkcs11;
  const token =
    tokenLabel !== undefined
      ? `token '${tokenLabel}' (--token-label)`
      : config.inMemory
        ? "SoftHSM2 token in a temporary directory, removed at exit"
        : `SoftHSM2 token in ${path.join(config.dataDir, "token")}`;
  return {
    url,
    data: config.inMemory ? "in memory" : config.store.kind === "postgres" ? `PostgreSQL ${config.store.url}` : path.join(config.dataDir, "db"),
    token,
    pkcs11Module: modulePath,
    ...counts,
    seeded:
      beforeSeed === undefined
        ? undefined
        : { file: config.seedFile, kmsKeys: counts.kmsKeys - beforeSeed.kmsKeys, secrets: counts.secrets - beforeSeed.secrets },
    auditLog,
    tlsCertificate,
    specsOutsideToken: specsOutsideToken(keyStore),
    strictHsm: config.strictHsm,
  };
}

const plural = (count: number, one: string, many: string): string => `${count} ${count === 1 ? one : many}`;

/**
 * The start in one sentence, the fields beside it. It names the key specs this key store runs outside the token,
 * so nobody takes an Ed25519 or ML-DSA key for an HSM-held one: their private keys are sealed by the root key at
 * rest and used in Node per operation, or, under --strict-hsm, refused.
 */
function describeStart(summary: StartSummary): string {
  const parts = [
    `secretslite started on ${summary.url}`,
    summary.data === "in memory" ? "data in memory (nothing kept after exit)" : `data in ${summary.data}`,
    summary.token,
    `${plural(summary.kmsKeys, "KMS key", "KMS keys")} and ${plural(summary.secrets, "secret", "secrets")}` +
      (summary.seeded === undefined ? "" : ` (the seed added ${summary.seeded.kmsKeys} and ${summary.seeded.secrets})`),
  ];
  if (summary.auditLog !== undefined) parts.push(`audit log ${summary.auditLog}`);
  if (summary.tlsCertificate !== undefined) parts.push(`TLS certificate ${summary.tlsCertificate}`);
  if (summary.specsOutsideToken.length > 0) {
    parts.push(
      summary.strictHsm
        ? `key specs refused (--strict-hsm), as their private keys would be used outside the token: ${summary.specsOutsideToken.join(", ")}`
        : `key specs that run outside the token (their private keys are sealed by the root key at rest and used in Node for each operation; --strict-hsm refuses them): ${summary.specsOutsideToken.join(", ")}`,
    );
  }
  return parts.join("; ");
}

/** A configured token (--token-label) is used as is; otherwise secretslite owns a SoftHSM2 token in `dir`. */
async function openKeyStore(config: Config, dir: string, logger: Logger): Promise<KeyStore> {
  const { pkcs11 } = config;
  if (pkcs11.tokenLabel !== undefined) {
    return openPkcs11KeyStore({
      modulePath: pkcs11.modulePath,
      tokenLabel: pkcs11.tokenLabel,
      pin: readPin({ pin: pkcs11.pin, pinFile: pkcs11.pinFile }),
      pinSource: pkcs11.pinFile,
    });
  }
  // Made through PKCS#11 on first start; its files are checked, and restored from their verified copy, before each login.
  return openSoftHsmKeyStore(path.join(dir, "token"), { modulePath: pkcs11.modulePath, logger });
}

/** Strict mode over the principals file: every key's secret, and the token and expiry of session credentials. */
function verifierFor(principals: Principals): SignatureVerifier {
  const secrets = new Map<string, string>();
  const sessions = new Map<string, { token: string; expiresAt?: number }>();
  for (const [accessKeyId, entry] of principals.byAccessKey) {
    secrets.set(accessKeyId, entry.secretAccessKey);
    if (entry.sessionToken !== undefined) sessions.set(accessKeyId, { token: entry.sessionToken, ...(entry.expiresAt === undefined ? {} : { expiresAt: entry.expiresAt }) });
  }
  return new SignatureVerifier(secrets, { sessions });
}

/**
 * The PostgreSQL password from --store-password-file: the file's first line (a trailing newline, as editors and
 * `echo` leave one, is not part of it). A file others may read is warned about, not refused: compose secrets outside
 * Swarm ignore modes, and the PIN file (readPin) is not refused either.
 */
function readStorePassword(file: string, logger: Logger): string {
  let text: string;
  try {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) logger.warn("the PostgreSQL password file may be read by other users of this machine: chmod 600 it", { file, mode: mode.toString(8) });
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`--store-password-file: ${(error as Error).message}`, { cause: error });
  }
  const password = text.split(/\r?\n/, 1)[0] ?? "";
  if (password === "") throw new Error(`--store-password-file: ${file} is empty`);
  return password;
}

/** The store's address for messages: host, port and database, never a password (the URL holds none: config.ts). */
const describeStoreUrl = (store: StoreConfig): string => (store.kind === "postgres" ? store.url : "LevelDB");

