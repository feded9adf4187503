// The Condition element: operators compiled once per policy into tests over a request's condition keys.
import type { ContextValue, RequestView } from "./context";
import { compileMatcher, type MatchMode, type ValueMatcher } from "./glob";
import { PolicyError } from "./policy-error";

/** One key under one operator, e.g. `"StringEquals": {"kms:CallerAccount": "111122223333"}`. */
export interface CompiledCondition {
  /** `StringEquals kms:CallerAccount`, for traces. */
  readonly label: string;
  /** The operator, key and values as written: what a judgement about the policy itself (public.ts) reads. */
  readonly operator: string;
  readonly key: string;
  readonly values: readonly string[];
  test(view: RequestView): boolean;
}

/** Whether one request value matches one policy value (the positive sense of the operator). */
type ValueTest = (request: ContextValue, view: RequestView) => boolean;

interface Family {
  /** Not* operators: true when the value matches none of the policy's values (IAM: "logical NOR"). */
  readonly negated: boolean;
  /** Builds the positive test for one policy value; throws PolicyError for a value the operator cannot hold. */
  readonly compile: (value: string, variables: boolean, operator: string) => ValueTest;
}

const text = (value: ContextValue): string => (typeof value === "string" ? value : String(value));

const stringFamily =
  (mode: MatchMode): Family["compile"] =>
  (value, variables) => {
    const matcher: ValueMatcher = compileMatcher(value, mode, variables);
    return (request, view) => matcher.test(text(request), view);
  };

// Numbers: policy values that are not numbers never match (AWS documents no validation of them at policy time).
const numericFamily =
  (compare: (request: number, policy: number) => boolean): Family["compile"] =>
  (value) => {
    const policy = value.trim() === "" ? NaN : Number(value);
    return (request) => {
      const number = typeof request === "number" ? request : typeof request === "string" && request.trim() !== "" ? Number(request) : NaN;
      return !Number.isNaN(number) && !Number.isNaN(policy) && compare(number, policy);
    };
  };

/**
 * Dates: "date and time formats that conform to … ISO 8601 … or epoch (UNIX) time" (IAM condition operators, Date).
 * An all-digit value is epoch seconds; a number in the request context is epoch seconds too (aws:EpochTime).
 */
export function parseDate(value: ContextValue): number {
  if (typeof value === "number") return value * 1000;
  if (typeof value !== "string") return NaN;
  const trimmed = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  return trimmed === "" ? NaN : Date.parse(trimmed);
}

const dateFamily =
  (compare: (request: number, policy: number) => boolean): Family["compile"] =>
  (value) => {
    const policy = parseDate(value);
    return (request) => {
      const time = parseDate(request);
      return !Number.isNaN(time) && !Number.isNaN(policy) && compare(time, policy);
    };
  };

// Bool: "true"/"false" compared ignoring case (a policy may write JSON true or "true").
const boolFamily: Family["compile"] = (value, variables) => {
  const matcher = compileMatcher(value, "exact-ci", variables);
  return (request, view) => matcher.test(text(request), view);
};

// BinaryEquals: "The value in the policy is a base-64 encoded binary" compared byte by byte with the request's.
const binaryFamily: Family["compile"] = (value) => {
  const policy = Buffer.from(value, "base64");
  return (request) => typeof request === "string" && Buffer.from(request, "base64").equals(policy);
};

// IpAddress: "The IP address must be in the standard CIDR format" (IAM condition operators, IP address); IPv4 and IPv6.
const ipFamily: Family["compile"] = (value) => {
  const range = parseCidr(value);
  return (request) => {
    if (range === undefined || typeof request !== "string") return false;
    const address = parsedAddress(request);
    return address !== undefined && inRange(address, range);
  };
};

// Callers come from few addresses (loopback in tests): the last ones parsed are kept rather than parsed per request.
const parsedAddresses = new Map<string, Uint8Array | undefined>();
function parsedAddress(text: string): Uint8Array | undefined {
  if (parsedAddresses.has(text)) return parsedAddresses.get(text);
  const address = parseIp(text);
  if (parsedAddresses.size >= 256) parsedAddresses.clear();
  parsedAddresses.set(text, address);
  return address;
}

