// CreateKey: a new customer managed KMS key of any spec but SM2, its backing key generated in the token (none yet for Origin
// EXTERNAL; a token object of its custom key store's token for Origin AWS_CLOUDHSM; for Origin EXTERNAL_KEY_STORE, KMS-side
// material beside an external key its proxy vouched for).
import type { CreateKeyRequest, CreateKeyResponse } from "@aws-sdk/client-kms";
import { keyUse } from "./ciphertext";
import type { Operation } from "./context";
import { keySpecConflict, keyUsageMismatch, keyUsageRequired, unsupportedOperation } from "./errors";
import { allowsUsage, KEY_SPECS, type KmsKeySpec, type KmsKeyUsage } from "./key-specs";
import { assertValidPolicy } from "./key-policy";
import { assertPolicyForCaller } from "./key-policy-access";
import { keyMetadata } from "./key-metadata";
import type { KeyOrigin } from "./key-record";
import { assertValidTags, toKeyTags } from "./tags";

export const createKey: Operation<CreateKeyRequest, CreateKeyResponse> = async (input, ctx) => {
  // An unknown store is CustomKeyStoreNotFoundException whatever else the request says.
  if (input.CustomKeyStoreId !== undefined) await ctx.kms.customKeyStores.describe(ctx.scope, input.CustomKeyStoreId);
  const { keySpec, keyUsage, origin, customKeyStoreId, xksKeyId } = checkKeyKind(input, ctx.scope.region);
  if (input.Policy !== undefined) {
    // With --enforce-auth the policy is checked for the real caller (key-policy-access.ts); without, for the account's root.
    if (ctx.caller === undefined) assertValidPolicy(input.Policy, { scope: ctx.scope, bypass: input.BypassPolicyLockoutSafetyCheck });
    else {
      assertValidPolicy(input.Policy);
      assertPolicyForCaller(input.Policy, ctx.caller, ctx.scope, ctx.now, input.BypassPolicyLockoutSafetyCheck);
    }
  }
  const tags = toKeyTags(input.Tags ?? []);
  assertValidTags(tags);
  // The lockout check above is the only use of BypassPolicyLockoutSafetyCheck.
  const key = await ctx.kms.keys.create(ctx.scope, ctx.now, {
    description: input.Description,
    origin,
    keySpec,
    keyUsage,
    multiRegion: input.MultiRegion,
    policy: input.Policy,
    tags,
    customKeyStoreId,
    xksKeyId,
    use: keyUse(ctx, "CreateKey"),
  });
  return { KeyMetadata: keyMetadata(key) };
};

/** What CreateKey makes of the request's spec, usage and origin members. */
export interface KeyKind {
  readonly keySpec: KmsKeySpec;
  readonly keyUsage: KmsKeyUsage;
  readonly origin: KeyOrigin;
  readonly customKeyStoreId?: string;
  readonly xksKeyId?: string;
}

/**
 * CreateKey's checks of KeySpec, KeyUsage and Origin (and the custom key store members), in CreateKey's order, after
 * model validation: the kind of key to make, or AWS's refusal. Seed documents run the same checks on their keys.
 */
