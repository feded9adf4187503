// GetPublicKey: the public key of an asymmetric KMS key as SubjectPublicKeyInfo DER, with its spec, usage and algorithms.
import type { GetPublicKeyRequest, GetPublicKeyResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { unsupportedOperation } from "./errors";
import { algorithmLists } from "./key-metadata";
import { KEY_SPECS } from "./key-specs";
import { assertKeyState } from "./key-states";

export const getPublicKey: Operation<GetPublicKeyRequest, GetPublicKeyResponse> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now);
  assertKeyState("GetPublicKey", key);
  const spec = KEY_SPECS[key.keySpec];
  const publicKey = key.backingKeys[key.backingKeys.length - 1]?.publicKey;
  if (spec.kind !== "asymmetric" || publicKey === undefined) {
    // AWS answers a symmetric or HMAC key with UnsupportedOperationException; no capture of its text was found, so
    // this takes the form of the recorded key-usage refusals ("<ARN> key usage is … which is not valid for …").
    throw unsupportedOperation(`${key.arn} key usage is ${key.keyUsage} which is not valid for GetPublicKey.`);
  }
  // EncryptionAlgorithms, SigningAlgorithms or KeyAgreementAlgorithms: the one list the key's usage calls for.
  // An asymmetric key never has GENERATE_VERIFY_MAC, so MacAlgorithms (not a GetPublicKey member) never appears.
  const { MacAlgorithms: _mac, ...algorithms } = algorithmLists(key);
  return {
    KeyId: key.arn,
    PublicKey: Buffer.from(publicKey, "base64"),
    // The deprecated member's enum stops before Ed25519 and ML-DSA, so it is left out for those (as in DescribeKey).
    CustomerMasterKeySpec: spec.customerMasterKeySpec ? (key.keySpec as GetPublicKeyResponse["CustomerMasterKeySpec"]) : undefined,
    KeySpec: key.keySpec,
    KeyUsage: key.keyUsage,
    ...algorithms,
  };
};
