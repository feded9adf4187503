// ScheduleKeyDeletion: a customer managed key goes PendingDeletion and is destroyed when its 7–30 day window ends.
import type { ScheduleKeyDeletionRequest, ScheduleKeyDeletionResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { assertCustomerManaged } from "./aws-managed";
import { assertKeyState } from "./key-states";
import { DAY_MS } from "./key-record";

/** "If you do not include a value, it defaults to 30." The 7–30 range is checked by the validation overlay. */
const DEFAULT_WINDOW_DAYS = 30;

export const scheduleKeyDeletion: Operation<ScheduleKeyDeletionRequest, ScheduleKeyDeletionResponse> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  assertCustomerManaged(key, "ScheduleKeyDeletion");
  const windowDays = input.PendingWindowInDays ?? DEFAULT_WINDOW_DAYS;
  const deletionDate = ctx.now.getTime() + windowDays * DAY_MS;
  const scheduled = await ctx.kms.keys.update(ctx.scope, key.keyId, (current) => {
    assertKeyState("ScheduleKeyDeletion", current);
    return { ...current, keyState: "PendingDeletion", deletionDate };
  });
  return {
    KeyId: scheduled.arn,
    DeletionDate: new Date(deletionDate),
    KeyState: scheduled.keyState,
    PendingWindowInDays: windowDays,
  };
};
