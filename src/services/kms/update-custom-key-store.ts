// UpdateCustomKeyStore: a new name in any state; a new cluster or password (the token's PIN) only while DISCONNECTED.
import type { UpdateCustomKeyStoreRequest, UpdateCustomKeyStoreResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { unsupportedOperation } from "./errors";

export const updateCustomKeyStore: Operation<UpdateCustomKeyStoreRequest, UpdateCustomKeyStoreResponse> = async (input, ctx) => {
  if (input.XksProxyUriEndpoint !== undefined || input.XksProxyUriPath !== undefined || input.XksProxyVpcEndpointServiceName !== undefined ||
    input.XksProxyAuthenticationCredential !== undefined || input.XksProxyConnectivity !== undefined) {
    throw unsupportedOperation("secretslite does not implement EXTERNAL_KEY_STORE custom key stores yet; only AWS_CLOUDHSM.");
  }
  await ctx.kms.customKeyStores.update(ctx.scope, input.CustomKeyStoreId ?? "", {
    name: input.NewCustomKeyStoreName,
    clusterId: input.CloudHsmClusterId,
    password: input.KeyStorePassword,
  });
  return {};
};
