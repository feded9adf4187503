// DeriveSharedSecret: the raw ECDH secret of a KEY_AGREEMENT KMS key's private key and a peer's public key.
import type { DeriveSharedSecretRequest, DeriveSharedSecretResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { dryRunSucceeded } from "./errors";
import { refuseRecipient, required } from "./symmetric";

export const deriveSharedSecret: Operation<DeriveSharedSecretRequest, DeriveSharedSecretResponse> = async (input, ctx) => {
  refuseRecipient(input.Recipient);
  // KeyAgreementAlgorithm and PublicKey are required by the model, so validation has refused a request without them.
  const algorithm = required(input.KeyAgreementAlgorithm, "keyAgreementAlgorithm");
  const key = await ctx.kms.keys.usable(ctx, input.KeyId ?? "", "DeriveSharedSecret", algorithm);
  // Derived before the DryRun answer, as Decrypt opens its ciphertext first: the peer key is validated in the
  // derivation, and a dry run with a bad peer key must fail as the real call would.
  const secret = await ctx.kms.sharedSecrets.derive(key, required(input.PublicKey, "publicKey"));
  if (input.DryRun) {
    secret.fill(0);
    throw dryRunSucceeded();
  }
  // GrantTokens were checked before this runs (grant-tokens.ts); grants allow nothing until access control lands.
  ctx.kms.usage.record(ctx, key.keyId, "DeriveSharedSecret");
  // KeyOrigin: AWS_KMS, or EXTERNAL for imported material; secretslite has no custom key stores, the other two origins.
  return { KeyId: key.arn, SharedSecret: secret, KeyAgreementAlgorithm: algorithm, KeyOrigin: key.origin };
};
