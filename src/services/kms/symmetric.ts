// Rules shared by the operations that use a symmetric encryption key: data key sizes, dry runs, recipients, the key a ciphertext names, blobs that do not parse.
import type { EncryptionAlgorithmSpec, RecipientInfo } from "@aws-sdk/client-kms";
import { AwsError, validationError } from "../../errors";
import type { KmsRequestContext } from "./context";
import type { ParsedCiphertext } from "./ciphertext";
import { ciphertextKeyNotFound, incorrectKey, unverifiableAttestation } from "./errors";
import type { KmsKeyRecord } from "./key-record";

/** GenerateDataKey and GenerateDataKeyWithoutPlaintext need exactly one of KeySpec and NumberOfBytes. */
export function dataKeyLength(input: { KeySpec?: string; NumberOfBytes?: number }): number {
  if (input.KeySpec !== undefined && input.NumberOfBytes !== undefined) {
    throw new AwsError("ValidationException", "Please specify either number of bytes or key spec.");
  }
  if (input.KeySpec === "AES_128") return 16;
  if (input.KeySpec === "AES_256") return 32;
  if (input.NumberOfBytes !== undefined) return input.NumberOfBytes;
  throw new AwsError("ValidationException", "Please specify either number of bytes or key spec.");
}

/**
 * Decrypt and ReEncrypt accept DryRunModifiers IGNORE_CIPHERTEXT: a dry run that checks the key and
 * permissions only, without a ciphertext. It means nothing without DryRun (the API reference: it "only
 * applies when DryRun is set to true").
 */
export const ignoresCiphertext = (input: { DryRun?: boolean; DryRunModifiers?: readonly string[] }): boolean =>
  input.DryRun === true && input.DryRunModifiers?.includes("IGNORE_CIPHERTEXT") === true;

/**
 * A member the model leaves optional but the operation needs here: CiphertextBlob (optional in the model
 * only for IGNORE_CIPHERTEXT dry runs), or the KeyId such a dry run must name. AWS's wording for it is not
 * published; this is the answer KMS gave while the model still marked CiphertextBlob required, which is the
 * closest documented behaviour.
 */
export function required<T>(value: T | undefined, path: string): T {
  if (value === undefined) throw validationError([`Value null at '${path}' failed to satisfy constraint: Member must not be null`]);
  return value;
}

/**
 * AWS answers a Recipient only after verifying its attestation document's signature chain up to the AWS
 * Nitro root; secretslite cannot verify real attestation, so every document is unverified to it and every
 * Recipient is refused. Handing back plaintext instead would break the one promise Recipient makes (only
 * the enclave can read the answer), and accepting unsigned documents would make a test pass that fails on
 * AWS. Which error AWS gives for a document it cannot verify is not published (no capture found); a bad
 * parameter is ValidationException in the KMS guide's DryRun section, so that is the closest answer.
 */
export function refuseRecipient(recipient: RecipientInfo | undefined): void {
  if (recipient !== undefined) throw unverifiableAttestation();
}

/**
 * The key a symmetric ciphertext names. A KeyId in the request (any identifier form, aliases included, as
 * the API reference allows) must resolve to that same key or the call fails with IncorrectKeyException.
 */
export async function ciphertextKey(ctx: KmsRequestContext, parsed: ParsedCiphertext, keyId: string | undefined): Promise<KmsKeyRecord> {
  if (keyId !== undefined) {
    const named = await ctx.kms.keys.resolve(ctx.scope, keyId, ctx.now);
    if (named.keyId !== parsed.keyId) throw incorrectKey();
    return named;
  }
  const key = await ctx.kms.keys.get(ctx.scope, parsed.keyId);
  if (key === undefined) throw ciphertextKeyNotFound();
  return key;
}

/**
 * The error for a ciphertext that is not a secretslite blob. With a KeyId naming a key that cannot take the algorithm
 * (an RSA key and the default SYMMETRIC_DEFAULT), that refusal is the answer ("Algorithm SYMMETRIC_DEFAULT is
 * incompatible with key spec RSA_2048."): AWS checks the named key before the ciphertext (inferred; no capture of
 * this case), and it tells the caller what to fix. Otherwise the parse error (InvalidCiphertextException). Only the
 * failure path pays for the key lookup, so the symmetric Decrypt stays as it was.
 */
export async function unparsableCiphertext(
  ctx: KmsRequestContext,
  keyId: string | undefined,
  operation: "Decrypt" | "ReEncrypt",
  algorithm: EncryptionAlgorithmSpec,
  error: unknown,
): Promise<unknown> {
  if (keyId !== undefined) await ctx.kms.keys.usable(ctx, keyId, operation, algorithm);
  return error;
}
