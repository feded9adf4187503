// Seeded keys of every kind: asymmetric and HMAC keys with fixed material (public keys, signatures and MACs known
// in advance), fresh material without it, CreateKey's refusals, and --strict-hsm at start.
import { createHmac, createPublicKey, generateKeyPairSync, randomBytes, sign as nodeSign, verify as nodeVerify, type KeyObject } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { DescribeKeyCommand, GenerateMacCommand, GetPublicKeyCommand } from "@aws-sdk/client-kms";
import { closeCryptoWorkers } from "../../src/crypto/crypto-workers";
import type { BackingKeySpec } from "../../src/crypto/key-store";
import { openPkcs11KeyStore } from "../../src/crypto/pkcs11-key-store";
import type { KmsKeyRecord } from "../../src/services/kms/key-record";
import { recordKey } from "../../src/storage/keys";
import { withStore } from "../secretsmanager/stored-records";
import { temporaryDirs } from "../support/files";
import { ACCOUNT, REGION, startTestServer, type TestServer } from "../support/server";
import { testSoftHsm } from "../support/softhsm";

const tempDir = temporaryDirs("secretslite-seed-specs-");

const RSA_KEY = "2a1f7c52-0b7e-4b44-9a55-000000000001";
const P256_KEY = "2a1f7c52-0b7e-4b44-9a55-000000000002";
const ED25519_KEY = "2a1f7c52-0b7e-4b44-9a55-000000000003";
const HMAC_KEY = "2a1f7c52-0b7e-4b44-9a55-000000000004";
const ML_DSA_KEY = "2a1f7c52-0b7e-4b44-9a55-000000000005";
const ECDH_KEY = "2a1f7c52-0b7e-4b44-9a55-000000000006";
const IMPORTED_HMAC_KEY = "2a1f7c52-0b7e-4b44-9a55-000000000007";

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
const p256 = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey;
const ed25519 = generateKeyPairSync("ed25519").privateKey;
const hmacMaterial = randomBytes(32);

const pemOf = (key: KeyObject): string => key.export({ type: "pkcs8", format: "pem" }).toString();
const derBase64Of = (key: KeyObject): string => key.export({ type: "pkcs8", format: "der" }).toString("base64");
const spkiOf = (key: KeyObject): Buffer => createPublicKey(key).export({ type: "spki", format: "der" });

