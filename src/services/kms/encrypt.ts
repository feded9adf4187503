// Encrypt: seal up to 4,096 bytes under a symmetric KMS key, or RSA-OAEP encrypt a few hundred under an RSA key.
import type { EncryptRequest, EncryptResponse } from "@aws-sdk/client-kms";
import { keyUse } from "./ciphertext";
import type { KmsRequestContext, Operation } from "./context";
import { dryRunSucceeded } from "./errors";
import type { KmsKeyRecord } from "./key-record";
import { assertRsaPlaintextFits, refuseAsymmetricContext } from "./rsa-ciphertext";

export const encrypt: Operation<EncryptRequest, EncryptResponse> = async (input, ctx) => {
  // "The default algorithm is SYMMETRIC_DEFAULT" (EncryptRequest.EncryptionAlgorithm): an RSA key needs one named.
  const key = await ctx.kms.keys.usable(ctx, input.KeyId ?? "", "Encrypt", input.EncryptionAlgorithm ?? "SYMMETRIC_DEFAULT");
  if (key.keySpec !== "SYMMETRIC_DEFAULT") return encryptAsymmetric(input, ctx, key);
  if (input.DryRun) throw dryRunSucceeded();
  // GrantTokens were checked before this runs (grant-tokens.ts); grants allow nothing until access control lands.
  const { blob } = await ctx.kms.ciphertexts.seal(key, input.Plaintext ?? new Uint8Array(0), input.EncryptionContext, keyUse(ctx, "Encrypt"));
  ctx.kms.usage.record(ctx, key.keyId, "Encrypt");
  return { CiphertextBlob: blob, KeyId: key.arn, EncryptionAlgorithm: "SYMMETRIC_DEFAULT" };
};

/** usable() has matched the algorithm to the key, so it is an RSAES_OAEP_* one here. No KeyMaterialId: Encrypt has none. */
function encryptAsymmetric(input: EncryptRequest, ctx: KmsRequestContext, key: KmsKeyRecord): EncryptResponse {
  const algorithm = input.EncryptionAlgorithm ?? "SYMMETRIC_DEFAULT";
  const plaintext = input.Plaintext ?? new Uint8Array(0);
  // Checked before the DryRun answer: a dry run must fail as the real call would.
  refuseAsymmetricContext(key, input.EncryptionContext);
  assertRsaPlaintextFits(key, algorithm, plaintext.length);
  if (input.DryRun) throw dryRunSucceeded();
  const ciphertext = ctx.kms.rsaCiphertexts.encrypt(key, algorithm, plaintext);
  ctx.kms.usage.record(ctx, key.keyId, "Encrypt");
  return { CiphertextBlob: ciphertext, KeyId: key.arn, EncryptionAlgorithm: algorithm };
}
