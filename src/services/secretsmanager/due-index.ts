// A GLOBAL index of secrets by a due time (deletion, rotation): written with the secret record, read by a sweep.
import { GLOBAL, kindRange, recordKey, type Partition } from "../../storage/keys";
import type { BatchOp, StoredValue } from "../../storage/store";
import { type Scope, partitionOf } from "../scope";
import { padDue } from "../sweeper";
import type { SecretRecord } from "./secret";

export type DueIndexKind = "secret-schedule" | "secret-rotation-schedule";

export interface SecretDueEntry extends StoredValue {
  readonly v: 1;
  readonly account: string;
  readonly region: string;
  readonly name: string;
  readonly arn: string;
  readonly due: number;
}

/** Ids start with the due time, so key order is due order and "due by now" is one range read. */
const entryKey = (kind: DueIndexKind, scope: Partition, name: string, due: number): string =>
  recordKey(GLOBAL, "secretsmanager", kind, `${padDue(due)}/${scope.account}/${scope.region}/${name}`);

export const dueIndexRange = (kind: DueIndexKind): { gte: string; lt: string } => kindRange(GLOBAL, "secretsmanager", kind);

/** The first key past every entry due by `nowMs`. */
export const dueBound = (kind: DueIndexKind, nowMs: number): string => recordKey(GLOBAL, "secretsmanager", kind, padDue(nowMs + 1));

/**
 * The index changes that go with replacing `before` by `after` (undefined for a create or a purge), for the
 * same batch as the secret record: the record is the truth (`dueOf` reads it), the entry an index of it.
 */
export function dueIndexOps(
  kind: DueIndexKind,
  dueOf: (secret: SecretRecord | undefined) => number | undefined,
  scope: Partition,
  before: SecretRecord | undefined,
  after: SecretRecord | undefined,
): BatchOp[] {
  const was = dueOf(before);
  const is = dueOf(after);
  if (was === is && before?.arn === after?.arn) return [];
  const ops: BatchOp[] = [];
  if (before !== undefined && was !== undefined) ops.push({ type: "del", key: entryKey(kind, scope, before.name, was) });
  if (after !== undefined && is !== undefined) {
    const entry: SecretDueEntry = { v: 1, account: scope.account, region: scope.region, name: after.name, arn: after.arn, due: is };
    ops.push({ type: "put", key: entryKey(kind, scope, after.name, is), value: entry });
  }
  return ops;
}

export const entryScope = (entry: SecretDueEntry): Scope => ({
  account: entry.account,
  region: entry.region,
  partition: partitionOf(entry.region),
});

/** The storage key of an entry as read back, for removing one its secret no longer backs. */
export const storedEntryKey = (kind: DueIndexKind, entry: SecretDueEntry): string => entryKey(kind, entry, entry.name, entry.due);
