// The one storage key schema: account / region / service / kind / id.

/**
 * U+001F separates the parts: no account, region, service, kind or AWS id can contain it
 * (secret names and alias names allow `/`, `!` and `@`, so none of those will do).
 */
const SEP = "\x1f";
/** Sorts after every character an id may hold, so `prefix + END` bounds a prefix range. */
const END = "\uffff";

export type ServiceKey = "kms" | "secretsmanager";

export type RecordKind =
  | "kms-key" // one KMS key: metadata and its wrapped backing keys
  | "kms-alias" // one alias name → target key id
  | "kms-key-usage" // a key's last cryptographic use (GetKeyLastUsage)
  | "kms-grant" // one grant, keyed by key id + "/" + grant id, so one range holds exactly one key's grants
  | "kms-schedule" // GLOBAL: a due deletion or rotation, keyed by due time first
  | "kms-custom-key-store" // GLOBAL: one custom key store, keyed by account + "/" + region + "/" + id (a restart finds every connected one)
  | "secret" // one secret's metadata, keyed by name
  | "secret-version" // one sealed version of a secret, keyed by name + version id
  | "secret-by-name" // ListSecrets index: set + name → the secret's dates (secret-index.ts)
  | "secret-by-created" // ListSecrets index: set + padded CreatedDate + name → nothing
  | "secret-by-changed" // ListSecrets index: set + padded LastChangedDate + name → nothing
  | "secret-by-accessed" // ListSecrets index: set + padded LastAccessedDate + name → nothing
  | "secret-schedule" // GLOBAL: a secret's due deletion, keyed by due time first
  | "secret-rotation-schedule" // GLOBAL: a secret's next rotation window, keyed by its opening time first
  | "secret-rotation-attempts" // a secret's last rotation attempts (rotation-attempts.ts), keyed by name
  | "secret-replication"; // GLOBAL: one primary secret that has replicas, for the sweep that keeps them in step

export interface Partition {
  readonly account: string;
  readonly region: string;
}

export const recordKey = (scope: Partition, service: ServiceKey, kind: RecordKind, id: string): string =>
  scope.account + SEP + scope.region + SEP + service + SEP + kind + SEP + id;

/** Bounds of every record of one kind in a scope, optionally under an id prefix. */
export const kindRange = (
  scope: Partition,
  service: ServiceKey,
  kind: RecordKind,
  idPrefix = "",
): { gte: string; lt: string } => {
  const start = recordKey(scope, service, kind, idPrefix);
  return { gte: start, lt: start + END };
};

/** A secret's versions sit under `<name> SEP <versionId>`, so one range holds exactly one secret's. */
export const secretVersionId = (secretName: string, versionId: string): string => secretName + SEP + versionId;
export const secretVersionsPrefix = (secretName: string): string => secretName + SEP;

/** The lock name for read-modify-write of one resource. */
export const lockName = (scope: Partition, service: ServiceKey, kind: RecordKind, id: string): string =>
  recordKey(scope, service, kind, id);

/**
 * Records that belong to no one account and region (the KMS schedule of deletions and rotations)
 * live under this pseudo-scope; `_` sorts after every account id's digits.
 */
export const GLOBAL: Partition = { account: "_", region: "_" };

/** Bounds of every record of one account, or of one account and region (a partition reset). */
export const scopeRange = (account: string, region?: string): { gte: string; lt: string } => {
  const start = region === undefined ? account + SEP : account + SEP + region + SEP;
  return { gte: start, lt: start + END };
};

/** The account and region a stored key belongs to (GLOBAL's for the GLOBAL records). */
export const partitionOfKey = (key: string): Partition => {
  const [account = "", region = ""] = key.split(SEP, 2);
  return { account, region };
};

/** The record kind a stored key holds (undefined for keys outside the schema, such as the compaction bounds). */
export const kindOfKey = (key: string): string | undefined => key.split(SEP, 5)[3];

/** Every record: each key starts with a 12-digit account id or GLOBAL's `_`. For reset and whole-store compaction. */
export const everything = { gte: "0", lt: "\x7f" } as const;

/**
 * Two records outside `everything` that bound the whole key space. LevelDB's manual compaction
 * skips the level a lone table sits in when nothing lies below it, leaving deleted bytes on disk;
 * with tables spanning the key space below, every flushed change is merged and its dead values dropped.
 */
export const compactionBounds = { low: "\x01", high: END + END } as const;
