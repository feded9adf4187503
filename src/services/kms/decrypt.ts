// Decrypt: open a ciphertext blob with the key and key material it names.
import type { DecryptRequest, DecryptResponse } from "@aws-sdk/client-kms";
import { parseCiphertext } from "./ciphertext";
import type { Operation } from "./context";
import { dryRunSucceeded } from "./errors";
import { ciphertextKey, ignoresCiphertext, refuseRecipient, required } from "./symmetric";

export const decrypt: Operation<DecryptRequest, DecryptResponse> = async (input, ctx) => {
  refuseRecipient(input.Recipient);
  const algorithm = input.EncryptionAlgorithm ?? "SYMMETRIC_DEFAULT";
  if (ignoresCiphertext(input)) {
    // Without a ciphertext the key must be named; everything but the ciphertext is checked.
    await ctx.kms.keys.usable(ctx, required(input.KeyId, "keyId"), "Decrypt", algorithm);
    throw dryRunSucceeded();
  }
  const parsed = parseCiphertext(required(input.CiphertextBlob, "ciphertextBlob"));
  const key = await ctx.kms.keys.usable(ctx, await ciphertextKey(ctx, parsed, input.KeyId), "Decrypt", algorithm);
  // Opened before the DryRun answer: a dry run with a wrong context must fail as the real call would.
  const { plaintext, keyMaterialId } = ctx.kms.ciphertexts.open(key, parsed, input.EncryptionContext);
  if (input.DryRun) {
    plaintext.fill(0);
    throw dryRunSucceeded();
  }
  ctx.kms.usage.record(ctx, key.keyId, "Decrypt");
  return { KeyId: key.arn, Plaintext: plaintext, EncryptionAlgorithm: "SYMMETRIC_DEFAULT", KeyMaterialId: keyMaterialId };
};
