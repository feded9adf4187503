// The one typed, frozen Config: parsed once from flags and SECRETSLITE_* env vars; nothing else reads process.env.
import { parseArgs } from "node:util";
import path from "node:path";
import { DEFAULT_SOFTHSM_MODULE_PATH as DEFAULT_PKCS11_MODULE } from "./crypto/softhsm-bootstrap";

export type LogLevel = "error" | "warn" | "info" | "debug";
const LOG_LEVELS: readonly LogLevel[] = ["error", "warn", "info", "debug"];

export interface Pkcs11Config {
  /** PKCS#11 library; SoftHSM2 by default. */
  readonly modulePath: string;
  /** When unset, secretslite creates and owns a SoftHSM2 token under the data dir. */
  readonly tokenLabel: string | undefined;
  readonly pin: string | undefined;
  readonly pinFile: string | undefined;
}

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly inMemory: boolean;
  readonly defaultAccount: string;
  readonly logLevel: LogLevel;
  /** Requests over this many bytes get 413; AWS's largest legitimate bodies are about 90 KB. */
  readonly maxBodyBytes: number;
  /** Strict SigV4: verify signatures against this AWS shared-credentials file. */
  readonly verifySignatures: boolean;
  readonly credentialsFile: string | undefined;
  /** --principals: callers as IAM principals (keys, session tokens, tags, identity policies); replaces credentialsFile. */
  readonly principalsFile: string | undefined;
  /** --enforce-auth: every request is authorized as AWS would (IAM, key and resource policies, grants); implies verifySignatures. */
  readonly enforceAuth: boolean;
  readonly pkcs11: Pkcs11Config;
  /** Lambda Invoke API endpoint (LocalStack, say) for rotation functions the functions file does not name. */
  readonly lambdaEndpoint: string | undefined;
  /** JSON file mapping rotation function ARNs to an Invoke URL or a local command (argv). */
  readonly rotationFunctionsFile: string | undefined;
  /** YAML or JSON fixtures applied idempotently at start and after every reset. */
  readonly seedFile: string | undefined;
  /** JSON lines shaped like CloudTrail events, one per call. */
  readonly auditLogFile: string | undefined;
  /** undefined: plain HTTP. */
  readonly tls: TlsConfig | undefined;
  /** Answer browser preflights and expose the AWS response headers (browser SDKs need both). */
  readonly cors: boolean;
  /** The browser console at /_secretslite/ui (--no-console turns it off). */
  readonly console: boolean;
  /**
   * Host header names served besides loopback names, IP addresses and --host (src/http-access.ts): exact
   * names, `*.suffix`, or `*` for any (unsafe: DNS-rebinding pages get in).
   */
  readonly allowedHosts: readonly string[];
  /** Connections beyond this many are closed at once. */
  readonly maxConnections: number;
  /** --sync: "always" fsyncs LevelDB's log before a write is acknowledged (survives power loss); "never" does not. */
  readonly sync: SyncSetting;
  /**
   * --strict-hsm: CreateKey (and seeding) refuses key specs whose private keys the key store would use in Node
   * rather than in the token (Ed25519 and ML-DSA on SoftHSM2), with UnsupportedOperationException.
   */
  readonly strictHsm: boolean;
  /** --transient-state-ms: how long a new multi-Region replica stays Creating and UpdatePrimaryRegion's keys Updating. */
  readonly transientStateMs: number;
  /** YAML or JSON: CloudHSM cluster id → the PKCS#11 token an AWS_CLOUDHSM custom key store on it uses. */
  readonly cloudHsmClustersFile: string | undefined;
  /** YAML or JSON: XksProxyUriEndpoint host name → { url, ca } of the XKS proxy secretslite really calls. */
  readonly xksProxiesFile: string | undefined;
  /** Where records live: LevelDB under the data dir (the default), or a PostgreSQL database shared by several nodes. */
  readonly store: StoreConfig;
  /** --workers: processes serving one port on this machine (each its own event loop); more than 1 needs PostgreSQL. */
  readonly workers: number;
}

