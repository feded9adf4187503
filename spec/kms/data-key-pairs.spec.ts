// KMS GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext: fresh pairs of every DataKeyPairSpec, the private key sealed under a symmetric key.
import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import {
  CreateKeyCommand,
  type CreateKeyRequest,
  type DataKeyPairSpec,
  DecryptCommand,
  DisableKeyCommand,
  GenerateDataKeyPairCommand,
  GenerateDataKeyPairWithoutPlaintextCommand,
  GetKeyLastUsageCommand,
  type KeyMetadata,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { rawRequest, startTestServer, type TestServer } from "../support/server";

let server: TestServer;
let kms: KMSClient;
let wrappingKey: KeyMetadata;

const createKey = async (input: CreateKeyRequest = {}): Promise<KeyMetadata> => {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand(input));
  if (KeyMetadata?.Arn === undefined) throw new Error("CreateKey answered without KeyMetadata");
  return KeyMetadata;
};

beforeAll(async () => {
  server = await startTestServer();
  kms = server.kms();
  wrappingKey = await createKey();
});
afterAll(() => server.close());

/** Per spec: what node:crypto must read in the public key, and the hash it signs with (null: Ed25519 names none). */
const SPECS = [
  ["RSA_2048", { asymmetricKeyType: "rsa", modulusLength: 2048 }, "sha256"],
  ["RSA_3072", { asymmetricKeyType: "rsa", modulusLength: 3072 }, "sha256"],
  ["RSA_4096", { asymmetricKeyType: "rsa", modulusLength: 4096 }, "sha256"],
  ["ECC_NIST_P256", { asymmetricKeyType: "ec", namedCurve: "prime256v1" }, "sha256"],
  ["ECC_NIST_P384", { asymmetricKeyType: "ec", namedCurve: "secp384r1" }, "sha384"],
  ["ECC_NIST_P521", { asymmetricKeyType: "ec", namedCurve: "secp521r1" }, "sha512"],
  ["ECC_SECG_P256K1", { asymmetricKeyType: "ec", namedCurve: "secp256k1" }, "sha256"],
  ["ECC_NIST_EDWARDS25519", { asymmetricKeyType: "ed25519" }, null],
] as const;

const decryptBlob = async (blob: Uint8Array | undefined, EncryptionContext?: Record<string, string>) =>
  kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext }));

