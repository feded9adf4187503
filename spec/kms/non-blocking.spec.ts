// Slow key work never holds up other requests: RSA-4096 generation runs in the token on its own session, ML-DSA
// signing in worker threads. Told by order of answers, not by timing: a request that arrives after the slow ones
// answers before them only if the event loop kept turning.
import { CreateKeyCommand, SignCommand, type KMSClient } from "@aws-sdk/client-kms";
import { CreateSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { startTestServer, type TestServer } from "../support/server";

let server: TestServer;
let kms: KMSClient;
let secrets: SecretsManagerClient;

beforeAll(async () => {
  server = await startTestServer();
  kms = server.kms();
  secrets = server.secretsManager();
});
afterAll(() => server.close());

/** Resolves to the order in which `promise` settled, taken from a shared counter. */
const settledAt = (promise: Promise<unknown>, counter: { next: number }): Promise<number> => promise.then(() => counter.next++);

it("answers GetSecretValue while an RSA-4096 CreateKey and ML-DSA-87 signing load are in flight", async () => {
  await secrets.send(new CreateSecretCommand({ Name: "non-blocking/secret", SecretString: "still answering" }));
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: "ML_DSA_87", KeyUsage: "SIGN_VERIFY" }));
  const mlDsaKey = KeyMetadata?.Arn ?? "";
  // Warm the path so the measured GetSecretValue is not the first of its kind.
  await secrets.send(new GetSecretValueCommand({ SecretId: "non-blocking/secret" }));

  const order = { next: 0 };
  const keyGeneration = settledAt(kms.send(new CreateKeyCommand({ KeySpec: "RSA_4096", KeyUsage: "SIGN_VERIFY" })), order);
  const signatures = Array.from({ length: 24 }, (_, i) =>
    settledAt(kms.send(new SignCommand({ KeyId: mlDsaKey, Message: Buffer.from(`message ${i}`), SigningAlgorithm: "ML_DSA_SHAKE_256" })), order),
  );
  // Sent after all the slow requests, so a server that did their work on the event loop would answer it last.
  const reads: number[] = [];
  for (let i = 0; i < 3; i++) {
    const value = await secrets.send(new GetSecretValueCommand({ SecretId: "non-blocking/secret" }));
    expect(value.SecretString).toBe("still answering");
    reads.push(order.next++);
  }
  const keyGenerated = await keyGeneration;
  const signed = await Promise.all(signatures);
  // Every read answered before the key generation finished and before the last signature.
  expect(Math.max(...reads)).toBeLessThan(keyGenerated);
  expect(Math.max(...reads)).toBeLessThan(Math.max(...signed));
}, 60_000);
