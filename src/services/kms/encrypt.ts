// Encrypt: seal up to 4,096 bytes under a symmetric KMS key.
import type { EncryptRequest, EncryptResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { dryRunSucceeded } from "./errors";

export const encrypt: Operation<EncryptRequest, EncryptResponse> = async (input, ctx) => {
  // "The default algorithm is SYMMETRIC_DEFAULT" (EncryptRequest.EncryptionAlgorithm).
  const key = await ctx.kms.keys.usable(ctx, input.KeyId ?? "", "Encrypt", input.EncryptionAlgorithm ?? "SYMMETRIC_DEFAULT");
  if (input.DryRun) throw dryRunSucceeded();
  // GrantTokens are validated by the model and otherwise unused: secretslite has no grants to wait for.
  const { blob } = ctx.kms.ciphertexts.seal(key, input.Plaintext ?? new Uint8Array(0), input.EncryptionContext);
  ctx.kms.usage.record(ctx, key.keyId, "Encrypt");
  return { CiphertextBlob: blob, KeyId: key.arn, EncryptionAlgorithm: "SYMMETRIC_DEFAULT" };
};
