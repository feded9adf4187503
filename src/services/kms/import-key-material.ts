// ImportKeyMaterial: unwraps material sent under a GetParametersForImport wrapping key and makes it the key's (or pending rotation).
import type { ImportKeyMaterialRequest, ImportKeyMaterialResponse } from "@aws-sdk/client-kms";
import { AwsError } from "../../errors";
import type { Operation } from "./context";
import { assertImportable } from "./key-import";
import { DAY_MS } from "./key-record";

/** "The maximum value is 365 days from the request date" (ImportKeyMaterialRequest ValidTo). */
const MAX_VALID_DAYS = 365;

export const importKeyMaterial: Operation<ImportKeyMaterialRequest, ImportKeyMaterialResponse> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  assertImportable(key, "ImportKeyMaterial");
  const validTo = checkExpiration(input, ctx.now.getTime());
  const material = await ctx.kms.imports.unwrap(key, input.ImportToken ?? new Uint8Array(), input.EncryptedKeyMaterial ?? new Uint8Array(), ctx.now.getTime());
  try {
    const imported = await ctx.kms.keys.importMaterial(ctx.scope, key.keyId, material, ctx.now, {
      importType: input.ImportType,
      keyMaterialId: input.KeyMaterialId,
      description: input.KeyMaterialDescription,
      validTo,
    });
    return { KeyId: key.arn, KeyMaterialId: imported.keyMaterialId };
  } finally {
    material.fill(0);
  }
};

/**
 * ExpirationModel and ValidTo (the model: KEY_MATERIAL_EXPIRES is the default and needs ValidTo, in the future and at
 * most 365 days ahead; KEY_MATERIAL_DOES_NOT_EXPIRE must omit it). The first text is a recorded AWS response (the KMS
 * facts note, part 1 item 12); the others are undocumented and worded after it.
 */
function checkExpiration(input: ImportKeyMaterialRequest, nowMs: number): number | undefined {
  const expires = (input.ExpirationModel ?? "KEY_MATERIAL_EXPIRES") === "KEY_MATERIAL_EXPIRES";
  const validTo = input.ValidTo?.getTime();
  if (expires && validTo === undefined) throw new AwsError("ValidationException", "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES");
  if (!expires) {
    if (validTo !== undefined) throw new AwsError("ValidationException", "A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE");
    return undefined;
  }
  if (validTo! <= nowMs) throw new AwsError("ValidationException", "The validTo date must be in the future");
  if (validTo! > nowMs + MAX_VALID_DAYS * DAY_MS) throw new AwsError("ValidationException", `The validTo date must be at most ${MAX_VALID_DAYS} days from now`);
  return validTo;
}
