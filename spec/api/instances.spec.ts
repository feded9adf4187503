// Several in-memory instances in one process: one PKCS#11 initialisation shared, each instance's data its own.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from "@aws-sdk/client-kms";
import { CreateSecretCommand, GetSecretValueCommand, ListSecretsCommand } from "@aws-sdk/client-secrets-manager";
import request from "supertest";
import { start, type Emulator } from "../../src";
import { softHsmConfigEnvironment } from "../../src/crypto/softhsm-bootstrap";
import { clientsFor } from "./clients";

const running: Emulator[] = [];
const startInMemory = async (): Promise<Emulator> => {
  const emulator = await start({ port: 0, inMemory: true, logLevel: "warn" });
  running.push(emulator);
  return emulator;
};
afterEach(async () => {
  await Promise.all(running.splice(0).map((emulator) => emulator.stop()));
});

const keyStoreHealth = async (emulator: Emulator) => (await request(emulator.endpoint).get("/_secretslite/health")).body.keyStore;

describe("behaviour", () => {
  it("keeps each instance's secrets and keys to itself, and the other keeps working when one stops", async () => {
    const [first, second] = await Promise.all([startInMemory(), startInMemory()]);
    expect(first.endpoint).not.toBe(second.endpoint);
    const one = clientsFor(first);
    const two = clientsFor(second);

    await one.secretsManager.send(new CreateSecretCommand({ Name: "only/in-first", SecretString: "first's value" }));
    await expect(two.secretsManager.send(new GetSecretValueCommand({ SecretId: "only/in-first" }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
    expect((await two.secretsManager.send(new ListSecretsCommand({}))).SecretList).toEqual([]);

    const key = await one.kms.send(new CreateKeyCommand({}));
    const sealed = await one.kms.send(new EncryptCommand({ KeyId: key.KeyMetadata!.KeyId, Plaintext: Buffer.from("for first only") }));
    // AWS's answer for a ciphertext whose key is not in this account and region.
    await expect(two.kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }))).rejects.toMatchObject({
      name: "AccessDeniedException",
    });

    await first.stop();
    one.destroy();
    // The token and the login outlive the first instance's sessions: the second still seals and opens.
    expect(await keyStoreHealth(second)).toMatchObject({ ok: true });
    const secondKey = await two.kms.send(new CreateKeyCommand({}));
    const secondSealed = await two.kms.send(new EncryptCommand({ KeyId: secondKey.KeyMetadata!.KeyId, Plaintext: Buffer.from("still here") }));
    const opened = await two.kms.send(new DecryptCommand({ CiphertextBlob: secondSealed.CiphertextBlob }));
    expect(Buffer.from(opened.Plaintext!).toString()).toBe("still here");
    await two.secretsManager.send(new CreateSecretCommand({ Name: "in/second", SecretString: "second's value" }));
    expect((await two.secretsManager.send(new GetSecretValueCommand({ SecretId: "in/second" }))).SecretString).toBe("second's value");

    await second.stop();
    two.destroy();
    await expect(request(second.endpoint).get("/_secretslite/health")).rejects.toThrow();
  });

  it("starts several instances at once, and again after the last one stopped", async () => {
    const trio = await Promise.all([startInMemory(), startInMemory(), startInMemory()]);
    for (const [index, emulator] of trio.entries()) {
      const clients = clientsFor(emulator);
      await clients.secretsManager.send(new CreateSecretCommand({ Name: "same/name", SecretString: `value ${index}` }));
      expect((await clients.secretsManager.send(new GetSecretValueCommand({ SecretId: "same/name" }))).SecretString).toBe(`value ${index}`);
      clients.destroy();
    }
    await Promise.all(running.splice(0).map((emulator) => emulator.stop()));

    // The last stop finalised the module and removed the token; a new start provisions both afresh.
    const again = await startInMemory();
    expect(await keyStoreHealth(again)).toMatchObject({ ok: true });
    const clients = clientsFor(again);
    await expect(clients.secretsManager.send(new GetSecretValueCommand({ SecretId: "same/name" }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
    clients.destroy();
  });

  it("refuses a data-dir instance while in-memory ones live (one SoftHSM configuration per process), and leaves them serving", async () => {
    const inMemory = await startInMemory();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "secretslite-api-data-"));
    try {
      await expect(start({ port: 0, dataDir, logLevel: "error" })).rejects.toThrow(/already initialised in this process with SoftHSM config/);
      expect(await keyStoreHealth(inMemory)).toMatchObject({ ok: true });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("puts SOFTHSM2_CONF back as it was once the last in-memory instance stops", async () => {
    const before = softHsmConfigEnvironment();
    await startInMemory();
    expect(softHsmConfigEnvironment()).not.toBe(before);
    await Promise.all(running.splice(0).map((emulator) => emulator.stop()));
    expect(softHsmConfigEnvironment()).toBe(before);
  });

  it("lets stop() be called twice", async () => {
    const emulator = await startInMemory();
    await emulator.stop();
    await expect(emulator.stop()).resolves.toBeUndefined();
  });
});
