// ReEncrypt: open a ciphertext and seal its plaintext under another (or the same) key and context, inside secretslite; either side may be RSA.
import type { EncryptionAlgorithmSpec, ReEncryptRequest, ReEncryptResponse } from "@aws-sdk/client-kms";
import type { KmsRequestContext, Operation } from "./context";
import { keyUse, parseCiphertext, type ParsedCiphertext } from "./ciphertext";
import { dryRunSucceeded } from "./errors";
import type { KmsKeyRecord } from "./key-record";
import { assertRsaPlaintextFits, refuseAsymmetricContext } from "./rsa-ciphertext";
import { ciphertextKey, ignoresCiphertext, required, unparsableCiphertext } from "./symmetric";

export const reEncrypt: Operation<ReEncryptRequest, ReEncryptResponse> = async (input, ctx) => {
  // Both algorithms default to SYMMETRIC_DEFAULT (ReEncryptRequest).
  const sourceAlgorithm = input.SourceEncryptionAlgorithm ?? "SYMMETRIC_DEFAULT";
  if (ignoresCiphertext(input)) {
    // Without a ciphertext the source key must be named; both keys are checked as the real call would.
    const source = await ctx.kms.keys.usable(ctx, required(input.SourceKeyId, "sourceKeyId"), "ReEncrypt", sourceAlgorithm);
    refuseAsymmetricContext(source, input.SourceEncryptionContext);
    await destination(ctx, input);
    throw dryRunSucceeded();
  }
  const blob = required(input.CiphertextBlob, "ciphertextBlob");
  // RSA ciphertext names no key: "SourceKeyId … is required only when the ciphertext was encrypted under an
  // asymmetric KMS key". Without it the blob is read as a symmetric one, as in Decrypt.
  const rsaSourceKeyId = sourceAlgorithm === "SYMMETRIC_DEFAULT" ? undefined : input.SourceKeyId;
  let parsed: ParsedCiphertext | undefined;
  let source: KmsKeyRecord;
  if (rsaSourceKeyId !== undefined) {
    source = await ctx.kms.keys.usable(ctx, rsaSourceKeyId, "ReEncrypt", sourceAlgorithm);
    refuseAsymmetricContext(source, input.SourceEncryptionContext);
  } else {
    try {
      parsed = parseCiphertext(blob);
    } catch (error) {
      throw await unparsableCiphertext(ctx, input.SourceKeyId, "ReEncrypt", sourceAlgorithm, error);
    }
    source = await ctx.kms.keys.usable(ctx, await ciphertextKey(ctx, parsed, input.SourceKeyId), "ReEncrypt", sourceAlgorithm);
  }
  const target = await destination(ctx, input);
  const opened =
    parsed === undefined
      ? { plaintext: await ctx.kms.rsaCiphertexts.decrypt(source, sourceAlgorithm, blob), keyMaterialId: undefined }
      : await ctx.kms.ciphertexts.open(source, parsed, input.SourceEncryptionContext, keyUse(ctx, "ReEncrypt"));
  let sealed: { blob: Buffer; keyMaterialId: string | undefined };
  try {
    sealed = await sealFor(ctx, target, input, opened.plaintext);
  } finally {
    // The plaintext never leaves secretslite: that is the point of ReEncrypt.
    opened.plaintext.fill(0);
  }
  ctx.kms.usage.record(ctx, source.keyId, "ReEncrypt");
  if (target.keyId !== source.keyId) ctx.kms.usage.record(ctx, target.keyId, "ReEncrypt");
  // The KeyMaterialIds are "present only when" that side used a symmetric encryption KMS key (ReEncryptResponse).
  return {
    CiphertextBlob: sealed.blob,
    SourceKeyId: source.arn,
    KeyId: target.arn,
    SourceEncryptionAlgorithm: sourceAlgorithm,
    DestinationEncryptionAlgorithm: destinationAlgorithm(input),
    SourceKeyMaterialId: opened.keyMaterialId,
    DestinationKeyMaterialId: sealed.keyMaterialId,
  };
};

const destinationAlgorithm = (input: ReEncryptRequest): EncryptionAlgorithmSpec => input.DestinationEncryptionAlgorithm ?? "SYMMETRIC_DEFAULT";

async function destination(ctx: KmsRequestContext, input: ReEncryptRequest): Promise<KmsKeyRecord> {
  const target = await ctx.kms.keys.usable(ctx, input.DestinationKeyId ?? "", "ReEncrypt", destinationAlgorithm(input));
  refuseAsymmetricContext(target, input.DestinationEncryptionContext);
  return target;
}

/** The destination's ciphertext; an RSA destination has Encrypt's OAEP limit, checked before the DryRun answer. */
async function sealFor(ctx: KmsRequestContext, target: KmsKeyRecord, input: ReEncryptRequest, plaintext: Buffer): Promise<{ blob: Buffer; keyMaterialId: string | undefined }> {
  if (target.keySpec === "SYMMETRIC_DEFAULT") {
    if (input.DryRun) throw dryRunSucceeded();
    return ctx.kms.ciphertexts.seal(target, plaintext, input.DestinationEncryptionContext, keyUse(ctx, "ReEncrypt"));
  }
  const algorithm = destinationAlgorithm(input);
  assertRsaPlaintextFits(target, algorithm, plaintext.length);
  if (input.DryRun) throw dryRunSucceeded();
  return { blob: ctx.kms.rsaCiphertexts.encrypt(target, algorithm, plaintext), keyMaterialId: undefined };
}