export type StoreConfig =
  | { readonly kind: "level" }
  | {
      readonly kind: "postgres";
      /** postgres:// URL without a password (node-postgres reads PGPASSWORD and ~/.pgpass, or passwordFile). */
      readonly url: string;
      readonly passwordFile: string | undefined;
      /** Connections per pool (one pool for locked changes, one for plain reads and writes). */
      readonly poolSize: number;
    };

export type SyncSetting = "always" | "never";
const SYNC_SETTINGS: readonly SyncSetting[] = ["always", "never"];

export interface TlsConfig {
  /** PEM files; both undefined with selfSigned: a localhost certificate is made in the data dir. */
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  readonly selfSigned: boolean;
  /** PEM CA bundle: when set, clients must present a certificate it signed (mutual TLS). */
  readonly caFile: string | undefined;
  /** Key-exchange groups for Node's ecdhCurve, e.g. "X25519MLKEM768:X25519". */
  readonly groups: string | undefined;
}


export const defaults: Config = Object.freeze({
  host: "127.0.0.1",
  port: 4566,
  dataDir: "./data",
  inMemory: false,
  defaultAccount: "000000000000",
  logLevel: "info",
  maxBodyBytes: 1024 * 1024,
  verifySignatures: false,
  enforceAuth: false,
  credentialsFile: undefined,
  principalsFile: undefined,
  pkcs11: Object.freeze({ modulePath: DEFAULT_PKCS11_MODULE, tokenLabel: undefined, pin: undefined, pinFile: undefined }),
  lambdaEndpoint: undefined,
  rotationFunctionsFile: undefined,
  seedFile: undefined,
  auditLogFile: undefined,
  tls: undefined,
  cors: true,
  console: true,
  allowedHosts: Object.freeze([]),
  maxConnections: 512,
  sync: "always",
  strictHsm: false,
  transientStateMs: 1000,
  cloudHsmClustersFile: undefined,
  xksProxiesFile: undefined,
  store: Object.freeze({ kind: "level" }),
  workers: 1,
});

const DEFAULT_STORE_POOL_SIZE = 10;

