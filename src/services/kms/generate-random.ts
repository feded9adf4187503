// GenerateRandom: 1 to 1,024 cryptographically secure random bytes, from the root key's token or a custom key store's.
import type { GenerateRandomRequest, GenerateRandomResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { refuseRecipient } from "./symmetric";

export const generateRandom: Operation<GenerateRandomRequest, GenerateRandomResponse> = async (input, ctx) => {
  refuseRecipient(input.Recipient);
  // The validation overlay makes NumberOfBytes required (1–1,024).
  const byteCount = input.NumberOfBytes ?? 0;
  // "To generate random bytes in an CloudHSM cluster … use the CustomKeyStoreId parameter" (the model); CONNECTED only.
  if (input.CustomKeyStoreId !== undefined) return { Plaintext: await ctx.kms.customKeyStores.random(ctx.scope, input.CustomKeyStoreId, byteCount) };
  return { Plaintext: ctx.kms.random(byteCount) };
};