/** The seed as a user writes it: PEM for RSA and Ed25519, base64 DER for P-256, base64 raw bytes for HMAC. */
const seed = {
  kms: {
    keys: [
      { keyId: RSA_KEY, keySpec: "RSA_2048", keyUsage: "SIGN_VERIFY", keyMaterial: { pem: pemOf(rsa) } },
      { keyId: P256_KEY, keySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY", keyMaterial: { base64: derBase64Of(p256) } },
      { keyId: ED25519_KEY, keySpec: "ECC_NIST_EDWARDS25519", keyUsage: "SIGN_VERIFY", keyMaterial: { pem: pemOf(ed25519) }, aliases: ["alias/ed"] },
      { keyId: HMAC_KEY, keySpec: "HMAC_256", keyUsage: "GENERATE_VERIFY_MAC", keyMaterial: { base64: hmacMaterial.toString("base64") } },
      { keyId: ML_DSA_KEY, keySpec: "ML_DSA_44", keyUsage: "SIGN_VERIFY" },
      { keyId: ECDH_KEY, keySpec: "ECC_NIST_P384", keyUsage: "KEY_AGREEMENT" },
      {
        keyId: IMPORTED_HMAC_KEY,
        keySpec: "HMAC_256",
        keyUsage: "GENERATE_VERIFY_MAC",
        origin: "EXTERNAL",
        keyMaterial: { base64: hmacMaterial.toString("base64") },
      },
    ],
  },
};

function writeSeed(text: string | object, name = "seed.yaml"): string {
  const file = path.join(tempDir(), name);
  writeFileSync(file, typeof text === "string" ? text : JSON.stringify(text));
  return file;
}

async function publicKeyOf(server: TestServer, keyId: string): Promise<Buffer> {
  return Buffer.from((await server.kms().send(new GetPublicKeyCommand({ KeyId: keyId }))).PublicKey!);
}

describe("seeded asymmetric and HMAC keys", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ flags: ["--seed", writeSeed(seed, "seed.json")] });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await closeCryptoWorkers();
  });

  it("GetPublicKey returns the public key of each seeded private key, PEM or base64 DER", async () => {
    expect((await publicKeyOf(server, RSA_KEY)).equals(spkiOf(rsa))).toBe(true);
    expect((await publicKeyOf(server, P256_KEY)).equals(spkiOf(p256))).toBe(true);
    expect((await publicKeyOf(server, "alias/ed")).equals(spkiOf(ed25519))).toBe(true);
  });

  it("DescribeKey shows each key as CreateKey makes it: its spec, usage, algorithms and Origin AWS_KMS", async () => {
    const describe = async (keyId: string) => (await server.kms().send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
    expect(await describe(RSA_KEY)).toMatchObject({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY", Origin: "AWS_KMS", KeyState: "Enabled" });
    expect((await describe(RSA_KEY)).SigningAlgorithms).toContain("RSASSA_PSS_SHA_256");
    expect(await describe(P256_KEY)).toMatchObject({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY", SigningAlgorithms: ["ECDSA_SHA_256"] });
    expect(await describe(ED25519_KEY)).toMatchObject({ KeySpec: "ECC_NIST_EDWARDS25519", SigningAlgorithms: ["ED25519_SHA_512", "ED25519_PH_SHA_512"] });
    expect(await describe(HMAC_KEY)).toMatchObject({ KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC", MacAlgorithms: ["HMAC_SHA_256"], Origin: "AWS_KMS" });
    // Without material: fresh material of the spec, from the key store.
    expect(await describe(ML_DSA_KEY)).toMatchObject({ KeySpec: "ML_DSA_44", KeyUsage: "SIGN_VERIFY" });
    expect(await describe(ECDH_KEY)).toMatchObject({ KeySpec: "ECC_NIST_P384", KeyUsage: "KEY_AGREEMENT", KeyAgreementAlgorithms: ["ECDH"] });
    expect(createPublicKey({ key: await publicKeyOf(server, ECDH_KEY), format: "der", type: "spki" }).asymmetricKeyDetails?.namedCurve).toBe("secp384r1");
  });

  it("origin EXTERNAL imports any importable spec's material, as ImportKeyMaterial does", async () => {
    const kms = server.kms();
    expect((await kms.send(new DescribeKeyCommand({ KeyId: IMPORTED_HMAC_KEY }))).KeyMetadata).toMatchObject({
      Origin: "EXTERNAL",
      KeyState: "Enabled",
      ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE",
    });
    const message = Buffer.from("imported by a seed");
    const { Mac } = await kms.send(new GenerateMacCommand({ KeyId: IMPORTED_HMAC_KEY, Message: message, MacAlgorithm: "HMAC_SHA_256" }));
    expect(Buffer.from(Mac!)).toEqual(createHmac("sha256", hmacMaterial).update(message).digest());
  });

  it("a reset seeds the same material again", async () => {
    await server.reset();
    expect((await publicKeyOf(server, RSA_KEY)).equals(spkiOf(rsa))).toBe(true);
    expect((await publicKeyOf(server, ED25519_KEY)).equals(spkiOf(ed25519))).toBe(true);
  });

  it("the stored backing keys sign and MAC as node:crypto does with the seeded material", async () => {
    const dataDir = server.dataDir;
    await server.stop();
    const records = await withStore(dataDir, async (store) => {
      const read = async (keyId: string): Promise<KmsKeyRecord> => (await store.get<KmsKeyRecord>(recordKey({ account: ACCOUNT, region: REGION }, "kms", "kms-key", keyId)))!;
      return { rsa: await read(RSA_KEY), p256: await read(P256_KEY), ed25519: await read(ED25519_KEY), hmac: await read(HMAC_KEY) };
    });
    const keyStore = await openPkcs11KeyStore(await testSoftHsm());
    try {
      const ref = (record: KmsKeyRecord) => ({ id: `seeded-${record.keyId}`, spec: record.keySpec as BackingKeySpec, wrapped: Buffer.from(record.backingKeys[0]!.wrapped, "base64") });
      const message = Buffer.from("seeded material signs as node does");
      const raw = { messageType: "RAW" as const, message };
      // PKCS#1 v1.5 and Ed25519 are deterministic: the very same bytes. ECDSA is not: it verifies with the seeded key's public half.
      expect((await keyStore.sign(ref(records.rsa), "RSASSA_PKCS1_V1_5_SHA_256", raw)).equals(nodeSign("sha256", message, rsa))).toBe(true);
      expect((await keyStore.sign(ref(records.ed25519), "ED25519_SHA_512", raw)).equals(nodeSign(null, message, ed25519))).toBe(true);
      expect(nodeVerify("sha256", message, createPublicKey(p256), await keyStore.sign(ref(records.p256), "ECDSA_SHA_256", raw))).toBe(true);
      expect((await keyStore.generateMac(ref(records.hmac), "HMAC_SHA_256", message)).equals(createHmac("sha256", hmacMaterial).update(message).digest())).toBe(true);
      // The material itself is nowhere in the stored records.
      expect(records.hmac.backingKeys[0]!.wrapped).not.toContain(hmacMaterial.toString("base64"));
      expect(Buffer.from(records.hmac.backingKeys[0]!.wrapped, "base64").includes(hmacMaterial)).toBe(false);
    } finally {
      await keyStore.close();
    }
  });
});

describe("bad seeds of asymmetric and HMAC keys stop the start, naming the key", () => {
  const key = "33333333-2222-4333-8444-555555555555";
  const p384Pem = pemOf(generateKeyPairSync("ec", { namedCurve: "secp384r1" }).privateKey);
  const indent = (pem: string): string => pem.trim().split("\n").map((line) => `          ${line}`).join("\n");
  const entry = (fields: string): string => `kms:\n  keys:\n    - keyId: ${key}\n${fields}`;
  const cases: Array<[string, string, RegExp]> = [
    [
      "material on another curve",
      entry(`      keySpec: ECC_NIST_P256\n      keyUsage: SIGN_VERIFY\n      keyMaterial:\n        pem: |\n${indent(p384Pem)}\n`),
      new RegExp(`seed\\.yaml: kms\\.keys\\[0\\]\\.keyMaterial\\.pem: key ${key}: The key material is an EC key on P-384, not an EC key on P-256 as ECC_NIST_P256 needs$`),
    ],
    [
      "an RSA key of another size, as base64 DER",
      entry(`      keySpec: RSA_3072\n      keyUsage: ENCRYPT_DECRYPT\n      keyMaterial: { base64: ${derBase64Of(rsa)} }\n`),
      new RegExp(`kms\\.keys\\[0\\]\\.keyMaterial\\.base64: key ${key}: The key material is an RSA key of 2048 bits, not an RSA key of 3072 bits as RSA_3072 needs$`),
    ],
    [
      "an RSA key for an Ed25519 key",
      entry(`      keySpec: ECC_NIST_EDWARDS25519\n      keyUsage: SIGN_VERIFY\n      keyMaterial: { base64: ${derBase64Of(rsa)} }\n`),
      /kms\.keys\[0\]\.keyMaterial\.base64: key 33333333-2222-4333-8444-555555555555: The key material is an RSA key of 2048 bits, not an Ed25519 key/,
    ],
    [
      "HMAC material of the wrong size",
      entry(`      keySpec: HMAC_384\n      keyUsage: GENERATE_VERIFY_MAC\n      keyMaterial: { base64: ${randomBytes(32).toString("base64")} }\n`),
      /kms\.keys\[0\]\.keyMaterial\.base64: must decode to 48 bytes of HMAC_384 key material, not 32$/,
    ],
    [
      "a PEM that is not PKCS#8 (PKCS#1), never quoted",
      entry(`      keySpec: RSA_2048\n      keyUsage: SIGN_VERIFY\n      keyMaterial:\n        pem: |\n${indent(rsa.export({ type: "pkcs1", format: "pem" }).toString())}\n`),
      /kms\.keys\[0\]\.keyMaterial\.pem: key 33333333-2222-4333-8444-555555555555: must be a PEM PKCS#8 private key \(-----BEGIN PRIVATE KEY-----\), unencrypted$/,
    ],
    [
      "a usage the spec does not have",
      entry("      keySpec: ECC_SECG_P256K1\n      keyUsage: KEY_AGREEMENT\n"),
      /kms\.keys\[0\]\.keyUsage: key 33333333-2222-4333-8444-555555555555: KeyUsage KEY_AGREEMENT is not compatible with KeySpec ECC_SECG_P256K1 \(ValidationException\)/,
    ],
    [
      "no usage for a spec without a default",
      entry("      keySpec: HMAC_256\n"),
      /kms\.keys\[0\]\.keyUsage: key 33333333-2222-4333-8444-555555555555: You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys\. \(ValidationException\)/,
    ],
    [
      "origin EXTERNAL for an ML-DSA key",
      entry("      keySpec: ML_DSA_65\n      keyUsage: SIGN_VERIFY\n      origin: EXTERNAL\n"),
      /kms\.keys\[0\]\.origin: key 33333333-2222-4333-8444-555555555555: You can't import key material for ML-DSA KMS keys.*\(UnsupportedOperationException\)/,
    ],
    [
      "material for ML-DSA",
      entry("      keySpec: ML_DSA_65\n      keyUsage: SIGN_VERIFY\n      keyMaterial: { base64: AAAA }\n"),
      /kms\.keys\[0\]\.keyMaterial: key 33333333-2222-4333-8444-555555555555: ML_DSA_65 keys take no keyMaterial/,
    ],
    [
      "rotation of an asymmetric key",
      entry("      keySpec: RSA_2048\n      keyUsage: SIGN_VERIFY\n      rotation: { enabled: true }\n"),
      /kms\.keys\[0\]\.rotation: key 33333333-2222-4333-8444-555555555555: only symmetric encryption keys rotate, not RSA_2048 keys/,
    ],
  ];

  it.each(cases)("%s", async (_name, text, message) => {
    const error = await startTestServer({ flags: ["--seed", writeSeed(text)] }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(message);
    // No line of the message carries the material.
    expect(error?.message).not.toMatch(/MII[A-Za-z0-9+/]{8}/);
  });
});

describe("--strict-hsm and seeds", () => {
  afterAll(closeCryptoWorkers);

  it("a seeded Ed25519 key stops the start with CreateKey's refusal, naming the entry", async () => {
    const file = writeSeed(`kms:\n  keys:\n    - keyId: ${ED25519_KEY}\n      keySpec: ECC_NIST_EDWARDS25519\n      keyUsage: SIGN_VERIFY\n`);
    await expect(startTestServer({ flags: ["--seed", file, "--strict-hsm"] })).rejects.toThrow(
      /seed\.yaml: kms\.keys\[0\]: KeySpec ECC_NIST_EDWARDS25519 is not supported by this key store with --strict-hsm: its private key would be used outside the token\. \(UnsupportedOperationException\)$/,
    );
  });

  it("seeds of token-held specs start as usual", async () => {
    const file = writeSeed({ kms: { keys: [seed.kms.keys[0], seed.kms.keys[1], seed.kms.keys[3]] } }, "seed.json");
    const server = await startTestServer({ flags: ["--seed", file, "--strict-hsm"] });
    try {
      expect((await publicKeyOf(server, P256_KEY)).equals(spkiOf(p256))).toBe(true);
    } finally {
      await server.close();
    }
  });
});
