// RotateKeyOnDemand: new key material for a customer managed key now, whatever its automatic schedule.
import type { RotateKeyOnDemandRequest, RotateKeyOnDemandResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { invalidState } from "./errors";
import { assertOnDemandRotation } from "./key-rotation";
import type { KmsKeyRecord } from "./key-record";

export const rotateKeyOnDemand: Operation<RotateKeyOnDemandRequest, RotateKeyOnDemandResponse> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  const nowMs = ctx.now.getTime();
  // Checked before the token makes material, and again under the lock: two calls racing for the 25th
  // rotation must not both get it.
  assertRotatableNow(key, nowMs);
  await ctx.kms.keys.rotate(ctx.scope, key.keyId, nowMs, "ON_DEMAND", (current) => {
    assertRotatableNow(current, nowMs);
    return true;
  });
  // The key ARN, whatever the caller sent: LocalStack's test_rotate_key_on_demand_for_external_keys_decrypts_
  // with_previous_material, recorded against AWS in November 2025, shows the response's KeyId as
  // "arn:<partition>:kms:<region>:111111111111:key/<key-id:1>" where its CreateKey snapshot shows the bare id.
  // The CloudTrail and CLI examples with a bare id are hand-written for a request that sent the bare id.
  return { KeyId: key.arn };
};

/**
 * A key still waiting for its imported material answers KMSInvalidStateException "<ARN> is pending import."
 * here, not the UnsupportedOperationException "origin is EXTERNAL" that the key-state table's rotation row
 * gives EnableKeyRotation and DisableKeyRotation: since imported material can be rotated on demand (2025),
 * AWS answers this operation with the state (LocalStack's test_rotate_key_on_demand_on_external_key_with_no_
 * key_material, recorded against AWS on 2025-11-05). Every other check is the rotation operations' shared one.
 */
function assertRotatableNow(key: KmsKeyRecord, nowMs: number): void {
  if (key.keyState === "PendingImport") throw invalidState(`${key.arn} is pending import.`);
  assertOnDemandRotation(key, nowMs);
}
