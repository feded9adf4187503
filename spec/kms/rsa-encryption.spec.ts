// KMS Encrypt, Decrypt and ReEncrypt with RSA ENCRYPT_DECRYPT keys: raw RSAES-OAEP as AWS returns it, its limits and refusals.
import { execFileSync } from "node:child_process";
import { constants, createPublicKey, publicEncrypt, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  type EncryptionAlgorithmSpec,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GetPublicKeyCommand,
  type KeyMetadata,
  type KeySpec,
  type KMSClient,
  ReEncryptCommand,
  type ReEncryptRequest,
} from "@aws-sdk/client-kms";
import { rawRequest, startTestServer, type TestServer } from "../support/server";

let server: TestServer;
let kms: KMSClient;
let symmetric: KeyMetadata;
const rsaKeys = new Map<string, KeyMetadata>();
let otherRsa2048: KeyMetadata;

const create = async (KeySpec: KeySpec): Promise<KeyMetadata> => {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec, KeyUsage: "ENCRYPT_DECRYPT" }));
  if (KeyMetadata?.Arn === undefined) throw new Error("CreateKey answered without KeyMetadata");
  return KeyMetadata;
};
const rsaKey = (spec: string): KeyMetadata => {
  const key = rsaKeys.get(spec);
  if (key === undefined) throw new Error(`no ${spec} key`);
  return key;
};

beforeAll(async () => {
  server = await startTestServer();
  kms = server.kms();
  symmetric = await create("SYMMETRIC_DEFAULT");
  for (const spec of ["RSA_2048", "RSA_3072", "RSA_4096"] as const) rsaKeys.set(spec, await create(spec));
  otherRsa2048 = await create("RSA_2048");
}, 120_000);
afterAll(() => server.close());

/** Encrypt's table: the OAEP limit per key spec and algorithm, and the modulus in bytes. */
const LIMITS = [
  ["RSA_2048", "RSAES_OAEP_SHA_1", 214, 256],
  ["RSA_2048", "RSAES_OAEP_SHA_256", 190, 256],
  ["RSA_3072", "RSAES_OAEP_SHA_1", 342, 384],
  ["RSA_3072", "RSAES_OAEP_SHA_256", 318, 384],
  ["RSA_4096", "RSAES_OAEP_SHA_1", 470, 512],
  ["RSA_4096", "RSAES_OAEP_SHA_256", 446, 512],
] as const;

const encrypt = async (key: KeyMetadata, algorithm: EncryptionAlgorithmSpec, plaintext: Uint8Array): Promise<Uint8Array> => {
  const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext, EncryptionAlgorithm: algorithm }));
  if (CiphertextBlob === undefined) throw new Error("Encrypt answered without a CiphertextBlob");
  return CiphertextBlob;
};
const decrypt = async (key: KeyMetadata, algorithm: EncryptionAlgorithmSpec, ciphertext: Uint8Array): Promise<Buffer> =>
  Buffer.from((await kms.send(new DecryptCommand({ KeyId: key.KeyId, CiphertextBlob: ciphertext, EncryptionAlgorithm: algorithm }))).Plaintext ?? []);
const reEncrypt = (input: ReEncryptRequest) => kms.send(new ReEncryptCommand(input));
const publicKeyOf = async (key: KeyMetadata): Promise<Buffer> => Buffer.from((await kms.send(new GetPublicKeyCommand({ KeyId: key.KeyId }))).PublicKey ?? []);
/** Sent without a message (the SDK fills in a placeholder), so only the name and status are pinned here; see "serialization". */
const invalidCiphertext = { name: "InvalidCiphertextException", $metadata: { httpStatusCode: 400 } };

describe("serialization", () => {
  it("sends InvalidCiphertextException for RSA ciphertext without a message, as AWS does", async () => {
    const key = rsaKey("RSA_2048");
    const body = JSON.stringify({ KeyId: key.KeyId, CiphertextBlob: randomBytes(256).toString("base64"), EncryptionAlgorithm: "RSAES_OAEP_SHA_256" });
    const response = await rawRequest(server, { target: "TrentService.Decrypt", body });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.text)).toEqual({ __type: "InvalidCiphertextException" });
  });
});

