// GenerateRandom: 1 to 1,024 cryptographically secure random bytes, tied to no key.
import type { GenerateRandomRequest, GenerateRandomResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { customKeyStoreNotFound } from "./errors";
import { refuseRecipient } from "./symmetric";

export const generateRandom: Operation<GenerateRandomRequest, GenerateRandomResponse> = async (input, ctx) => {
  // secretslite has no custom key stores (CreateKey refuses them), so any id names one that does not exist.
  if (input.CustomKeyStoreId !== undefined) throw customKeyStoreNotFound(input.CustomKeyStoreId);
  refuseRecipient(input.Recipient);
  // The validation overlay makes NumberOfBytes required (1–1,024).
  return { Plaintext: ctx.kms.random(input.NumberOfBytes ?? 0) };
};
