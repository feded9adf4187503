// EnableKeyRotation: automatic rotation of a customer managed key's material every RotationPeriodInDays (90–2560, default 365).
import type { EnableKeyRotationRequest } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { DEFAULT_ROTATION_PERIOD_DAYS, assertRotationChangeable, changeRotation } from "./key-rotation";
import { DAY_MS, type RotationSchedule } from "./key-record";

export const enableKeyRotation: Operation<EnableKeyRotationRequest, Record<string, never>> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  assertRotationChangeable(key, "EnableKeyRotation");
  const periodDays = input.RotationPeriodInDays ?? DEFAULT_ROTATION_PERIOD_DAYS;
  const nowMs = ctx.now.getTime();
  await changeRotation(ctx, key.keyId, (current) => {
    assertRotationChangeable(current, "EnableKeyRotation");
    return schedule(current.rotation, periodDays, nowMs);
  });
  return {};
};

/**
 * "The rotation period defines the number of days after you enable automatic key rotation that KMS will
 * rotate your key material, and the number of days between each automatic rotation thereafter." So a first
 * enable counts from now, and a new period on an enabled key counts from the start of the current one (the
 * last automatic rotation, or the enable); if that date has passed, the rotation is due at once.
 */
function schedule(current: RotationSchedule | undefined, periodDays: number, nowMs: number): RotationSchedule | undefined {
  if (current === undefined) return { periodDays, nextAt: nowMs + periodDays * DAY_MS };
  if (current.periodDays === periodDays) return current;
  const periodStart = current.nextAt - current.periodDays * DAY_MS;
  return { periodDays, nextAt: Math.max(periodStart + periodDays * DAY_MS, nowMs) };
}
