// GenerateDataKey, GenerateDataKeyWithoutPlaintext and GenerateRandom: sizes, members, errors and dry runs.
import {
  CreateKeyCommand,
  DecryptCommand,
  DisableKeyCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateRandomCommand,
  GetKeyLastUsageCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { grantToken } from "../support/kms";
import { rawRequest, startTestServer, type TestServer } from "../support/server";

let server: TestServer;
let kms: KMSClient;

beforeAll(async () => {
  server = await startTestServer();
  kms = server.kms();
});
afterAll(() => server.close());

const createKey = async () => (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;

const raw = async (operation: string, body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> => {
  const response = await rawRequest(server, { target: `TrentService.${operation}`, body: JSON.stringify(body) });
  return { status: response.status, body: JSON.parse(response.text) as Record<string, unknown> };
};

const DRY_RUN = { name: "DryRunOperationException", message: "The request would have succeeded, but the DryRun option is set." };
const EITHER = { __type: "ValidationException", message: "Please specify either number of bytes or key spec." };

describe("validation", () => {
  it.each(["GenerateDataKey", "GenerateDataKeyWithoutPlaintext"])("%s needs exactly one of KeySpec and NumberOfBytes, before the key is looked at", async (operation) => {
    const key = await createKey();
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    expect(await raw(operation, { KeyId: key.KeyId })).toEqual({ status: 400, body: EITHER });
    expect(await raw(operation, { KeyId: key.KeyId, KeySpec: "AES_256", NumberOfBytes: 32 })).toEqual({ status: 400, body: EITHER });
    expect(await raw(operation, { KeyId: "alias/none-such", NumberOfBytes: 16, KeySpec: "AES_128" })).toEqual({ status: 400, body: EITHER });
    // The key state comes after.
    expect((await raw(operation, { KeyId: key.KeyId, KeySpec: "AES_256" })).body.__type).toBe("DisabledException");
  });

  it.each(["GenerateDataKey", "GenerateDataKeyWithoutPlaintext"])("%s keeps NumberOfBytes within 1 to 1,024 and KeySpec to AES_128 or AES_256", async (operation) => {
    const key = await createKey();
    for (const NumberOfBytes of [0, 1025]) {
      const answer = await raw(operation, { KeyId: key.KeyId, NumberOfBytes });
      expect(answer.status).toBe(400);
      expect(answer.body.__type).toBe("ValidationException");
      expect(answer.body.message).toContain(`Value '${NumberOfBytes}' at 'numberOfBytes' failed to satisfy constraint`);
    }
    const spec = await raw(operation, { KeyId: key.KeyId, KeySpec: "AES_512" });
    expect(spec.body.message).toBe(
      "1 validation error detected: Value 'AES_512' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]",
    );
  });

  it("GenerateRandom needs NumberOfBytes, 1 to 1,024", async () => {
    expect(await raw("GenerateRandom", {})).toEqual({ status: 400, body: { __type: "ValidationException", message: "NumberOfBytes is required." } });
    for (const NumberOfBytes of [0, 1025]) {
      const answer = await raw("GenerateRandom", { NumberOfBytes });
      expect(answer.body.__type).toBe("ValidationException");
      expect(answer.body.message).toContain("at 'numberOfBytes'");
    }
  });
});

describe("behaviour", () => {
  it("GenerateDataKey returns a plaintext data key of the asked size and a ciphertext that decrypts to it", async () => {
    const key = await createKey();
    const token = await grantToken(kms, key.KeyId!);
    for (const [request, length] of [
      [{ KeySpec: "AES_256" as const }, 32],
      [{ KeySpec: "AES_128" as const }, 16],
      [{ NumberOfBytes: 1 }, 1],
      [{ NumberOfBytes: 1024 }, 1024],
    ] as const) {
      const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, EncryptionContext: { use: "gdk" }, GrantTokens: [token], ...request }));
      expect(dataKey.Plaintext).toHaveLength(length);
      expect(dataKey).toMatchObject({ KeyId: key.Arn, KeyMaterialId: key.CurrentKeyMaterialId });
      expect(dataKey.CiphertextBlob!.length).toBeLessThanOrEqual(6144);
      expect(dataKey.CiphertextForRecipient).toBeUndefined();
      const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: { use: "gdk" } }));
      expect(Buffer.from(decrypted.Plaintext!).equals(Buffer.from(dataKey.Plaintext!))).toBe(true);
    }
  });

  it("GenerateDataKeyWithoutPlaintext returns only the sealed data key, which Decrypt opens", async () => {
    const key = await createKey();
    const token = await grantToken(kms, key.KeyId!);
    const answer = await raw("GenerateDataKeyWithoutPlaintext", { KeyId: key.Arn, KeySpec: "AES_256", EncryptionContext: { a: "b" }, GrantTokens: [token] });
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body).sort()).toEqual(["CiphertextBlob", "KeyId", "KeyMaterialId"]);
    expect(answer.body).toMatchObject({ KeyId: key.Arn, KeyMaterialId: key.CurrentKeyMaterialId });
    const sealed = Buffer.from(answer.body.CiphertextBlob as string, "base64");
    await expect(kms.send(new DecryptCommand({ CiphertextBlob: sealed }))).rejects.toMatchObject({ name: "InvalidCiphertextException" });
    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: sealed, EncryptionContext: { a: "b" } }));
    expect(decrypted.Plaintext).toHaveLength(32);
    const sixteen = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: key.KeyId, NumberOfBytes: 16 }));
    expect((await kms.send(new DecryptCommand({ CiphertextBlob: sixteen.CiphertextBlob }))).Plaintext).toHaveLength(16);
  });

  it("makes a different data key every time", async () => {
    const key = await createKey();
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: "AES_256" }));
      seen.add(Buffer.from(dataKey.Plaintext!).toString("hex"));
    }
    expect(seen.size).toBe(20);
  });

  it.each(["GenerateDataKey", "GenerateDataKeyWithoutPlaintext"])("%s answers DryRun without generating or recording anything", async (operation) => {
    const key = await createKey();
    const send = (keyId: string) =>
      operation === "GenerateDataKey"
        ? kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: "AES_256", DryRun: true }))
        : kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, KeySpec: "AES_256", DryRun: true }));
    await expect(send(key.KeyId!)).rejects.toMatchObject(DRY_RUN);
    expect((await kms.send(new GetKeyLastUsageCommand({ KeyId: key.KeyId }))).KeyLastUsage).toBeUndefined();
    await expect(send("alias/not-a-key")).rejects.toMatchObject({ name: "NotFoundException" });
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await expect(send(key.KeyId!)).rejects.toMatchObject({ name: "DisabledException", message: `${key.Arn} is disabled.` });
  });

  it("GenerateRandom returns as many fresh random bytes as asked", async () => {
    for (const NumberOfBytes of [1, 32, 1024]) {
      const random = await kms.send(new GenerateRandomCommand({ NumberOfBytes }));
      expect(random.Plaintext).toHaveLength(NumberOfBytes);
      expect(random.CiphertextForRecipient).toBeUndefined();
    }
    const a = Buffer.from((await kms.send(new GenerateRandomCommand({ NumberOfBytes: 32 }))).Plaintext!);
    const b = Buffer.from((await kms.send(new GenerateRandomCommand({ NumberOfBytes: 32 }))).Plaintext!);
    expect(a.equals(b)).toBe(false);
    expect(a.equals(Buffer.alloc(32))).toBe(false);
  });

  it("GenerateRandom refuses a custom key store (secretslite has none) and a Recipient", async () => {
    await expect(kms.send(new GenerateRandomCommand({ NumberOfBytes: 8, CustomKeyStoreId: "cks-1234567890abcdef0" }))).rejects.toMatchObject({
      name: "CustomKeyStoreNotFoundException",
      message: "Custom key store 'cks-1234567890abcdef0' does not exist.",
      $metadata: { httpStatusCode: 400 },
    });
    await expect(
      kms.send(new GenerateRandomCommand({ NumberOfBytes: 8, Recipient: { KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256", AttestationDocument: Buffer.alloc(8) } })),
    ).rejects.toMatchObject({ name: "ValidationException", message: expect.stringContaining("attestation document") });
  });
});
