// ScheduleKeyDeletion: a customer managed key goes PendingDeletion and is destroyed when its 7–30 day window ends.
import type { ScheduleKeyDeletionRequest, ScheduleKeyDeletionResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { assertCustomerManaged } from "./aws-managed";
import { assertKeyState } from "./key-states";
import { DAY_MS } from "./key-record";
import { hasReplicas } from "./multi-region";

/** "If you do not include a value, it defaults to 30." The 7–30 range is checked by the validation overlay. */
const DEFAULT_WINDOW_DAYS = 30;

export const scheduleKeyDeletion: Operation<ScheduleKeyDeletionRequest, ScheduleKeyDeletionResponse> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  assertCustomerManaged(key, "ScheduleKeyDeletion");
  const windowDays = input.PendingWindowInDays ?? DEFAULT_WINDOW_DAYS;
  const deletionDate = ctx.now.getTime() + windowDays * DAY_MS;
  const scheduled = await ctx.kms.keys.update(ctx.scope, key.keyId, (current) => {
    assertKeyState("ScheduleKeyDeletion", current);
    // "If the KMS key is a multi-Region primary key with replica keys, the waiting period begins when the last of its
    // replica keys is deleted" (ScheduleKeyDeletionRequest): PendingReplicaDeletion until then (key-destruction.ts).
    if (hasReplicas(current)) return { ...current, keyState: "PendingReplicaDeletion", pendingWindowDays: windowDays };
    return { ...current, keyState: "PendingDeletion", deletionDate };
  });
  return {
    KeyId: scheduled.arn,
    // "If the KMS key is a multi-Region primary key with replica keys, this field does not appear" (DeletionDate).
    DeletionDate: scheduled.deletionDate === undefined ? undefined : new Date(scheduled.deletionDate),
    KeyState: scheduled.keyState,
    PendingWindowInDays: windowDays,
  };
};
