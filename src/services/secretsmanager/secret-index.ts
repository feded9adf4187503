// Secondary index records that let ListSecrets page through sorted orders without scanning every secret.
import { recordKey, type RecordKind } from "../../storage/keys";
import type { BatchOp, StoredValue } from "../../storage/store";
import type { Scope } from "../scope";
import type { SecretRecord } from "./secret";

/** ListSecrets' SortBy values. */
export type SortBy = "created-date" | "last-accessed-date" | "last-changed-date" | "name";

export const SORT_KEYS: readonly SortBy[] = ["created-date", "last-accessed-date", "last-changed-date", "name"];

const KIND: Readonly<Record<SortBy, RecordKind>> = {
  "created-date": "secret-by-created",
  "last-accessed-date": "secret-by-accessed",
  "last-changed-date": "secret-by-changed",
  name: "secret-by-name",
};

/**
 * Each order is kept twice: once for live secrets (what ListSecrets shows by default) and once for all
 * secrets (IncludePlannedDeletion), so neither listing has to step over records it will not show.
 */
export type IndexSet = "live" | "all";
const SET_TAG: Readonly<Record<IndexSet, string>> = { live: "L", all: "A" };

/** Same separator as storage/keys.ts: no secret name can hold it, so the name is always the last part. */
const SEP = "\x1f";
const END = "\uffff";

/**
 * The dates a name-index entry carries, so that a listing narrowed by name prefixes can be put in another
 * order without reading every matching secret. Epoch ms; `a` is 0 for a secret never read.
 */
export interface NameIndexValue extends StoredValue {
  readonly v: 1;
  readonly c: number;
  readonly m: number;
  readonly a: number;
}

export interface SortFields {
  readonly name: string;
  readonly createdAt: number;
  readonly lastChangedAt: number;
  readonly lastAccessedDay: number | undefined;
}

// 16 digits cover every epoch millisecond until the year 318857; fixed width makes byte order date order.
const padded = (ms: number): string => String(Math.max(0, Math.trunc(ms))).padStart(16, "0");

/**
 * Where a secret sits in an order: the name itself for `name`, else the padded date then the name, so ties
 * break by name. Never-read secrets sort as the oldest access: AWS does not document where they go.
 */
export function positionOf(sortBy: SortBy, fields: SortFields): string {
  switch (sortBy) {
    case "name":
      return fields.name;
    case "created-date":
      return padded(fields.createdAt) + SEP + fields.name;
    case "last-changed-date":
      return padded(fields.lastChangedAt) + SEP + fields.name;
    case "last-accessed-date":
      return padded(fields.lastAccessedDay ?? 0) + SEP + fields.name;
  }
}

export const nameAtPosition = (position: string): string => position.slice(position.lastIndexOf(SEP) + 1);

export const sortFieldsOfNameEntry = (name: string, value: NameIndexValue): SortFields => ({
  name,
  createdAt: value.c,
  lastChangedAt: value.m,
  lastAccessedDay: value.a === 0 ? undefined : value.a,
});

const indexId = (set: IndexSet, position: string): string => SET_TAG[set] + SEP + position;

export const indexKey = (scope: Scope, sortBy: SortBy, set: IndexSet, position: string): string =>
  recordKey(scope, "secretsmanager", KIND[sortBy], indexId(set, position));

/** The key prefix every entry of one order and set shares; an entry's position is the rest of its key. */
export const indexPrefix = (scope: Scope, sortBy: SortBy, set: IndexSet): string => indexKey(scope, sortBy, set, "");

/** Bounds of the entries of one order and set whose position starts with `positionPrefix`. */
export function indexRange(scope: Scope, sortBy: SortBy, set: IndexSet, positionPrefix = ""): { gte: string; lt: string } {
  const start = indexKey(scope, sortBy, set, positionPrefix);
  return { gte: start, lt: start + END };
}

function entriesOf(scope: Scope, secret: SecretRecord | undefined): Map<string, StoredValue> {
  const entries = new Map<string, StoredValue>();
  if (secret === undefined) return entries;
  const sets: readonly IndexSet[] = secret.deletedAt === undefined ? ["live", "all"] : ["all"];
  for (const sortBy of SORT_KEYS) {
    const value: StoredValue =
      sortBy === "name"
        ? ({ v: 1, c: secret.createdAt, m: secret.lastChangedAt, a: secret.lastAccessedDay ?? 0 } satisfies NameIndexValue)
        : { v: 1 };
    for (const set of sets) entries.set(indexKey(scope, sortBy, set, positionOf(sortBy, secret)), value);
  }
  return entries;
}

const sameValue = (a: StoredValue, b: StoredValue): boolean =>
  a.v === b.v && a["c"] === b["c"] && a["m"] === b["m"] && a["a"] === b["a"];

/**
 * The index changes that go with replacing `before` by `after` (undefined for a create or a removal).
 * Every write of a secret record puts these in the same atomic batch, so the indexes never drift.
 * Only entries that move or change are written: a read that stamps LastAccessedDate rewrites the
 * access-order and name entries and leaves the others alone.
 */
export function secretIndexOps(scope: Scope, before: SecretRecord | undefined, after: SecretRecord | undefined): BatchOp[] {
  const old = entriesOf(scope, before);
  const next = entriesOf(scope, after);
  const ops: BatchOp[] = [];
  for (const key of old.keys()) if (!next.has(key)) ops.push({ type: "del", key });
  for (const [key, value] of next) {
    const previous = old.get(key);
    if (previous === undefined || !sameValue(previous, value)) ops.push({ type: "put", key, value });
  }
  return ops;
}
