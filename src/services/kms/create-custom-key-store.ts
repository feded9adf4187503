// CreateCustomKeyStore: an AWS_CLOUDHSM key store on a configured cluster (a PKCS#11 token), created DISCONNECTED.
import type { CreateCustomKeyStoreRequest, CreateCustomKeyStoreResponse } from "@aws-sdk/client-kms";
import { AwsError } from "../../errors";
import type { Operation } from "./context";
import { unsupportedOperation } from "./errors";

export const createCustomKeyStore: Operation<CreateCustomKeyStoreRequest, CreateCustomKeyStoreResponse> = async (input, ctx) => {
  if (input.CustomKeyStoreType === "EXTERNAL_KEY_STORE") {
    throw unsupportedOperation("secretslite does not implement EXTERNAL_KEY_STORE custom key stores yet; only AWS_CLOUDHSM.");
  }
  const { CloudHsmClusterId: clusterId, TrustAnchorCertificate: trustAnchorCertificate, KeyStorePassword: password } = input;
  // The model: "Required field for an CloudHSM custom key store" on all three; the text is secretslite's own.
  if (clusterId === undefined || trustAnchorCertificate === undefined || password === undefined) {
    throw new AwsError("ValidationException", "CloudHsmClusterId, TrustAnchorCertificate and KeyStorePassword are required for an AWS_CLOUDHSM custom key store.");
  }
  // The trust anchor is stored as given: there is no cluster certificate to check it against (IncorrectTrustAnchorException).
  const id = await ctx.kms.customKeyStores.create(ctx.scope, ctx.now, { name: input.CustomKeyStoreName ?? "", clusterId, trustAnchorCertificate, password });
  return { CustomKeyStoreId: id };
};
