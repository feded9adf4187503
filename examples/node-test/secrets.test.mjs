// node:test (Node 20 and later, nothing to install but secretslite and the SDK): one in-process instance for this
// file, wiped before every test. Run with `node --test` from this directory.
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from "@aws-sdk/client-kms";
import { CreateSecretCommand, GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { start } from "secretslite";

let emulator;
let secrets;
let kms;

before(async () => {
  emulator = await start({ port: 0, inMemory: true, logLevel: "warn" });
  const { endpoint, region, credentials } = emulator;
  secrets = new SecretsManagerClient({ endpoint, region, credentials });
  kms = new KMSClient({ endpoint, region, credentials });
});

// Every test starts from nothing (and from the seed, when start() is given one).
beforeEach(() => emulator.reset());

after(async () => {
  secrets.destroy();
  kms.destroy();
  await emulator.stop();
});

test("a secret written is read back", async () => {
  await secrets.send(new CreateSecretCommand({ Name: "app/db", SecretString: '{"user":"admin"}' }));
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: "app/db" }));
  assert.deepEqual(JSON.parse(SecretString), { user: "admin" });
});

test("the reset before each test removed the last test's secret", async () => {
  const { SecretList } = await secrets.send(new ListSecretsCommand({}));
  assert.deepEqual(SecretList, []);
});

test("KMS seals and opens under a new key", async () => {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
  const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: KeyMetadata.KeyId, Plaintext: Buffer.from("hello") }));
  const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob }));
  assert.equal(Buffer.from(Plaintext).toString(), "hello");
});

test("a 12-digit access key is an account of its own: tests can share an instance without a reset", async () => {
  const account = new SecretsManagerClient({
    endpoint: emulator.endpoint,
    region: emulator.region,
    credentials: { accessKeyId: "111122223333", secretAccessKey: "test" },
  });
  try {
    const { ARN } = await account.send(new CreateSecretCommand({ Name: "app/db", SecretString: "theirs" }));
    assert.match(ARN, /^arn:aws:secretsmanager:us-east-1:111122223333:secret:app\/db-/);
    // The default account (access key `test`) sees none of it.
    const { SecretList } = await secrets.send(new ListSecretsCommand({}));
    assert.deepEqual(SecretList, []);
  } finally {
    account.destroy();
  }
});
