// Data key pairs: a fresh asymmetric key pair for use outside KMS, its private key sealed under a symmetric KMS key.
import type { DataKeyPairSpec as WireDataKeyPairSpec } from "@aws-sdk/client-kms";
import { keyUse } from "./ciphertext";
import { generateDataKeyPair, type DataKeyPair, type DataKeyPairSpec } from "../../crypto/public-key-operations";
import type { KmsRequestContext } from "./context";
import { assertSpecServed } from "./create-key";
import { dryRunSucceeded, externalOriginUnsupported } from "./errors";
import type { KmsKeyRecord } from "./key-record";
import type { KmsKeySpec } from "./key-specs";

export interface SealedDataKeyPair {
  readonly key: KmsKeyRecord;
  readonly pair: DataKeyPair;
  readonly privateKeyCiphertext: Buffer;
  readonly keyMaterialId: string;
}

/**
 * The checks and work GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext share. SM2 is refused as CreateKey
 * refuses it (assertSpecServed: outside cn-* Regions AWS does not offer it; inside, secretslite has no SM2). The wrapping
 * key must be a symmetric encryption key (assertUsable refuses an RSA one by its spec). The pair comes from node:crypto
 * on libuv's thread pool, never the event loop (RSA-4096 takes seconds), and is new on every call. The private key is
 * sealed as PKCS#8 DER in an ordinary symmetric ciphertext, so Decrypt returns those bytes; the caller zeroes its copy.
 */
export async function sealedDataKeyPair(
  ctx: KmsRequestContext,
  operation: "GenerateDataKeyPair" | "GenerateDataKeyPairWithoutPlaintext",
  input: { KeyId?: string; KeyPairSpec?: WireDataKeyPairSpec; EncryptionContext?: Record<string, string>; DryRun?: boolean },
): Promise<SealedDataKeyPair> {
  // KeyPairSpec is required by the model, and the SDK's enum is newer than the model's (ML_KEM_*): validation has
  // refused a missing or unknown one before here.
  const spec = (input.KeyPairSpec ?? "SM2") as KmsKeySpec;
  assertSpecServed(spec, ctx.scope.region);
  const key = await ctx.kms.keys.usable(ctx, input.KeyId ?? "", operation, "SYMMETRIC_DEFAULT");
  // "You cannot use an asymmetric KMS key or a KMS key in a custom key store" (the model's GenerateDataKeyPair); the
  // text, worded as the recorded origin refusals, is secretslite's.
  if (key.customKeyStore !== undefined) throw externalOriginUnsupported(key.arn, key.origin);
  if (input.DryRun) throw dryRunSucceeded();
  const pair = await generateDataKeyPair(spec as DataKeyPairSpec);
  const { blob, keyMaterialId } = await ctx.kms.ciphertexts.seal(key, pair.privateKeyPkcs8Der, input.EncryptionContext, keyUse(ctx, operation));
  ctx.kms.usage.record(ctx, key.keyId, operation);
  return { key, pair, privateKeyCiphertext: blob, keyMaterialId };
}
