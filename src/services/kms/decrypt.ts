// Decrypt: open a ciphertext blob with the key and key material it names, or RSA ciphertext with the key the caller names.
import type { DecryptRequest, DecryptResponse } from "@aws-sdk/client-kms";
import { keyUse, parseCiphertext, type ParsedCiphertext } from "./ciphertext";
import type { KmsRequestContext, Operation } from "./context";
import { dryRunSucceeded } from "./errors";
import { refuseAsymmetricContext } from "./rsa-ciphertext";
import { ciphertextKey, ignoresCiphertext, refuseRecipient, required, unparsableCiphertext } from "./symmetric";

export const decrypt: Operation<DecryptRequest, DecryptResponse> = async (input, ctx) => {
  refuseRecipient(input.Recipient);
  const algorithm = input.EncryptionAlgorithm ?? "SYMMETRIC_DEFAULT";
  if (ignoresCiphertext(input)) {
    // Without a ciphertext the key must be named; everything but the ciphertext is checked.
    const key = await ctx.kms.keys.usable(ctx, required(input.KeyId, "keyId"), "Decrypt", algorithm);
    refuseAsymmetricContext(key, input.EncryptionContext);
    throw dryRunSucceeded();
  }
  // RSA ciphertext names no key: Decrypt "requires" KeyId and EncryptionAlgorithm for it (DecryptRequest.KeyId). Without
  // a KeyId the blob is read as a symmetric one, and RSA ciphertext fails that as AWS fails it: InvalidCiphertextException.
  if (algorithm !== "SYMMETRIC_DEFAULT" && input.KeyId !== undefined) return decryptAsymmetric(input, ctx, input.KeyId);
  const blob = required(input.CiphertextBlob, "ciphertextBlob");
  let parsed: ParsedCiphertext;
  try {
    parsed = parseCiphertext(blob);
  } catch (error) {
    throw await unparsableCiphertext(ctx, input.KeyId, "Decrypt", algorithm, error);
  }
  const key = await ctx.kms.keys.usable(ctx, await ciphertextKey(ctx, parsed, input.KeyId), "Decrypt", algorithm);
  // Opened before the DryRun answer: a dry run with a wrong context must fail as the real call would.
  const { plaintext, keyMaterialId } = await ctx.kms.ciphertexts.open(key, parsed, input.EncryptionContext, keyUse(ctx, "Decrypt"));
  if (input.DryRun) {
    plaintext.fill(0);
    throw dryRunSucceeded();
  }
  ctx.kms.usage.record(ctx, key.keyId, "Decrypt");
  return { KeyId: key.arn, Plaintext: plaintext, EncryptionAlgorithm: "SYMMETRIC_DEFAULT", KeyMaterialId: keyMaterialId };
};

/**
 * RSA-OAEP in the token with the named key. A ciphertext of another key or algorithm is InvalidCiphertextException with
 * no message, like every ciphertext AWS cannot open. No KeyMaterialId: it "is present only when the operation uses a
 * symmetric encryption KMS key" (DecryptResponse).
 */
async function decryptAsymmetric(input: DecryptRequest, ctx: KmsRequestContext, keyId: string): Promise<DecryptResponse> {
  const algorithm = input.EncryptionAlgorithm ?? "SYMMETRIC_DEFAULT";
  const key = await ctx.kms.keys.usable(ctx, keyId, "Decrypt", algorithm);
  refuseAsymmetricContext(key, input.EncryptionContext);
  const plaintext = await ctx.kms.rsaCiphertexts.decrypt(key, algorithm, required(input.CiphertextBlob, "ciphertextBlob"));
  if (input.DryRun) {
    plaintext.fill(0);
    throw dryRunSucceeded();
  }
  ctx.kms.usage.record(ctx, key.keyId, "Decrypt");
  return { KeyId: key.arn, Plaintext: plaintext, EncryptionAlgorithm: algorithm };
}
