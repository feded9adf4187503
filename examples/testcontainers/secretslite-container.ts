// secretslite in Docker for a TypeScript test suite, with Testcontainers for Node (`npm install -D testcontainers`:
// version 10 or later; 11 on Node 20, as 12 needs Node 22.22). Build the image once from a secretslite checkout:
// `docker build -t secretslite:local .`
import { randomInt } from "node:crypto";
import { GenericContainer, Wait, type StartedTestContainer } from "testcontainers";

const PORT = 4566;
const REGION = "us-east-1";

/** What an SDK v3 client needs: `new SecretsManagerClient(secretslite.clientConfig())`. */
export interface ClientConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface SecretsliteContainer {
  readonly endpoint: string;
  readonly container: StartedTestContainer;
  /**
   * Client settings acting in `account`: secretslite takes a 12-digit access key id as the account id (any other
   * access key acts in 000000000000), and keeps every account's keys and secrets apart, as AWS does.
   */
  clientConfig(account?: string): ClientConfig;
  /** Wipes every account and region, or only `account`, and applies the seed again. */
  reset(account?: string): Promise<void>;
  stop(): Promise<void>;
}

/** A random 12-digit account id: a test that takes its own needs no reset, and cannot see another test's state. */
export function freshAccount(): string {
  return String(randomInt(100_000_000_000, 1_000_000_000_000));
}

export async function startSecretsliteContainer(image = "secretslite:local"): Promise<SecretsliteContainer> {
  const container = await new GenericContainer(image)
    // Arguments after the image are CLI flags; a throwaway container needs nothing on disk.
    .withCommand(["--in-memory"])
    // In GitLab's Docker-in-Docker the host is `docker`: names other than localhost and IP addresses must be listed.
    .withEnvironment({ SECRETSLITE_ALLOWED_HOSTS: "docker" })
    .withExposedPorts(PORT)
    // The port opens before the token does; health answers 200 only once storage and token are ready.
    .withWaitStrategy(Wait.forHttp("/_secretslite/health", PORT).forStatusCode(200))
    .withStartupTimeout(60_000)
    .start();
  const endpoint = `http://${container.getHost()}:${container.getMappedPort(PORT)}`;
  return {
    endpoint,
    container,
    clientConfig: (account = "000000000000") => ({
      endpoint,
      region: REGION,
      credentials: { accessKeyId: account, secretAccessKey: "test" },
    }),
    reset: async (account) => {
      const query = account === undefined ? "" : `?account=${account}`;
      const response = await fetch(`${endpoint}/_secretslite/reset${query}`, { method: "POST" });
      if (response.status !== 200) throw new Error(`secretslite reset answered ${response.status}: ${await response.text()}`);
    },
    stop: async () => {
      await container.stop();
    },
  };
}
