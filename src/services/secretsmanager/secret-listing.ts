// SecretListing: pages of secrets in a requested order and under filters, read through the ListSecrets indexes.
import { createHash } from "node:crypto";
import type { Store } from "../../storage/store";
import type { Scope } from "../scope";
import { invalidNextToken } from "./errors";
import { matchesFilters, namePrefixes, type ParsedFilter } from "./list-filters";
import { deletionDue, secretKey, type SecretRecord } from "./secret";
import {
  indexPrefix,
  indexRange,
  nameAtPosition,
  positionOf,
  sortFieldsOfNameEntry,
  type IndexSet,
  type NameIndexValue,
  type SortBy,
} from "./secret-index";

export interface ListingQuery {
  /** The operation asking: a NextToken only continues the listing that issued it. */
  readonly purpose: "ListSecrets" | "BatchGetSecretValue";
  readonly filters: readonly ParsedFilter[];
  readonly sortBy: SortBy;
  readonly descending: boolean;
  readonly includePlannedDeletion: boolean;
  readonly maxResults: number;
  readonly nextToken: string | undefined;
  /** The request's clock: a secret whose recovery window has ended is gone, whether or not it was purged yet. */
  readonly nowMs: number;
}

export interface ListingPage {
  readonly secrets: readonly SecretRecord[];
  readonly nextToken: string | undefined;
}

/**
 * At most this many index entries are examined for one page. A filter the indexes cannot answer may have to
 * step over many secrets; like AWS ("NextToken … can occur even when the response includes no values at all,
 * such as when you ask for a filtered view of a long list"), the page then ends early with a NextToken.
 */
export const SCAN_BUDGET = 1000;

/** The character that bounds key ranges (storage/keys.ts): no position we issue holds it. */
const END = "\uffff";

export class SecretListing {
  constructor(private readonly store: Store) {}

  /**
   * One page. Without a name filter this is a range read of the requested order's index: maxResults
   * entries (plus one to know whether more follow) and a get per entry. A name filter with only positive
   * values reads just the name ranges it names; other filters are checked on each secret read.
   * Tokens carry the position of the last entry examined, so secrets created or deleted meanwhile neither
   * repeat nor shift the pages that follow.
   */
  async page(scope: Scope, query: ListingQuery): Promise<ListingPage> {
    const fingerprint = fingerprintOf(query);
    const after = query.nextToken === undefined ? undefined : decodeToken(query.nextToken, fingerprint);
    const set: IndexSet = query.includePlannedDeletion ? "all" : "live";
    const prefixes = namePrefixes(query.filters);
    const positions =
      prefixes !== undefined && query.sortBy !== "name"
        ? this.sortedWithinNames(scope, query.sortBy, set, prefixes, query.descending, after)
        : this.inOrder(scope, query.sortBy, set, prefixes ?? [""], query.descending, after);

    const secrets: SecretRecord[] = [];
    let examined = 0;
    let last: string | undefined;
    for await (const position of positions) {
      if (secrets.length === query.maxResults || examined === SCAN_BUDGET) {
        return { secrets, nextToken: encodeToken(fingerprint, last as string) };
      }
      examined++;
      last = position;
      const secret = await this.store.get<SecretRecord>(secretKey(scope, nameAtPosition(position)));
      // The index and the record are written in one batch, but a change may land between reading the two.
      if (secret === undefined || deletionDue(secret, query.nowMs)) continue;
      if (!query.includePlannedDeletion && secret.deletedAt !== undefined) continue;
      if (matchesFilters(secret, query.filters)) secrets.push(secret);
    }
    return { secrets, nextToken: undefined };
  }

  /** Positions of the order's index under each prefix, in order, after `after`. */
  private async *inOrder(
    scope: Scope,
    sortBy: SortBy,
    set: IndexSet,
    prefixes: readonly string[],
    descending: boolean,
    after: string | undefined,
  ): AsyncGenerator<string> {
    const base = indexPrefix(scope, sortBy, set);
    for (const prefix of descending ? [...prefixes].reverse() : prefixes) {
      let { gte, lt } = indexRange(scope, sortBy, set, prefix);
      // "\x00" is the least character: the first key strictly past `after`.
      if (after !== undefined && !descending) gte = maxOf(gte, base + after + "\x00");
      if (after !== undefined && descending) lt = minOf(lt, base + after);
      if (gte >= lt) continue;
      for await (const [key] of this.store.range({ gte, lt, reverse: descending })) yield key.slice(base.length);
    }
  }

  /**
   * Positions in a date order of the secrets under the name prefixes: the name entries carry the dates, so
   * this reads the matching name ranges once and sorts them, never the secrets outside them.
   */
  private async *sortedWithinNames(
    scope: Scope,
    sortBy: SortBy,
    set: IndexSet,
    prefixes: readonly string[],
    descending: boolean,
    after: string | undefined,
  ): AsyncGenerator<string> {
    const base = indexPrefix(scope, "name", set);
    const positions: string[] = [];
    for (const prefix of prefixes) {
      for await (const [key, value] of this.store.range<NameIndexValue>(indexRange(scope, "name", set, prefix))) {
        const position = positionOf(sortBy, sortFieldsOfNameEntry(key.slice(base.length), value));
        if (after === undefined || (descending ? position < after : position > after)) positions.push(position);
      }
    }
    positions.sort();
    if (descending) positions.reverse();
    yield* positions;
  }
}

const maxOf = (a: string, b: string): string => (a > b ? a : b);
const minOf = (a: string, b: string): string => (a < b ? a : b);

/** What a token is only valid for: the same operation, order, deletion choice and filters. */
function fingerprintOf(query: ListingQuery): string {
  const filters = query.filters.map((filter) => [filter.key, filter.values.map((value) => (value.negated ? "!" : "") + value.text)]);
  const material = JSON.stringify([query.purpose, query.sortBy, query.descending, query.includePlannedDeletion, filters]);
  return createHash("sha256").update(material).digest("base64url").slice(0, 16);
}

interface TokenBody {
  readonly q: string;
  readonly p: string;
}

function encodeToken(fingerprint: string, position: string): string {
  return Buffer.from(JSON.stringify({ q: fingerprint, p: position } satisfies TokenBody), "utf8").toString("base64url");
}

function decodeToken(token: string, fingerprint: string): string {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalidNextToken();
  }
  if (typeof body !== "object" || body === null) throw invalidNextToken();
  const { q, p } = body as Partial<Record<keyof TokenBody, unknown>>;
  if (q !== fingerprint || typeof p !== "string" || p.length === 0 || p.includes(END)) throw invalidNextToken();
  return p;
}
