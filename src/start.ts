// start(): secretslite in-process for test suites and dev stacks, returning what an SDK client needs to reach it.
import { parseConfig, type LogLevel } from "./config";
import { startSecretslite } from "./main";
import type { PartitionSelector } from "./seed";

export interface EmulatorCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface EmulatorOptions {
  /** 0 picks a free port; the CLI's default (4566) otherwise. */
  readonly port?: number;
  readonly host?: string;
  /** No state on disk: memory storage and a temporary token shared by this process's in-memory instances. */
  readonly inMemory?: boolean;
  /** LevelDB and the SoftHSM2 token, when not inMemory (relative to the working directory). */
  readonly dataDir?: string;
  /** The region `region` reports; each call acts in the region its signature names, as on AWS. Default us-east-1. */
  readonly region?: string;
  readonly logLevel?: LogLevel;
  /** Applied at start and on every reset: a YAML or JSON seed file, or a seed document already parsed. */
  readonly seed?: string | object;
  /** Returned as `credentials`; give them when `flags` turn on --verify-signatures. Default test/test. */
  readonly credentials?: EmulatorCredentials;
  /**
   * --strict-hsm: CreateKey and seeding refuse key specs whose private keys would be used outside the token
   * (Ed25519 and ML-DSA on SoftHSM2) with UnsupportedOperationException.
   */
  readonly strictHsm?: boolean;
  /** Any other command-line option, exactly as the CLI takes it: ["--audit-log", "audit.jsonl"]. */
  readonly flags?: readonly string[];
}

export interface Emulator {
  /** `http://HOST:PORT` (`https://` with TLS): the SDK's `endpoint`, the CLI's `--endpoint-url`, `AWS_ENDPOINT_URL`. */
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: EmulatorCredentials;
  /** The certificate file `flags: ["--tls"]` made: give it to clients as their CA bundle. */
  readonly tlsCertificate: string | undefined;
  /** For the admin routes (header `x-secretslite-admin-token`), which need it when `flags` turn on --verify-signatures. */
  readonly adminToken: string;
  /** Wipes every account and region (or only the partition given), backing keys included, and re-applies the seed. */
  reset(partition?: PartitionSelector): Promise<void>;
  /** Stops listening and releases storage and token; safe to call twice. */
  stop(): Promise<void>;
}

export const DEFAULT_REGION = "us-east-1";
// Any non-empty pair passes SigV4 parsing; an access key that is not 12 digits acts in the default account.
const DEFAULT_CREDENTIALS: EmulatorCredentials = { accessKeyId: "test", secretAccessKey: "test" };

export async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  // Options become CLI flags so that defaults, validation and path resolution are the CLI's own. The
  // environment is left out on purpose: a test suite's start() should not change with a developer's shell.
  const argv: string[] = [];
  if (options.port !== undefined) argv.push("--port", String(options.port));
  if (options.host !== undefined) argv.push("--host", options.host);
  if (options.inMemory === true) argv.push("--in-memory");
  if (options.strictHsm === true) argv.push("--strict-hsm");
  if (options.dataDir !== undefined) argv.push("--data-dir", options.dataDir);
  if (options.logLevel !== undefined) argv.push("--log-level", options.logLevel);
  if (typeof options.seed === "string") argv.push("--seed", options.seed);
  argv.push(...(options.flags ?? []));
  const config = parseConfig(argv, {});
  if (config === undefined) throw new Error("start() cannot take --help");

  const running = await startSecretslite(config, typeof options.seed === "object" ? { seed: options.seed } : {});
  return {
    endpoint: running.url,
    region: options.region ?? DEFAULT_REGION,
    // A copy, and not frozen: SDK v3 clients record where credentials came from on the object they are given.
    credentials: { ...(options.credentials ?? DEFAULT_CREDENTIALS) },
    tlsCertificate: running.tlsCertificate,
    adminToken: running.adminToken,
    reset: (partition) => running.reset(partition),
    stop: () => running.close(),
  };
}
