// CreateCustomKeyStore: an AWS_CLOUDHSM key store on a configured cluster (a PKCS#11 token), or an EXTERNAL_KEY_STORE behind an XKS proxy; created DISCONNECTED.
import type { CreateCustomKeyStoreRequest, CreateCustomKeyStoreResponse } from "@aws-sdk/client-kms";
import { AwsError } from "../../errors";
import type { Operation } from "./context";

export const createCustomKeyStore: Operation<CreateCustomKeyStoreRequest, CreateCustomKeyStoreResponse> = async (input, ctx) => {
  const name = input.CustomKeyStoreName ?? "";
  if (input.CustomKeyStoreType === "EXTERNAL_KEY_STORE") {
    const { XksProxyUriEndpoint: uriEndpoint, XksProxyUriPath: uriPath, XksProxyConnectivity: connectivity, XksProxyAuthenticationCredential: credential } = input;
    // The model: "Required field for an external key store" on all four, and the VPC endpoint service name with VPC_ENDPOINT_SERVICE.
    if (uriEndpoint === undefined || uriPath === undefined || connectivity === undefined || credential?.AccessKeyId === undefined || credential.RawSecretAccessKey === undefined) {
      throw new AwsError("ValidationException", "XksProxyUriEndpoint, XksProxyUriPath, XksProxyConnectivity and XksProxyAuthenticationCredential are required for an EXTERNAL_KEY_STORE custom key store.");
    }
    const vpcEndpointServiceName = input.XksProxyVpcEndpointServiceName;
    if ((connectivity === "VPC_ENDPOINT_SERVICE") !== (vpcEndpointServiceName !== undefined)) {
      throw new AwsError("ValidationException", "XksProxyVpcEndpointServiceName is required with XksProxyConnectivity VPC_ENDPOINT_SERVICE, and only with it.");
    }
    const xks = { connectivity, uriEndpoint, uriPath, accessKeyId: credential.AccessKeyId, ...(vpcEndpointServiceName === undefined ? {} : { vpcEndpointServiceName }) };
    return { CustomKeyStoreId: await ctx.kms.customKeyStores.createExternal(ctx.scope, ctx.now, { name, xks, secretAccessKey: credential.RawSecretAccessKey }) };
  }
  const { CloudHsmClusterId: clusterId, TrustAnchorCertificate: trustAnchorCertificate, KeyStorePassword: password } = input;
  // The model: "Required field for an CloudHSM custom key store" on all three; the text is secretslite's own.
  if (clusterId === undefined || trustAnchorCertificate === undefined || password === undefined) {
    throw new AwsError("ValidationException", "CloudHsmClusterId, TrustAnchorCertificate and KeyStorePassword are required for an AWS_CLOUDHSM custom key store.");
  }
  // The trust anchor is stored as given: there is no cluster certificate to check it against (IncorrectTrustAnchorException).
  const id = await ctx.kms.customKeyStores.create(ctx.scope, ctx.now, { name, clusterId, trustAnchorCertificate, password });
  return { CustomKeyStoreId: id };
};
