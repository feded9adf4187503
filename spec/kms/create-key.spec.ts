// KMS CreateKey: every request member, the KeyMetadata it answers with, and what it refuses (other key types: asymmetric-keys.spec.ts).
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  type KMSClient,
  ListKeysCommand,
  ListResourceTagsCommand,
} from "@aws-sdk/client-kms";
import type { Clock } from "../../src/services/clock";
import { ACCOUNT, rawRequest, REGION, startTestServer, type TestServer } from "../support/server";

let server: TestServer;
let kms: KMSClient;
const nowMs = Date.UTC(2026, 2, 1, 8, 30, 0, 250);
const clock: Clock = { now: () => new Date(nowMs) };

beforeAll(async () => {
  server = await startTestServer({ clock });
  kms = server.kms();
});
afterAll(() => server.close());

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const raw = async (body: unknown): Promise<{ status: number; type: unknown; message: unknown }> => {
  const response = await rawRequest(server, { target: "TrentService.CreateKey", body: JSON.stringify(body) });
  const parsed = JSON.parse(response.text) as Record<string, unknown>;
  return { status: response.status, type: parsed["__type"], message: parsed["message"] };
};

describe("serialization", () => {
  it("answers with KeyMetadata only, dates as epoch seconds", async () => {
    const response = await rawRequest(server, { target: "TrentService.CreateKey", body: "{}" });
    expect(response.status).toBe(200);
    const body = JSON.parse(response.text) as { KeyMetadata: Record<string, unknown> };
    expect(Object.keys(body)).toEqual(["KeyMetadata"]);
    expect(body.KeyMetadata["CreationDate"]).toBe(nowMs / 1000);
    // Members without a value are left out, not sent as null.
    expect(Object.values(body.KeyMetadata)).not.toContain(null);
    expect(body.KeyMetadata).not.toHaveProperty("DeletionDate");
    expect(body.KeyMetadata).not.toHaveProperty("MultiRegionConfiguration");
  });
});

