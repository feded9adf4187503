// Verify: whether a signature is the key's over a message, its digest, or an ML-DSA μ; a signature that is not fails the call.
import type { VerifyRequest, VerifyResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { dryRunSucceeded, invalidSignature } from "./errors";
import { signInput } from "./signatures";
import { required } from "./symmetric";

export const verify: Operation<VerifyRequest, VerifyResponse> = async (input, ctx) => {
  // Required by the model, so validation has refused a request without it already.
  const algorithm = required(input.SigningAlgorithm, "signingAlgorithm");
  const key = await ctx.kms.keys.usable(ctx, input.KeyId ?? "", "Verify", algorithm);
  // "The message type does not need to be the same as the one used for signing" (Verify): RAW verifies a DIGEST's
  // signature and the other way round, since both sign the same hash.
  const message = signInput(algorithm, input.MessageType, input.Message ?? new Uint8Array(0));
  // Checked before the DryRun answer, as Decrypt opens its ciphertext first: a dry run fails as the real call would,
  // and Verify reveals nothing a dry run should keep back (the public key is anyone's through GetPublicKey).
  // AWS never answers SignatureValid false: a signature that does not verify, in any form, is this exception.
  if (!(await ctx.kms.signatures.verify(key, algorithm, message, input.Signature ?? new Uint8Array(0)))) throw invalidSignature();
  if (input.DryRun) throw dryRunSucceeded();
  // GrantTokens were checked before this runs (grant-tokens.ts); grants allow nothing until access control lands.
  ctx.kms.usage.record(ctx, key.keyId, "Verify");
  return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: algorithm };
};