export function checkKeyKind(
  input: Pick<CreateKeyRequest, "KeySpec" | "CustomerMasterKeySpec" | "KeyUsage" | "Origin" | "CustomKeyStoreId" | "XksKeyId" | "MultiRegion">,
  region: string,
): KeyKind {
  // Text from nsmithuk/local-kms and other emulators that agree on it; no raw AWS capture was found.
  if (input.KeySpec !== undefined && input.CustomerMasterKeySpec !== undefined) throw keySpecConflict();
  // ML_KEM_* is newer than the model: validation refuses it before here (key-specs.ts).
  const keySpec = (input.KeySpec ?? input.CustomerMasterKeySpec ?? "SYMMETRIC_DEFAULT") as KmsKeySpec;
  assertSpecServed(keySpec, region);
  const keyUsage = keyUsageFor(keySpec, input.KeyUsage);
  if (input.CustomKeyStoreId !== undefined || input.Origin === "AWS_CLOUDHSM" || input.Origin === "EXTERNAL_KEY_STORE" || input.XksKeyId !== undefined) {
    const external = input.Origin === "EXTERNAL_KEY_STORE";
    return {
      keySpec,
      keyUsage,
      origin: external ? "EXTERNAL_KEY_STORE" : "AWS_CLOUDHSM",
      customKeyStoreId: checkCustomKeyStoreKind(input, keySpec),
      ...(external ? { xksKeyId: input.XksKeyId } : {}),
    };
  }
  const origin = input.Origin ?? "AWS_KMS";
  if (origin !== "AWS_KMS" && origin !== "EXTERNAL") throw unsupportedOperation(`Origin ${origin} is not supported.`);
  // Symmetric, HMAC, RSA and ECC (Ed25519 included: the model's GetParametersForImport says "All KMS key types are
  // supported") keys take imported material; "You can't import key material for ML-DSA KMS keys" (the KMS guide,
  // importing-keys-conceptual.html, Requirements for imported key material). AWS's error for it is not recorded.
  if (origin === "EXTERNAL" && keySpec.startsWith("ML_DSA_")) {
    throw unsupportedOperation(`You can't import key material for ML-DSA KMS keys: KeySpec ${keySpec} cannot have Origin EXTERNAL.`);
  }
  return { keySpec, keyUsage, origin };
}

/**
 * A key in a custom key store: "valid only for symmetric encryption KMS keys in a single Region" (the model's CreateKey
 * CustomKeyStoreId). XksKeyId "is required for a KMS key with an Origin value of EXTERNAL_KEY_STORE. It is not valid for
 * KMS keys with any other Origin value" (CreateKey XksKeyId). The texts are secretslite's own (no AWS answer recorded).
 * Origin left out with a CustomKeyStoreId is taken as AWS_CLOUDHSM; whether the store is of the origin's type is
 * checked with the store (custom-key-stores.ts).
 */
function checkCustomKeyStoreKind(input: Parameters<typeof checkKeyKind>[0], keySpec: KmsKeySpec): string {
  const origin = input.Origin ?? "AWS_CLOUDHSM";
  if (input.XksKeyId !== undefined && origin !== "EXTERNAL_KEY_STORE") {
    throw unsupportedOperation(`XksKeyId is valid only with Origin EXTERNAL_KEY_STORE, not ${input.Origin ?? "AWS_KMS"}.`);
  }
  if (origin === "EXTERNAL_KEY_STORE") {
    if (input.CustomKeyStoreId === undefined) throw unsupportedOperation("Origin EXTERNAL_KEY_STORE needs a CustomKeyStoreId: the external key store to create the key in.");
    if (input.XksKeyId === undefined) throw unsupportedOperation("Origin EXTERNAL_KEY_STORE needs an XksKeyId: the external key that serves as key material.");
  } else if (origin !== "AWS_CLOUDHSM") {
    throw unsupportedOperation(`Origin ${origin} is not valid with a CustomKeyStoreId: keys in a custom key store have Origin AWS_CLOUDHSM or EXTERNAL_KEY_STORE.`);
  } else if (input.CustomKeyStoreId === undefined) {
    throw unsupportedOperation("Origin AWS_CLOUDHSM needs a CustomKeyStoreId: the CloudHSM key store to create the key in.");
  }
  if (keySpec !== "SYMMETRIC_DEFAULT") throw unsupportedOperation(`KeySpec ${keySpec} is not valid in a custom key store: only SYMMETRIC_DEFAULT keys are.`);
  if (input.MultiRegion === true) throw unsupportedOperation("Multi-Region keys cannot be created in a custom key store.");
  return input.CustomKeyStoreId ?? "";
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
