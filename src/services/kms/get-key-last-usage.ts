// GetKeyLastUsage: the last successful cryptographic use of a key, tracked since the key was created.
import type { GetKeyLastUsageRequest, GetKeyLastUsageResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";

export const getKeyLastUsage: Operation<GetKeyLastUsageRequest, GetKeyLastUsageResponse> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  const usage = await ctx.kms.usage.lastUsage(ctx.scope, key.keyId);
  const created = new Date(key.createdAt);
  return {
    KeyId: key.arn,
    // CloudTrailEventId is the audit log's eventID for that request; without --audit-log there is no event to name.
    KeyLastUsage:
      usage === undefined
        ? undefined
        : { Operation: usage.operation, Timestamp: new Date(usage.at), KmsRequestId: usage.requestId, CloudTrailEventId: usage.eventId },
    // Tracking starts when secretslite creates the key.
    TrackingStartDate: created,
    KeyCreationDate: created,
  };
};
