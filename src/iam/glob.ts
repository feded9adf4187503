// Policy values compiled once into matchers: IAM wildcards (`*`, `?`) in their three dialects, and policy variables.
import type { RequestView } from "./context";

/**
 * How a policy value matches a request value:
 * - exact, exact-ci: no wildcards (StringEquals, StringEqualsIgnoreCase); `*` and `?` are ordinary characters.
 * - glob, glob-ci: `*` any run of characters, `?` any one (StringLike; actions, which IAM matches ignoring case).
 * - resource: the Resource element. "You can use wildcard characters (* and ?) within the individual segments of an
 *   ARN (the parts separated by colons) … If the * wildcard is the last character of a resource ARN segment, it can
 *   expand to match beyond the colon boundaries" (IAM reference_policies_elements_resource). So `?` and an inner `*`
 *   stay within a segment; a `*` before a colon or at the end may span colons.
 * - arn: ArnEquals / ArnLike: "Each of the six colon-delimited components of the ARN is checked separately and each
 *   can include multi-character match wildcards (*) or single-character match wildcards (?)" (IAM
 *   reference_policies_elements_condition_operators, ARN condition operators). The sixth component (the resource
 *   part) may itself contain colons (secret:NAME), so wildcards there are unrestricted. A value with fewer than six
 *   components (`*`) is matched as a whole.
 */
export type MatchMode = "exact" | "exact-ci" | "glob" | "glob-ci" | "resource" | "arn";

export interface ValueMatcher {
  /** The policy value as written, for traces. */
  readonly source: string;
  /** True for the pattern that matches everything (`*` in a wildcard mode, without variables). */
  readonly matchesAll: boolean;
  test(value: string, view: RequestView): boolean;
}

type Part =
  | { readonly kind: "text"; readonly text: string } // wildcards active
  | { readonly kind: "literal"; readonly text: string } // `${*}`, `${?}`, `${$}`: always ordinary characters
  | { readonly kind: "variable"; readonly key: string; readonly written: string; readonly fallback: string | undefined };

/**
 * Splits a policy value into text and policy variables. Under Version 2008-10-17 (or no Version), "variables such as
 * ${aws:username} won't be recognized as variables and will instead be treated as literal strings" (IAM
 * AccessPolicyLanguage_ElementDescriptions, Version), so `variables` is false there and the value is one text part.
 * `${*}`, `${?}` and `${$}` are the documented escapes for the three special characters; `${key, 'default'}` is
 * IAM's "Specifying default values" form (reference_policies_variables): the default, between single quotes after a
 * comma, is used when the key has no value. Something that only looks like a variable (`${` without `}`) is text.
 */
