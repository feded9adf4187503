// DeleteCustomKeyStore: a DISCONNECTED store without KMS keys; the token and its objects are left as they are.
import type { DeleteCustomKeyStoreRequest, DeleteCustomKeyStoreResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";

export const deleteCustomKeyStore: Operation<DeleteCustomKeyStoreRequest, DeleteCustomKeyStoreResponse> = async (input, ctx) => {
  await ctx.kms.customKeyStores.delete(ctx.scope, input.CustomKeyStoreId ?? "");
  return {};
};
