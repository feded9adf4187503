// RotateSecret: configures rotation, labels a new empty version AWSPENDING, and starts the rotation function in the background.
import type { RotateSecretRequest, RotateSecretResponse } from "@aws-sdk/client-secrets-manager";
import type { Operation } from "./context";
import {
  cannotInvokeRotationFunction,
  internalServiceError,
  noRotationFunction,
  notPermittedOnReplica,
  previousRotationIncomplete,
  rotationTokenRequired,
  tokenReusedWithOtherValue,
} from "./errors";
import { attachPending, unfinishedPending } from "./rotation";
import { checkRotationRules, nextRotationDate, storedSchedule } from "./rotation-rules";
import { isReplica, type RotationConfig, type SecretRecord } from "./secret";

export const rotateSecret: Operation<RotateSecretRequest, RotateSecretResponse> = async (input, ctx) => {
  const rotations = ctx.secrets.rotations;
  if (rotations === undefined) throw internalServiceError(new Error("the rotation driver is not wired into the Secrets Manager domain"));
  // The SDKs and the CLI always fill ClientRequestToken; a raw caller that leaves it out is refused before the
  // secret is looked up.
  const token = input.ClientRequestToken;
  if (token === undefined || token === "") throw rotationTokenRequired();
  const nowMs = ctx.now.getTime();
  const secret = await ctx.secrets.secrets.requireLive(ctx.scope, input.SecretId ?? "");
  if (isReplica(secret, ctx.scope.region)) throw notPermittedOnReplica();
  const checked = input.RotationRules === undefined ? undefined : checkRotationRules(input.RotationRules, nowMs);
  const lambdaArn = input.RotationLambdaARN || secret.rotation?.lambdaArn;
  if (lambdaArn === undefined) throw noRotationFunction();
  if (unfinishedPending(secret) !== undefined && unfinishedPending(secret) !== token) throw previousRotationIncomplete();
  // AWS checks that it may invoke the function before it answers (terraform-provider-aws retries this error for a
  // minute while a new function's permission propagates), and changes nothing when it may not.
  if (!(await rotations.functions.canInvoke(lambdaArn, ctx.scope))) throw cannotInvokeRotationFunction();

  const testOnly = input.RotateImmediately === false;
  const updated = await ctx.secrets.secrets.update(ctx.scope, secret.name, (current) => {
    if (current.arn !== secret.arn) throw internalServiceError(new Error("the secret was replaced during RotateSecret"));
    const pending = unfinishedPending(current);
    // The same token again is a retry of this very call (what the token is for): it restarts the same rotation.
    if (pending !== undefined && pending !== token) throw previousRotationIncomplete();
    if (pending === undefined && current.versions[token] !== undefined) throw tokenReusedWithOtherValue(token, current.arn);
    const rules = checked?.rules ?? current.rotation?.rules;
    const schedule = checked?.schedule ?? storedSchedule(rules);
    const rotation: RotationConfig = {
      ...current.rotation,
      enabled: true,
      lambdaArn,
      rules,
      lastRotatedAt: current.rotation?.lastRotatedAt,
      // Kept for DescribeSecret; partner-managed rotation itself is not emulated, so a Lambda ARN is still required.
      externalMetadata: input.ExternalSecretRotationMetadata?.map((item) => ({ Key: item.Key ?? "", Value: item.Value ?? "" })) ?? current.rotation?.externalMetadata,
      externalRoleArn: input.ExternalSecretRotationRoleArn ?? current.rotation?.externalRoleArn,
      // Rotating now counts as the last rotation; otherwise the window is counted from the last one there was.
      nextRotationAt: schedule === undefined ? undefined : nextRotationDate(schedule, testOnly ? (current.rotation?.lastRotatedAt ?? nowMs) : nowMs),
    };
    const next: SecretRecord = pending === token ? { ...current, rotation, lastChangedAt: nowMs } : { ...attachPending(current, token, nowMs), rotation };
    return { secret: next };
  });
  rotations.begin({ scope: ctx.scope, name: updated.name, arn: updated.arn, token, lambdaArn, testOnly });
  return { ARN: updated.arn, Name: updated.name, VersionId: token };
};