export const usage = `Usage: secretslite [options]

Options (each also an environment variable):
  --host HOST               SECRETSLITE_HOST               address to listen on (${defaults.host})
  --port PORT               SECRETSLITE_PORT               port; 0 picks a free one (${defaults.port})
  --data-dir DIR            SECRETSLITE_DATA_DIR           LevelDB and SoftHSM2 token directory (${defaults.dataDir})
  --in-memory               SECRETSLITE_IN_MEMORY=1        keep no state on disk; token in a temp dir removed at exit
  --default-account ID      SECRETSLITE_DEFAULT_ACCOUNT    account for access keys that are not 12 digits (${defaults.defaultAccount})
  --log-level LEVEL         SECRETSLITE_LOG_LEVEL          error | warn | info | debug (${defaults.logLevel})
  --max-body-bytes N        SECRETSLITE_MAX_BODY_BYTES     larger request bodies get 413 (${defaults.maxBodyBytes})
  --verify-signatures       SECRETSLITE_VERIFY_SIGNATURES=1  check SigV4 signatures (needs --credentials-file or --principals)
  --credentials-file FILE   SECRETSLITE_CREDENTIALS_FILE   AWS shared-credentials file of accepted keys
  --principals FILE         SECRETSLITE_PRINCIPALS         YAML or JSON: callers as IAM principals (keys, session tokens, ARNs, tags, policies)
  --enforce-auth            SECRETSLITE_ENFORCE_AUTH=1     authorize every request as AWS does (needs --principals; implies --verify-signatures)
  --pkcs11-module FILE      SECRETSLITE_PKCS11_MODULE      PKCS#11 library (${DEFAULT_PKCS11_MODULE})
  --token-label LABEL       SECRETSLITE_TOKEN_LABEL        use this existing token instead of creating one
  --pin PIN                 SECRETSLITE_PIN                user PIN of --token-label
  --pin-file FILE           SECRETSLITE_PIN_FILE           file holding that PIN
  --lambda-endpoint URL     SECRETSLITE_LAMBDA_ENDPOINT    Lambda Invoke API that runs rotation functions (LocalStack)
  --rotation-functions FILE SECRETSLITE_ROTATION_FUNCTIONS JSON: function ARN → Invoke URL or local command (argv)
  --seed FILE               SECRETSLITE_SEED               YAML or JSON fixtures applied at start and on every reset
  --audit-log FILE          SECRETSLITE_AUDIT_LOG          append a CloudTrail-shaped JSON line per call
  --tls                     SECRETSLITE_TLS=1              serve HTTPS with a self-signed localhost certificate in the data dir
  --tls-cert FILE           SECRETSLITE_TLS_CERT           serve HTTPS with this PEM certificate (needs --tls-key)
  --tls-key FILE            SECRETSLITE_TLS_KEY            PEM private key of --tls-cert
  --tls-ca FILE             SECRETSLITE_TLS_CA             require client certificates signed by this PEM CA (mutual TLS)
  --tls-groups LIST         SECRETSLITE_TLS_GROUPS         key-exchange groups, e.g. X25519MLKEM768:X25519 (OpenSSL 3.5+)
  --no-cors                 SECRETSLITE_NO_CORS=1          no CORS headers (browser SDKs then cannot call it)
  --no-console              SECRETSLITE_NO_CONSOLE=1       no browser console at /_secretslite/ui (404 like any unknown admin path)
  --allowed-hosts LIST      SECRETSLITE_ALLOWED_HOSTS      more Host names to serve than localhost, IPs and --host: a,*.b (* = any: unsafe)
  --max-connections N       SECRETSLITE_MAX_CONNECTIONS    connections beyond this many are closed (${defaults.maxConnections})
  --sync WHEN               SECRETSLITE_SYNC               always: fsync each write, survives power loss | never (${defaults.sync})
  --strict-hsm              SECRETSLITE_STRICT_HSM=1       refuse key specs whose private keys would be used outside the token (Ed25519, ML-DSA)
  --transient-state-ms N    SECRETSLITE_TRANSIENT_STATE_MS how long a new multi-Region replica is Creating and UpdatePrimaryRegion's keys Updating (${defaults.transientStateMs})
  --cloudhsm-clusters FILE  SECRETSLITE_CLOUDHSM_CLUSTERS  YAML or JSON: CloudHSM cluster id → PKCS#11 token of AWS_CLOUDHSM custom key stores
  --xks-proxies FILE        SECRETSLITE_XKS_PROXIES        YAML or JSON: XksProxyUriEndpoint host → { url: https://localhost:PORT, ca: PEM file } of EXTERNAL_KEY_STORE proxies
  --store URL               SECRETSLITE_STORE              postgres://USER@HOST:PORT/DB: records in PostgreSQL, shared by several nodes (default: LevelDB in the data dir)
  --store-password-file F   SECRETSLITE_STORE_PASSWORD_FILE  file holding the PostgreSQL password (else PGPASSWORD or ~/.pgpass; never in the URL)
  --store-pool-size N       SECRETSLITE_STORE_POOL_SIZE    PostgreSQL connections per pool, two pools per process (${DEFAULT_STORE_POOL_SIZE})
  --workers N               SECRETSLITE_WORKERS            processes serving the one port (more than 1 needs --store postgres://…) (${defaults.workers})
  --version                 print the version
  --help                    print this text
`;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const options = {
  host: { type: "string" },
  port: { type: "string" },
  "data-dir": { type: "string" },
  "in-memory": { type: "boolean" },
  "default-account": { type: "string" },
  "log-level": { type: "string" },
  "max-body-bytes": { type: "string" },
  "verify-signatures": { type: "boolean" },
  "enforce-auth": { type: "boolean" },
  "credentials-file": { type: "string" },
  principals: { type: "string" },
  "pkcs11-module": { type: "string" },
  "token-label": { type: "string" },
  pin: { type: "string" },
  "pin-file": { type: "string" },
  "lambda-endpoint": { type: "string" },
  "rotation-functions": { type: "string" },
  seed: { type: "string" },
  "audit-log": { type: "string" },
  tls: { type: "boolean" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "tls-ca": { type: "string" },
  "tls-groups": { type: "string" },
  "no-cors": { type: "boolean" },
  "no-console": { type: "boolean" },
  "allowed-hosts": { type: "string" },
  "max-connections": { type: "string" },
  sync: { type: "string" },
  "strict-hsm": { type: "boolean" },
  "transient-state-ms": { type: "string" },
  "cloudhsm-clusters": { type: "string" },
  "xks-proxies": { type: "string" },
  store: { type: "string" },
  "store-password-file": { type: "string" },
  "store-pool-size": { type: "string" },
  workers: { type: "string" },
  version: { type: "boolean" },
  help: { type: "boolean" },
} as const;

type OptionName = Exclude<keyof typeof options, "help" | "version">;

/** Edit distance (insertions, deletions, substitutions, swaps of neighbours) between two option names. */
function distance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The known option closest to a mistyped one, if any is close enough to be what was meant. */
export function closestOption(given: string): string | undefined {
  const name = given.replace(/^-+/, "").split("=", 1)[0]!.toLowerCase();
  let best: { option: string; distance: number } | undefined;
  for (const option of Object.keys(options)) {
    // A prefix is a likely meaning too (--pkcs11 for --pkcs11-module), as long as it is a real start of the name.
    const d = option.startsWith(name) && name.length >= 3 ? 1 : distance(name, option);
    if (best === undefined || d < best.distance) best = { option, distance: d };
  }
  return best !== undefined && best.distance <= Math.max(2, Math.floor(name.length / 3)) ? `--${best.option}` : undefined;
}

/** parseArgs's errors in one line each, an unknown option with the closest known one. */
function argumentError(error: Error & { code?: string }): ConfigError {
  if (error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const given = /'([^']+)'/.exec(error.message)?.[1] ?? "";
    const suggestion = closestOption(given);
    return new ConfigError(`unknown option ${given}${suggestion === undefined ? "" : ` (did you mean ${suggestion}?)`}`);
  }
  if (error.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    const given = /'([^']+)'/.exec(error.message)?.[1] ?? "";
    return new ConfigError(`unexpected argument '${given}': options start with --`);
  }
  return new ConfigError(error.message);
}

