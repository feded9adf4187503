// DescribeKey's KeyMetadata for every kind of key record: the algorithm list its usage calls for, and nothing else.
import { readFileSync } from "node:fs";
import path from "node:path";
import { algorithmLists, keyMetadata } from "../../src/services/kms/key-metadata";
import { newKeyRecord, type KmsKeyRecord } from "../../src/services/kms/key-record";
import type { KmsKeySpec, KmsKeyUsage } from "../../src/services/kms/key-specs";

const scope = { account: "111122223333", region: "us-east-2", partition: "aws" };
const LISTS = ["EncryptionAlgorithms", "SigningAlgorithms", "MacAlgorithms", "KeyAgreementAlgorithms"] as const;

/** A stored record as a later CreateKey will write it for `keySpec` and `keyUsage`; today CreateKey makes symmetric ones only. */
const recordOf = (keySpec: KmsKeySpec, keyUsage: KmsKeyUsage): KmsKeyRecord => ({
  ...newKeyRecord(scope, new Date("2026-01-01T00:00:00Z"), {}, [{ id: "a".repeat(64), wrapped: "", createdAt: 0 }]),
  keySpec,
  keyUsage,
});

const listsIn = (metadata: object): string[] => LISTS.filter((member) => (metadata as unknown as Record<string, unknown>)[member] !== undefined);

describe("keyMetadata", () => {
  it("keeps a symmetric key's metadata as it always was", () => {
    const metadata = keyMetadata(recordOf("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"));
    expect(metadata.EncryptionAlgorithms).toEqual(["SYMMETRIC_DEFAULT"]);
    expect(listsIn(metadata)).toEqual(["EncryptionAlgorithms"]);
    expect(metadata.KeySpec).toBe("SYMMETRIC_DEFAULT");
    expect(metadata.CustomerMasterKeySpec).toBe("SYMMETRIC_DEFAULT");
    expect(Object.keys(metadata).filter((member) => (metadata as unknown as Record<string, unknown>)[member] !== undefined)).toEqual([
      "AWSAccountId",
      "KeyId",
      "Arn",
      "CreationDate",
      "Enabled",
      "Description",
      "KeyUsage",
      "KeyState",
      "Origin",
      "KeyManager",
      "CustomerMasterKeySpec",
      "KeySpec",
      "EncryptionAlgorithms",
      "MultiRegion",
      "CurrentKeyMaterialId",
    ]);
  });

  it("lists only the algorithms of the key's usage", () => {
    const cases: Array<[KmsKeySpec, KmsKeyUsage, string, string[]]> = [
      ["RSA_3072", "ENCRYPT_DECRYPT", "EncryptionAlgorithms", ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]],
      [
        "RSA_2048",
        "SIGN_VERIFY",
        "SigningAlgorithms",
        ["RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512", "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512"],
      ],
      ["ECC_NIST_P384", "SIGN_VERIFY", "SigningAlgorithms", ["ECDSA_SHA_384"]],
      ["ECC_NIST_P256", "KEY_AGREEMENT", "KeyAgreementAlgorithms", ["ECDH"]],
      ["HMAC_224", "GENERATE_VERIFY_MAC", "MacAlgorithms", ["HMAC_SHA_224"]],
      ["ECC_NIST_EDWARDS25519", "SIGN_VERIFY", "SigningAlgorithms", ["ED25519_SHA_512", "ED25519_PH_SHA_512"]],
      ["ML_DSA_87", "SIGN_VERIFY", "SigningAlgorithms", ["ML_DSA_SHAKE_256"]],
    ];
    for (const [keySpec, keyUsage, list, algorithms] of cases) {
      const metadata = keyMetadata(recordOf(keySpec, keyUsage)) as unknown as Record<string, unknown>;
      expect([keySpec, keyUsage, listsIn(metadata), metadata[list]]).toEqual([keySpec, keyUsage, [list], algorithms]);
      expect(metadata.KeySpec).toBe(keySpec);
      expect(metadata.KeyUsage).toBe(keyUsage);
    }
  });

  it("leaves CustomerMasterKeySpec out for the specs its deprecated enum cannot name", () => {
    expect(keyMetadata(recordOf("ECC_NIST_EDWARDS25519", "SIGN_VERIFY")).CustomerMasterKeySpec).toBeUndefined();
    expect(keyMetadata(recordOf("ML_DSA_44", "SIGN_VERIFY")).CustomerMasterKeySpec).toBeUndefined();
    expect(keyMetadata(recordOf("HMAC_512", "GENERATE_VERIFY_MAC")).CustomerMasterKeySpec).toBe("HMAC_512");
  });

  it("answers as the model's examples do for each key they show", () => {
    const examples = JSON.parse(
      readFileSync(path.resolve(__dirname, "..", "..", "..", "shared", "aws-models", "kms", "examples-1.json"), "utf8"),
    ) as { examples: Record<string, Array<{ output?: Record<string, unknown> }>> };
    let compared = 0;
    for (const operation of ["CreateKey", "DescribeKey"]) {
      for (const example of examples.examples[operation] ?? []) {
        const shown = example.output?.KeyMetadata as Record<string, unknown> | undefined;
        if (shown === undefined || typeof shown.KeySpec !== "string") continue;
        const ours = algorithmLists({ keySpec: shown.KeySpec as KmsKeySpec, keyUsage: shown.KeyUsage as KmsKeyUsage }) as Record<string, unknown>;
        expect(Object.fromEntries(listsIn(ours).map((member) => [member, ours[member]]))).toEqual(
          Object.fromEntries(listsIn(shown).map((member) => [member, shown[member]])),
        );
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(8);
  });
});
