// CancelKeyDeletion: a key pending deletion is kept, Disabled until someone enables it.
import type { CancelKeyDeletionRequest, CancelKeyDeletionResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { assertCustomerManaged } from "./aws-managed";
import { assertKeyState } from "./key-states";

export const cancelKeyDeletion: Operation<CancelKeyDeletionRequest, CancelKeyDeletionResponse> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  assertCustomerManaged(key, "CancelKeyDeletion");
  const kept = await ctx.kms.keys.update(ctx.scope, key.keyId, (current) => {
    assertKeyState("CancelKeyDeletion", current);
    // "When this operation succeeds, the key state of the KMS key is Disabled." A key that never had material
    // (Origin EXTERNAL, nothing imported) cannot be Disabled, which EnableKey would turn into a usable key with
    // nothing to encrypt under: it returns to PendingImport, the state its missing material means
    // (DeleteImportedKeyMaterial leaves a key PendingImport too). AWS does not document this case.
    return { ...current, keyState: current.backingKeys.length === 0 ? "PendingImport" : "Disabled", deletionDate: undefined, pendingWindowDays: undefined };
  });
  return { KeyId: kept.arn };
};