const envName = (option: OptionName): string => "SECRETSLITE_" + option.toUpperCase().replace(/-/g, "_");

const TRUE_WORDS = new Set(["1", "true", "yes", "on"]);
const FALSE_WORDS = new Set(["0", "false", "no", "off", ""]);

/** Returns undefined for --help and --version (the CLI prints them). Flags win over environment variables, which win over defaults. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config | undefined {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  } catch (error) {
    throw argumentError(error as Error & { code?: string });
  }
  if (parsed.values.help || parsed.values.version) return undefined;
  const flags = parsed.values as Partial<Record<OptionName, string | boolean>>;

  const text = (option: OptionName): string | undefined => {
    const flag = flags[option];
    if (typeof flag === "string") return flag;
    return env[envName(option)];
  };
  const flag = (option: OptionName): boolean | undefined => {
    if (flags[option] === true) return true;
    const raw = env[envName(option)];
    if (raw === undefined) return undefined;
    const word = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    throw new ConfigError(`${envName(option)} must be true or false, not '${raw}'`);
  };
  const integer = (option: OptionName, min: number, max: number): number | undefined => {
    const raw = text(option);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
      throw new ConfigError(`--${option} must be a whole number from ${min} to ${max}, not '${raw}'`);
    }
    return value;
  };

  const logLevel = text("log-level") ?? defaults.logLevel;
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(", ")}, not '${logLevel}'`);
  }
  const defaultAccount = text("default-account") ?? defaults.defaultAccount;
  if (!/^\d{12}$/.test(defaultAccount)) {
    throw new ConfigError(`--default-account must be 12 digits, not '${defaultAccount}'`);
  }
  const enforceAuth = flag("enforce-auth") ?? defaults.enforceAuth;
  const credentialsFile = text("credentials-file");
  const principalsFile = text("principals");
  // Deciding for a caller needs to know who it is: the signature says which key, the principals file whose.
  if (enforceAuth && principalsFile === undefined) {
    throw new ConfigError("--enforce-auth needs --principals (who each access key is, and its identity policies)");
  }
  const verifySignatures = enforceAuth || (flag("verify-signatures") ?? defaults.verifySignatures);
  // Two lists of accepted keys would disagree sooner or later: the principals file carries everything the
  // credentials file does (and who each key is), so it replaces it rather than adding to it.
  if (credentialsFile !== undefined && principalsFile !== undefined) {
    throw new ConfigError("--principals replaces --credentials-file: give one of them (the principals file lists every accepted key)");
  }
  if (verifySignatures && credentialsFile === undefined && principalsFile === undefined) {
    throw new ConfigError("--verify-signatures needs --credentials-file (an AWS shared-credentials file) or --principals");
  }
  const tokenLabel = text("token-label");
  const pin = text("pin");
  const pinFile = text("pin-file");
  if (tokenLabel !== undefined && pin === undefined && pinFile === undefined) {
    throw new ConfigError("--token-label needs --pin or --pin-file");
  }

  const lambdaEndpoint = text("lambda-endpoint");
  if (lambdaEndpoint !== undefined && !/^https?:\/\/[^/]/.test(lambdaEndpoint)) {
    throw new ConfigError(`--lambda-endpoint must be an http:// or https:// URL, not '${lambdaEndpoint}'`);
  }
  const rotationFunctionsFile = text("rotation-functions");
  const seedFile = text("seed");
  const auditLogFile = text("audit-log");

  const tlsCert = text("tls-cert");
  const tlsKey = text("tls-key");
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new ConfigError("--tls-cert and --tls-key go together");
  const selfSigned = flag("tls") ?? false;
  if (selfSigned && tlsCert !== undefined) throw new ConfigError("--tls makes its own certificate: leave out --tls-cert/--tls-key, or --tls");
  const tlsCa = text("tls-ca");
  const tlsGroups = text("tls-groups");
  const tlsOn = selfSigned || tlsCert !== undefined;
  if (!tlsOn && (tlsCa !== undefined || tlsGroups !== undefined)) {
    throw new ConfigError("--tls-ca and --tls-groups need HTTPS: add --tls, or --tls-cert with --tls-key");
  }
  const absolute = (file: string | undefined): string | undefined => (file === undefined ? undefined : path.resolve(file));
  const allowedHosts = parseAllowedHosts(text("allowed-hosts"));
  const sync = text("sync") ?? defaults.sync;
  if (!SYNC_SETTINGS.includes(sync as SyncSetting)) throw new ConfigError(`--sync must be always or never, not '${sync}'`);

  const inMemory = flag("in-memory") ?? defaults.inMemory;
  const store = parseStore(text("store"), absolute(text("store-password-file")), integer("store-pool-size", 1, 1000), inMemory);
  const workers = integer("workers", 1, 256) ?? defaults.workers;
  // LevelDB is one process's: a second would find it locked. PostgreSQL is what several processes share.
  if (workers > 1 && store.kind !== "postgres") throw new ConfigError("--workers above 1 needs --store postgres://… (LevelDB serves one process)");

  return Object.freeze({
    host: text("host") ?? defaults.host,
    port: integer("port", 0, 65535) ?? defaults.port,
    dataDir: path.resolve(text("data-dir") ?? defaults.dataDir),
    inMemory,
    defaultAccount,
    logLevel: logLevel as LogLevel,
    maxBodyBytes: integer("max-body-bytes", 1024, 1024 * 1024 * 1024) ?? defaults.maxBodyBytes,
    verifySignatures,
    enforceAuth,
    credentialsFile: credentialsFile === undefined ? undefined : path.resolve(credentialsFile),
    principalsFile: principalsFile === undefined ? undefined : path.resolve(principalsFile),
    pkcs11: Object.freeze({
      modulePath: text("pkcs11-module") ?? defaults.pkcs11.modulePath,
      tokenLabel,
      pin,
      pinFile: pinFile === undefined ? undefined : path.resolve(pinFile),
    }),
    lambdaEndpoint,
    rotationFunctionsFile: absolute(rotationFunctionsFile),
    seedFile: absolute(seedFile),
    auditLogFile: absolute(auditLogFile),
    tls: tlsOn
      ? Object.freeze({ certFile: absolute(tlsCert), keyFile: absolute(tlsKey), selfSigned, caFile: absolute(tlsCa), groups: tlsGroups })
      : undefined,
    cors: !(flag("no-cors") ?? false),
    console: !(flag("no-console") ?? false),
    allowedHosts,
    maxConnections: integer("max-connections", 1, 1_000_000) ?? defaults.maxConnections,
    sync: sync as SyncSetting,
    strictHsm: flag("strict-hsm") ?? defaults.strictHsm,
    transientStateMs: integer("transient-state-ms", 0, 3_600_000) ?? defaults.transientStateMs,
    cloudHsmClustersFile: absolute(text("cloudhsm-clusters")),
    xksProxiesFile: absolute(text("xks-proxies")),
    store,
    workers,
  });
}

/**
 * --store: a postgres:// or postgresql:// URL, never holding a password — a command line is visible to every user of the
 * machine (ps) and lands in shell histories, so the password comes from --store-password-file, PGPASSWORD or ~/.pgpass.
 */
