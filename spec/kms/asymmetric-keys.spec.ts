// KMS asymmetric and HMAC keys: CreateKey for every KeySpec × KeyUsage the spec table allows, GetPublicKey, and the refusals around them.
import { execFileSync } from "node:child_process";
import { createPublicKey } from "node:crypto";
import {
  CreateKeyCommand,
  type CreateKeyRequest,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  GetPublicKeyCommand,
  type KeySpec,
  type KeyUsageType,
  RotateKeyOnDemandCommand,
} from "@aws-sdk/client-kms";
import { useKmsServer } from "../support/kms";

const kmsServer = useKmsServer();

const create = async (input: CreateKeyRequest) => {
  const { KeyMetadata } = await kmsServer.kms.send(new CreateKeyCommand(input));
  if (KeyMetadata?.Arn === undefined) throw new Error("CreateKey answered without KeyMetadata");
  return KeyMetadata;
};

/** Expected per spec × usage: the algorithm list member and its contents, and how the public key must look. */
interface Case {
  readonly spec: KeySpec;
  readonly usage: KeyUsageType;
  readonly algorithms: Record<string, string[]>;
  /** Whether the deprecated CustomerMasterKeySpec can name the spec. */
  readonly cmkSpec: boolean;
  readonly publicKey: (der: Buffer) => void;
}

const RSA_SIGNING = [
  "RSASSA_PKCS1_V1_5_SHA_256",
  "RSASSA_PKCS1_V1_5_SHA_384",
  "RSASSA_PKCS1_V1_5_SHA_512",
  "RSASSA_PSS_SHA_256",
  "RSASSA_PSS_SHA_384",
  "RSASSA_PSS_SHA_512",
];

const rsa2048 = (der: Buffer): void => {
  const key = createPublicKey({ key: der, format: "der", type: "spki" });
  expect(key.asymmetricKeyType).toBe("rsa");
  expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
};
const ec = (namedCurve: string) => (der: Buffer): void => {
  const key = createPublicKey({ key: der, format: "der", type: "spki" });
  expect(key.asymmetricKeyType).toBe("ec");
  expect(key.asymmetricKeyDetails?.namedCurve).toBe(namedCurve);
};
const ed25519 = (der: Buffer): void => {
  expect(createPublicKey({ key: der, format: "der", type: "spki" }).asymmetricKeyType).toBe("ed25519");
};
/**
 * Node 20 cannot load ML-DSA keys, so the SPKI is checked by hand: the algorithm OID id-ml-dsa-* (2.16.840.1.101.3.4.3.17–19,
 * FIPS 204 via RFC 9881) and a BIT STRING with the public key's FIPS 204 length.
 */
const mlDsa = (oidLastByte: number, publicKeyBytes: number) => (der: Buffer): void => {
  const oid = Buffer.from([0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, oidLastByte]);
  expect(der.indexOf(oid)).toBeGreaterThan(0);
  // SEQUENCE(len 2 bytes) · SEQUENCE { OID } (13 bytes) · BIT STRING (tag, 0x82 len len, unused-bits 0) · key
  expect(der.length).toBe(4 + 13 + 5 + publicKeyBytes);
};

