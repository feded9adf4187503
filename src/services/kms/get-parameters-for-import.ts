// GetParametersForImport: a wrapping public key from the token and an import token bound to it, valid 24 hours.
import type { GetParametersForImportRequest, GetParametersForImportResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { assertImportable, assertWrappingAllowed } from "./key-import";
import type { WrappingKeyRecord } from "./key-record";

export const getParametersForImport: Operation<GetParametersForImportRequest, GetParametersForImportResponse> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  assertImportable(key, "GetParametersForImport");
  const spec = input.WrappingKeySpec ?? "";
  const algorithm = input.WrappingAlgorithm ?? "";
  assertWrappingAllowed(key, spec, algorithm);
  const parameters = await ctx.kms.imports.parameters(ctx.scope, key, spec as WrappingKeyRecord["spec"], algorithm, ctx.now);
  return { KeyId: key.arn, ImportToken: parameters.importToken, PublicKey: parameters.publicKey, ParametersValidTo: parameters.validTo };
};
