// start(): its options, what it returns, and reset(), through SDK v3 clients built from what it returns.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CreateKeyCommand, DescribeKeyCommand, ListKeysCommand } from "@aws-sdk/client-kms";
import { CreateSecretCommand, GetSecretValueCommand, ListSecretsCommand } from "@aws-sdk/client-secrets-manager";
import { ConfigError } from "../../src/config";
import { start, type Emulator } from "../../src";
import { clientsFor, type EmulatorClients } from "./clients";

const running: Emulator[] = [];
const clients: EmulatorClients[] = [];
const startTracked = async (options: Parameters<typeof start>[0]): Promise<{ emulator: Emulator; sdk: EmulatorClients }> => {
  const emulator = await start(options);
  running.push(emulator);
  const sdk = clientsFor(emulator);
  clients.push(sdk);
  return { emulator, sdk };
};
afterEach(async () => {
  for (const sdk of clients.splice(0)) sdk.destroy();
  await Promise.all(running.splice(0).map((emulator) => emulator.stop()));
});

describe("behaviour", () => {
  it("returns an endpoint, us-east-1 and credentials that SDK v3 clients take as they are", async () => {
    const { emulator, sdk } = await startTracked({ port: 0, inMemory: true, logLevel: "warn" });
    expect(emulator.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emulator.region).toBe("us-east-1");
    expect(emulator.credentials).toEqual({ accessKeyId: expect.any(String), secretAccessKey: expect.any(String) });

    const created = await sdk.secretsManager.send(new CreateSecretCommand({ Name: "app/db", SecretString: "hunter2" }));
    expect(created.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:app\/db-/);
    expect((await sdk.secretsManager.send(new GetSecretValueCommand({ SecretId: "app/db" }))).SecretString).toBe("hunter2");
  });

  it("takes host, region, credentials and any other CLI flag", async () => {
    const { emulator, sdk } = await startTracked({
      port: 0,
      host: "127.0.0.1",
      inMemory: true,
      region: "eu-west-1",
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "example" },
      flags: ["--default-account", "123456789012"],
    });
    expect(emulator.region).toBe("eu-west-1");
    expect(emulator.credentials).toEqual({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "example" });
    const key = await sdk.kms.send(new CreateKeyCommand({}));
    expect(key.KeyMetadata!.Arn).toMatch(/^arn:aws:kms:eu-west-1:123456789012:key\//);
  });

  it("strictHsm: true is --strict-hsm: CreateKey refuses specs used outside the token, makes the others", async () => {
    const { sdk } = await startTracked({ port: 0, inMemory: true, logLevel: "warn", strictHsm: true });
    await expect(sdk.kms.send(new CreateKeyCommand({ KeySpec: "ML_DSA_65", KeyUsage: "SIGN_VERIFY" }))).rejects.toMatchObject({
      name: "UnsupportedOperationException",
      message: "KeySpec ML_DSA_65 is not supported by this key store with --strict-hsm: its private key would be used outside the token.",
    });
    expect((await sdk.kms.send(new CreateKeyCommand({ KeySpec: "ECC_NIST_P384", KeyUsage: "SIGN_VERIFY" }))).KeyMetadata?.KeySpec).toBe("ECC_NIST_P384");
  });

  it("refuses options the CLI refuses, with the CLI's message", async () => {
    await expect(start({ port: 70000 })).rejects.toThrow(ConfigError);
    await expect(start({ inMemory: true, flags: ["--no-such-flag"] })).rejects.toThrow(/no-such-flag/);
  });

  it("reset() wipes this instance's secrets and keys and leaves it serving; another instance keeps its own", async () => {
    const { emulator, sdk } = await startTracked({ port: 0, inMemory: true });
    const { sdk: bystander } = await startTracked({ port: 0, inMemory: true });
    await sdk.secretsManager.send(new CreateSecretCommand({ Name: "before/reset", SecretString: "gone soon" }));
    const key = await sdk.kms.send(new CreateKeyCommand({}));
    await bystander.secretsManager.send(new CreateSecretCommand({ Name: "bystander", SecretString: "stays" }));

    await emulator.reset();

    expect((await sdk.secretsManager.send(new ListSecretsCommand({}))).SecretList).toEqual([]);
    expect((await sdk.kms.send(new ListKeysCommand({}))).Keys).toEqual([]);
    await expect(sdk.kms.send(new DescribeKeyCommand({ KeyId: key.KeyMetadata!.KeyId }))).rejects.toMatchObject({ name: "NotFoundException" });
    await sdk.secretsManager.send(new CreateSecretCommand({ Name: "before/reset", SecretString: "made again" }));
    expect((await sdk.secretsManager.send(new GetSecretValueCommand({ SecretId: "before/reset" }))).SecretString).toBe("made again");
    expect((await bystander.secretsManager.send(new GetSecretValueCommand({ SecretId: "bystander" }))).SecretString).toBe("stays");
  });

  it("applies a seed given as a parsed document or as a file, at start and again on reset()", async () => {
    const keyId = "1234abcd-12ab-34cd-56ef-1234567890ab";
    const document = {
      kms: { keys: [{ keyId, description: "seeded" }] },
      secretsmanager: { secrets: [{ name: "seeded/db", secretString: "from the seed" }] },
    };
    const dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-api-seed-"));
    try {
      const seedFile = path.join(dir, "seed.json");
      writeFileSync(seedFile, JSON.stringify(document));
      for (const seed of [document, seedFile]) {
        const { emulator, sdk } = await startTracked({ port: 0, inMemory: true, seed });
        expect((await sdk.kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.Description).toBe("seeded");
        await sdk.secretsManager.send(new CreateSecretCommand({ Name: "not/seeded", SecretString: "goes on reset" }));
        await emulator.reset();
        expect((await sdk.secretsManager.send(new GetSecretValueCommand({ SecretId: "seeded/db" }))).SecretString).toBe("from the seed");
        await expect(sdk.secretsManager.send(new GetSecretValueCommand({ SecretId: "not/seeded" }))).rejects.toMatchObject({
          name: "ResourceNotFoundException",
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps state in dataDir across a stop and a new start when not in memory", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "secretslite-api-data-"));
    try {
      const first = await startTracked({ port: 0, dataDir, logLevel: "warn" });
      await first.sdk.secretsManager.send(new CreateSecretCommand({ Name: "durable", SecretString: "on disk, sealed" }));
      first.sdk.destroy();
      await first.emulator.stop();

      const second = await startTracked({ port: 0, dataDir, logLevel: "warn" });
      expect((await second.sdk.secretsManager.send(new GetSecretValueCommand({ SecretId: "durable" }))).SecretString).toBe("on disk, sealed");
    } finally {
      for (const sdk of clients.splice(0)) sdk.destroy();
      await Promise.all(running.splice(0).map((emulator) => emulator.stop()));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
