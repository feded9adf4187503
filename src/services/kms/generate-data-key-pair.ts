// GenerateDataKeyPair: a fresh asymmetric key pair, its private key returned in plaintext and sealed under a symmetric KMS key.
import type { GenerateDataKeyPairRequest, GenerateDataKeyPairResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { sealedDataKeyPair } from "./data-key-pair";
import { refuseRecipient } from "./symmetric";

export const generateDataKeyPair: Operation<GenerateDataKeyPairRequest, GenerateDataKeyPairResponse> = async (input, ctx) => {
  refuseRecipient(input.Recipient);
  const { key, pair, privateKeyCiphertext, keyMaterialId } = await sealedDataKeyPair(ctx, "GenerateDataKeyPair", input);
  return {
    PrivateKeyCiphertextBlob: privateKeyCiphertext,
    PrivateKeyPlaintext: pair.privateKeyPkcs8Der,
    PublicKey: pair.publicKeySpkiDer,
    KeyId: key.arn,
    KeyPairSpec: input.KeyPairSpec,
    KeyMaterialId: keyMaterialId,
  };
};
