// CreateGrant's rules for what a grant may hold: the operations each key type allows, and encryption context constraints.
import type { GrantConstraints, GrantOperation } from "@aws-sdk/client-kms";
import { grantOnlyCreateGrant, grantOperationNotValid, grantValidation } from "./errors";
import type { KmsKeyRecord } from "./key-record";
import { KEY_SPECS } from "./key-specs";
import { kindMismatch, type CryptoOperation } from "./key-usability";

/**
 * The grant operations of the model secretslite serves (../shared/aws-models/kms GrantOperation). The SDK is newer and
 * adds the ML-KEM Encapsulate and Decapsulate, which validation refuses (the generated tables come from the model).
 */
export type KmsGrantOperation = Exclude<GrantOperation, "Encapsulate" | "Decapsulate">;

/**
 * What each grant operation needs of the key (KG "Grant operations"; CreateGrantRequest.Operations: "the operation must
 * be supported on the KMS key … you cannot create a grant for a symmetric encryption KMS key that allows the Sign
 * operation, or a grant for an asymmetric KMS key that allows the GenerateDataKey operation"):
 * - a cryptographic operation: a key that can perform it (its key usage, and for the data key operations a symmetric
 *   spec), the same question key-usability.ts answers for the operation itself; ReEncryptFrom/To are ReEncrypt's sides;
 * - GetPublicKey: an asymmetric key, of any usage;
 * - DescribeKey, CreateGrant, RetireGrant: every key.
 */
export const GRANT_OPERATION_NEEDS: Readonly<Record<KmsGrantOperation, CryptoOperation | "asymmetric" | "any">> = {
  Decrypt: "Decrypt",
  Encrypt: "Encrypt",
  GenerateDataKey: "GenerateDataKey",
  GenerateDataKeyWithoutPlaintext: "GenerateDataKeyWithoutPlaintext",
  GenerateDataKeyPair: "GenerateDataKeyPair",
  GenerateDataKeyPairWithoutPlaintext: "GenerateDataKeyPairWithoutPlaintext",
  ReEncryptFrom: "ReEncrypt",
  ReEncryptTo: "ReEncrypt",
  Sign: "Sign",
  Verify: "Verify",
  GenerateMac: "GenerateMac",
  VerifyMac: "VerifyMac",
  DeriveSharedSecret: "DeriveSharedSecret",
  GetPublicKey: "asymmetric",
  DescribeKey: "any",
  CreateGrant: "any",
  RetireGrant: "any",
};

/**
 * The operations an encryption context constraint applies to: the ones that take an EncryptionContext, which only a
 * symmetric encryption key serves (GrantConstraints: "KMS applies the grant constraints only to cryptographic
 * operations that support an encryption context"). CreateGrant passes a constraint on to the grants it makes.
 */
export const TAKES_CONTEXT: ReadonlySet<string> = new Set<KmsGrantOperation>([
  "Decrypt",
  "Encrypt",
  "GenerateDataKey",
  "GenerateDataKeyWithoutPlaintext",
  "GenerateDataKeyPair",
  "GenerateDataKeyPairWithoutPlaintext",
  "ReEncryptFrom",
  "ReEncryptTo",
]);

/** "Each constraint value can include up to 8 encryption context pairs … cannot exceed 384 characters" (CreateGrant). */
const MAX_CONSTRAINT_PAIRS = 8;
const MAX_CONSTRAINT_VALUE = 384;

/**
 * Refuses a grant the key cannot hold, with ValidationException throughout (the model's word). Order: an empty or
 * CreateGrant-only list, then each operation against the key, then the constraints.
 */
export function assertGrantFits(key: KmsKeyRecord, operations: readonly KmsGrantOperation[], constraints: GrantConstraints | undefined): void {
  // Our text: the model sets no minimum, and a grant that allows nothing is never what a caller meant.
  if (operations.length === 0) throw grantValidation("Grants must contain at least one operation.");
  if (operations.every((operation) => operation === "CreateGrant")) throw grantOnlyCreateGrant();
  for (const operation of operations) {
    const needs = GRANT_OPERATION_NEEDS[operation];
    if (needs === "any") continue;
    if (needs === "asymmetric") {
      if (KEY_SPECS[key.keySpec].kind !== "asymmetric") throw grantOperationNotValid(key.arn, "spec", key.keySpec, operation);
      continue;
    }
    const mismatch = kindMismatch(key, needs);
    if (mismatch !== undefined) throw grantOperationNotValid(key.arn, mismatch, mismatch === "usage" ? key.keyUsage : key.keySpec, operation);
  }
  // Constraints as storedConstraints leaves them: no member without pairs.
  if (constraints === undefined) return;
  const pairs = [constraints.EncryptionContextEquals, constraints.EncryptionContextSubset].filter((context) => context !== undefined);
  // "You cannot use an encryption context grant constraint for cryptographic operations with asymmetric KMS keys or
  // HMAC KMS keys" (CreateGrantRequest.Constraints); our texts.
  if (key.keySpec !== "SYMMETRIC_DEFAULT") {
    throw grantValidation("Grant constraints are supported only on grants for symmetric encryption KMS keys.");
  }
  if (!operations.some((operation) => TAKES_CONTEXT.has(operation))) {
    throw grantValidation("Grant constraints require an operation that takes an encryption context; DescribeKey, CreateGrant and RetireGrant do not.");
  }
  for (const context of pairs) {
    const entries = Object.entries(context);
    if (entries.length > MAX_CONSTRAINT_PAIRS) {
      throw grantValidation(`A grant constraint can include up to ${MAX_CONSTRAINT_PAIRS} encryption context pairs.`);
    }
    if (entries.some(([, value]) => value.length > MAX_CONSTRAINT_VALUE)) {
      throw grantValidation(`Encryption context values in a grant constraint cannot exceed ${MAX_CONSTRAINT_VALUE} characters.`);
    }
  }
}

/** Constraints as stored and listed: members without pairs left out, none at all when both are empty. */
export function storedConstraints(constraints: GrantConstraints | undefined): GrantConstraints | undefined {
  const equals = constraints?.EncryptionContextEquals;
  const subset = constraints?.EncryptionContextSubset;
  const stored: GrantConstraints = {
    ...(equals !== undefined && Object.keys(equals).length > 0 ? { EncryptionContextEquals: equals } : {}),
    ...(subset !== undefined && Object.keys(subset).length > 0 ? { EncryptionContextSubset: subset } : {}),
  };
  return Object.keys(stored).length === 0 ? undefined : stored;
}
