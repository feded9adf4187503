// The key-spec table against the KMS model's enums and examples, and its sizes against what node:crypto computes.
import { createECDH, createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  allowsUsage,
  KEY_SPECS,
  SIGNING_ALGORITHMS,
  usageAlgorithms,
  type KeySpecRow,
  type KmsKeySpec as KeySpec,
  type KmsKeyUsage as KeyUsageType,
} from "../../src/services/kms/key-specs";

interface ModelJson {
  shapes: Record<string, { enum?: string[] }>;
}
interface ExamplesJson {
  examples: Record<string, Array<{ output?: { KeyMetadata?: Record<string, unknown> } }>>;
}

const modelDir = path.resolve(__dirname, "..", "..", "..", "shared", "aws-models", "kms");
const model = JSON.parse(readFileSync(path.join(modelDir, "service-2.json"), "utf8")) as ModelJson;
const examples = JSON.parse(readFileSync(path.join(modelDir, "examples-1.json"), "utf8")) as ExamplesJson;

const modelEnum = (shape: string): string[] => {
  const values = model.shapes[shape]?.enum;
  if (values === undefined) throw new Error(`the model has no enum ${shape}`);
  return values;
};

/** Which model enum each key usage's algorithms come from. */
const ALGORITHM_ENUM: Record<KeyUsageType, string> = {
  ENCRYPT_DECRYPT: "EncryptionAlgorithmSpec",
  SIGN_VERIFY: "SigningAlgorithmSpec",
  GENERATE_VERIFY_MAC: "MacAlgorithmSpec",
  KEY_AGREEMENT: "KeyAgreementAlgorithmSpec",
};

const specs = Object.keys(KEY_SPECS) as KeySpec[];
const rows = Object.entries(KEY_SPECS) as Array<[KeySpec, KeySpecRow]>;

describe("the key-spec table", () => {
  it("has a row for every KeySpec of the model and nothing else", () => {
    expect([...specs].sort()).toEqual([...modelEnum("KeySpec")].sort());
  });

  it("lists only key usages and algorithms the model knows, and every algorithm of the model somewhere", () => {
    const usages = modelEnum("KeyUsageType");
    expect(Object.keys(ALGORITHM_ENUM).sort()).toEqual([...usages].sort());
    for (const [usage, shape] of Object.entries(ALGORITHM_ENUM) as Array<[KeyUsageType, string]>) {
      expect(usages).toContain(usage);
      const listed = new Set<string>();
      for (const spec of specs) for (const algorithm of usageAlgorithms(spec, usage)) listed.add(algorithm);
      for (const algorithm of listed) expect(modelEnum(shape)).toContain(algorithm);
      expect([...listed].sort()).toEqual([...modelEnum(shape)].sort());
    }
    for (const [, row] of rows) for (const usage of Object.keys(row.usages)) expect(usages).toContain(usage);
  });

  it("gives only SYMMETRIC_DEFAULT a default key usage, and lets only it rotate", () => {
    expect(rows.filter(([, row]) => row.defaultUsage !== undefined).map(([spec, row]) => [spec, row.defaultUsage])).toEqual([
      ["SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"],
    ]);
    expect(rows.filter(([, row]) => row.rotatable).map(([spec]) => spec)).toEqual(["SYMMETRIC_DEFAULT"]);
  });

  it("follows the key spec × key usage matrix", () => {
    const usagesOf = (spec: KeySpec): string[] => Object.keys(KEY_SPECS[spec].usages).sort();
    for (const spec of ["RSA_2048", "RSA_3072", "RSA_4096"] as const) expect(usagesOf(spec)).toEqual(["ENCRYPT_DECRYPT", "SIGN_VERIFY"]);
    for (const spec of ["ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521"] as const) expect(usagesOf(spec)).toEqual(["KEY_AGREEMENT", "SIGN_VERIFY"]);
    for (const spec of ["ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87"] as const) {
      expect(usagesOf(spec)).toEqual(["SIGN_VERIFY"]);
    }
    expect(usageAlgorithms("ECC_NIST_P256", "SIGN_VERIFY")).toEqual(["ECDSA_SHA_256"]);
    expect(usageAlgorithms("ECC_NIST_P384", "SIGN_VERIFY")).toEqual(["ECDSA_SHA_384"]);
    expect(usageAlgorithms("ECC_NIST_P521", "SIGN_VERIFY")).toEqual(["ECDSA_SHA_512"]);
    expect(usageAlgorithms("ECC_SECG_P256K1", "SIGN_VERIFY")).toEqual(["ECDSA_SHA_256"]);
    for (const bits of [224, 256, 384, 512]) {
      const spec = `HMAC_${bits}` as KeySpec;
      expect(usagesOf(spec)).toEqual(["GENERATE_VERIFY_MAC"]);
      expect(usageAlgorithms(spec, "GENERATE_VERIFY_MAC")).toEqual([`HMAC_SHA_${bits}`]);
    }
    expect(allowsUsage("RSA_2048", "KEY_AGREEMENT")).toBe(false);
    expect(usageAlgorithms("SYMMETRIC_DEFAULT", "SIGN_VERIFY")).toEqual([]);
    expect(KEY_SPECS.SM2.partition).toBe("aws-cn");
  });

  it("lists algorithms in the order of the model's DescribeKey, CreateKey and GetPublicKey examples", () => {
    let compared = 0;
    for (const entries of Object.values(examples.examples)) {
      for (const example of entries) {
        const metadata = example.output?.KeyMetadata;
        if (metadata === undefined || typeof metadata.KeySpec !== "string" || typeof metadata.KeyUsage !== "string") continue;
        const lists = ["EncryptionAlgorithms", "SigningAlgorithms", "MacAlgorithms", "KeyAgreementAlgorithms"];
        const listed = lists.find((member) => metadata[member] !== undefined);
        if (listed === undefined) continue;
        expect(usageAlgorithms(metadata.KeySpec as KeySpec, metadata.KeyUsage as KeyUsageType)).toEqual(metadata[listed]);
        compared++;
      }
    }
    // Symmetric, RSA encryption, RSA signing, P-521 signing and HMAC examples at least.
    expect(compared).toBeGreaterThanOrEqual(5);
  });

  it("names in CustomerMasterKeySpec exactly the specs that deprecated enum has", () => {
    const legacy = modelEnum("CustomerMasterKeySpec");
    for (const [spec, row] of rows) expect([spec, row.customerMasterKeySpec]).toEqual([spec, legacy.includes(spec)]);
  });

  it("gives RSAES_OAEP the plaintext limit k − 2·hLen − 2 of each key size", () => {
    const modulusBytes = { RSA_2048: 256, RSA_3072: 384, RSA_4096: 512 } as const;
    for (const [spec, k] of Object.entries(modulusBytes) as Array<[KeySpec, number]>) {
      expect(KEY_SPECS[spec].plaintextLimits).toEqual({ RSAES_OAEP_SHA_1: k - 2 * 20 - 2, RSAES_OAEP_SHA_256: k - 2 * 32 - 2 });
    }
    expect(KEY_SPECS.RSA_2048.plaintextLimits).toEqual({ RSAES_OAEP_SHA_1: 214, RSAES_OAEP_SHA_256: 190 });
    expect(KEY_SPECS.SYMMETRIC_DEFAULT.plaintextLimits).toEqual({ SYMMETRIC_DEFAULT: 4096 });
  });

  it("sizes HMAC keys and MACs as the hash of their algorithm does", () => {
    for (const bits of [224, 256, 384, 512]) {
      const hmac = KEY_SPECS[`HMAC_${bits}` as KeySpec].hmac;
      const macBytes = createHmac(`sha${bits}`, "key").update("message").digest().length;
      expect(hmac).toEqual({ keyBytes: macBytes, macBytes });
      expect(macBytes * 8).toBe(bits);
    }
  });

  it("sizes ECDH shared secrets as the curve's field", () => {
    const curves = { ECC_NIST_P256: "prime256v1", ECC_NIST_P384: "secp384r1", ECC_NIST_P521: "secp521r1" } as const;
    for (const [spec, curve] of Object.entries(curves) as Array<[KeySpec, string]>) {
      const ours = createECDH(curve);
      const theirs = createECDH(curve);
      ours.generateKeys();
      theirs.generateKeys();
      expect([spec, KEY_SPECS[spec].sharedSecretBytes]).toEqual([spec, ours.computeSecret(theirs.getPublicKey()).length]);
    }
    for (const [spec, row] of rows) expect([spec, row.sharedSecretBytes !== undefined]).toEqual([spec, allowsUsage(spec, "KEY_AGREEMENT")]);
  });
});

