// GenerateDataKeyPairWithoutPlaintext: a fresh asymmetric key pair whose private key is returned only sealed under a symmetric KMS key.
import type { GenerateDataKeyPairWithoutPlaintextRequest, GenerateDataKeyPairWithoutPlaintextResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { sealedDataKeyPair } from "./data-key-pair";

export const generateDataKeyPairWithoutPlaintext: Operation<
  GenerateDataKeyPairWithoutPlaintextRequest,
  GenerateDataKeyPairWithoutPlaintextResponse
> = async (input, ctx) => {
  // No Recipient member here: with no plaintext private key there is nothing to encrypt for an enclave.
  const { key, pair, privateKeyCiphertext, keyMaterialId } = await sealedDataKeyPair(ctx, "GenerateDataKeyPairWithoutPlaintext", input);
  // Nobody ever sees this copy.
  pair.privateKeyPkcs8Der.fill(0);
  return {
    PrivateKeyCiphertextBlob: privateKeyCiphertext,
    PublicKey: pair.publicKeySpkiDer,
    KeyId: key.arn,
    KeyPairSpec: input.KeyPairSpec,
    KeyMaterialId: keyMaterialId,
  };
};
