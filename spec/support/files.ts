// Byte searches over a directory tree: the at-rest checks look for secrets in every file a test leaves.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** Files under `dir` whose bytes contain `needle` (a string is searched as UTF-8). */
export function filesContaining(dir: string, needle: Buffer | string): string[] {
  const bytes = typeof needle === "string" ? Buffer.from(needle, "utf8") : needle;
  const hits: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (readFileSync(file).includes(bytes)) hits.push(file);
  }
  return hits;
}

/** A maker of temporary directories under `prefix`, all removed after the spec file's tests. */
export function temporaryDirs(prefix: string): () => string {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}
