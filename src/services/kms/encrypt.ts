// Encrypt: seal up to 4,096 bytes under a symmetric KMS key.
import type { EncryptRequest, EncryptResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { dryRunSucceeded } from "./errors";
import { assertKeyState } from "./key-states";
import { assertSymmetricAlgorithm } from "./symmetric";

export const encrypt: Operation<EncryptRequest, EncryptResponse> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now);
  assertKeyState("Encrypt", key);
  assertSymmetricAlgorithm(key, input.EncryptionAlgorithm);
  if (input.DryRun) throw dryRunSucceeded();
  // GrantTokens are validated by the model and otherwise unused: secretslite has no grants to wait for.
  const { blob } = ctx.kms.ciphertexts.seal(key, input.Plaintext ?? new Uint8Array(0), input.EncryptionContext);
  ctx.kms.usage.record(ctx, key.keyId, "Encrypt");
  return { CiphertextBlob: blob, KeyId: key.arn, EncryptionAlgorithm: "SYMMETRIC_DEFAULT" };
};
