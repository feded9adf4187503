// GenerateDataKey: a fresh data key, returned in plaintext and sealed under a KMS key.
import { randomBytes } from "node:crypto";
import { keyUse } from "./ciphertext";
import type { GenerateDataKeyRequest, GenerateDataKeyResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { dryRunSucceeded } from "./errors";
import { dataKeyLength, refuseRecipient } from "./symmetric";

export const generateDataKey: Operation<GenerateDataKeyRequest, GenerateDataKeyResponse> = async (input, ctx) => {
  const byteCount = dataKeyLength(input);
  refuseRecipient(input.Recipient);
  // The data key is sealed as Encrypt seals: with SYMMETRIC_DEFAULT, which the key must offer.
  const key = await ctx.kms.keys.usable(ctx, input.KeyId ?? "", "GenerateDataKey", "SYMMETRIC_DEFAULT");
  if (input.DryRun) throw dryRunSucceeded();
  // node's CSPRNG makes the data key so the hot path stays at one token call (the seal).
  const plaintext = randomBytes(byteCount);
  const { blob, keyMaterialId } = await ctx.kms.ciphertexts.seal(key, plaintext, input.EncryptionContext, keyUse(ctx, "GenerateDataKey"));
  ctx.kms.usage.record(ctx, key.keyId, "GenerateDataKey");
  return { CiphertextBlob: blob, Plaintext: plaintext, KeyId: key.arn, KeyMaterialId: keyMaterialId };
};