describe("the signing-algorithm table", () => {
  it("has a row for every SigningAlgorithmSpec of the model, with the model's message types only", () => {
    expect(Object.keys(SIGNING_ALGORITHMS).sort()).toEqual([...modelEnum("SigningAlgorithmSpec")].sort());
    for (const row of Object.values(SIGNING_ALGORITHMS)) {
      for (const messageType of Object.keys(row.messages)) expect(modelEnum("MessageType")).toContain(messageType);
    }
  });

  it("takes a DIGEST exactly as long as the named hash's output", () => {
    for (const [algorithm, row] of Object.entries(SIGNING_ALGORITHMS)) {
      if (row.messages.DIGEST === undefined || row.hash === "sm3" || row.hash === "shake256") continue;
      expect([algorithm, row.messages.DIGEST.exact]).toEqual([algorithm, createHash(row.hash).update("message").digest().length]);
    }
    expect(SIGNING_ALGORITHMS.ECDSA_SHA_256.messages.DIGEST).toEqual({ exact: 32 });
    expect(SIGNING_ALGORITHMS.ECDSA_SHA_384.messages.DIGEST).toEqual({ exact: 48 });
    expect(SIGNING_ALGORITHMS.ECDSA_SHA_512.messages.DIGEST).toEqual({ exact: 64 });
    expect(SIGNING_ALGORITHMS.SM2DSA.messages.DIGEST).toEqual({ exact: 32 });
  });

  it("keeps Ed25519's two algorithms to their one message type each, and ML-DSA to RAW or a 64-byte μ", () => {
    expect(SIGNING_ALGORITHMS.ED25519_SHA_512.messages).toEqual({ RAW: { max: 4096 } });
    expect(SIGNING_ALGORITHMS.ED25519_PH_SHA_512.messages).toEqual({ DIGEST: { exact: 64 } });
    expect(SIGNING_ALGORITHMS.ML_DSA_SHAKE_256.messages).toEqual({ RAW: { max: 4096 }, EXTERNAL_MU: { exact: 64 } });
    for (const [algorithm, row] of Object.entries(SIGNING_ALGORITHMS)) {
      expect([algorithm, row.messages.EXTERNAL_MU !== undefined]).toEqual([algorithm, algorithm === "ML_DSA_SHAKE_256"]);
    }
  });
});
