// Plain SDK v3 clients: endpoint, region and credentials all come from the environment global-setup.js set.
const { DecryptCommand, EncryptCommand, CreateKeyCommand, KMSClient } = require("@aws-sdk/client-kms");
const { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } = require("@aws-sdk/client-secrets-manager");

const secrets = new SecretsManagerClient({});
const kms = new KMSClient({});
afterAll(() => {
  secrets.destroy();
  kms.destroy();
});

// Tests in other files share the instance: start each test from nothing (or use unique names).
beforeEach(async () => {
  const response = await fetch(`${process.env.AWS_ENDPOINT_URL}/_secretslite/reset`, { method: "POST" });
  if (!response.ok) throw new Error(`reset failed: ${response.status}`);
});

test("a secret written is read back", async () => {
  await secrets.send(new CreateSecretCommand({ Name: "app/db", SecretString: '{"user":"admin"}' }));
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: "app/db" }));
  expect(JSON.parse(SecretString)).toEqual({ user: "admin" });
});

test("KMS seals and opens under a new key", async () => {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
  const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: KeyMetadata.KeyId, Plaintext: Buffer.from("hello") }));
  const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob }));
  expect(Buffer.from(Plaintext).toString()).toBe("hello");
});
