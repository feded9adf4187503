// KMS CreateKey, DescribeKey, Encrypt, Decrypt, ReEncrypt end to end: the wire, the SDK v3 client, and the ciphertext format.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyLastUsageCommand,
  ReEncryptCommand,
  RotateKeyOnDemandCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { KeyStoreIntegrityError, KeyStoreUsageError, type KeyStore, type NewBackingKey, type BackingKeyRef } from "../../src/crypto/key-store";
import { additionalData, Ciphertexts, parseCiphertext } from "../../src/services/kms/ciphertext";
import type { KmsKeyRecord } from "../../src/services/kms/key-record";
import { grantToken } from "../support/kms";
import { ACCOUNT, rawRequest, REGION, startTestServer, type TestServer } from "../support/server";

let server: TestServer;
let kms: KMSClient;

beforeAll(async () => {
  server = await startTestServer();
  kms = server.kms();
});
afterAll(() => server.close());

const createKey = async (description = "test key") =>
  (await kms.send(new CreateKeyCommand({ Description: description }))).KeyMetadata!;

describe("behaviour", () => {
  it("creates a symmetric key with AWS's metadata", async () => {
    const before = Date.now();
    const key = await createKey("my key");
    expect(key.KeyId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(key.Arn).toBe(`arn:aws:kms:${REGION}:${ACCOUNT}:key/${key.KeyId}`);
    expect(key).toMatchObject({
      AWSAccountId: ACCOUNT,
      Description: "my key",
      Enabled: true,
      KeyState: "Enabled",
      KeyUsage: "ENCRYPT_DECRYPT",
      KeySpec: "SYMMETRIC_DEFAULT",
      CustomerMasterKeySpec: "SYMMETRIC_DEFAULT",
      Origin: "AWS_KMS",
      KeyManager: "CUSTOMER",
      EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
      MultiRegion: false,
    });
    expect(key.CreationDate).toBeInstanceOf(Date);
    expect(key.CreationDate!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(key.CurrentKeyMaterialId).toMatch(/^[0-9a-f]{64}$/);
  });

  it("gives multi-Region keys mrk- ids", async () => {
    const key = (await kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!;
    expect(key.KeyId).toMatch(/^mrk-[0-9a-f]{32}$/);
    expect(key.MultiRegion).toBe(true);
  });

  it("describes a key by id and by ARN, naming it by ARN", async () => {
    const key = await createKey();
    for (const id of [key.KeyId!, key.Arn!]) {
      const described = (await kms.send(new DescribeKeyCommand({ KeyId: id }))).KeyMetadata!;
      expect(described.Arn).toBe(key.Arn);
      expect(described.CreationDate).toEqual(key.CreationDate);
    }
  });

  it("round-trips Encrypt and Decrypt with an encryption context, without a KeyId on Decrypt", async () => {
    const key = await createKey();
    const plaintext = Buffer.from("attack at dawn");
    const context = { purpose: "test", tenant: "a" };
    const encrypted = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext, EncryptionContext: context }));
    expect(encrypted.KeyId).toBe(key.Arn);
    expect(encrypted.EncryptionAlgorithm).toBe("SYMMETRIC_DEFAULT");
    expect(Buffer.from(encrypted.CiphertextBlob!).includes(plaintext)).toBe(false);
    // Context order does not matter, as in AWS.
    const decrypted = await kms.send(
      new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: { tenant: "a", purpose: "test" } }),
    );
    expect(Buffer.from(decrypted.Plaintext!).toString()).toBe("attack at dawn");
    expect(decrypted.KeyId).toBe(key.Arn);
    expect(decrypted.KeyMaterialId).toBe(key.CurrentKeyMaterialId);
  });

  it("refuses a wrong or missing encryption context and a tampered blob with InvalidCiphertextException", async () => {
    const key = await createKey();
    const { CiphertextBlob } = await kms.send(
      new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("x"), EncryptionContext: { a: "b" } }),
    );
    const blob = Buffer.from(CiphertextBlob!);
    await expect(kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { a: "c" } }))).rejects.toMatchObject({
      name: "InvalidCiphertextException",
    });
    await expect(kms.send(new DecryptCommand({ CiphertextBlob: blob }))).rejects.toMatchObject({ name: "InvalidCiphertextException" });
    const tampered = Buffer.from(blob);
    tampered[tampered.length - 1]! ^= 1;
    await expect(
      kms.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: { a: "b" } })),
    ).rejects.toMatchObject({ name: "InvalidCiphertextException", $metadata: { httpStatusCode: 400 } });
    await expect(
      kms.send(new DecryptCommand({ CiphertextBlob: blob.subarray(0, 20), EncryptionContext: { a: "b" } })),
    ).rejects.toMatchObject({ name: "InvalidCiphertextException" });
  });

  it("answers IncorrectKeyException when Decrypt names another key", async () => {
    const [a, b] = [await createKey(), await createKey()];
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: a.KeyId, Plaintext: Buffer.from("x") }));
    await expect(kms.send(new DecryptCommand({ CiphertextBlob, KeyId: b.KeyId }))).rejects.toMatchObject({
      name: "IncorrectKeyException",
    });
    const ok = await kms.send(new DecryptCommand({ CiphertextBlob, KeyId: a.Arn }));
    expect(Buffer.from(ok.Plaintext!).toString()).toBe("x");
  });

  it("generates data keys whose ciphertext decrypts to the plaintext it returned", async () => {
    const key = await createKey();
    for (const [spec, length] of [
      [{ KeySpec: "AES_256" as const }, 32],
      [{ KeySpec: "AES_128" as const }, 16],
      [{ NumberOfBytes: 64 }, 64],
    ] as const) {
      const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: key.Arn, EncryptionContext: { k: "v" }, ...spec }));
      expect(dataKey.Plaintext).toHaveLength(length);
      expect(dataKey.KeyId).toBe(key.Arn);
      expect(dataKey.KeyMaterialId).toBe(key.CurrentKeyMaterialId);
      const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: { k: "v" } }));
      expect(Buffer.from(decrypted.Plaintext!)).toEqual(Buffer.from(dataKey.Plaintext!));
    }
  });

  it("refuses a disabled key with DisabledException until it is enabled again", async () => {
    const key = await createKey();
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("x") }));
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata).toMatchObject({
      Enabled: false,
      KeyState: "Disabled",
    });
    await expect(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("x") }))).rejects.toMatchObject({
      name: "DisabledException",
      message: `${key.Arn} is disabled.`,
    });
    await expect(kms.send(new DecryptCommand({ CiphertextBlob }))).rejects.toMatchObject({ name: "DisabledException" });
    await expect(kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: "AES_256" }))).rejects.toMatchObject({
      name: "DisabledException",
    });
    await kms.send(new EnableKeyCommand({ KeyId: key.Arn }));
    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob }));
    expect(Buffer.from(decrypted.Plaintext!).toString()).toBe("x");
  });

  it("does not let anyone disable an AWS managed key", async () => {
    const managed = (await kms.send(new DescribeKeyCommand({ KeyId: "alias/aws/secretsmanager" }))).KeyMetadata!;
    await expect(kms.send(new DisableKeyCommand({ KeyId: managed.KeyId }))).rejects.toMatchObject({
      name: "AccessDeniedException",
    });
    expect((await kms.send(new DescribeKeyCommand({ KeyId: managed.KeyId }))).KeyMetadata!.KeyState).toBe("Enabled");
  });

  it("says which key does not exist, by ARN", async () => {
    const missing = "11111111-2222-3333-4444-555555555555";
    await expect(kms.send(new DescribeKeyCommand({ KeyId: missing }))).rejects.toMatchObject({
      name: "NotFoundException",
      message: `Key 'arn:aws:kms:${REGION}:${ACCOUNT}:key/${missing}' does not exist`,
    });
    await expect(kms.send(new DescribeKeyCommand({ KeyId: "not-a-key" }))).rejects.toMatchObject({
      name: "NotFoundException",
      message: "Invalid keyId 'not-a-key'",
    });
    await expect(kms.send(new DescribeKeyCommand({ KeyId: "alias/nothing-here" }))).rejects.toMatchObject({
      name: "NotFoundException",
      message: `Alias arn:aws:kms:${REGION}:${ACCOUNT}:alias/nothing-here is not found.`,
    });
  });

  it("keeps keys apart by region and account", async () => {
    const key = await createKey();
    const otherRegion = server.kms({ region: "eu-west-1" });
    await expect(otherRegion.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({ name: "NotFoundException" });
    // An ARN of another region is not found either, even when the caller names it exactly: AWS names the region.
    await expect(otherRegion.send(new DescribeKeyCommand({ KeyId: key.Arn }))).rejects.toMatchObject({
      name: "NotFoundException",
      message: `Invalid arn ${REGION}`,
    });
    const otherAccount = server.kms({ accessKeyId: "123456789012" });
    await expect(otherAccount.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({ name: "NotFoundException" });
    // Another account's key ARN: no key of that account is shared here, so it does not exist for this caller.
    await expect(otherAccount.send(new DescribeKeyCommand({ KeyId: key.Arn }))).rejects.toMatchObject({
      name: "NotFoundException",
      message: `Key '${key.Arn}' does not exist`,
    });
    const own = (await otherAccount.send(new CreateKeyCommand({}))).KeyMetadata!;
    expect(own.Arn).toBe(`arn:aws:kms:${REGION}:123456789012:key/${own.KeyId}`);
    expect(own.AWSAccountId).toBe("123456789012");
  });

  it("answers a key ARN of another region with AWS's Invalid arn <region>, in every key operation", async () => {
    const key = await createKey();
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("kept here") }));
    const westArn = key.Arn!.replace(`:${REGION}:`, ":us-west-2:");
    const invalidWest = { name: "NotFoundException", message: "Invalid arn us-west-2" };
    await expect(kms.send(new DescribeKeyCommand({ KeyId: westArn }))).rejects.toMatchObject(invalidWest);
    await expect(kms.send(new EncryptCommand({ KeyId: westArn, Plaintext: Buffer.from("x") }))).rejects.toMatchObject(invalidWest);
    await expect(kms.send(new GenerateDataKeyCommand({ KeyId: westArn, KeySpec: "AES_256" }))).rejects.toMatchObject(invalidWest);
    await expect(kms.send(new DecryptCommand({ KeyId: westArn, CiphertextBlob }))).rejects.toMatchObject(invalidWest);
    await expect(kms.send(new ReEncryptCommand({ CiphertextBlob, DestinationKeyId: westArn }))).rejects.toMatchObject(invalidWest);
    // The operations that take only key ids and key ARNs answer the same.
    await expect(kms.send(new EnableKeyCommand({ KeyId: westArn }))).rejects.toMatchObject(invalidWest);
    // Whether a key with that id exists anywhere does not matter: the region alone decides.
    const nowhere = `arn:aws:kms:ap-south-1:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
    await expect(kms.send(new DescribeKeyCommand({ KeyId: nowhere }))).rejects.toMatchObject({
      name: "NotFoundException",
      message: "Invalid arn ap-south-1",
    });
    // A bare key id carries no region: it is looked up in the caller's, where it does not exist.
    await expect(server.kms({ region: "us-west-2" }).send(new DescribeKeyCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({
      name: "NotFoundException",
      message: `Key 'arn:aws:kms:us-west-2:${ACCOUNT}:key/${key.KeyId}' does not exist`,
    });
    // The same ARN in its own region still finds the key.
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.Arn }))).KeyMetadata!.KeyId).toBe(key.KeyId);
  });

  it("uses the partition of the region in ARNs", async () => {
    const china = (await server.kms({ region: "cn-north-1" }).send(new CreateKeyCommand({}))).KeyMetadata!;
    expect(china.Arn).toMatch(/^arn:aws-cn:kms:cn-north-1:/);
    const govCloud = (await server.kms({ region: "us-gov-west-1" }).send(new CreateKeyCommand({}))).KeyMetadata!;
    expect(govCloud.Arn).toMatch(/^arn:aws-us-gov:kms:us-gov-west-1:/);
  });

  it("creates the AWS managed key behind alias/aws/secretsmanager on first DescribeKey, once", async () => {
    const kmsElsewhere = server.kms({ region: "ap-south-1" });
    const [first, second] = await Promise.all([
      kmsElsewhere.send(new DescribeKeyCommand({ KeyId: "alias/aws/secretsmanager" })),
      kmsElsewhere.send(new DescribeKeyCommand({ KeyId: "alias/aws/secretsmanager" })),
    ]);
    expect(first.KeyMetadata!.KeyManager).toBe("AWS");
    expect(first.KeyMetadata!.KeyId).toBe(second.KeyMetadata!.KeyId);
    const byArn = await kmsElsewhere.send(
      new DescribeKeyCommand({ KeyId: `arn:aws:kms:ap-south-1:${ACCOUNT}:alias/aws/secretsmanager` }),
    );
    expect(byArn.KeyMetadata!.KeyId).toBe(first.KeyMetadata!.KeyId);
  });
});

// --- helpers for the cases below ----------------------------------------------------------------------------------

const encryptUnder = async (keyId: string, plaintext = "x", context?: Record<string, string>): Promise<Buffer> =>
  Buffer.from((await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(plaintext), EncryptionContext: context }))).CiphertextBlob!);

/** A raw JSON-1.1 KMS call: the status and the decoded body. */
const raw = async (operation: string, body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> => {
  const response = await rawRequest(server, { target: `TrentService.${operation}`, body: JSON.stringify(body) });
  return { status: response.status, body: JSON.parse(response.text) as Record<string, unknown> };
};

const lastUsage = async (keyId: string): Promise<string | undefined> =>
  (await kms.send(new GetKeyLastUsageCommand({ KeyId: keyId }))).KeyLastUsage?.Operation;

let aliasCounter = 0;
const createAlias = async (keyId: string): Promise<string> => {
  const aliasName = `alias/symmetric-spec-${++aliasCounter}-${Date.now()}`;
  await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: keyId }));
  return aliasName;
};

const DRY_RUN = { name: "DryRunOperationException", message: "The request would have succeeded, but the DryRun option is set." };
const nullAt = (path: string): string => `1 validation error detected: Value null at '${path}' failed to satisfy constraint: Member must not be null`;

describe("validation", () => {
  it("answers a Decrypt or ReEncrypt without CiphertextBlob as a missing member, unless the dry run ignores the ciphertext", async () => {
    const key = await createKey();
    expect(await raw("Decrypt", {})).toEqual({ status: 400, body: { __type: "ValidationException", message: nullAt("ciphertextBlob") } });
    expect(await raw("ReEncrypt", { DestinationKeyId: key.KeyId })).toEqual({
      status: 400,
      body: { __type: "ValidationException", message: nullAt("ciphertextBlob") },
    });
    // IGNORE_CIPHERTEXT without DryRun means nothing.
    expect((await raw("Decrypt", { KeyId: key.KeyId, DryRunModifiers: ["IGNORE_CIPHERTEXT"] })).body.message).toBe(nullAt("ciphertextBlob"));
    // A dry run that ignores the ciphertext must name the key instead.
    expect(await raw("Decrypt", { DryRun: true, DryRunModifiers: ["IGNORE_CIPHERTEXT"] })).toEqual({
      status: 400,
      body: { __type: "ValidationException", message: nullAt("keyId") },
    });
    expect((await raw("ReEncrypt", { DestinationKeyId: key.KeyId, DryRun: true, DryRunModifiers: ["IGNORE_CIPHERTEXT"] })).body.message).toBe(
      nullAt("sourceKeyId"),
    );
    const modifier = await raw("Decrypt", { KeyId: key.KeyId, DryRun: true, DryRunModifiers: ["IGNORE_EVERYTHING"] });
    expect(modifier.body.__type).toBe("ValidationException");
    expect(modifier.body.message).toContain("Member must satisfy enum value set: [IGNORE_CIPHERTEXT]");
  });

  it("takes up to 10 GrantTokens of 1 to 8,192 characters, as the model says, each a live grant's", async () => {
    const key = await createKey();
    const plaintext = Buffer.from("granted").toString("base64");
    const tokens = await Promise.all(Array.from({ length: 10 }, () => grantToken(kms, key.KeyId!)));
    const ok = await raw("Encrypt", { KeyId: key.KeyId, Plaintext: plaintext, GrantTokens: tokens });
    expect(ok.status).toBe(200);
    const tooMany = await raw("Encrypt", { KeyId: key.KeyId, Plaintext: plaintext, GrantTokens: Array.from({ length: 11 }, () => "t") });
    expect(tooMany.body.__type).toBe("ValidationException");
    expect(tooMany.body.message).toContain("at 'grantTokens' failed to satisfy constraint: Member must have length less than or equal to 10");
    const empty = await raw("Decrypt", { CiphertextBlob: ok.body.CiphertextBlob, GrantTokens: [""] });
    expect(empty.body.__type).toBe("ValidationException");
    expect(empty.body.message).toContain("'grantTokens'");
    // Within the model's bounds but no token of a grant: spec/kms/grants.spec.ts has the rest of the token rules.
    const unknown = await raw("Decrypt", { CiphertextBlob: ok.body.CiphertextBlob, GrantTokens: ["t".repeat(8192)] });
    expect(unknown.body.__type).toBe("InvalidGrantTokenException");
    const decrypted = await raw("Decrypt", { CiphertextBlob: ok.body.CiphertextBlob, GrantTokens: tokens.slice(3) });
    expect(decrypted.body.Plaintext).toBe(plaintext);
    const reEncrypted = await kms.send(
      new ReEncryptCommand({ CiphertextBlob: Buffer.from(ok.body.CiphertextBlob as string, "base64"), DestinationKeyId: key.KeyId, GrantTokens: [tokens[0]!] }),
    );
    expect(reEncrypted.KeyId).toBe(key.Arn);
  });

  it("refuses any algorithm but SYMMETRIC_DEFAULT on a symmetric key with InvalidKeyUsageException", async () => {
    const key = await createKey();
    const blob = await encryptUnder(key.KeyId!);
    const refusal = { name: "InvalidKeyUsageException", message: "Algorithm RSAES_OAEP_SHA_256 is incompatible with key spec SYMMETRIC_DEFAULT." };
    await expect(
      kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("x"), EncryptionAlgorithm: "RSAES_OAEP_SHA_256" })),
    ).rejects.toMatchObject(refusal);
    await expect(kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionAlgorithm: "RSAES_OAEP_SHA_256" }))).rejects.toMatchObject(refusal);
    await expect(
      kms.send(new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: key.KeyId, SourceEncryptionAlgorithm: "RSAES_OAEP_SHA_256" })),
    ).rejects.toMatchObject(refusal);
    await expect(
      kms.send(new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: key.KeyId, DestinationEncryptionAlgorithm: "SM2PKE" })),
    ).rejects.toMatchObject({ name: "InvalidKeyUsageException", message: "Algorithm SM2PKE is incompatible with key spec SYMMETRIC_DEFAULT." });
    // SYMMETRIC_DEFAULT itself is fine, and a value outside the model's enum never reaches the key.
    const explicit = await kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionAlgorithm: "SYMMETRIC_DEFAULT" }));
    expect(Buffer.from(explicit.Plaintext!).toString()).toBe("x");
    expect((await raw("Encrypt", { KeyId: key.KeyId, Plaintext: "eA==", EncryptionAlgorithm: "AES" })).body.__type).toBe("ValidationException");
  });

  it("refuses a Recipient: secretslite cannot verify Nitro attestation documents", async () => {
    const key = await createKey();
    const blob = await encryptUnder(key.KeyId!);
    const recipient = { KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256" as const, AttestationDocument: randomBytes(64) };
    const refusal = {
      name: "ValidationException",
      message: "The attestation document in Recipient could not be verified: secretslite cannot verify AWS Nitro attestation signatures.",
    };
    await expect(kms.send(new DecryptCommand({ CiphertextBlob: blob, Recipient: recipient }))).rejects.toMatchObject(refusal);
    await expect(kms.send(new DecryptCommand({ CiphertextBlob: blob, Recipient: recipient, DryRun: true }))).rejects.toMatchObject(refusal);
    await expect(kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: "AES_256", Recipient: recipient }))).rejects.toMatchObject(refusal);
    // The model's own rule on the algorithm comes first.
    const wrongAlgorithm = await raw("Decrypt", { CiphertextBlob: blob.toString("base64"), Recipient: { KeyEncryptionAlgorithm: "RSA" } });
    expect(wrongAlgorithm.body.__type).toBe("ValidationException");
    expect(wrongAlgorithm.body.message).toContain("'recipient.keyEncryptionAlgorithm'");
    // Nothing was decrypted.
    expect(await lastUsage(key.KeyId!)).toBe("Encrypt");
  });
});

describe("behaviour: Encrypt and Decrypt", () => {
  it("keeps the largest ciphertext within AWS's 6,144 bytes and opens it", async () => {
    const key = await createKey();
    const plaintext = randomBytes(4096);
    const multiRegion = (await kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!;
    for (const keyId of [key.KeyId!, multiRegion.KeyId!]) {
      const { CiphertextBlob } = await kms.send(
        new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: { purpose: "size" } }),
      );
      expect(CiphertextBlob!.length).toBeLessThanOrEqual(6144);
      const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { purpose: "size" } }));
      expect(Buffer.from(decrypted.Plaintext!).equals(plaintext)).toBe(true);
    }
  });

  it("decrypts without a KeyId after a restart", async () => {
    const first = await startTestServer();
    const before = first.kms();
    const key = (await before.send(new CreateKeyCommand({}))).KeyMetadata!;
    const { CiphertextBlob } = await before.send(
      new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("survives"), EncryptionContext: { k: "v" } }),
    );
    await first.stop();
    const second = await startTestServer({ dataDir: first.dataDir });
    try {
      const decrypted = await second.kms().send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { k: "v" } }));
      expect(Buffer.from(decrypted.Plaintext!).toString()).toBe("survives");
      expect(decrypted.KeyId).toBe(key.Arn);
    } finally {
      await second.close();
    }
  });

  it("takes Decrypt's KeyId as a key id, key ARN, alias name or alias ARN", async () => {
    const key = await createKey();
    const other = await createKey();
    const blob = await encryptUnder(key.KeyId!, "named");
    const alias = await createAlias(key.KeyId!);
    const otherAlias = await createAlias(other.KeyId!);
    for (const keyId of [key.KeyId!, key.Arn!, alias, `arn:aws:kms:${REGION}:${ACCOUNT}:${alias}`]) {
      const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: keyId }));
      expect(Buffer.from(decrypted.Plaintext!).toString()).toBe("named");
      expect(decrypted.KeyId).toBe(key.Arn);
    }
    await expect(kms.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: otherAlias }))).rejects.toMatchObject({
      name: "IncorrectKeyException",
      message: "The key ID in the request does not identify a CMK that can perform this operation.",
    });
    await expect(kms.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: "alias/no-such-alias" }))).rejects.toMatchObject({
      name: "NotFoundException",
    });
  });

  it("binds the encryption context as AAD: pairs, not concatenations, in any order", async () => {
    const key = await createKey();
    const blob = await encryptUnder(key.KeyId!, "bound", { a: "b", c: "d" });
    const open = (context?: Record<string, string>) => kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context }));
    expect(Buffer.from((await open({ c: "d", a: "b" })).Plaintext!).toString()).toBe("bound");
    const wrongs: Array<Record<string, string> | undefined> = [{ ab: "", c: "d" }, { a: "bc", d: "" }, { a: "b" }, { a: "b", c: "d", e: "f" }, { a: "B", c: "d" }, undefined];
    for (const wrong of wrongs) {
      await expect(open(wrong)).rejects.toMatchObject({ name: "InvalidCiphertextException", $metadata: { httpStatusCode: 400 } });
    }
  });

  it("answers every damaged, truncated, re-pointed or random blob with 400 InvalidCiphertextException", async () => {
    const key = await createKey();
    const other = await createKey();
    const blob = await encryptUnder(key.KeyId!, "fuzz me", { k: "v" });
    const otherBlob = await encryptUnder(other.KeyId!, "fuzz me", { k: "v" });
    const blobs: Buffer[] = [];
    // Every single-bit flip, one per byte (bit chosen by position), and one whole-byte change per byte.
    for (let i = 0; i < blob.length; i++) {
      const flipped = Buffer.from(blob);
      flipped[i]! ^= 1 << i % 8;
      blobs.push(flipped);
      const replaced = Buffer.from(blob);
      replaced[i] = (replaced[i]! + 1 + (i % 255)) % 256;
      blobs.push(replaced);
    }
    // Every truncation, and extensions.
    for (let length = 1; length < blob.length; length += 3) blobs.push(blob.subarray(0, length));
    blobs.push(Buffer.concat([blob, Buffer.from([0])]), Buffer.concat([blob, randomBytes(64)]));
    // The header of one key's blob with the body of another key's.
    const splice = (header: Buffer, body: Buffer, at: number) => Buffer.concat([header.subarray(0, at), body.subarray(at)]);
    const headerLength = 2 + key.KeyId!.length + 32 + 4;
    blobs.push(splice(blob, otherBlob, headerLength), splice(otherBlob, blob, headerLength));
    // A well-formed header naming another existing key (check recomputed), and random bytes of every shape.
    const repointed = Buffer.from(blob);
    repointed.write(other.KeyId!, 2, "latin1");
    createHash("sha256").update(repointed.subarray(0, headerLength - 4)).digest().copy(repointed, headerLength - 4, 0, 4);
    blobs.push(repointed);
    for (let i = 0; i < 100; i++) blobs.push(randomBytes(1 + ((i * 37) % 400)));
    for (let i = 0; i < 50; i++) blobs.push(Buffer.concat([Buffer.from([2, 36]), randomBytes(36 + 32 + 4 + 12 + 16 + i)]));
    expect(blobs.length).toBeGreaterThan(300);

    const answers = new Map<string, number>();
    for (let i = 0; i < blobs.length; i += 25) {
      const batch = blobs.slice(i, i + 25).map(async (candidate) => {
        const response = await raw("Decrypt", { CiphertextBlob: candidate.toString("base64"), EncryptionContext: { k: "v" } });
        const answer = `${response.status} ${String(response.body.__type)}`;
        answers.set(answer, (answers.get(answer) ?? 0) + 1);
      });
      await Promise.all(batch);
    }
    expect([...answers]).toEqual([["400 InvalidCiphertextException", blobs.length]]);
    // The blob itself still opens, and no failure counted as a use.
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { k: "v" } }))).Plaintext!).toString()).toBe(
      "fuzz me",
    );
  });

  it("answers a well-formed blob whose key is not in this account and region with AccessDeniedException", async () => {
    const key = await createKey();
    const blob = await encryptUnder(key.KeyId!);
    await expect(server.kms({ region: "eu-west-1" }).send(new DecryptCommand({ CiphertextBlob: blob }))).rejects.toMatchObject({
      name: "AccessDeniedException",
      message:
        "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
    });
  });

  it("answers DryRun with DryRunOperationException when the call would succeed, and with the real error otherwise", async () => {
    const key = await createKey();
    const blob = await encryptUnder(key.KeyId!, "dry", { k: "v" });
    await expect(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("x"), DryRun: true }))).rejects.toMatchObject(DRY_RUN);
    await expect(kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { k: "v" }, DryRun: true }))).rejects.toMatchObject(
      DRY_RUN,
    );
    await expect(kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { k: "w" }, DryRun: true }))).rejects.toMatchObject({
      name: "InvalidCiphertextException",
    });
    await expect(kms.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: (await createKey()).KeyId, DryRun: true }))).rejects.toMatchObject({
      name: "IncorrectKeyException",
    });
    // A dry run is not a use.
    expect(await lastUsage(key.KeyId!)).toBe("Encrypt");
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await expect(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("x"), DryRun: true }))).rejects.toMatchObject({
      name: "DisabledException",
    });
    await expect(kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { k: "v" }, DryRun: true }))).rejects.toMatchObject({
      name: "DisabledException",
    });
  });

  it("with IGNORE_CIPHERTEXT, dry-runs Decrypt and ReEncrypt on the keys alone", async () => {
    const key = await createKey();
    const destination = await createKey();
    const ignore = { DryRun: true, DryRunModifiers: ["IGNORE_CIPHERTEXT" as const] };
    await expect(kms.send(new DecryptCommand({ KeyId: key.Arn, ...ignore }))).rejects.toMatchObject(DRY_RUN);
    // The ciphertext, even a broken one, is not looked at.
    await expect(kms.send(new DecryptCommand({ KeyId: key.KeyId, CiphertextBlob: randomBytes(40), ...ignore }))).rejects.toMatchObject(DRY_RUN);
    await expect(kms.send(new ReEncryptCommand({ SourceKeyId: key.KeyId, DestinationKeyId: destination.KeyId, ...ignore }))).rejects.toMatchObject(
      DRY_RUN,
    );
    await expect(kms.send(new DecryptCommand({ KeyId: "alias/not-there", ...ignore }))).rejects.toMatchObject({ name: "NotFoundException" });
    await kms.send(new DisableKeyCommand({ KeyId: destination.KeyId }));
    await expect(kms.send(new ReEncryptCommand({ SourceKeyId: key.KeyId, DestinationKeyId: destination.KeyId, ...ignore }))).rejects.toMatchObject({
      name: "DisabledException",
      message: `${destination.Arn} is disabled.`,
    });
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await expect(kms.send(new DecryptCommand({ KeyId: key.KeyId, ...ignore }))).rejects.toMatchObject({ name: "DisabledException" });
  });
});

describe("behaviour: ReEncrypt", () => {
  it("moves a ciphertext to another key and context, naming both keys and both key materials", async () => {
    const source = await createKey();
    const destination = await createKey();
    const blob = await encryptUnder(source.KeyId!, "moving", { from: "here" });
    const moved = await kms.send(
      new ReEncryptCommand({
        CiphertextBlob: blob,
        SourceEncryptionContext: { from: "here" },
        DestinationKeyId: destination.KeyId,
        DestinationEncryptionContext: { to: "there" },
      }),
    );
    expect(moved).toMatchObject({
      SourceKeyId: source.Arn,
      KeyId: destination.Arn,
      SourceEncryptionAlgorithm: "SYMMETRIC_DEFAULT",
      DestinationEncryptionAlgorithm: "SYMMETRIC_DEFAULT",
      SourceKeyMaterialId: source.CurrentKeyMaterialId,
      DestinationKeyMaterialId: destination.CurrentKeyMaterialId,
    });
    // Both keys were used.
    expect(await lastUsage(source.KeyId!)).toBe("ReEncrypt");
    expect(await lastUsage(destination.KeyId!)).toBe("ReEncrypt");
    await expect(kms.send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, EncryptionContext: { from: "here" } }))).rejects.toMatchObject({
      name: "InvalidCiphertextException",
    });
    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, EncryptionContext: { to: "there" } }));
    expect(Buffer.from(decrypted.Plaintext!).toString()).toBe("moving");
    expect(decrypted.KeyId).toBe(destination.Arn);
  });

  it("re-encrypts under the same key to change the context, with SourceKeyId and DestinationKeyId in any form", async () => {
    const key = await createKey();
    const alias = await createAlias(key.KeyId!);
    const blob = await encryptUnder(key.KeyId!, "same key");
    const moved = await kms.send(
      new ReEncryptCommand({ CiphertextBlob: blob, SourceKeyId: alias, DestinationKeyId: key.Arn, DestinationEncryptionContext: { v: "2" } }),
    );
    expect(moved.SourceKeyId).toBe(key.Arn);
    expect(moved.KeyId).toBe(key.Arn);
    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, KeyId: alias, EncryptionContext: { v: "2" } }));
    expect(Buffer.from(decrypted.Plaintext!).toString()).toBe("same key");
  });

  it("after a rotation, opens old ciphertexts with their own material and re-encrypts them under the newest", async () => {
    const key = await createKey();
    const oldBlob = await encryptUnder(key.KeyId!, "before rotation");
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }));
    const current = (await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.CurrentKeyMaterialId!;
    expect(current).not.toBe(key.CurrentKeyMaterialId);
    const old = await kms.send(new DecryptCommand({ CiphertextBlob: oldBlob }));
    expect(old.KeyMaterialId).toBe(key.CurrentKeyMaterialId);
    const moved = await kms.send(new ReEncryptCommand({ CiphertextBlob: oldBlob, DestinationKeyId: key.KeyId }));
    expect(moved).toMatchObject({ SourceKeyMaterialId: key.CurrentKeyMaterialId, DestinationKeyMaterialId: current });
    const reopened = await kms.send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob }));
    expect(reopened.KeyMaterialId).toBe(current);
    expect(Buffer.from(reopened.Plaintext!).toString()).toBe("before rotation");
  });

  it("checks the source key, the source context and both keys' states", async () => {
    const source = await createKey();
    const destination = await createKey();
    const blob = await encryptUnder(source.KeyId!, "x", { k: "v" });
    const reEncrypt = (extra: Partial<ConstructorParameters<typeof ReEncryptCommand>[0]> = {}) =>
      kms.send(new ReEncryptCommand({ CiphertextBlob: blob, SourceEncryptionContext: { k: "v" }, DestinationKeyId: destination.KeyId, ...extra }));
    await expect(reEncrypt({ SourceKeyId: destination.KeyId })).rejects.toMatchObject({ name: "IncorrectKeyException" });
    await expect(reEncrypt({ SourceEncryptionContext: { k: "w" } })).rejects.toMatchObject({ name: "InvalidCiphertextException" });
    await expect(reEncrypt({ DestinationKeyId: "alias/nowhere" })).rejects.toMatchObject({ name: "NotFoundException" });
    await expect(reEncrypt({ DryRun: true })).rejects.toMatchObject(DRY_RUN);
    await expect(reEncrypt({ DryRun: true, SourceEncryptionContext: {} })).rejects.toMatchObject({ name: "InvalidCiphertextException" });
    expect(await lastUsage(destination.KeyId!)).toBeUndefined();
    await kms.send(new DisableKeyCommand({ KeyId: destination.KeyId }));
    await expect(reEncrypt()).rejects.toMatchObject({ name: "DisabledException", message: `${destination.Arn} is disabled.` });
    await kms.send(new EnableKeyCommand({ KeyId: destination.KeyId }));
    await kms.send(new DisableKeyCommand({ KeyId: source.KeyId }));
    await expect(reEncrypt()).rejects.toMatchObject({ name: "DisabledException", message: `${source.Arn} is disabled.` });
    await kms.send(new EnableKeyCommand({ KeyId: source.KeyId }));
    expect((await reEncrypt()).KeyId).toBe(destination.Arn);
  });
});

describe("behaviour: key usage", () => {
  it("records every successful cryptographic operation under its own name", async () => {
    const key = await createKey();
    const blob = await encryptUnder(key.KeyId!);
    expect(await lastUsage(key.KeyId!)).toBe("Encrypt");
    await kms.send(new DecryptCommand({ CiphertextBlob: blob }));
    expect(await lastUsage(key.KeyId!)).toBe("Decrypt");
    await kms.send(new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: key.KeyId }));
    expect(await lastUsage(key.KeyId!)).toBe("ReEncrypt");
    await kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: "AES_256" }));
    expect(await lastUsage(key.KeyId!)).toBe("GenerateDataKey");
    expect((await raw("GenerateDataKeyWithoutPlaintext", { KeyId: key.KeyId, KeySpec: "AES_128" })).status).toBe(200);
    expect(await lastUsage(key.KeyId!)).toBe("GenerateDataKeyWithoutPlaintext");
  });
});

// --- the ciphertext format, against a key store of plain AES-256-GCM ---------------------------------------------

/** Seals with node's AES-256-GCM; a backing key's "wrapped" bytes are its raw key. Enough to pin the blob format. */
class PlainKeyStore implements KeyStore {
  supports(spec: string) {
    return spec === "SYMMETRIC_DEFAULT" ? ("node" as const) : undefined;
  }
  async generate(): Promise<NewBackingKey> {
    return { wrapped: randomBytes(32) };
  }
  async sign(): Promise<Buffer> {
    throw new KeyStoreUsageError("PlainKeyStore only seals");
  }
  decrypt = this.sign;
  generateMac = this.sign;
  deriveSharedSecret = this.sign;
  seal(backingKey: BackingKeyRef, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Buffer {
    const cipher = createCipheriv("aes-256-gcm", backingKey.wrapped, iv).setAAD(aad);
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  }
  open(backingKey: BackingKeyRef, iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Buffer {
    const decipher = createDecipheriv("aes-256-gcm", backingKey.wrapped, iv).setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    try {
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
    } catch (error) {
      throw new KeyStoreIntegrityError("tag", { cause: error });
    }
  }
  forget(): void {}
  forgetAll(): void {}
  random(byteCount: number): Buffer {
    return randomBytes(byteCount);
  }
  health() {
    return { ok: true, kind: "plain", detail: "" };
  }
  async close(): Promise<void> {}
}

describe("ciphertext format", () => {
  const keyStore = new PlainKeyStore();
  const ciphertexts = new Ciphertexts(keyStore);
  const rawKey = randomBytes(32);
  const materialId = randomBytes(32).toString("hex");
  const key = {
    keyId: "1234abcd-12ab-34cd-56ef-1234567890ab",
    backingKeys: [{ id: materialId, wrapped: rawKey.toString("base64"), createdAt: 0 }],
  } as unknown as KmsKeyRecord;
  const use = { operation: "Encrypt", requestId: "r", principalArn: "arn:aws:iam::000000000000:root" };

  it("writes format 2: format, key id, KeyMaterialId, header check, IV, payload, tag", async () => {
    const { blob, keyMaterialId } = await ciphertexts.seal(key, Buffer.from("hello"), { b: "2", a: "1" }, use);
    expect(keyMaterialId).toBe(materialId);
    expect(blob[0]).toBe(2);
    expect(blob[1]).toBe(36);
    expect(blob.toString("latin1", 2, 38)).toBe(key.keyId);
    expect(blob.toString("hex", 38, 70)).toBe(materialId);
    expect(blob.subarray(70, 74)).toEqual(createHash("sha256").update(blob.subarray(0, 70)).digest().subarray(0, 4));
    expect(blob.length).toBe(74 + 12 + 5 + 16);
    const parsed = parseCiphertext(blob);
    expect(parsed).toMatchObject({ keyId: key.keyId, keyMaterialId: materialId });
    expect((await ciphertexts.open(key, parsed, { a: "1", b: "2" }, use)).plaintext.toString()).toBe("hello");
  });

  it("still opens format 1 blobs (data keys stored by earlier versions), whose AAD bytes must not change", async () => {
    const header = Buffer.concat([Buffer.from([1, 36]), Buffer.from(key.keyId, "latin1"), Buffer.from(materialId, "hex")]);
    // The AAD as format 1 defined it: the header, then per pair (sorted by name) u32 name length, u32 value length, name, value.
    const pair = (name: string, value: string) => {
      const lengths = Buffer.alloc(8);
      lengths.writeUInt32BE(Buffer.byteLength(name), 0);
      lengths.writeUInt32BE(Buffer.byteLength(value), 4);
      return Buffer.concat([lengths, Buffer.from(name), Buffer.from(value)]);
    };
    const aad = Buffer.concat([header, pair("SecretARN", "arn:é"), pair("SecretVersionId", "v1")]);
    expect(additionalData(header, { SecretVersionId: "v1", SecretARN: "arn:é" })).toEqual(aad);
    const iv = randomBytes(12);
    const sealed = keyStore.seal({ id: "x", spec: "SYMMETRIC_DEFAULT", wrapped: rawKey }, iv, aad, Buffer.from("old data key"));
    const blob = Buffer.concat([header, iv, sealed]);
    const parsed = parseCiphertext(blob);
    expect(parsed.keyId).toBe(key.keyId);
    expect((await ciphertexts.open(key, parsed, { SecretARN: "arn:é", SecretVersionId: "v1" }, use)).plaintext.toString()).toBe("old data key");
    expect(() => ciphertexts.open(key, parsed, { SecretARN: "arn:é" }, use)).toThrow(expect.objectContaining({ code: "InvalidCiphertextException" }));
  });

  it("never lets a key id it cannot have written reach a lookup", async () => {
    const { blob } = await ciphertexts.seal(key, Buffer.from("x"), undefined, use);
    const forged = Buffer.from(blob);
    forged.write("1234abcd-12ab-34cd-56ef-1234567890a\u001f", 2, "latin1");
    createHash("sha256").update(forged.subarray(0, 70)).digest().copy(forged, 70, 0, 4);
    expect(() => parseCiphertext(forged)).toThrow(expect.objectContaining({ code: "InvalidCiphertextException" }));
  });
});