const FAMILIES: ReadonlyMap<string, Family> = new Map<string, Family>([
  ["stringequals", { negated: false, compile: stringFamily("exact") }],
  ["stringnotequals", { negated: true, compile: stringFamily("exact") }],
  ["stringequalsignorecase", { negated: false, compile: stringFamily("exact-ci") }],
  ["stringnotequalsignorecase", { negated: true, compile: stringFamily("exact-ci") }],
  ["stringlike", { negated: false, compile: stringFamily("glob") }],
  ["stringnotlike", { negated: true, compile: stringFamily("glob") }],
  // "ArnEquals, ArnLike: Case-sensitive matching of the ARN … each can include … wildcards": the two behave alike.
  ["arnequals", { negated: false, compile: stringFamily("arn") }],
  ["arnlike", { negated: false, compile: stringFamily("arn") }],
  ["arnnotequals", { negated: true, compile: stringFamily("arn") }],
  ["arnnotlike", { negated: true, compile: stringFamily("arn") }],
  ["numericequals", { negated: false, compile: numericFamily((a, b) => a === b) }],
  ["numericnotequals", { negated: true, compile: numericFamily((a, b) => a === b) }],
  ["numericlessthan", { negated: false, compile: numericFamily((a, b) => a < b) }],
  ["numericlessthanequals", { negated: false, compile: numericFamily((a, b) => a <= b) }],
  ["numericgreaterthan", { negated: false, compile: numericFamily((a, b) => a > b) }],
  ["numericgreaterthanequals", { negated: false, compile: numericFamily((a, b) => a >= b) }],
  ["dateequals", { negated: false, compile: dateFamily((a, b) => a === b) }],
  ["datenotequals", { negated: true, compile: dateFamily((a, b) => a === b) }],
  ["datelessthan", { negated: false, compile: dateFamily((a, b) => a < b) }],
  ["datelessthanequals", { negated: false, compile: dateFamily((a, b) => a <= b) }],
  ["dategreaterthan", { negated: false, compile: dateFamily((a, b) => a > b) }],
  ["dategreaterthanequals", { negated: false, compile: dateFamily((a, b) => a >= b) }],
  ["bool", { negated: false, compile: boolFamily }],
  ["binaryequals", { negated: false, compile: binaryFamily }],
  ["ipaddress", { negated: false, compile: ipFamily }],
  ["notipaddress", { negated: true, compile: ipFamily }],
]);

/** Operators whose values may hold policy variables (IAM lists "Policy variables – Supported" for these families only). */
const VARIABLE_FAMILIES = /^(string|arn|bool)/;

type SetOperator = "none" | "any" | "all";

const isAbsent = (value: ContextValue | undefined): value is undefined => value === undefined || (Array.isArray(value) && value.length === 0);

/**
 * Compiles a Condition block. Its operators are ANDed, the keys under one operator are ANDed, and the values of one
 * key are ORed, or NORed for a negated operator (IAM reference_policies_multi-value-conditions).
 *
 * A key absent from the request, per IAM's condition operators page: "If the key that you specify in a policy
 * condition is not present in the request context, the values do not match and the condition is false. If the policy
 * condition requires that the key is not matched, such as StringNotLike or ArnNotLike, and the right key is not
 * present, the condition is true. This logic applies to all condition operators except ...IfExists and Null check."
 * So every negated operator (String/Arn/Numeric/Date Not*, NotIpAddress) is true on an absent key; `…IfExists` is true
 * on an absent key; Null tests presence. With a set operator (reference_policies_condition-single-vs-multi-valued):
 * ForAllValues is true when the key is absent or an empty set, ForAnyValue is false then. An empty list counts as
 * absent throughout.
 *
 * A multivalued request value under a plain (single-valued) operator: AWS advises against it and documents no
 * result; here a positive operator holds when any value matches and a negated one when none does.
 *
 * A policy variable that cannot be resolved (no value, no default) makes its condition false whatever the operator:
 * "If AWS cannot resolve a variable this might cause the entire statement to be invalid" (reference_policies_variables).
 */