const CASES: readonly Case[] = [
  { spec: "RSA_2048", usage: "ENCRYPT_DECRYPT", algorithms: { EncryptionAlgorithms: ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"] }, cmkSpec: true, publicKey: rsa2048 },
  { spec: "RSA_2048", usage: "SIGN_VERIFY", algorithms: { SigningAlgorithms: RSA_SIGNING }, cmkSpec: true, publicKey: rsa2048 },
  { spec: "ECC_NIST_P256", usage: "SIGN_VERIFY", algorithms: { SigningAlgorithms: ["ECDSA_SHA_256"] }, cmkSpec: true, publicKey: ec("prime256v1") },
  { spec: "ECC_NIST_P256", usage: "KEY_AGREEMENT", algorithms: { KeyAgreementAlgorithms: ["ECDH"] }, cmkSpec: true, publicKey: ec("prime256v1") },
  { spec: "ECC_NIST_P384", usage: "SIGN_VERIFY", algorithms: { SigningAlgorithms: ["ECDSA_SHA_384"] }, cmkSpec: true, publicKey: ec("secp384r1") },
  { spec: "ECC_NIST_P384", usage: "KEY_AGREEMENT", algorithms: { KeyAgreementAlgorithms: ["ECDH"] }, cmkSpec: true, publicKey: ec("secp384r1") },
  { spec: "ECC_NIST_P521", usage: "SIGN_VERIFY", algorithms: { SigningAlgorithms: ["ECDSA_SHA_512"] }, cmkSpec: true, publicKey: ec("secp521r1") },
  { spec: "ECC_NIST_P521", usage: "KEY_AGREEMENT", algorithms: { KeyAgreementAlgorithms: ["ECDH"] }, cmkSpec: true, publicKey: ec("secp521r1") },
  { spec: "ECC_SECG_P256K1", usage: "SIGN_VERIFY", algorithms: { SigningAlgorithms: ["ECDSA_SHA_256"] }, cmkSpec: true, publicKey: ec("secp256k1") },
  {
    spec: "ECC_NIST_EDWARDS25519",
    usage: "SIGN_VERIFY",
    algorithms: { SigningAlgorithms: ["ED25519_SHA_512", "ED25519_PH_SHA_512"] },
    cmkSpec: false,
    publicKey: ed25519,
  },
  { spec: "ML_DSA_44", usage: "SIGN_VERIFY", algorithms: { SigningAlgorithms: ["ML_DSA_SHAKE_256"] }, cmkSpec: false, publicKey: mlDsa(0x11, 1312) },
  { spec: "ML_DSA_65", usage: "SIGN_VERIFY", algorithms: { SigningAlgorithms: ["ML_DSA_SHAKE_256"] }, cmkSpec: false, publicKey: mlDsa(0x12, 1952) },
  { spec: "ML_DSA_87", usage: "SIGN_VERIFY", algorithms: { SigningAlgorithms: ["ML_DSA_SHAKE_256"] }, cmkSpec: false, publicKey: mlDsa(0x13, 2592) },
];

const ALGORITHM_MEMBERS = ["EncryptionAlgorithms", "SigningAlgorithms", "MacAlgorithms", "KeyAgreementAlgorithms"];

describe("behaviour", () => {
  describe.each(CASES)("$spec with $usage", ({ spec, usage, algorithms, cmkSpec, publicKey }) => {
    it("CreateKey answers KeyMetadata with the spec, usage and the one algorithm list of the usage; DescribeKey agrees", async () => {
      const metadata = await create({ KeySpec: spec, KeyUsage: usage });
      expect(metadata).toMatchObject({ KeySpec: spec, KeyUsage: usage, KeyState: "Enabled", Enabled: true, Origin: "AWS_KMS", ...algorithms });
      expect(metadata.CustomerMasterKeySpec).toBe(cmkSpec ? spec : undefined);
      for (const member of ALGORITHM_MEMBERS) if (!(member in algorithms)) expect(metadata).not.toHaveProperty(member);
      expect(metadata.CurrentKeyMaterialId).toMatch(/^[0-9a-f]{64}$/);
      const { KeyMetadata: described } = await kmsServer.kms.send(new DescribeKeyCommand({ KeyId: metadata.KeyId }));
      expect(described).toEqual(metadata);
    });

    it("GetPublicKey answers the SPKI DER public key with spec, usage and algorithms", async () => {
      const metadata = await create({ KeySpec: spec, KeyUsage: usage });
      const answer = await kmsServer.kms.send(new GetPublicKeyCommand({ KeyId: metadata.KeyId }));
      expect(answer).toMatchObject({ KeyId: metadata.Arn, KeySpec: spec, KeyUsage: usage, ...algorithms });
      expect(answer.CustomerMasterKeySpec).toBe(cmkSpec ? spec : undefined);
      for (const member of ALGORITHM_MEMBERS) if (!(member in algorithms)) expect(answer).not.toHaveProperty(member);
      const der = Buffer.from(answer.PublicKey ?? []);
      publicKey(der);
      // The same key on every call: it is stored, not made again.
      const again = await kmsServer.kms.send(new GetPublicKeyCommand({ KeyId: metadata.Arn }));
      expect(Buffer.from(again.PublicKey ?? [])).toEqual(der);
    });
  });

  it("gives every key its own key pair", async () => {
    const [a, b] = await Promise.all([1, 2].map(() => create({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" })));
    const publicKeys = await Promise.all([a, b].map(async (key) => (await kmsServer.kms.send(new GetPublicKeyCommand({ KeyId: key?.KeyId }))).PublicKey));
    expect(Buffer.from(publicKeys[0] ?? [])).not.toEqual(Buffer.from(publicKeys[1] ?? []));
  });

  it.each([
    ["RSA", "RSA_2048", "SIGN_VERIFY", /Public-Key: \(2048 bit\)/],
    ["EC", "ECC_NIST_P384", "KEY_AGREEMENT", /NIST CURVE: P-384/],
    ["secp256k1", "ECC_SECG_P256K1", "SIGN_VERIFY", /ASN1 OID: secp256k1/],
  ] as const)("hands out a %s public key openssl reads", async (_name, spec, usage, expected) => {
    const metadata = await create({ KeySpec: spec, KeyUsage: usage });
    const { PublicKey } = await kmsServer.kms.send(new GetPublicKeyCommand({ KeyId: metadata.KeyId }));
    const text = execFileSync("openssl", ["pkey", "-pubin", "-inform", "DER", "-noout", "-text"], { input: Buffer.from(PublicKey ?? []) }).toString();
    expect(text).toMatch(expected);
  });

  it("creates HMAC keys of every size with their MAC algorithm", async () => {
    for (const [spec, algorithm] of [
      ["HMAC_224", "HMAC_SHA_224"],
      ["HMAC_256", "HMAC_SHA_256"],
      ["HMAC_384", "HMAC_SHA_384"],
      ["HMAC_512", "HMAC_SHA_512"],
    ] as const) {
      const metadata = await create({ KeySpec: spec, KeyUsage: "GENERATE_VERIFY_MAC" });
      expect(metadata).toMatchObject({ KeySpec: spec, KeyUsage: "GENERATE_VERIFY_MAC", MacAlgorithms: [algorithm], CustomerMasterKeySpec: spec });
      expect(metadata).not.toHaveProperty("EncryptionAlgorithms");
    }
  });

  it("takes the deprecated CustomerMasterKeySpec as the spec", async () => {
    const metadata = await create({ CustomerMasterKeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" });
    expect(metadata).toMatchObject({ KeySpec: "ECC_NIST_P256", CustomerMasterKeySpec: "ECC_NIST_P256" });
  });

  it("makes multi-Region asymmetric keys", async () => {
    const metadata = await create({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY", MultiRegion: true });
    expect(metadata.KeyId).toMatch(/^mrk-[0-9a-f]{32}$/);
    expect(metadata).toMatchObject({ MultiRegion: true, MultiRegionConfiguration: { MultiRegionKeyType: "PRIMARY" } });
    const { PublicKey } = await kmsServer.kms.send(new GetPublicKeyCommand({ KeyId: metadata.KeyId }));
    ec("prime256v1")(Buffer.from(PublicKey ?? []));
  });
});

describe("refusals", () => {
  it("requires a KeyUsage for every spec but SYMMETRIC_DEFAULT", async () => {
    for (const input of [{ KeySpec: "RSA_2048" as const }, { KeySpec: "HMAC_256" as const }, { CustomerMasterKeySpec: "ECC_NIST_P256" as const }]) {
      await expect(kmsServer.kms.send(new CreateKeyCommand(input))).rejects.toMatchObject({
        name: "ValidationException",
        message: "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.",
      });
    }
  });

  it("refuses a KeyUsage the spec does not allow", async () => {
    for (const [spec, usage] of [
      ["RSA_2048", "KEY_AGREEMENT"],
      ["RSA_2048", "GENERATE_VERIFY_MAC"],
      ["ECC_NIST_P256", "ENCRYPT_DECRYPT"],
      ["ECC_SECG_P256K1", "KEY_AGREEMENT"],
      ["ECC_NIST_EDWARDS25519", "KEY_AGREEMENT"],
      ["ML_DSA_44", "ENCRYPT_DECRYPT"],
      ["HMAC_256", "SIGN_VERIFY"],
      ["SYMMETRIC_DEFAULT", "SIGN_VERIFY"],
    ] as const) {
      await expect(kmsServer.kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: usage }))).rejects.toMatchObject({
        name: "ValidationException",
        message: `KeyUsage ${usage} is not compatible with KeySpec ${spec}`,
      });
    }
    // Without a KeySpec, a usage is checked against SYMMETRIC_DEFAULT.
    await expect(kmsServer.kms.send(new CreateKeyCommand({ KeyUsage: "SIGN_VERIFY" }))).rejects.toMatchObject({
      message: "KeyUsage SIGN_VERIFY is not compatible with KeySpec SYMMETRIC_DEFAULT",
    });
  });

  it("refuses SM2 outside the China Regions as AWS does, and says it is not implemented inside them", async () => {
    await expect(kmsServer.kms.send(new CreateKeyCommand({ KeySpec: "SM2", KeyUsage: "SIGN_VERIFY" }))).rejects.toMatchObject({
      name: "UnsupportedOperationException",
      message: "KeySpec SM2 is not supported in this Region",
    });
    const china = kmsServer.server.kms({ region: "cn-north-1" });
    await expect(china.send(new CreateKeyCommand({ KeySpec: "SM2", KeyUsage: "ENCRYPT_DECRYPT" }))).rejects.toMatchObject({
      name: "UnsupportedOperationException",
      message: expect.stringMatching(/^secretslite does not implement KeySpec SM2 keys/),
    });
  });

  it("refuses Origin EXTERNAL for ML-DSA keys only, as the KMS guide says", async () => {
    await expect(kmsServer.kms.send(new CreateKeyCommand({ KeySpec: "ML_DSA_65", KeyUsage: "SIGN_VERIFY", Origin: "EXTERNAL" }))).rejects.toMatchObject({
      name: "UnsupportedOperationException",
      message: "You can't import key material for ML-DSA KMS keys: KeySpec ML_DSA_65 cannot have Origin EXTERNAL.",
    });
    for (const input of [
      { KeySpec: "ECC_NIST_P256" as const, KeyUsage: "SIGN_VERIFY" as const },
      { KeySpec: "HMAC_256" as const, KeyUsage: "GENERATE_VERIFY_MAC" as const },
      { KeySpec: "RSA_2048" as const, KeyUsage: "ENCRYPT_DECRYPT" as const },
    ]) {
      const key = (await kmsServer.kms.send(new CreateKeyCommand({ ...input, Origin: "EXTERNAL" }))).KeyMetadata!;
      expect(key).toMatchObject({ ...input, Origin: "EXTERNAL", KeyState: "PendingImport" });
    }
  });

  it("refuses rotation of keys other than symmetric encryption keys", async () => {
    for (const input of [
      { KeySpec: "RSA_2048" as const, KeyUsage: "ENCRYPT_DECRYPT" as const },
      { KeySpec: "HMAC_256" as const, KeyUsage: "GENERATE_VERIFY_MAC" as const },
    ]) {
      const { Arn, KeyId } = await create(input);
      for (const command of [
        new EnableKeyRotationCommand({ KeyId }),
        new RotateKeyOnDemandCommand({ KeyId }),
        new GetKeyRotationStatusCommand({ KeyId }),
      ]) {
        // One command type at a time: send's overloads take them one by one.
        await expect(kmsServer.kms.send(command as EnableKeyRotationCommand)).rejects.toMatchObject({
          name: "UnsupportedOperationException",
          message: `${Arn} key spec is ${input.KeySpec} which is not valid for this operation.`,
        });
      }
    }
  });

  it("GetPublicKey refuses symmetric and HMAC keys", async () => {
    for (const input of [{}, { KeySpec: "HMAC_384" as const, KeyUsage: "GENERATE_VERIFY_MAC" as const }]) {
      const { Arn, KeyUsage } = await create(input);
      await expect(kmsServer.kms.send(new GetPublicKeyCommand({ KeyId: Arn }))).rejects.toMatchObject({
        name: "UnsupportedOperationException",
        message: `${Arn} key usage is ${KeyUsage} which is not valid for GetPublicKey.`,
      });
    }
  });

  it("GetPublicKey needs an Enabled key, and a key that exists", async () => {
    const { Arn, KeyId } = await create({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" });
    await kmsServer.kms.send(new DisableKeyCommand({ KeyId }));
    await expect(kmsServer.kms.send(new GetPublicKeyCommand({ KeyId }))).rejects.toMatchObject({ name: "DisabledException", message: `${Arn} is disabled.` });
    await expect(kmsServer.kms.send(new GetPublicKeyCommand({ KeyId: "11111111-2222-3333-4444-555555555555" }))).rejects.toMatchObject({
      name: "NotFoundException",
    });
  });
});
