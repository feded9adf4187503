// Sign: a signature over a message, its digest, or an ML-DSA μ, with the private key of an asymmetric signing key.
import type { SignRequest, SignResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { dryRunSucceeded } from "./errors";
import { signInput } from "./signatures";
import { required } from "./symmetric";

export const sign: Operation<SignRequest, SignResponse> = async (input, ctx) => {
  // Required by the model, so validation has refused a request without it already.
  const algorithm = required(input.SigningAlgorithm, "signingAlgorithm");
  // The key first (state, usage, algorithm), then the message: which of two faults AWS names first is not documented.
  const key = await ctx.kms.keys.usable(ctx, input.KeyId ?? "", "Sign", algorithm);
  const message = signInput(algorithm, input.MessageType, input.Message ?? new Uint8Array(0));
  if (input.DryRun) throw dryRunSucceeded();
  // GrantTokens were checked before this runs (grant-tokens.ts); grants allow nothing until access control lands.
  const signature = await ctx.kms.signatures.sign(key, algorithm, message);
  ctx.kms.usage.record(ctx, key.keyId, "Sign");
  return { KeyId: key.arn, Signature: signature, SigningAlgorithm: algorithm };
};
