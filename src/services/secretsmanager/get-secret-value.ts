// GetSecretValue: one version's value, chosen by VersionId, VersionStage, or AWSCURRENT.
import type { GetSecretValueRequest, GetSecretValueResponse } from "@aws-sdk/client-secrets-manager";
import type { Operation } from "./context";
import { secretValueNotFoundForStage, secretValueNotFoundForVersion, versionAndStageDisagree } from "./errors";
import { holderOf } from "./labels";
import { AWSCURRENT } from "./secret";
import { readSecretValue } from "./versions";

/**
 * The hot path: one secret record read, one version record read, one KMS Decrypt, and a write only the
 * first time a day the version is read (LastAccessedDate). Nothing is scanned, however many secrets exist.
 */
export const getSecretValue: Operation<GetSecretValueRequest, GetSecretValueResponse> = async (input, ctx) => {
  const secret = await ctx.secrets.secrets.requireLive(ctx.scope, input.SecretId ?? "");
  let versionId: string;
  // Which lookup failed decides the text: a label on a valueless version (RotateSecret's AWSPENDING) is "not found" for that label.
  const notFound = (): Error =>
    input.VersionId === undefined ? secretValueNotFoundForStage(input.VersionStage ?? AWSCURRENT) : secretValueNotFoundForVersion(input.VersionId);
  if (input.VersionId !== undefined) {
    const summary = secret.versions[input.VersionId];
    if (summary === undefined) throw secretValueNotFoundForVersion(input.VersionId);
    if (input.VersionStage !== undefined && !summary.stages.includes(input.VersionStage)) throw versionAndStageDisagree();
    versionId = input.VersionId;
  } else {
    const stage = input.VersionStage ?? AWSCURRENT;
    const found = holderOf(secret.versions, stage);
    if (found === undefined) throw secretValueNotFoundForStage(stage);
    versionId = found;
  }
  return readSecretValue(ctx, secret, versionId, notFound);
};
