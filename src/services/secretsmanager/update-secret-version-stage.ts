// UpdateSecretVersionStage: attach a staging label to a version, move it between versions, or remove it.
import type { UpdateSecretVersionStageRequest, UpdateSecretVersionStageResponse } from "@aws-sdk/client-secrets-manager";
import type { Operation } from "./context";
import {
  currentCannotBeRemoved,
  markedForDeletion,
  notAValidVersion,
  notPermittedOnReplica,
  removeFromVersionIdMismatch,
  removeFromVersionIdRequired,
  secretNotFound,
  stageNotOnVersion,
  versionIdRequired,
} from "./errors";
import { attachStage, detachStage, dropExpiredVersions, holderOf } from "./labels";
import { AWSCURRENT, isReplica, type VersionSummary } from "./secret";

export const updateSecretVersionStage: Operation<UpdateSecretVersionStageRequest, UpdateSecretVersionStageResponse> = async (input, ctx) => {
  const secrets = ctx.secrets.secrets;
  const secret = await secrets.requireLive(ctx.scope, input.SecretId ?? "");
  if (isReplica(secret, ctx.scope.region)) throw notPermittedOnReplica();
  const stage = input.VersionStage ?? "";
  const moveTo = input.MoveToVersionId;
  const removeFrom = input.RemoveFromVersionId;
  const now = ctx.now.getTime();
  const updated = await secrets.update(ctx.scope, secret.name, (current) => {
    if (current.arn !== secret.arn) throw secretNotFound();
    if (current.deletedAt !== undefined) throw markedForDeletion();
    const holder = holderOf(current.versions, stage);
    let versions: Record<string, VersionSummary>;
    if (moveTo !== undefined) {
      if (current.versions[moveTo] === undefined) throw notAValidVersion(moveTo);
      // "If the label is attached and you either do not specify this parameter, or the version ID does not
      // match, then the operation fails" (RemoveFromVersionId).
      if (holder !== undefined && holder !== moveTo && removeFrom === undefined) throw removeFromVersionIdRequired(stage, holder);
      if (removeFrom !== undefined && removeFrom !== holder && !(holder === undefined && removeFrom === moveTo)) {
        throw holder === undefined ? stageNotOnVersion(stage, removeFrom) : removeFromVersionIdMismatch(stage);
      }
      if (holder === moveTo) return { secret: current };
      versions = attachStage(current.versions, stage, moveTo);
    } else {
      // "To remove a label from a version, then do not specify this parameter [MoveToVersionId]."
      if (removeFrom === undefined) throw versionIdRequired();
      if (holder !== removeFrom) throw current.versions[removeFrom] === undefined ? notAValidVersion(removeFrom) : stageNotOnVersion(stage, removeFrom);
      if (stage === AWSCURRENT) throw currentCannotBeRemoved();
      versions = detachStage(current.versions, stage);
    }
    // A version left without labels is deprecated; old deprecated ones go as AWS removes them (labels.ts).
    const deleteVersions = dropExpiredVersions(versions, now);
    return { secret: { ...current, versions, lastChangedAt: now }, deleteVersions };
  });
  return { ARN: updated.arn, Name: updated.name };
};
