// The YAML-or-JSON files that map names to settings (--cloudhsm-clusters, --xks-proxies): reading one to a plain object.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";

/**
 * Reads `file` (JSON when it ends in `.json`, YAML otherwise) and answers it with the name to show in messages;
 * a file that cannot be read, or is not a mapping, throws `fail(message)` with `what` and `shape` in the text.
 */
export function readMappingFile(file: string, what: string, shape: string, fail: (message: string) => Error): { source: string; document: Record<string, unknown> } {
  const source = path.relative(process.cwd(), file) || file;
  let document: unknown;
  try {
    const text = readFileSync(file, "utf8");
    document = file.toLowerCase().endsWith(".json") ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true });
  } catch (error) {
    throw fail(`${source}: cannot read the ${what}: ${(error as Error).message.split("\n")[0]}`);
  }
  if (document === null || typeof document !== "object" || Array.isArray(document)) throw fail(`${source}: must map ${shape}`);
  return { source, document: document as Record<string, unknown> };
}