export function compileConditions(block: unknown, variables: boolean): CompiledCondition[] {
  if (!isPlainObject(block)) throw new PolicyError("Syntax errors in policy.");
  const conditions: CompiledCondition[] = [];
  for (const [operator, keys] of Object.entries(block)) {
    if (!isPlainObject(keys)) throw new PolicyError("Syntax errors in policy.");
    const { set, base, ifExists } = splitOperator(operator);
    for (const [key, raw] of Object.entries(keys)) {
      if (!/^[^:]+:./.test(key)) throw new PolicyError("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
      const values = conditionValues(raw, operator);
      conditions.push(compileOne(operator, set, base, ifExists, key, values, variables));
    }
  }
  return conditions;
}

function splitOperator(operator: string): { set: SetOperator; base: string; ifExists: boolean } {
  let rest = operator.toLowerCase();
  let set: SetOperator = "none";
  if (rest.startsWith("foranyvalue:")) [set, rest] = ["any", rest.slice("foranyvalue:".length)];
  else if (rest.startsWith("forallvalues:")) [set, rest] = ["all", rest.slice("forallvalues:".length)];
  const ifExists = rest !== "ifexists" && rest.endsWith("ifexists");
  if (ifExists) rest = rest.slice(0, -"ifexists".length);
  if (rest === "null" ? ifExists : !FAMILIES.has(rest)) throw new PolicyError(`Invalid Condition type : ${operator}.`);
  return { set, base: rest, ifExists };
}

function conditionValues(raw: unknown, operator: string): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw new PolicyError(`Condition ${operator} must have at least one value.`);
  return list.map((value) => {
    if (typeof value === "string") return value;
    if (typeof value === "boolean" || typeof value === "number") return String(value);
    throw new PolicyError("Syntax errors in policy.");
  });
}

function compileOne(
  operator: string,
  set: SetOperator,
  base: string,
  ifExists: boolean,
  written: string,
  values: readonly string[],
  variables: boolean,
): CompiledCondition {
  const key = written.toLowerCase();
  const label = `${operator} ${written}`;
  if (base === "null") {
    // "Null": {"key": "true"} holds when the key is absent, "false" when it is present.
    const wantAbsent = values.map((value) => value.toLowerCase() === "true");
    return { label, operator, key: written, values, test: (view) => wantAbsent.includes(isAbsent(view.get(key, written))) };
  }
  const family = FAMILIES.get(base)!;
  const tests = values.map((value) => family.compile(value, variables && VARIABLE_FAMILIES.test(base), operator));
  const negated = family.negated;
  const positive = (request: ContextValue, view: RequestView): boolean => {
    for (const test of tests) if (test(request, view)) return true;
    return false;
  };
  const one = (request: ContextValue, view: RequestView): boolean => positive(request, view) !== negated;
  const decide = (view: RequestView): boolean => {
    const request = view.get(key, written);
    if (isAbsent(request)) {
      if (set === "all") return true;
      if (set === "any") return false;
      return ifExists || negated;
    }
    const many = Array.isArray(request) ? (request as readonly string[]) : undefined;
    if (many === undefined) return one(request, view);
    if (set === "all") return many.every((value) => one(value, view));
    if (set === "any") return many.some((value) => one(value, view));
    const anyMatch = many.some((value) => positive(value, view));
    return anyMatch !== negated;
  };
  return {
    label,
    operator,
    key: written,
    values,
    test(view) {
      view.unresolved = false;
      const result = decide(view);
      return result && !view.unresolved;
    },
  };
}

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

// --- IP addresses: 16 bytes (IPv4 as ::ffff:a.b.c.d, so an IPv4 CIDR also matches an IPv4-mapped IPv6 address) ---

interface IpRange {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = parts.map((part) => (/^\d{1,3}$/.test(part) ? Number(part) : 256));
  return bytes.every((byte) => byte <= 255) ? bytes : undefined;
}

export function parseIp(text: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  if (!text.includes(":")) {
    const v4 = parseIpv4(text);
    if (v4 === undefined) return undefined;
    out[10] = 0xff;
    out[11] = 0xff;
    out.set(v4, 12);
    return out;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string | undefined): number[] | undefined => {
    if (half === undefined || half === "") return [];
    const result: number[] = [];
    const pieces = half.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIpv4(piece);
        if (v4 === undefined) return undefined;
        result.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) result.push(parseInt(piece, 16));
      else return undefined;
    }
    return result;
  };
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...tail];
  all.forEach((group, i) => {
    out[2 * i] = group >> 8;
    out[2 * i + 1] = group & 0xff;
  });
  return out;
}

export function parseCidr(text: string): IpRange | undefined {
  const [address, bits, extra] = text.trim().split("/");
  if (address === undefined || extra !== undefined) return undefined;
  const bytes = parseIp(address);
  if (bytes === undefined) return undefined;
  const v4 = !address.includes(":");
  const max = v4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { bytes, prefix: v4 ? prefix + 96 : prefix };
}

function inRange(address: Uint8Array, { bytes, prefix }: IpRange): boolean {
  let i = 0;
  for (; (i + 1) * 8 <= prefix; i++) if (address[i] !== bytes[i]) return false;
  const rest = prefix - i * 8;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (address[i]! & mask) === (bytes[i]! & mask);
}
