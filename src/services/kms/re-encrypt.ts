// ReEncrypt: open a ciphertext and seal its plaintext under another (or the same) key and context, inside secretslite.
import type { ReEncryptRequest, ReEncryptResponse } from "@aws-sdk/client-kms";
import type { KmsRequestContext, Operation } from "./context";
import { parseCiphertext } from "./ciphertext";
import { dryRunSucceeded } from "./errors";
import { assertKeyState } from "./key-states";
import type { KmsKeyRecord } from "./key-record";
import { assertSymmetricAlgorithm, ciphertextKey, ignoresCiphertext, required } from "./symmetric";

export const reEncrypt: Operation<ReEncryptRequest, ReEncryptResponse> = async (input, ctx) => {
  if (ignoresCiphertext(input)) {
    // Without a ciphertext the source key must be named; both keys are checked as the real call would.
    const source = await ctx.kms.keys.resolve(ctx.scope, required(input.SourceKeyId, "sourceKeyId"), ctx.now);
    usableSource(source, input);
    await destination(ctx, input);
    throw dryRunSucceeded();
  }
  const parsed = parseCiphertext(required(input.CiphertextBlob, "ciphertextBlob"));
  const source = usableSource(await ciphertextKey(ctx, parsed, input.SourceKeyId), input);
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

function usableSource(source: KmsKeyRecord, input: ReEncryptRequest): KmsKeyRecord {
  assertKeyState("ReEncrypt", source);
  assertSymmetricAlgorithm(source, input.SourceEncryptionAlgorithm);
  return source;
}

async function destination(ctx: KmsRequestContext, input: ReEncryptRequest): Promise<KmsKeyRecord> {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.DestinationKeyId ?? "", ctx.now);
  assertKeyState("ReEncrypt", key);
  assertSymmetricAlgorithm(key, input.DestinationEncryptionAlgorithm);
  return key;
}
