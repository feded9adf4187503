// ReEncrypt: open a ciphertext and seal its plaintext under another (or the same) key and context, inside secretslite.
import type { ReEncryptRequest, ReEncryptResponse } from "@aws-sdk/client-kms";
import type { KmsRequestContext, Operation } from "./context";
import { parseCiphertext } from "./ciphertext";
import { dryRunSucceeded } from "./errors";
import type { KmsKeyRecord } from "./key-record";
import { ciphertextKey, ignoresCiphertext, required } from "./symmetric";

export const reEncrypt: Operation<ReEncryptRequest, ReEncryptResponse> = async (input, ctx) => {
  if (ignoresCiphertext(input)) {
    // Without a ciphertext the source key must be named; both keys are checked as the real call would.
    await usableSource(ctx, required(input.SourceKeyId, "sourceKeyId"), input);
    await destination(ctx, input);
    throw dryRunSucceeded();
  }
  const parsed = parseCiphertext(required(input.CiphertextBlob, "ciphertextBlob"));
  const source = await usableSource(ctx, await ciphertextKey(ctx, parsed, input.SourceKeyId), input);
  const target = await destination(ctx, input);
  const opened = ctx.kms.ciphertexts.open(source, parsed, input.SourceEncryptionContext);
  let sealed: { blob: Buffer; keyMaterialId: string };
  try {
    if (input.DryRun) throw dryRunSucceeded();
    sealed = ctx.kms.ciphertexts.seal(target, opened.plaintext, input.DestinationEncryptionContext);
  } finally {
    // The plaintext never leaves secretslite: that is the point of ReEncrypt.
    opened.plaintext.fill(0);
  }
  ctx.kms.usage.record(ctx, source.keyId, "ReEncrypt");
  if (target.keyId !== source.keyId) ctx.kms.usage.record(ctx, target.keyId, "ReEncrypt");
  return {
    CiphertextBlob: sealed.blob,
    SourceKeyId: source.arn,
    KeyId: target.arn,
    SourceEncryptionAlgorithm: "SYMMETRIC_DEFAULT",
    DestinationEncryptionAlgorithm: "SYMMETRIC_DEFAULT",
    SourceKeyMaterialId: opened.keyMaterialId,
    DestinationKeyMaterialId: sealed.keyMaterialId,
  };
};

/** Both algorithms default to SYMMETRIC_DEFAULT (ReEncryptRequest). */
const usableSource = (ctx: KmsRequestContext, source: string | KmsKeyRecord, input: ReEncryptRequest): Promise<KmsKeyRecord> =>
  ctx.kms.keys.usable(ctx, source, "ReEncrypt", input.SourceEncryptionAlgorithm ?? "SYMMETRIC_DEFAULT");

const destination = (ctx: KmsRequestContext, input: ReEncryptRequest): Promise<KmsKeyRecord> =>
  ctx.kms.keys.usable(ctx, input.DestinationKeyId ?? "", "ReEncrypt", input.DestinationEncryptionAlgorithm ?? "SYMMETRIC_DEFAULT");
