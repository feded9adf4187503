// A jest (or vitest, with its imports) test file against secretslite in a container. Tests run in parallel in
// their own accounts instead of resetting one shared state: nothing one test does is visible to another.
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from "@aws-sdk/client-kms";
import { CreateSecretCommand, GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { freshAccount, startSecretsliteContainer, type SecretsliteContainer } from "./secretslite-container";

let secretslite: SecretsliteContainer;
beforeAll(async () => {
  secretslite = await startSecretsliteContainer();
}, 120_000);
afterAll(() => secretslite.stop());

test.concurrent("a secret written is read back, in an account of its own", async () => {
  const secrets = new SecretsManagerClient(secretslite.clientConfig(freshAccount()));
  await secrets.send(new CreateSecretCommand({ Name: "app/db", SecretString: '{"user":"admin"}' }));
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: "app/db" }));
  expect(JSON.parse(SecretString ?? "")).toEqual({ user: "admin" });
  secrets.destroy();
});

test.concurrent("another account sees none of it, without any reset", async () => {
  const secrets = new SecretsManagerClient(secretslite.clientConfig(freshAccount()));
  const { SecretList } = await secrets.send(new ListSecretsCommand({}));
  expect(SecretList).toEqual([]);
  secrets.destroy();
});

test.concurrent("KMS seals and opens under a new key", async () => {
  const kms = new KMSClient(secretslite.clientConfig(freshAccount()));
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
  const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: KeyMetadata?.KeyId, Plaintext: Buffer.from("hello") }));
  const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob }));
  expect(Buffer.from(Plaintext ?? new Uint8Array()).toString()).toBe("hello");
  kms.destroy();
});

test("a reset of one account leaves the others", async () => {
  const [mine, theirs] = [freshAccount(), freshAccount()];
  const mySecrets = new SecretsManagerClient(secretslite.clientConfig(mine));
  const theirSecrets = new SecretsManagerClient(secretslite.clientConfig(theirs));
  await mySecrets.send(new CreateSecretCommand({ Name: "app/db", SecretString: "mine" }));
  await theirSecrets.send(new CreateSecretCommand({ Name: "app/db", SecretString: "theirs" }));
  await secretslite.reset(mine);
  expect((await mySecrets.send(new ListSecretsCommand({}))).SecretList).toEqual([]);
  expect((await theirSecrets.send(new GetSecretValueCommand({ SecretId: "app/db" }))).SecretString).toBe("theirs");
  mySecrets.destroy();
  theirSecrets.destroy();
});
