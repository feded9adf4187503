// CreateKey: a new customer managed KMS key of any spec but SM2, its backing key generated in the token (none yet for Origin EXTERNAL).
import type { CreateKeyRequest, CreateKeyResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { customKeyStoreNotFound, keySpecConflict, keyUsageMismatch, keyUsageRequired, unsupportedOperation } from "./errors";
import { allowsUsage, KEY_SPECS, type KmsKeySpec, type KmsKeyUsage } from "./key-specs";
import { assertValidPolicy } from "./key-policy";
import { keyMetadata } from "./key-metadata";
import { assertValidTags, toKeyTags } from "./tags";

export const createKey: Operation<CreateKeyRequest, CreateKeyResponse> = async (input, ctx) => {
  const { keySpec, keyUsage, origin } = checkKeyKind(input, ctx.scope.region);
  if (input.Policy !== undefined) assertValidPolicy(input.Policy, { scope: ctx.scope, bypass: input.BypassPolicyLockoutSafetyCheck });
  const tags = toKeyTags(input.Tags ?? []);
  assertValidTags(tags);
  // The lockout check above is the only use of BypassPolicyLockoutSafetyCheck: key policies are stored, not enforced.
  const key = await ctx.kms.keys.create(ctx.scope, ctx.now, {
    description: input.Description,
    origin,
    keySpec,
    keyUsage,
    multiRegion: input.MultiRegion,
    policy: input.Policy,
    tags,
  });
  return { KeyMetadata: keyMetadata(key) };
};

/** What CreateKey makes of the request's spec, usage and origin members. */
export interface KeyKind {
  readonly keySpec: KmsKeySpec;
  readonly keyUsage: KmsKeyUsage;
  readonly origin: "AWS_KMS" | "EXTERNAL";
}

/**
 * CreateKey's checks of KeySpec, KeyUsage and Origin (and the custom key store members), in CreateKey's order, after
 * model validation: the kind of key to make, or AWS's refusal. Seed documents run the same checks on their keys.
 */
export function checkKeyKind(
  input: Pick<CreateKeyRequest, "KeySpec" | "CustomerMasterKeySpec" | "KeyUsage" | "Origin" | "CustomKeyStoreId" | "XksKeyId">,
  region: string,
): KeyKind {
  // Text from nsmithuk/local-kms and other emulators that agree on it; no raw AWS capture was found.
  if (input.KeySpec !== undefined && input.CustomerMasterKeySpec !== undefined) throw keySpecConflict();
  // ML_KEM_* is newer than the model: validation refuses it before here (key-specs.ts).
  const keySpec = (input.KeySpec ?? input.CustomerMasterKeySpec ?? "SYMMETRIC_DEFAULT") as KmsKeySpec;
  assertSpecServed(keySpec, region);
  const keyUsage = keyUsageFor(keySpec, input.KeyUsage);
  // secretslite has no custom key stores, so any CustomKeyStoreId names one that does not exist: the answer AWS
  // gives for an unknown store. The custom-store origins and XksKeyId without a store cannot be served either.
  if (input.CustomKeyStoreId !== undefined) throw customKeyStoreNotFound(input.CustomKeyStoreId);
  const origin = input.Origin ?? "AWS_KMS";
  if (origin !== "AWS_KMS" && origin !== "EXTERNAL") {
    throw unsupportedOperation(`Origin ${origin} needs a CustomKeyStoreId, and secretslite has no custom key stores.`);
  }
  // Symmetric, HMAC, RSA and ECC (Ed25519 included: the model's GetParametersForImport says "All KMS key types are
  // supported") keys take imported material; "You can't import key material for ML-DSA KMS keys" (the KMS guide,
  // importing-keys-conceptual.html, Requirements for imported key material). AWS's error for it is not recorded.
  if (origin === "EXTERNAL" && keySpec.startsWith("ML_DSA_")) {
    throw unsupportedOperation(`You can't import key material for ML-DSA KMS keys: KeySpec ${keySpec} cannot have Origin EXTERNAL.`);
  }
  if (input.XksKeyId !== undefined) {
    throw unsupportedOperation(
      "XksKeyId is valid only with Origin EXTERNAL_KEY_STORE and a CustomKeyStoreId; secretslite has no custom key stores.",
    );
  }
  return { keySpec, keyUsage, origin };
}

/**
 * SM2 exists only in the China Regions. Elsewhere AWS answers UnsupportedOperationException "KeySpec SM2 is not
 * supported in this Region" (a user's report of real AWS in floci-io/floci#3026). In cn-* Regions AWS makes SM2
 * keys, but no key store here has SM2 material (SoftHSM2 lacks it), so secretslite says it does not implement them.
 */
export function assertSpecServed(keySpec: KmsKeySpec, region: string): void {
  if (KEY_SPECS[keySpec].partition !== "aws-cn") return;
  if (!region.startsWith("cn-")) throw unsupportedOperation(`KeySpec ${keySpec} is not supported in this Region`);
  throw unsupportedOperation(`secretslite does not implement KeySpec ${keySpec} keys.`);
}

/** The KeyUsage sent, or the spec's default (SYMMETRIC_DEFAULT only); either must be one the key-spec table allows. */
function keyUsageFor(keySpec: KmsKeySpec, sent: CreateKeyRequest["KeyUsage"]): KmsKeyUsage {
  // ENCAPSULATE_DECAPSULATE is newer than the model: validation refuses it before here (key-specs.ts).
  const keyUsage = (sent ?? KEY_SPECS[keySpec].defaultUsage) as KmsKeyUsage | undefined;
  if (keyUsage === undefined) throw keyUsageRequired();
  if (!allowsUsage(keySpec, keyUsage)) throw keyUsageMismatch(keyUsage, keySpec);
  return keyUsage;
}
