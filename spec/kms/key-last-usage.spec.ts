// GetKeyLastUsage, and the usage tracking behind it: in memory per request, flushed in batches and at close.
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GetKeyLastUsageCommand,
} from "@aws-sdk/client-kms";
import { CreateSecretCommand, GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { startTestServer, storeWrites } from "../support/server";

describe("behaviour", () => {
  it("reports no usage for a new key, then the last successful operation, across a restart", async () => {
    let server = await startTestServer();
    let kms = server.kms();
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;

    const fresh = await kms.send(new GetKeyLastUsageCommand({ KeyId: key.KeyId }));
    expect(fresh.KeyId).toBe(key.Arn);
    expect(fresh.KeyLastUsage).toBeUndefined();
    expect(fresh.KeyCreationDate).toEqual(key.CreationDate);
    expect(fresh.TrackingStartDate).toEqual(key.CreationDate);

    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("x") }));
    const afterEncrypt = await kms.send(new GetKeyLastUsageCommand({ KeyId: key.Arn }));
    expect(afterEncrypt.KeyLastUsage?.Operation).toBe("Encrypt");
    expect(afterEncrypt.KeyLastUsage?.Timestamp).toBeInstanceOf(Date);

    // A failed operation is not a use.
    await expect(kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { wrong: "context" } }))).rejects.toThrow();
    expect((await kms.send(new GetKeyLastUsageCommand({ KeyId: key.KeyId }))).KeyLastUsage?.Operation).toBe("Encrypt");

    const writesBefore = await storeWrites(server.dataDir);
    for (let i = 0; i < 5; i++) await kms.send(new DecryptCommand({ CiphertextBlob }));
    // Tracking usage wrote nothing per request.
    expect(await storeWrites(server.dataDir)).toBe(writesBefore);

    await server.stop();
    server = await startTestServer({ dataDir: server.dataDir });
    kms = server.kms();
    expect((await kms.send(new GetKeyLastUsageCommand({ KeyId: key.KeyId }))).KeyLastUsage?.Operation).toBe("Decrypt");
    await server.close();
  });

  it("counts Secrets Manager's use of its KMS key, which goes through the same KMS path", async () => {
    const server = await startTestServer();
    const sm = server.secretsManager();
    const kms = server.kms();
    await sm.send(new CreateSecretCommand({ Name: "usage/tracked", SecretString: "v" }));
    const managed = (await kms.send(new DescribeKeyCommand({ KeyId: "alias/aws/secretsmanager" }))).KeyMetadata!;
    expect((await kms.send(new GetKeyLastUsageCommand({ KeyId: managed.KeyId }))).KeyLastUsage?.Operation).toBe("GenerateDataKey");
    await sm.send(new GetSecretValueCommand({ SecretId: "usage/tracked" }));
    expect((await kms.send(new GetKeyLastUsageCommand({ KeyId: managed.KeyId }))).KeyLastUsage?.Operation).toBe("Decrypt");
    await server.close();
  });

  it("takes a key id or key ARN, not an alias", async () => {
    const server = await startTestServer();
    await expect(
      server.kms().send(new GetKeyLastUsageCommand({ KeyId: "alias/aws/secretsmanager" })),
    ).rejects.toMatchObject({ name: "InvalidArnException", message: "Key Aliases are not supported for this operation." });
    await server.close();
  });
});