describe("validation", () => {
  it("checks enums and lengths from the model", async () => {
    expect(await raw({ KeySpec: "AES_256" })).toEqual({
      status: 400,
      type: "ValidationException",
      message: expect.stringMatching(/^1 validation error detected: Value 'AES_256' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: \[/),
    });
    expect(await raw({ Origin: "SOMEWHERE" })).toMatchObject({ type: "ValidationException", message: expect.stringContaining("at 'origin'") });
    expect(await raw({ Description: "d".repeat(8193) })).toMatchObject({
      type: "ValidationException",
      message: expect.stringContaining("at 'description' failed to satisfy constraint: Member must have length less than or equal to 8192"),
    });
    expect(await raw({ XksKeyId: "bad id!" })).toMatchObject({ type: "ValidationException", message: expect.stringContaining("at 'xksKeyId'") });
  });

  it("refuses KeySpec and CustomerMasterKeySpec together", async () => {
    expect(await raw({ KeySpec: "SYMMETRIC_DEFAULT", CustomerMasterKeySpec: "SYMMETRIC_DEFAULT" })).toEqual({
      status: 400,
      type: "ValidationException",
      message: "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.",
    });
  });
});

describe("behaviour", () => {
  it("creates a symmetric key with every KeyMetadata member AWS shows for one", async () => {
    const key = (await kms.send(new CreateKeyCommand({ Description: "my key" }))).KeyMetadata!;
    expect(key.KeyId).toMatch(UUID);
    expect(key.CurrentKeyMaterialId).toMatch(/^[0-9a-f]{64}$/);
    expect(key).toEqual({
      AWSAccountId: ACCOUNT,
      KeyId: key.KeyId,
      Arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${key.KeyId}`,
      CreationDate: new Date(nowMs),
      Enabled: true,
      Description: "my key",
      KeyUsage: "ENCRYPT_DECRYPT",
      KeyState: "Enabled",
      Origin: "AWS_KMS",
      KeyManager: "CUSTOMER",
      CustomerMasterKeySpec: "SYMMETRIC_DEFAULT",
      KeySpec: "SYMMETRIC_DEFAULT",
      EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
      MultiRegion: false,
      CurrentKeyMaterialId: key.CurrentKeyMaterialId,
    });
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata).toEqual(key);
  });

  it("defaults Description to empty and takes the explicit symmetric spellings", async () => {
    for (const input of [{}, { KeySpec: "SYMMETRIC_DEFAULT" as const }, { CustomerMasterKeySpec: "SYMMETRIC_DEFAULT" as const }, { KeyUsage: "ENCRYPT_DECRYPT" as const }]) {
      const key = (await kms.send(new CreateKeyCommand(input))).KeyMetadata!;
      expect(key).toMatchObject({ Description: "", KeySpec: "SYMMETRIC_DEFAULT", KeyUsage: "ENCRYPT_DECRYPT", Origin: "AWS_KMS" });
    }
  });

  it("creates an EXTERNAL key PendingImport, disabled, with no key material", async () => {
    const key = (await kms.send(new CreateKeyCommand({ Origin: "EXTERNAL" }))).KeyMetadata!;
    expect(key).toMatchObject({ Origin: "EXTERNAL", KeyState: "PendingImport", Enabled: false, KeySpec: "SYMMETRIC_DEFAULT" });
    expect(key.CurrentKeyMaterialId).toBeUndefined();
    expect(key.ExpirationModel).toBeUndefined();
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata).toMatchObject({ KeyState: "PendingImport" });
  });

  it("creates a multi-Region primary key with an mrk- id and its MultiRegionConfiguration", async () => {
    const key = (await kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!;
    expect(key.KeyId).toMatch(/^mrk-[0-9a-f]{32}$/);
    expect(key.MultiRegion).toBe(true);
    expect(key.MultiRegionConfiguration).toEqual({
      MultiRegionKeyType: "PRIMARY",
      PrimaryKey: { Arn: key.Arn, Region: REGION },
      ReplicaKeys: [],
    });
    const external = (await kms.send(new CreateKeyCommand({ MultiRegion: true, Origin: "EXTERNAL" }))).KeyMetadata!;
    expect(external).toMatchObject({ MultiRegion: true, Origin: "EXTERNAL", KeyState: "PendingImport" });
    expect((await kms.send(new CreateKeyCommand({ MultiRegion: false }))).KeyMetadata!.KeyId).toMatch(UUID);
  });

  it("attaches the given policy and tags, and accepts BypassPolicyLockoutSafetyCheck", async () => {
    const policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: "*" }, Action: "kms:*", Resource: "*" }] });
    const key = (
      await kms.send(
        new CreateKeyCommand({
          Policy: policy,
          BypassPolicyLockoutSafetyCheck: true,
          Tags: [
            { TagKey: "team", TagValue: "core" },
            { TagKey: "empty", TagValue: "" },
          ],
        }),
      )
    ).KeyMetadata!;
    expect((await kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }))).Policy).toBe(policy);
    expect((await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId }))).Tags).toEqual([
      { TagKey: "team", TagValue: "core" },
      { TagKey: "empty", TagValue: "" },
    ]);
  });

  it("checks the policy and tags before creating anything", async () => {
    const fresh = server.kms({ region: "eu-south-1" });
    await expect(fresh.send(new CreateKeyCommand({ Policy: "{" }))).rejects.toMatchObject({ name: "MalformedPolicyDocumentException" });
    await expect(fresh.send(new CreateKeyCommand({ Tags: [{ TagKey: "aws:x", TagValue: "y" }] }))).rejects.toMatchObject({
      name: "TagException",
      message: "Tags beginning with aws: are reserved",
    });
    await expect(fresh.send(new CreateKeyCommand({ CustomKeyStoreId: "cks-1" }))).rejects.toMatchObject({
      name: "CustomKeyStoreNotFoundException",
    });
    expect((await fresh.send(new ListKeysCommand({}))).Keys).toEqual([]);
  });

  it("answers CustomKeyStoreNotFoundException for a custom key store that does not exist, whatever the origin", async () => {
    for (const input of [
      { CustomKeyStoreId: "cks-1234567890abcdef0" },
      { CustomKeyStoreId: "cks-1234567890abcdef0", Origin: "AWS_CLOUDHSM" as const },
      { CustomKeyStoreId: "cks-1234567890abcdef0", Origin: "EXTERNAL_KEY_STORE" as const, XksKeyId: "ext-key-1" },
    ]) {
      await expect(kms.send(new CreateKeyCommand(input))).rejects.toMatchObject({
        name: "CustomKeyStoreNotFoundException",
        message: expect.stringContaining("cks-1234567890abcdef0"),
        $metadata: { httpStatusCode: 400 },
      });
    }
  });

  it("refuses a custom key store origin or XksKeyId without a store, clearly", async () => {
    await expect(kms.send(new CreateKeyCommand({ Origin: "AWS_CLOUDHSM" }))).rejects.toMatchObject({
      name: "UnsupportedOperationException",
      message: "Origin AWS_CLOUDHSM needs a CustomKeyStoreId: the CloudHSM key store to create the key in.",
    });
    await expect(kms.send(new CreateKeyCommand({ Origin: "EXTERNAL_KEY_STORE" }))).rejects.toMatchObject({
      name: "UnsupportedOperationException",
      message: "Origin EXTERNAL_KEY_STORE needs a CustomKeyStoreId: the external key store to create the key in.",
    });
    await expect(kms.send(new CreateKeyCommand({ XksKeyId: "ext-key-1" }))).rejects.toMatchObject({
      name: "UnsupportedOperationException",
      message: "XksKeyId is valid only with Origin EXTERNAL_KEY_STORE, not AWS_KMS.",
    });
  });
});
