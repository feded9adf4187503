// CreateKey: a new customer managed symmetric KMS key, its backing key generated in the token (none yet for Origin EXTERNAL).
import type { CreateKeyRequest, CreateKeyResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { customKeyStoreNotFound, keySpecConflict, unsupportedOperation } from "./errors";
import { assertValidPolicy } from "./key-policy";
import { keyMetadata } from "./key-metadata";
import { assertValidTags, toKeyTags } from "./tags";

export const createKey: Operation<CreateKeyRequest, CreateKeyResponse> = async (input, ctx) => {
  // Text from nsmithuk/local-kms and other emulators that agree on it; no raw AWS capture was found.
  if (input.KeySpec !== undefined && input.CustomerMasterKeySpec !== undefined) throw keySpecConflict();
  const keySpec = input.KeySpec ?? input.CustomerMasterKeySpec ?? "SYMMETRIC_DEFAULT";
  const keyUsage = input.KeyUsage ?? "ENCRYPT_DECRYPT";
  if (keySpec !== "SYMMETRIC_DEFAULT" || keyUsage !== "ENCRYPT_DECRYPT") {
    throw unsupportedOperation(
      "secretslite supports only symmetric encryption keys so far (KeySpec SYMMETRIC_DEFAULT, KeyUsage ENCRYPT_DECRYPT), " +
        `not KeySpec ${keySpec} with KeyUsage ${keyUsage}.`,
    );
  }
  // secretslite has no custom key stores, so any CustomKeyStoreId names one that does not exist: the answer AWS
  // gives for an unknown store. The custom-store origins and XksKeyId without a store cannot be served either.
  if (input.CustomKeyStoreId !== undefined) throw customKeyStoreNotFound(input.CustomKeyStoreId);
  const origin = input.Origin ?? "AWS_KMS";
  if (origin !== "AWS_KMS" && origin !== "EXTERNAL") {
    throw unsupportedOperation(`Origin ${origin} needs a CustomKeyStoreId, and secretslite has no custom key stores.`);
  }
  if (input.XksKeyId !== undefined) {
    throw unsupportedOperation(
      "XksKeyId is valid only with Origin EXTERNAL_KEY_STORE and a CustomKeyStoreId; secretslite has no custom key stores.",
    );
  }
  if (input.Policy !== undefined) assertValidPolicy(input.Policy, { scope: ctx.scope, bypass: input.BypassPolicyLockoutSafetyCheck });
  const tags = toKeyTags(input.Tags ?? []);
  assertValidTags(tags);
  // The lockout check above is the only use of BypassPolicyLockoutSafetyCheck: key policies are stored, not enforced.
  const key = await ctx.kms.keys.create(ctx.scope, ctx.now, {
    description: input.Description,
    origin,
    multiRegion: input.MultiRegion,
    policy: input.Policy,
    tags,
  });
  return { KeyMetadata: keyMetadata(key) };
};
