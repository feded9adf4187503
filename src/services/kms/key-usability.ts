// Whether a KMS key may serve a cryptographic operation: its state, its key usage and the algorithm, in that order.
import { invalidKeyUsage, specNotValidFor } from "./errors";
import type { KmsKeyRecord } from "./key-record";
import { usageAlgorithms, type KmsKeyUsage, type UsageAlgorithms } from "./key-specs";
import { assertKeyState, type KeyStateOperation } from "./key-states";

/**
 * The key usage each cryptographic operation needs. An operation joins here together with its row in key-states.ts.
 */
const OPERATION_USAGE = {
  Encrypt: "ENCRYPT_DECRYPT",
  Decrypt: "ENCRYPT_DECRYPT",
  ReEncrypt: "ENCRYPT_DECRYPT",
  GenerateDataKey: "ENCRYPT_DECRYPT",
  GenerateDataKeyWithoutPlaintext: "ENCRYPT_DECRYPT",
  GenerateDataKeyPair: "ENCRYPT_DECRYPT",
  GenerateDataKeyPairWithoutPlaintext: "ENCRYPT_DECRYPT",
  Sign: "SIGN_VERIFY",
  Verify: "SIGN_VERIFY",
  GenerateMac: "GENERATE_VERIFY_MAC",
  VerifyMac: "GENERATE_VERIFY_MAC",
  DeriveSharedSecret: "KEY_AGREEMENT",
} as const satisfies Partial<Record<KeyStateOperation, KmsKeyUsage>>;

export type CryptoOperation = keyof typeof OPERATION_USAGE;

/**
 * The operations that seal what they make under the key with AES-GCM, so an RSA ENCRYPT_DECRYPT key cannot serve them
 * ("The KMS key you specify must be a symmetric encryption KMS key", GenerateDataKey, GenerateDataKeyPair…).
 */
const SYMMETRIC_ONLY: ReadonlySet<CryptoOperation> = new Set<CryptoOperation>([
  "GenerateDataKey",
  "GenerateDataKeyWithoutPlaintext",
  "GenerateDataKeyPair",
  "GenerateDataKeyPairWithoutPlaintext",
]);

/** The algorithms an operation can name: its key usage's kind (EncryptionAlgorithmSpec for Encrypt, SigningAlgorithmSpec for Sign…). */
export type OperationAlgorithm<O extends CryptoOperation> = NonNullable<UsageAlgorithms[(typeof OPERATION_USAGE)[O]]>[number];

/**
 * Throws AWS's answer when `key` cannot serve `operation` with `algorithm` (the one the request names, or the one the
 * operation implies when it names none); KmsKeys.usable is the way in.
 *
 * - State: the key-state table (key-states.ts).
 * - Usage: InvalidKeyUsageException "<key-arn> key usage is ENCRYPT_DECRYPT which is not valid for Verify." (recorded
 *   AWS answer).
 * - Algorithm: InvalidKeyUsageException "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224." (recorded), the
 *   form "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_4096." also takes (a real answer quoted in
 *   zalando/spring-cloud-config-aws-kms#82). A symmetric key takes only SYMMETRIC_DEFAULT. The data key operations name
 *   no algorithm of their own, so an RSA key is refused by its spec instead (specNotValidFor, errors.ts).
 */
export function assertUsable<O extends CryptoOperation>(key: KmsKeyRecord, operation: O, algorithm?: OperationAlgorithm<O>): void {
  assertKeyState(operation, key);
  const mismatch = kindMismatch(key, operation);
  if (mismatch === "usage") throw invalidKeyUsage(`${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`);
  if (mismatch === "spec") throw specNotValidFor(key.arn, key.keySpec, operation);
  if (algorithm !== undefined && !usageAlgorithms(key.keySpec, OPERATION_USAGE[operation]).includes(algorithm)) {
    throw invalidKeyUsage(`Algorithm ${algorithm} is incompatible with key spec ${key.keySpec}.`);
  }
  // Access control (issue 13) decides after these checks, in KmsKeys.usable: key policy, IAM policies, and the grants
  // of the key (KmsGrants) whose grantee is the caller and whose operations and constraints allow this request.
}

/**
 * Whether a key of this type can perform `operation` at all, whatever its state: "usage" when its key usage rules it
 * out, "spec" when its spec does (the symmetric-only operations on an RSA key). CreateGrant's per-key-type rules
 * (grant-operations.ts) ask the same question.
 */
export function kindMismatch(key: Pick<KmsKeyRecord, "keyUsage" | "keySpec">, operation: CryptoOperation): "usage" | "spec" | undefined {
  const usage: KmsKeyUsage = OPERATION_USAGE[operation];
  if (key.keyUsage !== usage) return "usage";
  if (key.keySpec !== "SYMMETRIC_DEFAULT" && SYMMETRIC_ONLY.has(operation)) return "spec";
  return undefined;
}