function parseStore(raw: string | undefined, passwordFile: string | undefined, poolSize: number | undefined, inMemory: boolean): StoreConfig {
  if (raw === undefined || raw.trim() === "") {
    if (passwordFile !== undefined || poolSize !== undefined) throw new ConfigError("--store-password-file and --store-pool-size go with --store postgres://…");
    return defaults.store;
  }
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(`--store must be a postgres:// URL (postgres://USER@HOST:PORT/DATABASE), not '${raw}'`);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new ConfigError(`--store must be a postgres:// URL (postgres://USER@HOST:PORT/DATABASE), not '${url.protocol}…'`);
  }
  if (url.password !== "" || url.searchParams.has("password")) {
    throw new ConfigError("--store must not hold the password: give it in --store-password-file, PGPASSWORD or ~/.pgpass");
  }
  // A throwaway root key with a shared store would seal records no other node (nor the next start) can open.
  if (inMemory) throw new ConfigError("--in-memory keeps nothing: it cannot go with --store postgres://… (drop one of them)");
  return Object.freeze({ kind: "postgres", url: url.toString(), passwordFile, poolSize: poolSize ?? DEFAULT_STORE_POOL_SIZE });
}

/** A name as a browser puts it in Host (no port, no scheme), `*.suffix`, or `*`. */
const HOST_PATTERN = /^(?:\*|(?:\*\.)?[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*)$/;

function parseAllowedHosts(raw: string | undefined): readonly string[] {
  if (raw === undefined) return defaults.allowedHosts;
  const names = raw.split(",").map((name) => name.trim().toLowerCase().replace(/\.$/, "")).filter((name) => name !== "");
  for (const name of names) {
    if (!HOST_PATTERN.test(name)) {
      throw new ConfigError(`--allowed-hosts takes host names without scheme or port (a.example, *.example, or *), not '${name}'`);
    }
  }
  return Object.freeze(names);
}
