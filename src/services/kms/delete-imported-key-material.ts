// DeleteImportedKeyMaterial: removes imported material (the current one unless a KeyMaterialId is named); the key waits for it again.
import type { DeleteImportedKeyMaterialRequest, DeleteImportedKeyMaterialResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { invalidState } from "./errors";
import { assertImportable } from "./key-import";
import { knownMaterial } from "./key-material";
import type { KmsKeyRecord } from "./key-record";

export const deleteImportedKeyMaterial: Operation<DeleteImportedKeyMaterialRequest, DeleteImportedKeyMaterialResponse> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  assertImportable(key, "DeleteImportedKeyMaterial");
  const named = (current: KmsKeyRecord): string => {
    assertImportable(current, "DeleteImportedKeyMaterial");
    // "If no KeyMaterialId is specified, KMS deletes the current key material."
    const id = input.KeyMaterialId ?? current.backingKeys[current.backingKeys.length - 1]?.id;
    // AWS's answer for a key that never had material, or an id it does not know, is not documented: the key's state
    // names what is missing, as the key-state table's [5] does.
    if (id === undefined) throw invalidState(`${current.arn} is pending import.`);
    if (!knownMaterial(current).some((material) => material.id === id)) throw invalidState(`Key material ${id} is not associated with KMS key ${current.arn}.`);
    return id;
  };
  let deleted = named(key);
  await ctx.kms.keys.removeMaterial(ctx.scope, key.keyId, ctx.now.getTime(), (current) => {
    deleted = named(current);
    return new Set([deleted]);
  });
  return { KeyId: key.arn, KeyMaterialId: deleted };
};
