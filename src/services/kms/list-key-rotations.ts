// ListKeyRotations: a key's completed rotations (or all its key material), oldest first, in pages.
import type { ListKeyRotationsRequest, ListKeyRotationsResponse, RotationsListEntry } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { assertRotatable } from "./key-rotation";
import { knownMaterial } from "./key-material";
import type { BackingKeyRecord, KmsKeyRecord } from "./key-record";
import { decodeMarker, encodeMarker, invalidMarker } from "./pagination";

/** "If you do not include a value, it defaults to 100." */
const DEFAULT_LIMIT = 100;

export const listKeyRotations: Operation<ListKeyRotationsRequest, ListKeyRotationsResponse> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  assertRotatable(key, "ListKeyRotations", "allow");
  // ROTATIONS_ONLY (the default) lists what rotations made; ALL_KEY_MATERIAL adds the first material, and material
  // imported and pending rotation.
  const listed = input.IncludeKeyMaterial === "ALL_KEY_MATERIAL" ? knownMaterial(key) : key.backingKeys.slice(1);
  let start = 0;
  if (input.Marker !== undefined) {
    const after = decodeMarker(input.Marker);
    start = listed.findIndex((backingKey) => backingKey.id === after) + 1;
    if (start === 0) throw invalidMarker();
  }
  const limit = input.Limit ?? DEFAULT_LIMIT;
  const page = listed.slice(start, start + limit);
  const last = page[page.length - 1];
  const truncated = start + limit < listed.length && last !== undefined;
  return {
    Rotations: page.map((backingKey) => rotationEntry(key, backingKey)),
    Truncated: truncated,
    NextMarker: truncated ? encodeMarker(last.id) : undefined,
  };
};

/**
 * ImportState, KeyMaterialDescription, ExpirationModel and ValidTo are "only present for symmetric
 * encryption KMS keys with EXTERNAL origin"; RotationDate and RotationType are absent for the first material
 * and for material pending rotation.
 */
function rotationEntry(key: KmsKeyRecord, backingKey: BackingKeyRecord): RotationsListEntry {
  const state = key.pendingMaterial === backingKey ? "PENDING_ROTATION" : key.backingKeys[key.backingKeys.length - 1] === backingKey ? "CURRENT" : "NON_CURRENT";
  return {
    KeyId: key.keyId,
    KeyMaterialId: backingKey.id,
    KeyMaterialState: state,
    RotationDate: backingKey.rotationType === undefined ? undefined : new Date(backingKey.createdAt),
    RotationType: backingKey.rotationType,
    ...(key.origin === "EXTERNAL"
      ? {
          ImportState: backingKey.deleted === true ? "PENDING_IMPORT" : "IMPORTED",
          KeyMaterialDescription: backingKey.description,
          ExpirationModel: backingKey.deleted === true ? undefined : backingKey.validTo === undefined ? "KEY_MATERIAL_DOES_NOT_EXPIRE" : "KEY_MATERIAL_EXPIRES",
          ValidTo: backingKey.validTo === undefined ? undefined : new Date(backingKey.validTo),
        }
      : {}),
  };
}
