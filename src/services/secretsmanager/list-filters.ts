// The Filters of ListSecrets and BatchGetSecretValue: checking them, and matching a secret against them.
import type { Filter, FilterNameStringType } from "@aws-sdk/client-secrets-manager";
import { invalidFilterKey, invalidFilterValues } from "./errors";
import type { SecretRecord } from "./secret";

export interface FilterValue {
  /** A leading `!` asks for the secrets that do NOT match the rest of the value. */
  readonly negated: boolean;
  readonly text: string;
  /** The words of `text`, lower-cased, for the filters that match words. */
  readonly words: readonly string[];
}

export interface ParsedFilter {
  readonly key: FilterNameStringType;
  readonly values: readonly FilterValue[];
}

/**
 * The model leaves Key and Values optional; AWS refuses a filter without them. The texts are moto's
 * (getmoto/moto tests/test_secretsmanager/test_list_secrets.py), not confirmed against AWS.
 * Count limits (10 filters, 10 values, 512 characters, the value pattern) are the model's and were
 * already checked by the protocol layer as ValidationException, as AWS does.
 */
export function parseFilters(filters: readonly Filter[] | undefined): ParsedFilter[] {
  return (filters ?? []).map((filter) => {
    if (filter.Key === undefined) throw invalidFilterKey();
    if (filter.Values === undefined || filter.Values.length === 0) throw invalidFilterValues(filter.Key);
    return {
      key: filter.Key,
      values: filter.Values.map((value) => {
        const negated = value.startsWith("!");
        const text = negated ? value.slice(1) : value;
        return { negated, text, words: wordsOf(text) };
      }),
    };
  });
}

/**
 * AWS's word rule (https://docs.aws.amazon.com/secretsmanager/latest/userguide/manage_search-secret.html):
 * only letters and digits count, and a word ends at any change from lower to upper case, between letters and
 * digits, or at punctuation: `credsDatabase#892` is `creds`, `Database`, `892`. `MYSecret` gives `MY`, `Secret`.
 */
const WORD = /\p{Lu}+(?!\p{Ll})|\p{Lu}?\p{Ll}+|\p{Nd}+|[\p{L}\p{N}]+/gu;

export function wordsOf(text: string): string[] {
  return (text.match(WORD) ?? []).map((word) => word.toLowerCase());
}

type Mode = "prefix" | "words";

/**
 * How each key matches, from the model's Filter.Key documentation and the user guide above:
 * - name, tag-key, tag-value, primary-region, owning-service: prefix, case-sensitive.
 * - description: the model says "prefix match, not case-sensitive", the user guide shows word matching
 *   ("My Description" matches "Description of my secret"), and moto found the same by testing: every word of
 *   the value must start a word of the description. A case-insensitive prefix of a description passes that
 *   rule too (short of one cut inside an upper-case run: "ABCD" of "ABCDef"), so both documents hold.
 * - all: the same word rule over the name, the description, each tag key and each tag value. Every word of the
 *   value must be found, and in one of those fields: AWS's announcement of the search ("Identify, arrange, and
 *   manage secrets easily using enhanced search in AWS Secrets Manager", AWS Security Blog) says searching
 *   "secrets for" returns secrets with a name, tag key, tag value or description "that includes both 'secrets'
 *   and 'for' in the same field". The user guide's "My_Secret matches secrets with the word my or secret" is
 *   about how a stored value splits into words, not a rule that one word of the search is enough.
 * Words match by prefix (`cred` finds `credentials`), as the console search does, and a value's punctuation
 * (space, `/ _ + = . @ : -`, the characters the Values pattern allows) only separates words.
 */
function attributesOf(secret: SecretRecord, key: FilterNameStringType): { readonly mode: Mode; readonly values: readonly string[] } {
  const tagKeys = secret.tags.map((tag) => tag.Key);
  const tagValues = secret.tags.map((tag) => tag.Value);
  const optional = (value: string | undefined): string[] => (value === undefined ? [] : [value]);
  switch (key) {
    case "name":
      return { mode: "prefix", values: [secret.name] };
    case "tag-key":
      return { mode: "prefix", values: tagKeys };
    case "tag-value":
      return { mode: "prefix", values: tagValues };
    case "primary-region":
      return { mode: "prefix", values: optional(secret.primaryRegion) };
    case "owning-service":
      return { mode: "prefix", values: optional(secret.owningService) };
    case "description":
      return { mode: "words", values: optional(secret.description) };
    case "all":
      return { mode: "words", values: [secret.name, ...optional(secret.description), ...tagKeys, ...tagValues] };
  }
}

function matchesValue(value: FilterValue, mode: Mode, attributes: readonly string[]): boolean {
  if (mode === "prefix") return attributes.some((attribute) => attribute.startsWith(value.text));
  // A value with no letters or digits has no words and so matches nothing (a bare "!" then matches all).
  if (value.words.length === 0) return false;
  return attributes.some((attribute) => {
    const words = wordsOf(attribute);
    return value.words.every((word) => words.some((candidate) => candidate.startsWith(word)));
  });
}

/**
 * Values of one filter are OR'd and filters are AND'd (moto's test_with_filter_with_multiple_values and
 * test_with_multiple_filters; AWS documents neither). A negated value matches a secret none of whose
 * attributes match it: `!prod` on tag-key keeps the secrets without any tag key starting with `prod`,
 * including secrets with no tags.
 */
export function matchesFilters(secret: SecretRecord, filters: readonly ParsedFilter[]): boolean {
  return filters.every((filter) => {
    const { mode, values } = attributesOf(secret, filter.key);
    return filter.values.some((value) => matchesValue(value, mode, values) !== value.negated);
  });
}

/**
 * The name prefixes that bound every match, when a `name` filter has only positive values: the listing then
 * reads just those ranges of the name index. Prefixes inside another one are dropped so the ranges are
 * disjoint; undefined when no such filter narrows anything.
 */
export function namePrefixes(filters: readonly ParsedFilter[]): string[] | undefined {
  for (const filter of filters) {
    if (filter.key !== "name" || filter.values.some((value) => value.negated)) continue;
    const sorted = [...new Set(filter.values.map((value) => value.text))].sort();
    const kept: string[] = [];
    for (const prefix of sorted) {
      const last = kept[kept.length - 1];
      if (last === undefined || !prefix.startsWith(last)) kept.push(prefix);
    }
    return kept.includes("") ? undefined : kept;
  }
  return undefined;
}
