// UpdateCustomKeyStore: a new name in any state; a new cluster, password or XKS proxy setting only while DISCONNECTED.
import type { UpdateCustomKeyStoreRequest, UpdateCustomKeyStoreResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";

export const updateCustomKeyStore: Operation<UpdateCustomKeyStoreRequest, UpdateCustomKeyStoreResponse> = async (input, ctx) => {
  const credential = input.XksProxyAuthenticationCredential;
  const xks = {
    ...(input.XksProxyUriEndpoint === undefined ? {} : { uriEndpoint: input.XksProxyUriEndpoint }),
    ...(input.XksProxyUriPath === undefined ? {} : { uriPath: input.XksProxyUriPath }),
    ...(input.XksProxyConnectivity === undefined ? {} : { connectivity: input.XksProxyConnectivity }),
    ...(input.XksProxyVpcEndpointServiceName === undefined ? {} : { vpcEndpointServiceName: input.XksProxyVpcEndpointServiceName }),
    ...(credential?.AccessKeyId === undefined ? {} : { accessKeyId: credential.AccessKeyId }),
  };
  await ctx.kms.customKeyStores.update(ctx.scope, input.CustomKeyStoreId ?? "", {
    name: input.NewCustomKeyStoreName,
    clusterId: input.CloudHsmClusterId,
    password: input.KeyStorePassword ?? credential?.RawSecretAccessKey,
    ...(Object.keys(xks).length === 0 ? {} : { xks }),
  });
  return {};
};
