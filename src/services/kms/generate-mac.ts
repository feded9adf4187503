// GenerateMac: the HMAC of up to 4,096 bytes under an HMAC KMS key.
import type { GenerateMacRequest, GenerateMacResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { dryRunSucceeded } from "./errors";
import { required } from "./symmetric";

export const generateMac: Operation<GenerateMacRequest, GenerateMacResponse> = async (input, ctx) => {
  // MacAlgorithm is required by the model, so validation has refused a request without it; required() only narrows.
  const algorithm = required(input.MacAlgorithm, "macAlgorithm");
  const key = await ctx.kms.keys.usable(ctx, input.KeyId ?? "", "GenerateMac", algorithm);
  if (input.DryRun) throw dryRunSucceeded();
  // GrantTokens were checked before this runs (grant-tokens.ts); grants allow nothing until access control lands.
  const mac = await ctx.kms.macs.generate(key, algorithm, input.Message ?? new Uint8Array(0));
  ctx.kms.usage.record(ctx, key.keyId, "GenerateMac");
  return { Mac: mac, MacAlgorithm: algorithm, KeyId: key.arn };
};
