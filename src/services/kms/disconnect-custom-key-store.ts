// DisconnectCustomKeyStore: logs out of the store's token; its keys are Unavailable until it connects again.
import type { DisconnectCustomKeyStoreRequest, DisconnectCustomKeyStoreResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";

export const disconnectCustomKeyStore: Operation<DisconnectCustomKeyStoreRequest, DisconnectCustomKeyStoreResponse> = async (input, ctx) => {
  await ctx.kms.customKeyStores.disconnect(ctx.scope, input.CustomKeyStoreId ?? "");
  return {};
};
