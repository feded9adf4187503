// GenerateDataKeyWithoutPlaintext: a fresh data key returned only sealed under a KMS key.
import { randomBytes } from "node:crypto";
import { keyUse } from "./ciphertext";
import type { GenerateDataKeyWithoutPlaintextRequest, GenerateDataKeyWithoutPlaintextResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { dryRunSucceeded } from "./errors";
import { dataKeyLength } from "./symmetric";

export const generateDataKeyWithoutPlaintext: Operation<
  GenerateDataKeyWithoutPlaintextRequest,
  GenerateDataKeyWithoutPlaintextResponse
> = async (input, ctx) => {
  const byteCount = dataKeyLength(input);
  // Sealed with SYMMETRIC_DEFAULT, as GenerateDataKey seals.
  const key = await ctx.kms.keys.usable(ctx, input.KeyId ?? "", "GenerateDataKeyWithoutPlaintext", "SYMMETRIC_DEFAULT");
  if (input.DryRun) throw dryRunSucceeded();
  const plaintext = randomBytes(byteCount);
  const { blob, keyMaterialId } = await ctx.kms.ciphertexts.seal(key, plaintext, input.EncryptionContext, keyUse(ctx, "GenerateDataKeyWithoutPlaintext"));
  // Nobody ever sees this copy.
  plaintext.fill(0);
  ctx.kms.usage.record(ctx, key.keyId, "GenerateDataKeyWithoutPlaintext");
  return { CiphertextBlob: blob, KeyId: key.arn, KeyMaterialId: keyMaterialId };
};