describe("behaviour", () => {
  it.each(LIMITS)("%s with %s: Encrypt returns raw modulus-sized OAEP output that Decrypt opens, up to %i bytes", async (spec, algorithm, limit, modulusBytes) => {
    const key = rsaKey(spec);
    const plaintext = randomBytes(limit);
    const answer = await kms.send(new EncryptCommand({ KeyId: key.Arn, Plaintext: plaintext, EncryptionAlgorithm: algorithm }));
    expect(answer).toMatchObject({ KeyId: key.Arn, EncryptionAlgorithm: algorithm });
    expect(answer.CiphertextBlob?.length).toBe(modulusBytes);
    const decrypted = await kms.send(new DecryptCommand({ KeyId: key.KeyId, CiphertextBlob: answer.CiphertextBlob, EncryptionAlgorithm: algorithm }));
    expect(Buffer.from(decrypted.Plaintext ?? [])).toEqual(plaintext);
    expect(decrypted).toMatchObject({ KeyId: key.Arn, EncryptionAlgorithm: algorithm });
    // "present only when the operation uses a symmetric encryption KMS key" (DecryptResponse.KeyMaterialId).
    expect(decrypted.KeyMaterialId).toBeUndefined();
  });

  it.each(LIMITS)("%s with %s refuses %i bytes plus one, as AWS words it", async (spec, algorithm, limit) => {
    await expect(
      kms.send(new EncryptCommand({ KeyId: rsaKey(spec).KeyId, Plaintext: randomBytes(limit + 1), EncryptionAlgorithm: algorithm })),
    ).rejects.toMatchObject({
      name: "ValidationException",
      message: `Algorithm ${algorithm} and key spec ${spec} cannot encrypt data larger than ${limit} bytes.`,
    });
  });

  it("encrypts the same plaintext differently every time (OAEP is randomised)", async () => {
    const key = rsaKey("RSA_2048");
    const plaintext = Buffer.from("same");
    const first = Buffer.from(await encrypt(key, "RSAES_OAEP_SHA_256", plaintext));
    expect(first.equals(Buffer.from(await encrypt(key, "RSAES_OAEP_SHA_256", plaintext)))).toBe(false);
  });

  it("needs an RSA algorithm named: the default SYMMETRIC_DEFAULT is refused for the key's spec", async () => {
    const key = rsaKey("RSA_2048");
    const refusal = { name: "InvalidKeyUsageException", message: "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048." };
    await expect(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("x") }))).rejects.toMatchObject(refusal);
    const ciphertext = await encrypt(key, "RSAES_OAEP_SHA_1", Buffer.from("x"));
    // With the key named but no algorithm, the answer is about the key, not the ciphertext.
    await expect(kms.send(new DecryptCommand({ KeyId: key.KeyId, CiphertextBlob: ciphertext }))).rejects.toMatchObject(refusal);
    await expect(
      kms.send(new EncryptCommand({ KeyId: symmetric.KeyId, Plaintext: Buffer.from("x"), EncryptionAlgorithm: "RSAES_OAEP_SHA_256" })),
    ).rejects.toMatchObject({ name: "InvalidKeyUsageException", message: "Algorithm RSAES_OAEP_SHA_256 is incompatible with key spec SYMMETRIC_DEFAULT." });
  });

  it.each([
    ["sha256", "RSAES_OAEP_SHA_256"],
    ["sha1", "RSAES_OAEP_SHA_1"],
  ] as const)("decrypts what openssl encrypted outside with the downloaded public key (OAEP %s, MGF1 the same)", async (md, algorithm) => {
    const key = rsaKey("RSA_3072");
    const dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-rsa-"));
    try {
      const pem = createPublicKey({ key: await publicKeyOf(key), format: "der", type: "spki" }).export({ type: "spki", format: "pem" });
      writeFileSync(path.join(dir, "pub.pem"), pem);
      const plaintext = randomBytes(100);
      const args = ["pkeyutl", "-encrypt", "-pubin", "-inkey", path.join(dir, "pub.pem")];
      const options = ["rsa_padding_mode:oaep", `rsa_oaep_md:${md}`, `rsa_mgf1_md:${md}`].flatMap((option) => ["-pkeyopt", option]);
      const ciphertext = execFileSync("openssl", [...args, ...options], { input: plaintext });
      expect(ciphertext.length).toBe(384);
      expect(await decrypt(key, algorithm, ciphertext)).toEqual(plaintext);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("decrypts what node:crypto publicEncrypt made with the public key and oaepHash", async () => {
    const key = rsaKey("RSA_2048");
    const publicKey = createPublicKey({ key: await publicKeyOf(key), format: "der", type: "spki" });
    const plaintext = randomBytes(190);
    const ciphertext = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, plaintext);
    expect(await decrypt(key, "RSAES_OAEP_SHA_256", ciphertext)).toEqual(plaintext);
  });

  it("answers InvalidCiphertextException for the wrong algorithm, the wrong key, damage, or no KeyId", async () => {
    const key = rsaKey("RSA_2048");
    const ciphertext = Buffer.from(await encrypt(key, "RSAES_OAEP_SHA_256", Buffer.from("secret")));
    await expect(decrypt(key, "RSAES_OAEP_SHA_1", ciphertext)).rejects.toMatchObject(invalidCiphertext);
    await expect(decrypt(otherRsa2048, "RSAES_OAEP_SHA_256", ciphertext)).rejects.toMatchObject(invalidCiphertext);
    await expect(decrypt(rsaKey("RSA_3072"), "RSAES_OAEP_SHA_256", ciphertext)).rejects.toMatchObject(invalidCiphertext);
    const damaged = Buffer.from(ciphertext);
    damaged[100] = (damaged[100] ?? 0) ^ 1;
    await expect(decrypt(key, "RSAES_OAEP_SHA_256", damaged)).rejects.toMatchObject(invalidCiphertext);
    // RSA ciphertext names no key: without KeyId it is read as a symmetric blob, and is not one.
    await expect(kms.send(new DecryptCommand({ CiphertextBlob: ciphertext, EncryptionAlgorithm: "RSAES_OAEP_SHA_256" }))).rejects.toMatchObject(
      invalidCiphertext,
    );
    await expect(kms.send(new DecryptCommand({ CiphertextBlob: ciphertext }))).rejects.toMatchObject(invalidCiphertext);
    // A symmetric key named with an RSA algorithm is refused for the algorithm.
    await expect(decrypt(symmetric, "RSAES_OAEP_SHA_256", ciphertext)).rejects.toMatchObject({
      name: "InvalidKeyUsageException",
      message: "Algorithm RSAES_OAEP_SHA_256 is incompatible with key spec SYMMETRIC_DEFAULT.",
    });
  });

  it("refuses an encryption context with an RSA key on every side, and takes an empty one", async () => {
    const key = rsaKey("RSA_2048");
    const refusal = { name: "ValidationException", message: "An encryption context is supported only on operations with symmetric encryption KMS keys." };
    const EncryptionContext = { purpose: "test" };
    const plaintext = Buffer.from("context");
    await expect(
      kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext, EncryptionAlgorithm: "RSAES_OAEP_SHA_256", EncryptionContext })),
    ).rejects.toMatchObject(refusal);
    const ciphertext = (
      await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext, EncryptionAlgorithm: "RSAES_OAEP_SHA_256", EncryptionContext: {} }))
    ).CiphertextBlob;
    await expect(
      kms.send(new DecryptCommand({ KeyId: key.KeyId, CiphertextBlob: ciphertext, EncryptionAlgorithm: "RSAES_OAEP_SHA_256", EncryptionContext })),
    ).rejects.toMatchObject(refusal);
    await expect(
      reEncrypt({
        CiphertextBlob: ciphertext,
        SourceKeyId: key.KeyId,
        SourceEncryptionAlgorithm: "RSAES_OAEP_SHA_256",
        SourceEncryptionContext: EncryptionContext,
        DestinationKeyId: symmetric.KeyId,
      }),
    ).rejects.toMatchObject(refusal);
    const symmetricBlob = (await kms.send(new EncryptCommand({ KeyId: symmetric.KeyId, Plaintext: plaintext }))).CiphertextBlob;
    const toRsa = { CiphertextBlob: symmetricBlob, DestinationKeyId: key.KeyId, DestinationEncryptionAlgorithm: "RSAES_OAEP_SHA_1" } as const;
    await expect(reEncrypt({ ...toRsa, DestinationEncryptionContext: EncryptionContext })).rejects.toMatchObject(refusal);
  });

  it("ReEncrypts symmetric → RSA → RSA → symmetric, with algorithms and key material ids only where they apply", async () => {
    const plaintext = randomBytes(150);
    const EncryptionContext = { stage: "one" };
    const start = await kms.send(new EncryptCommand({ KeyId: symmetric.KeyId, Plaintext: plaintext, EncryptionContext }));

    const toRsa = await reEncrypt({
      CiphertextBlob: start.CiphertextBlob,
      SourceEncryptionContext: EncryptionContext,
      DestinationKeyId: rsaKey("RSA_2048").KeyId,
      DestinationEncryptionAlgorithm: "RSAES_OAEP_SHA_256",
    });
    expect(toRsa).toMatchObject({
      SourceKeyId: symmetric.Arn,
      KeyId: rsaKey("RSA_2048").Arn,
      SourceEncryptionAlgorithm: "SYMMETRIC_DEFAULT",
      DestinationEncryptionAlgorithm: "RSAES_OAEP_SHA_256",
    });
    expect(toRsa.SourceKeyMaterialId).toMatch(/^[0-9a-f]{64}$/);
    expect(toRsa.DestinationKeyMaterialId).toBeUndefined();
    expect(toRsa.CiphertextBlob?.length).toBe(256);
    expect(await decrypt(rsaKey("RSA_2048"), "RSAES_OAEP_SHA_256", toRsa.CiphertextBlob ?? new Uint8Array())).toEqual(plaintext);

    const rsaToRsa = await reEncrypt({
      CiphertextBlob: toRsa.CiphertextBlob,
      SourceKeyId: rsaKey("RSA_2048").Arn,
      SourceEncryptionAlgorithm: "RSAES_OAEP_SHA_256",
      DestinationKeyId: rsaKey("RSA_4096").KeyId,
      DestinationEncryptionAlgorithm: "RSAES_OAEP_SHA_1",
    });
    expect(rsaToRsa).toMatchObject({ SourceKeyId: rsaKey("RSA_2048").Arn, KeyId: rsaKey("RSA_4096").Arn, SourceEncryptionAlgorithm: "RSAES_OAEP_SHA_256" });
    expect(rsaToRsa.SourceKeyMaterialId).toBeUndefined();
    expect(rsaToRsa.DestinationKeyMaterialId).toBeUndefined();
    expect(rsaToRsa.CiphertextBlob?.length).toBe(512);

    const back = await reEncrypt({
      CiphertextBlob: rsaToRsa.CiphertextBlob,
      SourceKeyId: rsaKey("RSA_4096").KeyId,
      SourceEncryptionAlgorithm: "RSAES_OAEP_SHA_1",
      DestinationKeyId: symmetric.Arn,
      DestinationEncryptionContext: { stage: "two" },
    });
    expect(back).toMatchObject({ SourceEncryptionAlgorithm: "RSAES_OAEP_SHA_1", DestinationEncryptionAlgorithm: "SYMMETRIC_DEFAULT" });
    expect(back.DestinationKeyMaterialId).toMatch(/^[0-9a-f]{64}$/);
    const opened = await kms.send(new DecryptCommand({ CiphertextBlob: back.CiphertextBlob, EncryptionContext: { stage: "two" } }));
    expect(Buffer.from(opened.Plaintext ?? [])).toEqual(plaintext);
  });

  it("ReEncrypt needs SourceKeyId for an RSA source, and holds an RSA destination to Encrypt's limit", async () => {
    const key = rsaKey("RSA_2048");
    const rsaCiphertext = await encrypt(key, "RSAES_OAEP_SHA_1", Buffer.from("x"));
    await expect(
      reEncrypt({ CiphertextBlob: rsaCiphertext, SourceEncryptionAlgorithm: "RSAES_OAEP_SHA_1", DestinationKeyId: symmetric.KeyId }),
    ).rejects.toMatchObject(invalidCiphertext);
    await expect(
      reEncrypt({ CiphertextBlob: rsaCiphertext, SourceKeyId: key.KeyId, SourceEncryptionAlgorithm: "RSAES_OAEP_SHA_256", DestinationKeyId: symmetric.KeyId }),
    ).rejects.toMatchObject(invalidCiphertext);

    const toRsa = (blob: Uint8Array | undefined, DryRun?: boolean) =>
      reEncrypt({ CiphertextBlob: blob, DestinationKeyId: key.KeyId, DestinationEncryptionAlgorithm: "RSAES_OAEP_SHA_256", DryRun });
    const atLimit = (await kms.send(new EncryptCommand({ KeyId: symmetric.KeyId, Plaintext: randomBytes(190) }))).CiphertextBlob;
    expect((await toRsa(atLimit)).CiphertextBlob?.length).toBe(256);
    const overLimit = (await kms.send(new EncryptCommand({ KeyId: symmetric.KeyId, Plaintext: randomBytes(191) }))).CiphertextBlob;
    const tooLarge = { name: "ValidationException", message: "Algorithm RSAES_OAEP_SHA_256 and key spec RSA_2048 cannot encrypt data larger than 190 bytes." };
    await expect(toRsa(overLimit)).rejects.toMatchObject(tooLarge);
    // A dry run fails as the real call would.
    await expect(toRsa(overLimit, true)).rejects.toMatchObject(tooLarge);
    await expect(toRsa(atLimit, true)).rejects.toMatchObject({ name: "DryRunOperationException" });
  });

  it("answers DryRun on Encrypt, Decrypt and ReEncrypt with RSA keys after every other check", async () => {
    const key = rsaKey("RSA_2048");
    const dryRun = { name: "DryRunOperationException", message: "The request would have succeeded, but the DryRun option is set." };
    const EncryptionAlgorithm = "RSAES_OAEP_SHA_256";
    await expect(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("x"), EncryptionAlgorithm, DryRun: true }))).rejects.toMatchObject(dryRun);
    await expect(
      kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: randomBytes(191), EncryptionAlgorithm, DryRun: true })),
    ).rejects.toMatchObject({ name: "ValidationException" });
    const ciphertext = await encrypt(key, EncryptionAlgorithm, Buffer.from("x"));
    await expect(kms.send(new DecryptCommand({ KeyId: key.KeyId, CiphertextBlob: ciphertext, EncryptionAlgorithm, DryRun: true }))).rejects.toMatchObject(dryRun);
    await expect(
      kms.send(new DecryptCommand({ KeyId: otherRsa2048.KeyId, CiphertextBlob: ciphertext, EncryptionAlgorithm, DryRun: true })),
    ).rejects.toMatchObject(invalidCiphertext);
    await expect(
      kms.send(new DecryptCommand({ KeyId: key.KeyId, EncryptionAlgorithm, DryRun: true, DryRunModifiers: ["IGNORE_CIPHERTEXT"] })),
    ).rejects.toMatchObject(dryRun);
    await expect(
      kms.send(new DecryptCommand({ KeyId: key.KeyId, DryRun: true, DryRunModifiers: ["IGNORE_CIPHERTEXT"] })),
    ).rejects.toMatchObject({ name: "InvalidKeyUsageException" });
    await expect(
      reEncrypt({
        SourceKeyId: key.KeyId,
        SourceEncryptionAlgorithm: EncryptionAlgorithm,
        DestinationKeyId: symmetric.KeyId,
        DryRun: true,
        DryRunModifiers: ["IGNORE_CIPHERTEXT"],
      }),
    ).rejects.toMatchObject(dryRun);
    await expect(
      reEncrypt({
        CiphertextBlob: ciphertext,
        SourceKeyId: key.KeyId,
        SourceEncryptionAlgorithm: EncryptionAlgorithm,
        DestinationKeyId: otherRsa2048.KeyId,
        DestinationEncryptionAlgorithm: "RSAES_OAEP_SHA_1",
        DryRun: true,
      }),
    ).rejects.toMatchObject(dryRun);
  });

  it("refuses GenerateDataKey and GenerateDataKeyWithoutPlaintext under an RSA key, naming its spec", async () => {
    const key = rsaKey("RSA_2048");
    await expect(kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: "AES_256" }))).rejects.toMatchObject({
      name: "InvalidKeyUsageException",
      message: `${key.Arn} key spec is RSA_2048 which is not valid for GenerateDataKey.`,
    });
    await expect(kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: key.KeyId, NumberOfBytes: 32 }))).rejects.toMatchObject({
      name: "InvalidKeyUsageException",
      message: `${key.Arn} key spec is RSA_2048 which is not valid for GenerateDataKeyWithoutPlaintext.`,
    });
  });

  it("refuses an RSA signing key for Encrypt by its usage", async () => {
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" }));
    await expect(
      kms.send(new EncryptCommand({ KeyId: KeyMetadata?.KeyId, Plaintext: Buffer.from("x"), EncryptionAlgorithm: "RSAES_OAEP_SHA_256" })),
    ).rejects.toMatchObject({ name: "InvalidKeyUsageException", message: `${KeyMetadata?.Arn} key usage is SIGN_VERIFY which is not valid for Encrypt.` });
  });
});
