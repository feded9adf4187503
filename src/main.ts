// Composition root: config → store → key store → services → server.
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { createAdminApp } from "./admin/app";
import { AuditLog } from "./audit/audit-log";
import type { Config } from "./config";
import type { KeyStore } from "./crypto/key-store";
import { openPkcs11KeyStore } from "./crypto/pkcs11-key-store";
import { acquireInMemoryToken, ensureSoftHsmToken, readPin, type InMemoryToken } from "./crypto/softhsm-bootstrap";
import { createLogger, type Logger } from "./logger";
import { createAwsEndpoint } from "./protocol/json11";
import { loadCredentialsFile, SignatureVerifier } from "./protocol/sigv4";
import { listen } from "./server";
import { serverTls } from "./tls/server-options";
import { systemClock, type Clock } from "./services/context";
import { startKmsDomain, type KmsDomain } from "./services/kms/domain";
import { startSecretsDomain, type SecretsDomain } from "./services/secretsmanager/domain";
import { Replicas } from "./services/secretsmanager/replication";
import { Rotations } from "./services/secretsmanager/rotation";
import { loadRotationFunctions, RotationFunctions, urlTarget } from "./services/secretsmanager/rotation-functions";
import { applySeed, checkSeed, concatPlans, readSeedFile, selects, wipePartitions, type PartitionSelector, type SeedPlan } from "./seed";
import { everything } from "./storage/keys";
import { openLevelStore, openMemoryStore } from "./storage/level-store";
import type { Store } from "./storage/store";

export interface StartOptions {
  /** Tests inject a clock to reach deletion windows and day boundaries. */
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** A seed document already parsed (the shape of a --seed file), applied after config.seedFile's, and on every reset. */
  readonly seed?: unknown;
}

export interface RunningSecretslite {
  /** `http://HOST:PORT` (`https://` with TLS), the endpoint to give SDKs and the CLI. */
  readonly url: string;
  /** The self-signed certificate `--tls` made or reused: clients trust it as their CA bundle. */
  readonly tlsCertificate: string | undefined;
  readonly host: string;
  readonly port: number;
  /**
   * Wipes every account and region, backing keys included, and applies the seed again; with a partition, only that
   * account, region, or account's region (src/seed/reset.ts says how replicas across the cut are kept consistent).
   */
  reset(partition?: PartitionSelector): Promise<void>;
  /** Stops listening and closes LevelDB and the token; removes an --in-memory token. */
  close(): Promise<void>;
}

const packageVersion = (): string => {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { version: string };
  return manifest.version;
};

export async function startSecretslite(config: Config, options: StartOptions = {}): Promise<RunningSecretslite> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  const verifier = config.verifySignatures && config.credentialsFile !== undefined
    ? new SignatureVerifier(loadCredentialsFile(config.credentialsFile))
    : undefined;
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
    if (partition.account === undefined && partition.region === undefined) {
      kms.usage.clear();
      // A flush that took its batch before the clear must land before the wipe, not after it.
      await kms.usage.flush();
      await store.clear();
      kms.keys.forgetCached();
      keyStore.forgetAll();
      // Wrapped backing keys and sealed values must leave the data files, not only the index.
      await store.compact(everything.gte, everything.lt);
    } else {
      await wipePartitions({ store, keyStore, kms, secrets }, partition);
    }
    await applySeed(seedPlan, { kms, secrets }, clock, (scope) => selects(partition, scope));
    // Replicas the wipe sent back to InProgress are copied again before the reset answers.
    await secrets.replicas?.sweep();
  };

  const admin = createAdminApp({
    version: packageVersion(),
    nodeVersion: process.version,
    health: () => (!seeded || store === undefined || keyStore === undefined ? undefined : { storage: store.status(), keyStore: keyStore.health() }),
    reset,
  });
  // Like the functions file, read before listening: a bad certificate, key or group stops the start at once.
  const tls = config.tls === undefined ? undefined : await serverTls(config.tls, config.inMemory ? undefined : config.dataDir, logger);
  // Listening first lets /_secretslite/health answer 503 while the token opens.
  const http = await listen(config.host, config.port, admin, { tls: tls?.options, cors: config.cors, anyOrigin: config.verifySignatures }).catch((error: unknown) => {
    tls?.release();
    throw error;
  });

  const closeResources = async (): Promise<void> => {
    await rotations?.close();
    await replicas?.close();
    await secrets?.close();
    await kms?.close();
    await keyStore?.close();
    await store?.close();
    // After the key store: its close is what lets the last user finalise before the token goes.
    inMemoryToken?.release();
    tls?.release();
    // Last: everything that could still make a call is closed, and what is queued reaches the file.
    await auditLog?.close();
  };

  try {
    auditLog = config.auditLogFile === undefined ? undefined : AuditLog.open(config.auditLogFile, (error) => logger.error("the audit log cannot be written; auditing stops", { file: config.auditLogFile, error }));
    if (config.inMemory) {
      store = await openMemoryStore();
    } else {
      mkdirSync(config.dataDir, { recursive: true });
      store = await openLevelStore(path.join(config.dataDir, "db"));
    }
    if (config.inMemory && config.pkcs11.tokenLabel === undefined) {
      // PKCS#11 is per process: in-memory instances share one temporary token, each with its own root key.
      inMemoryToken = await acquireInMemoryToken(config.pkcs11.modulePath);
      keyStore = await openPkcs11KeyStore({ ...inMemoryToken.token, ephemeralRootKey: true });
    } else {
      keyStore = await openKeyStore(config, config.dataDir);
    }
    kms = await startKmsDomain(store, keyStore, clock, logger);
    secrets = await startSecretsDomain(store, clock, logger);
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
    await applySeed(seedPlan, { kms, secrets }, clock);
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
      clock,
      domains: { kms, secrets },
      logger,
      audit: auditLog,
    }),
  );

  seeded = true;

  const url = `${tls === undefined ? "http" : "https"}://${config.host.includes(":") ? `[${config.host}]` : config.host}:${http.port}`;
  try {
    // Rotation functions call back into this server, so rotations that fell due while it was down start now.
    await rotations.start(url);
    await replicas.start();
  } catch (error) {
    await http.close();
    await closeResources();
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    tlsCertificate: tls?.selfSignedCertFile,
    host: config.host,
    port: http.port,
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

/** A configured token (--token-label) is used as is; otherwise secretslite owns a SoftHSM2 token in `dir`. */
async function openKeyStore(config: Config, dir: string): Promise<KeyStore> {
  const { pkcs11 } = config;
  if (pkcs11.tokenLabel !== undefined) {
    return openPkcs11KeyStore({
      modulePath: pkcs11.modulePath,
      tokenLabel: pkcs11.tokenLabel,
      pin: readPin({ pin: pkcs11.pin, pinFile: pkcs11.pinFile }),
    });
  }
  const token = await ensureSoftHsmToken(path.join(dir, "token"), { modulePath: pkcs11.modulePath });
  return openPkcs11KeyStore({
    modulePath: token.modulePath,
    tokenLabel: token.tokenLabel,
    pin: token.pin,
    softhsmConfigPath: token.softhsmConfigPath,
  });
}
