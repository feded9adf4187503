// A small Dockerfile and .dockerignore reader for the static image checks (no Docker engine runs here).
import { existsSync, statSync } from "node:fs";
import path from "node:path";

export interface Instruction {
  /** Upper-cased, e.g. "COPY". */
  readonly keyword: string;
  /** Leading `--name=value` options (`--from=build`, `--interval=5s`); a bare `--link` maps to "". */
  readonly flags: Readonly<Record<string, string>>;
  /** The text after keyword and flags, continuation lines joined. */
  readonly rest: string;
  /** 1-based line of the keyword, for messages. */
  readonly line: number;
}

export interface Stage {
  readonly index: number;
  readonly name: string | undefined;
  /** The base image with build arguments substituted. */
  readonly base: string;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  /** ARGs before the first FROM, with their defaults: the only variables FROM lines may use. */
  readonly globalArgs: ReadonlyMap<string, string>;
  readonly stages: readonly Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const logical: Array<{ text: string; line: number }> = [];
  let pending: { text: string; line: number } | undefined;
  text.split("\n").forEach((raw, i) => {
    const physical = raw.replace(/\r$/, "");
    // Docker drops comment lines even inside a continued instruction.
    if (/^\s*#/.test(physical)) return;
    if (pending === undefined) {
      if (physical.trim() === "") return;
      pending = { text: "", line: i + 1 };
    }
    const continued = /\\\s*$/.test(physical);
    pending.text += continued ? physical.replace(/\\\s*$/, "") : physical;
    if (!continued) {
      logical.push(pending);
      pending = undefined;
    }
  });
  if (pending !== undefined) throw new Error(`Dockerfile ends inside the instruction of line ${pending.line}`);

  const globalArgs = new Map<string, string>();
  const stages: Array<{ index: number; name: string | undefined; base: string; instructions: Instruction[] }> = [];
  for (const { text: line, line: lineNumber } of logical) {
    const match = /^\s*(\S+)\s*(.*)$/.exec(line);
    if (match === null) continue;
    const keyword = match[1]!.toUpperCase();
    const { flags, rest } = splitFlags(match[2]!);
    const instruction: Instruction = { keyword, flags, rest, line: lineNumber };
    if (keyword === "FROM") {
      const [image, as, name, ...extra] = words(rest);
      if (image === undefined || (as !== undefined && (as.toUpperCase() !== "AS" || name === undefined)) || extra.length > 0) {
        throw new Error(`line ${lineNumber}: FROM must be 'FROM image [AS name]'`);
      }
      stages.push({ index: stages.length, name, base: substitute(image, globalArgs), instructions: [] });
    } else if (stages.length === 0) {
      if (keyword !== "ARG") throw new Error(`line ${lineNumber}: only ARG may come before the first FROM, not ${keyword}`);
      const [name, value = ""] = rest.split(/=(.*)/s);
      globalArgs.set(name!.trim(), unquote(value.trim()));
    } else {
      stages[stages.length - 1]!.instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

/** JSON (exec) form, or undefined for shell form. Docker treats anything that is not a JSON string array as shell form. */
export function execForm(rest: string): string[] | undefined {
  if (!rest.trimStart().startsWith("[")) return undefined;
  try {
    const parsed: unknown = JSON.parse(rest);
    return Array.isArray(parsed) && parsed.every((item) => typeof item === "string") ? (parsed as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** ENV in both forms: `ENV a=1 b="two words"` and the legacy `ENV name value with spaces`. */
export function envPairs(rest: string): Array<[string, string]> {
  if (!/^[^\s=]+=/.test(rest.trim())) {
    const [, name, value] = /^\s*(\S+)\s+(.*)$/s.exec(rest) ?? [];
    if (name === undefined) throw new Error(`ENV without a value: ${rest}`);
    return [[name, value!.trim()]];
  }
  return words(rest).map((word) => {
    const at = word.indexOf("=");
    if (at <= 0) throw new Error(`ENV entry '${word}' is not name=value`);
    return [word.slice(0, at), unquote(word.slice(at + 1))];
  });
}

/** COPY/ADD operands: sources and destination, in either form. */
export function copyOperands(rest: string): { sources: string[]; dest: string } {
  const operands = execForm(rest) ?? words(rest);
  const dest = operands.pop();
  if (dest === undefined || operands.length === 0) throw new Error(`COPY needs a source and a destination: ${rest}`);
  return { sources: operands, dest };
}

/** The WORKDIR in force at each instruction of a stage ("/" until the first WORKDIR). */
export function workdirs(stage: Stage): string[] {
  let current = "/";
  return stage.instructions.map((instruction) => {
    if (instruction.keyword === "WORKDIR") current = path.posix.resolve(current, instruction.rest.trim());
    return current;
  });
}

/** Resolves `--from=` (a stage name or index) to a stage that comes before `before`. */
export function stageReferenced(file: Dockerfile, reference: string, before: number): Stage | undefined {
  const stage = /^\d+$/.test(reference) ? file.stages[Number(reference)] : file.stages.find((s) => s.name === reference);
  return stage !== undefined && stage.index < before ? stage : undefined;
}

/**
 * Where a path inside a stage's filesystem comes from, following COPY instructions (the last one that
 * covers it wins) back to the build context, or to another stage through `--from`. `produced` decides
 * whether a stage's RUN instructions make a path nothing copied in.
 */
export type Origin =
  | { readonly kind: "context"; readonly contextPath: string }
  | { readonly kind: "run"; readonly stage: Stage; readonly instruction: Instruction };

export function originOf(
  file: Dockerfile,
  stage: Stage,
  imagePath: string,
  context: string,
  produced: (stage: Stage, imagePath: string, workdir: string, run: Instruction) => boolean,
): Origin | undefined {
  const dirs = workdirs(stage);
  for (let i = stage.instructions.length - 1; i >= 0; i--) {
    const instruction = stage.instructions[i]!;
    if (instruction.keyword === "RUN" && produced(stage, imagePath, dirs[i]!, instruction)) {
      return { kind: "run", stage, instruction };
    }
    if (instruction.keyword !== "COPY" && instruction.keyword !== "ADD") continue;
    const { sources, dest } = copyOperands(instruction.rest);
    const destPath = path.posix.resolve(dirs[i]!, dest);
    const from = instruction.flags.from;
    for (const source of sources) {
      const sourceRoot = from === undefined ? path.posix.normalize(source) : path.posix.resolve("/", source);
      // Another stage's files cannot be listed from here: a name without an extension is taken as a directory.
      const isDir = from === undefined ? isDirectory(path.join(context, sourceRoot)) : !path.posix.extname(sourceRoot);
      // Docker copies a directory's contents into the destination; a file lands at the destination,
      // or inside it when it ends in "/" or several sources share it.
      const target = isDir || (!dest.endsWith("/") && sources.length === 1) ? destPath : path.posix.join(destPath, path.posix.basename(sourceRoot));
      const relative = path.posix.relative(target, imagePath);
      const covered = relative === "" || (isDir && !relative.startsWith("..") && !path.posix.isAbsolute(relative));
      if (!covered) continue;
      const inner = path.posix.join(sourceRoot, relative);
      if (from === undefined) return { kind: "context", contextPath: inner };
      const origin = stageReferenced(file, from, stage.index);
      if (origin === undefined) return undefined;
      return originOf(file, origin, path.posix.resolve("/", inner), context, produced);
    }
  }
  return undefined;
}

function isDirectory(file: string): boolean {
  return existsSync(file) && statSync(file).isDirectory();
}

/** `.dockerignore` semantics: the last pattern matching the path or one of its parent directories decides. */
export function dockerignore(text: string): (contextPath: string) => boolean {
  const patterns = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const exclusion = line.startsWith("!");
      const pattern = path.posix.normalize(line.slice(exclusion ? 1 : 0).trim().replace(/^\/+/, ""));
      return { exclusion, regex: globRegex(pattern) };
    });
  return (contextPath) => {
    const parts = path.posix.normalize(contextPath).split("/");
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
    let ignored = false;
    for (const { exclusion, regex } of patterns) {
      if (candidates.some((candidate) => regex.test(candidate))) ignored = !exclusion;
    }
    return ignored;
  };
}

function globRegex(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === "*" && pattern[i + 1] === "*") {
      source += pattern[i + 2] === "/" ? "(?:.*/)?" : ".*";
      i += pattern[i + 2] === "/" ? 2 : 1;
    } else if (char === "*") source += "[^/]*";
    else if (char === "?") source += "[^/]";
    else if (char === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end === -1) throw new Error(`unclosed [ in .dockerignore pattern ${pattern}`);
      source += "[" + pattern.slice(i + 1, end).replace(/^!/, "^") + "]";
      i = end;
    } else if (char === "\\" && i + 1 < pattern.length) source += escapeRegex(pattern[++i]!);
    else source += escapeRegex(char);
  }
  return new RegExp(`^${source}$`);
}

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

function splitFlags(text: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = text;
  for (let match = /^--([\w-]+)(?:=(\S*))?\s*/.exec(rest); match !== null; match = /^--([\w-]+)(?:=(\S*))?\s*/.exec(rest)) {
    flags[match[1]!] = match[2] ?? "";
    rest = rest.slice(match[0].length);
  }
  return { flags, rest: rest.trim() };
}

/** Splits on unquoted whitespace, keeping quotes (unquote() removes them). */
function words(text: string): string[] {
  const result: string[] = [];
  let current = "";
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === "\\" && quote !== "'" && i + 1 < text.length) {
      current += char + text[++i]!;
    } else if (quote !== undefined) {
      current += char;
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
      current += char;
    } else if (/\s/.test(char)) {
      if (current !== "") result.push(current);
      current = "";
    } else current += char;
  }
  if (quote !== undefined) throw new Error(`unclosed ${quote} in: ${text}`);
  if (current !== "") result.push(current);
  return result;
}

function unquote(text: string): string {
  let result = "";
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === "\\" && quote !== "'" && i + 1 < text.length) result += text[++i]!;
    else if (quote === undefined && (char === '"' || char === "'")) quote = char;
    else if (char === quote) quote = undefined;
    else result += char;
  }
  return result;
}

/** `$NAME`, `${NAME}` and `${NAME:-default}` from `vars`; unknown names become "" as in Docker. */
export function substitute(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(/\$(?:\{(\w+)(?::-([^}]*))?\}|(\w+))/g, (_, braced: string | undefined, fallback: string | undefined, bare: string | undefined) => {
    const value = vars.get((braced ?? bare)!);
    return value !== undefined && value !== "" ? value : fallback ?? "";
  });
}
