// DescribeKey: a key's metadata by any identifier form; first use of an `alias/aws/*` alias creates its key.
import type { DescribeKeyRequest, DescribeKeyResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { assertKeyState } from "./key-states";
import { keyMetadata } from "./key-metadata";

export const describeKey: Operation<DescribeKeyRequest, DescribeKeyResponse> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now);
  assertKeyState("DescribeKey", key);
  return { KeyMetadata: keyMetadata(ctx.kms.keys.presented(key)) };
};
