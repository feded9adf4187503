// VerifyMac: whether a MAC is the HMAC of a message under an HMAC KMS key; a MAC that is not fails, never MacValid false.
import type { VerifyMacRequest, VerifyMacResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { dryRunSucceeded } from "./errors";
import { required } from "./symmetric";

export const verifyMac: Operation<VerifyMacRequest, VerifyMacResponse> = async (input, ctx) => {
  // MacAlgorithm and Mac are required by the model, so validation has refused a request without them; required() only narrows.
  const algorithm = required(input.MacAlgorithm, "macAlgorithm");
  const key = await ctx.kms.keys.usable(ctx, input.KeyId ?? "", "VerifyMac", algorithm);
  // Checked before the DryRun answer, as Decrypt opens its ciphertext first: a dry run "verifies that the request
  // parameters are correctly specified" (the KMS guide), so one with a wrong MAC fails as the real call would.
  await ctx.kms.macs.verify(key, algorithm, input.Message ?? new Uint8Array(0), required(input.Mac, "mac"));
  if (input.DryRun) throw dryRunSucceeded();
  // GrantTokens were checked before this runs (grant-tokens.ts); grants allow nothing until access control lands.
  ctx.kms.usage.record(ctx, key.keyId, "VerifyMac");
  return { KeyId: key.arn, MacValid: true, MacAlgorithm: algorithm };
};
