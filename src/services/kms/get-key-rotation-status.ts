// GetKeyRotationStatus: whether a key rotates automatically, how often, and when next.
import type { GetKeyRotationStatusRequest, GetKeyRotationStatusResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { assertRotatable } from "./key-rotation";

export const getKeyRotationStatus: Operation<GetKeyRotationStatusRequest, GetKeyRotationStatusResponse> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  assertRotatable(key, "GetKeyRotationStatus");
  // "While a KMS key is pending deletion, its key rotation status is false … If you cancel the deletion,
  // the original key rotation status returns to true": the schedule stays in the record, unreported.
  const rotation = key.keyState === "PendingDeletion" ? undefined : key.rotation;
  return {
    // The bare key id, as in the AWS CLI reference's example output for get-key-rotation-status.
    KeyId: key.keyId,
    KeyRotationEnabled: rotation !== undefined,
    RotationPeriodInDays: rotation?.periodDays,
    NextRotationDate: rotation === undefined ? undefined : new Date(rotation.nextAt),
    // Present only while an on-demand rotation is under way; here one completes within its request.
    OnDemandRotationStartDate: undefined,
  };
};
