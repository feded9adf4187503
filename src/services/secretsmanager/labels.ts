// Staging labels: how they move between a secret's versions, and which deprecated versions AWS removes.
import { tooManyStages } from "./errors";
import { AWSCURRENT, AWSPREVIOUS, sortedStages, type VersionSummary } from "./secret";

type Versions = Readonly<Record<string, VersionSummary>>;

/** SecretVersionStagesType's max in the model: the most labels one version can carry. */
export const MAX_STAGES_PER_VERSION = 20;

/**
 * "Secrets Manager removes unlabeled versions when there are more than 100, but it does not remove versions
 * created less than 24 hours ago" (Secrets Manager quotas; PutSecretValue says the same).
 */
export const KEEP_RECENT_VERSIONS = 100;
export const KEEP_YOUNGER_THAN_MS = 24 * 3600 * 1000;

export function holderOf(versions: Versions, stage: string): string | undefined {
  for (const [versionId, summary] of Object.entries(versions)) {
    if (summary.stages.includes(stage)) return versionId;
  }
  return undefined;
}

function withStages(versions: Versions, versionId: string, stages: Iterable<string>): Record<string, VersionSummary> {
  const summary = versions[versionId];
  if (summary === undefined) return { ...versions };
  return { ...versions, [versionId]: { ...summary, stages: sortedStages(stages) } };
}

/** Takes `stage` off whichever version carries it. */
export function detachStage(versions: Versions, stage: string): Record<string, VersionSummary> {
  const holder = holderOf(versions, stage);
  if (holder === undefined) return { ...versions };
  return withStages(versions, holder, (versions[holder]?.stages ?? []).filter((s) => s !== stage));
}

/**
 * Puts `stage` on `versionId`, taking it off the version that had it: a label is on at most one version.
 * Moving AWSCURRENT also moves AWSPREVIOUS to the version AWSCURRENT left ("Whenever you move AWSCURRENT,
 * Secrets Manager automatically moves the label AWSPREVIOUS to the version that AWSCURRENT was removed from").
 */
export function attachStage(versions: Versions, stage: string, versionId: string): Record<string, VersionSummary> {
  const holder = holderOf(versions, stage);
  if (holder === versionId) return { ...versions };
  let next = detachStage(versions, stage);
  if (stage === AWSCURRENT && holder !== undefined) {
    next = detachStage(next, AWSPREVIOUS);
    next = withStages(next, holder, [...(next[holder]?.stages ?? []), AWSPREVIOUS]);
  }
  const target = next[versionId];
  if (target === undefined) return next;
  const stages = sortedStages([...target.stages, stage]);
  if (stages.length > MAX_STAGES_PER_VERSION) throw tooManyStages(versionId, MAX_STAGES_PER_VERSION);
  return { ...next, [versionId]: { ...target, stages } };
}

/**
 * A version id with labels but no value yet: RotateSecret labels the new version AWSPENDING before the rotation
 * function's createSecret step puts its value ("Secrets Manager creates an AWSPENDING version ID before creating
 * the new secret version", DescribeSecret). GetSecretValue does not find its value.
 */
export const isValueless = (summary: VersionSummary): boolean => summary.kmsKeyArns.length === 0;

/**
 * Adds a new version, or gives a valueless one its value (keeping its labels and creation date), and moves each
 * of `stages` onto it (AWSCURRENT first, so AWSPREVIOUS follows it).
 */
export function addVersion(
  versions: Versions,
  versionId: string,
  summary: Omit<VersionSummary, "stages">,
  stages: readonly string[],
): Record<string, VersionSummary> {
  const placeholder = versions[versionId];
  const added: VersionSummary =
    placeholder === undefined ? { ...summary, stages: [] } : { ...summary, createdAt: placeholder.createdAt, stages: placeholder.stages };
  let next: Record<string, VersionSummary> = { ...versions, [versionId]: added };
  const ordered = [...new Set(stages)].sort((a, b) => (a === AWSCURRENT ? -1 : b === AWSCURRENT ? 1 : 0));
  for (const stage of ordered) next = attachStage(next, stage, versionId);
  return next;
}

/**
 * The deprecated versions (no labels) AWS would have removed by `nowMs`: those not among the 100 most recent
 * and created at least 24 hours ago. Labeled versions are never removed. Ties in creation time keep the
 * order versions were added in (the record's key order).
 */
export function expiredVersions(versions: Versions, nowMs: number): string[] {
  const entries = Object.entries(versions).map(([versionId, summary], order) => ({ versionId, summary, order }));
  entries.sort((a, b) => b.summary.createdAt - a.summary.createdAt || b.order - a.order);
  return entries
    .slice(KEEP_RECENT_VERSIONS)
    .filter(({ summary }) => summary.stages.length === 0 && summary.createdAt <= nowMs - KEEP_YOUNGER_THAN_MS)
    .map(({ versionId }) => versionId);
}

/** Removes from `versions` (a fresh copy the caller owns) the ones expiredVersions names, and returns their ids. */
export function dropExpiredVersions(versions: Record<string, VersionSummary>, nowMs: number): string[] {
  const expired = expiredVersions(versions, nowMs);
  for (const versionId of expired) delete versions[versionId];
  return expired;
}

/** Versions oldest first, as ListSecretVersionIds lists them (LocalStack's AWS-recorded snapshots). */
export function versionsOldestFirst(versions: Versions): Array<[string, VersionSummary]> {
  const entries = Object.entries(versions).map((entry, order) => ({ entry, order }));
  entries.sort((a, b) => a.entry[1].createdAt - b.entry[1].createdAt || a.order - b.order);
  return entries.map(({ entry }) => entry);
}