export function parseTemplate(value: string, variables: boolean): Part[] {
  if (!variables || !value.includes("${")) return [{ kind: "text", text: value }];
  const parts: Part[] = [];
  let from = 0;
  for (;;) {
    const open = value.indexOf("${", from);
    const close = open < 0 ? -1 : value.indexOf("}", open + 2);
    if (open < 0 || close < 0) break;
    if (open > from) parts.push({ kind: "text", text: value.slice(from, open) });
    const inner = value.slice(open + 2, close);
    const variable = /^\s*([^\s,']+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?$/.exec(inner);
    if (inner === "*" || inner === "?" || inner === "$") parts.push({ kind: "literal", text: inner });
    else if (variable !== null) parts.push({ kind: "variable", key: variable[1]!.toLowerCase(), written: variable[1]!, fallback: variable[2]?.replace(/''/g, "'") });
    else parts.push({ kind: "text", text: value.slice(open, close + 1) });
    from = close + 1;
  }
  if (from < value.length) parts.push({ kind: "text", text: value.slice(from) });
  return parts;
}

// Marks for literal runs inside a resolved pattern: characters no policy or principal value carries.
const OPEN = "\u0000";
const CLOSE = "\u0001";

/** A variable's value: a single string (booleans and numbers as their text); multivalued or absent keys resolve to nothing. */
function variableValue(part: Extract<Part, { kind: "variable" }>, view: RequestView): string | undefined {
  const value = view.get(part.key, part.written);
  if (typeof value === "string") return value;
  if (typeof value === "boolean" || typeof value === "number") return String(value);
  return part.fallback;
}

/** The pattern with variables substituted; literal runs are wrapped in OPEN…CLOSE unless `plain`. Undefined: unresolvable. */
function resolve(parts: readonly Part[], view: RequestView | undefined, plain: boolean): string | undefined {
  let out = "";
  for (const part of parts) {
    if (part.kind === "text") out += part.text;
    else {
      const text = part.kind === "literal" ? part.text : view === undefined ? undefined : variableValue(part, view);
      if (text === undefined) return undefined;
      out += plain ? text : OPEN + text + CLOSE;
    }
  }
  return out;
}

const escapeChar = (c: string): string => (/[.*+?^${}()|[\]\\/-]/.test(c) ? `\\${c}` : c);

/** A resolved (marked) pattern as a regex, or as a plain string when it has no live wildcard. */
function compileResolved(marked: string, mode: MatchMode): RegExp | string {
  const chars: string[] = [];
  const wild: boolean[] = [];
  let literal = false;
  for (const c of marked) {
    if (c === OPEN) literal = true;
    else if (c === CLOSE) literal = false;
    else {
      chars.push(c);
      wild.push(!literal && (c === "*" || c === "?"));
    }
  }
  if (!wild.includes(true)) return chars.join("");
  const colons = chars.filter((c, i) => c === ":" && !wild[i]).length;
  let segment = 0;
  let source = "";
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (!wild[i]) {
      if (c === ":") segment++;
      source += escapeChar(c);
      continue;
    }
    let withinSegment = false;
    if (mode === "resource") withinSegment = c === "?" || (i + 1 < chars.length && chars[i + 1] !== ":");
    else if (mode === "arn") withinSegment = colons >= 5 && segment < 5;
    source += c === "*" ? (withinSegment ? "[^:]*" : "[\\s\\S]*") : withinSegment ? "[^:]" : "[\\s\\S]";
  }
  return new RegExp(`^${source}$`, mode === "glob-ci" ? "i" : "");
}

const ignoreCase = (mode: MatchMode): boolean => mode === "exact-ci" || mode === "glob-ci";

function testCompiled(compiled: RegExp | string, value: string, mode: MatchMode): boolean {
  if (typeof compiled !== "string") return compiled.test(value);
  return ignoreCase(mode) ? value.length === compiled.length && value.toLowerCase() === compiled : value === compiled;
}

/** Entries kept per variable-bearing pattern: one per distinct substituted value (about one per principal). */
const CACHE_LIMIT = 256;

export function compileMatcher(value: string, mode: MatchMode, variables: boolean): ValueMatcher {
  const parts = parseTemplate(value, variables);
  const exact = mode === "exact" || mode === "exact-ci";
  if (parts.every((part) => part.kind !== "variable")) {
    let compiled = exact ? resolve(parts, undefined, true)! : compileResolved(resolve(parts, undefined, false)!, mode);
    if (typeof compiled === "string" && ignoreCase(mode)) compiled = compiled.toLowerCase();
    const matchesAll = !exact && parts.length === 1 && value === "*";
    return { source: value, matchesAll, test: matchesAll ? () => true : (request) => testCompiled(compiled, request, mode) };
  }
  const cache = new Map<string, RegExp | string>();
  return {
    source: value,
    matchesAll: false,
    test(request, view) {
      const resolved = resolve(parts, view, exact);
      if (resolved === undefined) {
        view.unresolved = true;
        return false;
      }
      let compiled = cache.get(resolved);
      if (compiled === undefined) {
        compiled = exact ? resolved : compileResolved(resolved, mode);
        if (typeof compiled === "string" && ignoreCase(mode)) compiled = compiled.toLowerCase();
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(resolved, compiled);
      }
      return testCompiled(compiled, request, mode);
    },
  };
}
