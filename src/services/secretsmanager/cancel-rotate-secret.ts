// CancelRotateSecret: turns automatic rotation off and stops a rotation in progress, leaving its AWSPENDING version for the caller.
import type { CancelRotateSecretRequest, CancelRotateSecretResponse } from "@aws-sdk/client-secrets-manager";
import type { Operation } from "./context";
import { noRotationToCancel, notPermittedOnReplica } from "./errors";
import { unfinishedPending } from "./rotation";
import { isReplica, type SecretRecord } from "./secret";

/**
 * AWS: "If you cancel a rotation in progress, it can leave the VersionStage labels in an unexpected state. You
 * might need to remove the staging label AWSPENDING from the partially created version" — so the label stays, and
 * the answer's VersionId names that version. The rotation function and schedule stay on record: DescribeSecret
 * shows "the previous rotation schedule and rotation function" of a secret whose rotation was turned off. A run in
 * progress sees rotation off before its next step and stops.
 */
export const cancelRotateSecret: Operation<CancelRotateSecretRequest, CancelRotateSecretResponse> = async (input, ctx) => {
  const secret = await ctx.secrets.secrets.requireLive(ctx.scope, input.SecretId ?? "");
  if (isReplica(secret, ctx.scope.region)) throw notPermittedOnReplica();
  if (secret.rotation?.lambdaArn === undefined) throw noRotationToCancel();
  const nowMs = ctx.now.getTime();
  const updated = await ctx.secrets.secrets.update(ctx.scope, secret.name, (current) => {
    if (current.rotation === undefined || current.arn !== secret.arn) return { secret: current };
    const next: SecretRecord = { ...current, rotation: { ...current.rotation, enabled: false }, lastChangedAt: nowMs };
    return { secret: next };
  });
  return { ARN: updated.arn, Name: updated.name, VersionId: unfinishedPending(updated) };
};