/** A raw JSON-1.1 KMS call: the status and the decoded body. */
const raw = async (operation: string, body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> => {
  const response = await rawRequest(server, { target: `TrentService.${operation}`, body: JSON.stringify(body) });
  return { status: response.status, body: JSON.parse(response.text) as Record<string, unknown> };
};

describe("serialization", () => {
  it("sends the keys and the sealed private key as base64, and the ARN and spec as strings", async () => {
    const { status, body } = await raw("GenerateDataKeyPair", { KeyId: wrappingKey.KeyId, KeyPairSpec: "ECC_NIST_P256" });
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(["KeyId", "KeyMaterialId", "KeyPairSpec", "PrivateKeyCiphertextBlob", "PrivateKeyPlaintext", "PublicKey"]);
    expect(body).toMatchObject({ KeyId: wrappingKey.Arn, KeyPairSpec: "ECC_NIST_P256" });
    const publicKey = Buffer.from(String(body.PublicKey), "base64");
    expect(createPublicKey({ key: publicKey, format: "der", type: "spki" }).asymmetricKeyType).toBe("ec");
  });
});

describe("validation", () => {
  it("needs KeyId and KeyPairSpec, and a KeyPairSpec of the model", async () => {
    const nullAt = (path: string): string => `1 validation error detected: Value null at '${path}' failed to satisfy constraint: Member must not be null`;
    expect(await raw("GenerateDataKeyPair", { KeyId: wrappingKey.KeyId })).toEqual({
      status: 400,
      body: { __type: "ValidationException", message: nullAt("keyPairSpec") },
    });
    expect(await raw("GenerateDataKeyPairWithoutPlaintext", { KeyPairSpec: "RSA_2048" })).toEqual({
      status: 400,
      body: { __type: "ValidationException", message: nullAt("keyId") },
    });
    const unknown = await raw("GenerateDataKeyPair", { KeyId: wrappingKey.KeyId, KeyPairSpec: "ML_KEM_512" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.__type).toBe("ValidationException");
    expect(String(unknown.body.message)).toContain("keyPairSpec");
  });
});

describe("behaviour", () => {
  it.each(SPECS)("GenerateDataKeyPair %s: a matching SPKI/PKCS#8 pair, the private key sealed under the symmetric key", async (spec, expected, hash) => {
    const EncryptionContext = { purpose: spec };
    const answer = await kms.send(new GenerateDataKeyPairCommand({ KeyId: wrappingKey.KeyId, KeyPairSpec: spec, EncryptionContext }));
    expect(answer).toMatchObject({ KeyId: wrappingKey.Arn, KeyPairSpec: spec });
    expect(answer.KeyMaterialId).toMatch(/^[0-9a-f]{64}$/);
    expect(answer.CiphertextForRecipient).toBeUndefined();
    const publicKey = createPublicKey({ key: Buffer.from(answer.PublicKey ?? []), format: "der", type: "spki" });
    const { asymmetricKeyType, ...details } = expected;
    expect(publicKey.asymmetricKeyType).toBe(asymmetricKeyType);
    expect(publicKey.asymmetricKeyDetails).toMatchObject(details);
    const privateKey = createPrivateKey({ key: Buffer.from(answer.PrivateKeyPlaintext ?? []), format: "der", type: "pkcs8" });
    // The pair matches: the private key's public half is the PublicKey, and what it signs the PublicKey verifies.
    expect(createPublicKey(privateKey).export({ type: "spki", format: "der" })).toEqual(Buffer.from(answer.PublicKey ?? []));
    const message = Buffer.from(`signed with a ${spec} data key pair`);
    expect(verify(hash, message, publicKey, sign(hash, message, privateKey))).toBe(true);
    // The blob is an ordinary symmetric ciphertext: Decrypt, with the context, returns the PKCS#8 bytes.
    const opened = await decryptBlob(answer.PrivateKeyCiphertextBlob, EncryptionContext);
    expect(Buffer.from(opened.Plaintext ?? [])).toEqual(Buffer.from(answer.PrivateKeyPlaintext ?? []));
    expect(opened).toMatchObject({ KeyId: wrappingKey.Arn, EncryptionAlgorithm: "SYMMETRIC_DEFAULT", KeyMaterialId: answer.KeyMaterialId });
    await expect(decryptBlob(answer.PrivateKeyCiphertextBlob)).rejects.toMatchObject({ name: "InvalidCiphertextException" });
  });

  it("GenerateDataKeyPairWithoutPlaintext returns no private key, only its sealed copy, whose public half is PublicKey", async () => {
    const answer = await kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: wrappingKey.Arn, KeyPairSpec: "ECC_NIST_P256" }));
    expect(answer).toMatchObject({ KeyId: wrappingKey.Arn, KeyPairSpec: "ECC_NIST_P256" });
    expect(answer).not.toHaveProperty("PrivateKeyPlaintext");
    expect(answer.KeyMaterialId).toMatch(/^[0-9a-f]{64}$/);
    const pkcs8 = Buffer.from((await decryptBlob(answer.PrivateKeyCiphertextBlob)).Plaintext ?? []);
    const privateKey = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
    expect(createPublicKey(privateKey).export({ type: "spki", format: "der" })).toEqual(Buffer.from(answer.PublicKey ?? []));
  });

  it("records the use of the wrapping key as GetKeyLastUsage reports it", async () => {
    const key = await createKey();
    await kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: key.KeyId, KeyPairSpec: "ECC_NIST_P384" }));
    expect((await kms.send(new GetKeyLastUsageCommand({ KeyId: key.KeyId }))).KeyLastUsage?.Operation).toBe("GenerateDataKeyPairWithoutPlaintext");
    await kms.send(new GenerateDataKeyPairCommand({ KeyId: key.KeyId, KeyPairSpec: "ECC_NIST_P384" }));
    expect((await kms.send(new GetKeyLastUsageCommand({ KeyId: key.KeyId }))).KeyLastUsage?.Operation).toBe("GenerateDataKeyPair");
  });

  it("makes a new pair on every call", async () => {
    const pair = () => kms.send(new GenerateDataKeyPairCommand({ KeyId: wrappingKey.KeyId, KeyPairSpec: "ECC_NIST_EDWARDS25519" }));
    const [first, second] = await Promise.all([pair(), pair()]);
    expect(Buffer.from(first.PublicKey ?? []).equals(Buffer.from(second.PublicKey ?? []))).toBe(false);
    expect(Buffer.from(first.PrivateKeyPlaintext ?? []).equals(Buffer.from(second.PrivateKeyPlaintext ?? []))).toBe(false);
  });

  it("refuses a wrapping key that is not a symmetric encryption key", async () => {
    const rsa = await createKey({ KeySpec: "RSA_2048", KeyUsage: "ENCRYPT_DECRYPT" });
    const signing = await createKey({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" });
    await expect(kms.send(new GenerateDataKeyPairCommand({ KeyId: rsa.KeyId, KeyPairSpec: "RSA_2048" }))).rejects.toMatchObject({
      name: "InvalidKeyUsageException",
      message: `${rsa.Arn} key spec is RSA_2048 which is not valid for GenerateDataKeyPair.`,
    });
    await expect(kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: rsa.KeyId, KeyPairSpec: "RSA_2048" }))).rejects.toMatchObject({
      name: "InvalidKeyUsageException",
      message: `${rsa.Arn} key spec is RSA_2048 which is not valid for GenerateDataKeyPairWithoutPlaintext.`,
    });
    await expect(kms.send(new GenerateDataKeyPairCommand({ KeyId: signing.KeyId, KeyPairSpec: "ECC_NIST_P256" }))).rejects.toMatchObject({
      name: "InvalidKeyUsageException",
      message: `${signing.Arn} key usage is SIGN_VERIFY which is not valid for GenerateDataKeyPair.`,
    });
  });

  it("refuses a disabled or missing wrapping key as every cryptographic operation does", async () => {
    const key = await createKey();
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await expect(kms.send(new GenerateDataKeyPairCommand({ KeyId: key.KeyId, KeyPairSpec: "RSA_2048" }))).rejects.toMatchObject({
      name: "DisabledException",
      message: `${key.Arn} is disabled.`,
    });
    await expect(
      kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: "11111111-2222-3333-4444-555555555555", KeyPairSpec: "RSA_2048" })),
    ).rejects.toMatchObject({ name: "NotFoundException" });
  });

  it("refuses SM2 outside the China Regions, as CreateKey does", async () => {
    for (const command of [
      new GenerateDataKeyPairCommand({ KeyId: wrappingKey.KeyId, KeyPairSpec: "SM2" }),
      new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: wrappingKey.KeyId, KeyPairSpec: "SM2" }),
    ]) {
      await expect(kms.send(command)).rejects.toMatchObject({ name: "UnsupportedOperationException", message: "KeySpec SM2 is not supported in this Region" });
    }
  });

  it("answers DryRun after every other check, on both operations", async () => {
    const dryRun = { name: "DryRunOperationException", message: "The request would have succeeded, but the DryRun option is set." };
    const KeyPairSpec: DataKeyPairSpec = "RSA_4096";
    await expect(kms.send(new GenerateDataKeyPairCommand({ KeyId: wrappingKey.KeyId, KeyPairSpec, DryRun: true }))).rejects.toMatchObject(dryRun);
    await expect(kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: wrappingKey.KeyId, KeyPairSpec, DryRun: true }))).rejects.toMatchObject(dryRun);
    await expect(kms.send(new GenerateDataKeyPairCommand({ KeyId: wrappingKey.KeyId, KeyPairSpec: "SM2", DryRun: true }))).rejects.toMatchObject({
      name: "UnsupportedOperationException",
    });
  });

  it("refuses a Recipient: secretslite cannot verify Nitro attestation documents", async () => {
    await expect(
      kms.send(
        new GenerateDataKeyPairCommand({
          KeyId: wrappingKey.KeyId,
          KeyPairSpec: "ECC_NIST_P256",
          Recipient: { KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256", AttestationDocument: Buffer.alloc(8) },
        }),
      ),
    ).rejects.toMatchObject({
      name: "ValidationException",
      message: "The attestation document in Recipient could not be verified: secretslite cannot verify AWS Nitro attestation signatures.",
    });
  });

  it("keeps the event loop free while an RSA-4096 pair is generated", async () => {
    let last = performance.now();
    let longestGap = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 5);
    const started = performance.now();
    try {
      await kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: wrappingKey.KeyId, KeyPairSpec: "RSA_4096" }));
    } finally {
      clearInterval(ticker);
    }
    const took = performance.now() - started;
    // Generated on the event loop, the longest gap would be about the whole call; off it, a small part of it.
    expect(longestGap).toBeLessThan(Math.max(250, took / 2));
  }, 60_000);
});
