// ConnectCustomKeyStore: answers at once; the store is CONNECTING until its token is logged in to, then CONNECTED or FAILED.
import type { ConnectCustomKeyStoreRequest, ConnectCustomKeyStoreResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";

export const connectCustomKeyStore: Operation<ConnectCustomKeyStoreRequest, ConnectCustomKeyStoreResponse> = async (input, ctx) => {
  // AWS changes the kmsuser password on connect; secretslite never changes the token's PIN (README).
  await ctx.kms.customKeyStores.connect(ctx.scope, input.CustomKeyStoreId ?? "");
  return {};
};
