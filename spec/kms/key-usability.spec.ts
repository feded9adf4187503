// The one check before a key serves a cryptographic operation: state, then key usage, then algorithm, with AWS's answers.
import { assertUsable } from "../../src/services/kms/key-usability";
import { newKeyRecord, type KeyState, type KmsKeyRecord } from "../../src/services/kms/key-record";
import type { KmsKeySpec, KmsKeyUsage } from "../../src/services/kms/key-specs";

const scope = { account: "111122223333", region: "us-east-2", partition: "aws" };

/** Records as CreateKey will write them for every spec; today it makes symmetric ones only. */
const keyOf = (keySpec: KmsKeySpec, keyUsage: KmsKeyUsage, keyState: KeyState = "Enabled"): KmsKeyRecord => ({
  ...newKeyRecord(scope, new Date("2026-01-01T00:00:00Z"), {}, [{ id: "b".repeat(64), wrapped: "", createdAt: 0 }]),
  keySpec,
  keyUsage,
  keyState,
});

const refusal = (check: () => void): { code: string; message: string } | undefined => {
  try {
    check();
    return undefined;
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    return { code, message };
  }
};

describe("assertUsable", () => {
  it("lets an enabled symmetric key serve every symmetric operation with SYMMETRIC_DEFAULT or no algorithm named", () => {
    const symmetricKey = keyOf("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT");
    for (const operation of ["Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext"] as const) {
      expect(refusal(() => assertUsable(symmetricKey, operation, "SYMMETRIC_DEFAULT"))).toBeUndefined();
      expect(refusal(() => assertUsable(symmetricKey, operation))).toBeUndefined();
    }
  });

  it("refuses an RSA key in the operations that seal under a symmetric key, by its spec, after its usage", () => {
    const rsaEncryptionKey = keyOf("RSA_2048", "ENCRYPT_DECRYPT");
    for (const operation of ["GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext"] as const) {
      expect(refusal(() => assertUsable(rsaEncryptionKey, operation, "SYMMETRIC_DEFAULT"))).toEqual({
        code: "InvalidKeyUsageException",
        message: `${rsaEncryptionKey.arn} key spec is RSA_2048 which is not valid for ${operation}.`,
      });
    }
    const rsaSigningKey = keyOf("RSA_2048", "SIGN_VERIFY");
    expect(refusal(() => assertUsable(rsaSigningKey, "GenerateDataKeyPair", "SYMMETRIC_DEFAULT"))).toEqual({
      code: "InvalidKeyUsageException",
      message: `${rsaSigningKey.arn} key usage is SIGN_VERIFY which is not valid for GenerateDataKeyPair.`,
    });
  });

  it("refuses by key state first, whatever the usage and algorithm", () => {
    const disabledKey = keyOf("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "Disabled");
    expect(refusal(() => assertUsable(disabledKey, "Encrypt", "RSAES_OAEP_SHA_1"))).toEqual({
      code: "DisabledException",
      message: `${disabledKey.arn} is disabled.`,
    });
    const pendingSigningKey = keyOf("RSA_2048", "SIGN_VERIFY", "PendingDeletion");
    expect(refusal(() => assertUsable(pendingSigningKey, "Decrypt"))).toEqual({
      code: "KMSInvalidStateException",
      message: `${pendingSigningKey.arn} is pending deletion.`,
    });
  });

  it("refuses a key whose usage is not the operation's, naming both as AWS does", () => {
    const signingKey = keyOf("RSA_2048", "SIGN_VERIFY");
    expect(refusal(() => assertUsable(signingKey, "Encrypt", "RSAES_OAEP_SHA_256"))).toEqual({
      code: "InvalidKeyUsageException",
      message: `${signingKey.arn} key usage is SIGN_VERIFY which is not valid for Encrypt.`,
    });
    const macKey = keyOf("HMAC_224", "GENERATE_VERIFY_MAC");
    expect(refusal(() => assertUsable(macKey, "GenerateDataKey", "SYMMETRIC_DEFAULT"))).toEqual({
      code: "InvalidKeyUsageException",
      message: `${macKey.arn} key usage is GENERATE_VERIFY_MAC which is not valid for GenerateDataKey.`,
    });
  });

  it("refuses an algorithm the key's spec does not offer for its usage", () => {
    const symmetricKey = keyOf("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT");
    expect(refusal(() => assertUsable(symmetricKey, "Decrypt", "RSAES_OAEP_SHA_1"))).toEqual({
      code: "InvalidKeyUsageException",
      message: "Algorithm RSAES_OAEP_SHA_1 is incompatible with key spec SYMMETRIC_DEFAULT.",
    });
    const rsaEncryptionKey = keyOf("RSA_4096", "ENCRYPT_DECRYPT");
    expect(refusal(() => assertUsable(rsaEncryptionKey, "Encrypt", "SYMMETRIC_DEFAULT"))).toEqual({
      code: "InvalidKeyUsageException",
      message: "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_4096.",
    });
    for (const operation of ["Encrypt", "Decrypt", "ReEncrypt"] as const) {
      for (const algorithm of ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"] as const) {
        expect(refusal(() => assertUsable(rsaEncryptionKey, operation, algorithm))).toBeUndefined();
      }
    }
    expect(refusal(() => assertUsable(keyOf("SM2", "ENCRYPT_DECRYPT"), "ReEncrypt", "RSAES_OAEP_SHA_1"))).toEqual({
      code: "InvalidKeyUsageException",
      message: "Algorithm RSAES_OAEP_SHA_1 is incompatible with key spec SM2.",
    });
  });
});
