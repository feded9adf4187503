// DescribeCustomKeyStores: one store by id or name, or every store of the account and Region, with its connection state.
import type { CustomKeyStoresListEntry, DescribeCustomKeyStoresRequest, DescribeCustomKeyStoresResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import type { CustomKeyStoreView } from "./custom-key-stores";
import { customKeyStoreNotFound } from "./errors";
import { decodeMarker, encodeMarker } from "./pagination";

/** The model's LimitType documentation for this operation: "The default value is 100". */
const DEFAULT_LIMIT = 100;

export const describeCustomKeyStores: Operation<DescribeCustomKeyStoresRequest, DescribeCustomKeyStoresResponse> = async (input, ctx) => {
  let stores: CustomKeyStoreView[];
  if (input.CustomKeyStoreId !== undefined) {
    stores = [await ctx.kms.customKeyStores.describe(ctx.scope, input.CustomKeyStoreId)];
  } else {
    stores = await ctx.kms.customKeyStores.list(ctx.scope);
    if (input.CustomKeyStoreName !== undefined) {
      stores = stores.filter((store) => store.record.name === input.CustomKeyStoreName);
      // The model: CustomKeyStoreNotFoundException when "KMS cannot find a custom key store with the specified key store name or ID".
      if (stores.length === 0) throw customKeyStoreNotFound(input.CustomKeyStoreName);
    }
  }
  const after = input.Marker === undefined ? undefined : decodeMarker(input.Marker);
  const from = after === undefined ? 0 : stores.findIndex((store) => store.record.id > after);
  const remaining = from < 0 ? [] : stores.slice(from);
  const page = remaining.slice(0, input.Limit ?? DEFAULT_LIMIT);
  const truncated = page.length < remaining.length;
  const last = page[page.length - 1];
  return {
    CustomKeyStores: page.map(listEntry),
    Truncated: truncated,
    NextMarker: truncated && last !== undefined ? encodeMarker(last.record.id) : undefined,
  };
};

function listEntry({ record, state }: CustomKeyStoreView): CustomKeyStoresListEntry {
  const common = {
    CustomKeyStoreId: record.id,
    CustomKeyStoreName: record.name,
    ConnectionState: state,
    // "This field appears in the response only when the ConnectionState is FAILED" (the model).
    ConnectionErrorCode: state === "FAILED" ? (record.errorCode as CustomKeyStoresListEntry["ConnectionErrorCode"]) : undefined,
    CreationDate: new Date(record.createdAt),
  };
  if (record.xks !== undefined) {
    const { xks } = record;
    return {
      ...common,
      CustomKeyStoreType: "EXTERNAL_KEY_STORE",
      // Never the secret: the model's XksProxyConfigurationType has the access key id alone.
      XksProxyConfiguration: {
        Connectivity: xks.connectivity,
        AccessKeyId: xks.accessKeyId,
        UriEndpoint: xks.uriEndpoint,
        UriPath: xks.uriPath,
        VpcEndpointServiceName: xks.vpcEndpointServiceName,
      },
    };
  }
  return { ...common, CloudHsmClusterId: record.clusterId, TrustAnchorCertificate: record.trustAnchorCertificate, CustomKeyStoreType: "AWS_CLOUDHSM" };
}
