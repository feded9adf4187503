// secretslite in Docker for a test suite, with Testcontainers for Node (`npm install -D testcontainers`).
// Build the image once from a secretslite checkout: `docker build -t secretslite:local .`
import { GenericContainer, Wait, type StartedTestContainer } from "testcontainers";

const PORT = 4566;

export interface SecretsliteContainer {
  /** Give this to the SDK's `endpoint` option (or AWS_ENDPOINT_URL). */
  readonly endpoint: string;
  readonly container: StartedTestContainer;
  /** Wipes every account and region: cheaper between tests than a new container. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSecretsliteContainer(image = "secretslite:local"): Promise<SecretsliteContainer> {
  const container = await new GenericContainer(image)
    // Arguments after the image are CLI flags; a throwaway container needs nothing on disk.
    .withCommand(["--in-memory"])
    .withExposedPorts(PORT)
    // The listening port opens before the token does; health answers 200 only once both are ready.
    .withWaitStrategy(Wait.forHttp("/_secretslite/health", PORT).forStatusCode(200))
    .withStartupTimeout(60_000)
    .start();
  const endpoint = `http://${container.getHost()}:${container.getMappedPort(PORT)}`;
  return {
    endpoint,
    container,
    reset: async () => {
      const response = await fetch(`${endpoint}/_secretslite/reset`, { method: "POST" });
      if (response.status !== 200) throw new Error(`secretslite reset answered ${response.status}`);
    },
    stop: async () => {
      await container.stop();
    },
  };
}

// In a jest or vitest file:
//
//   let secretslite: SecretsliteContainer;
//   beforeAll(async () => { secretslite = await startSecretsliteContainer(); }, 120_000);
//   afterEach(() => secretslite.reset());
//   afterAll(() => secretslite.stop());
//
//   const client = () => new SecretsManagerClient({ endpoint: secretslite.endpoint, region: "us-east-1",
//     credentials: { accessKeyId: "test", secretAccessKey: "test" } });
