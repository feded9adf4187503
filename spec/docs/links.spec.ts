// Every relative link in README.md and docs/*.md leads somewhere: the file or directory exists, and a #fragment
// names a heading of the target as GitHub renders it (its anchor slug rules), so a renamed heading breaks the suite
// rather than a reader's click.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const ROOT = path.join(__dirname, "..", "..");
const DOCS = ["README.md", ...readdirSync(path.join(ROOT, "docs")).filter((name) => name.endsWith(".md")).map((name) => `docs/${name}`)];

/** The text outside fenced code blocks: a `#` comment in a shell block is no heading, a `](x)` in code no link. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
}

/**
 * GitHub's anchor for a heading: the text as rendered (inline code and link markup dropped, their text kept),
 * lowercased, every character that is not a letter, digit, space, `-` or `_` removed, spaces turned into `-`.
 * A repeated slug gets `-1`, `-2`, … in document order.
 */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of prose(markdown).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const text = (heading as string).replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/[`*]/g, "");
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    result.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return result;
}

interface Link {
  readonly from: string;
  readonly target: string;
}

/** Relative links and same-page anchors of one file (absolute URLs and mailto: are someone else's to keep). */
function links(file: string): Link[] {
  const text = prose(readFileSync(path.join(ROOT, file), "utf8"));
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((match) => match[1] as string)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
    .map((target) => ({ from: file, target }));
}

/** What is wrong with a link, or undefined when it resolves. */
function problem({ from, target }: Link): string | undefined {
  const hash = target.indexOf("#");
  const file = hash === -1 ? target : target.slice(0, hash);
  const fragment = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const resolved = file === "" ? path.join(ROOT, from) : path.resolve(path.dirname(path.join(ROOT, from)), file);
  if (!resolved.startsWith(ROOT + path.sep)) return "leaves the repository";
  if (!existsSync(resolved)) return "no such file";
  if (fragment === undefined) return undefined;
  if (statSync(resolved).isDirectory() || !resolved.endsWith(".md")) return "an anchor on something that is not a Markdown file";
  return anchors(readFileSync(resolved, "utf8")).has(fragment) ? undefined : `no heading with anchor #${fragment}`;
}

describe("documentation links", () => {
  it("follows GitHub's anchor rules", () => {
    const slugs = anchors(
      "# secretslite\n## A 60-second tour\n## `start()`\n### Backups, a damaged data dir, and `secretslite repair`\n" +
        "## Browsers (CORS)\n## Host names (DNS rebinding)\n## Notes\n## Notes\n```sh\n# not a heading\n```\n",
    );
    expect([...slugs]).toEqual([
      "secretslite",
      "a-60-second-tour",
      "start",
      "backups-a-damaged-data-dir-and-secretslite-repair",
      "browsers-cors",
      "host-names-dns-rebinding",
      "notes",
      "notes-1",
    ]);
  });

  it("checks README.md and every docs/*.md", () => {
    expect(DOCS).toEqual(expect.arrayContaining(["README.md", "docs/test-suites.md", "docs/fixtures.md", "docs/docker.md"]));
    expect(DOCS.flatMap(links).length).toBeGreaterThan(40);
  });

  it.each(DOCS)("every relative link and #anchor in %s resolves", (file) => {
    const broken = links(file)
      .map((link) => ({ ...link, problem: problem(link) }))
      .filter((link) => link.problem !== undefined);
    expect(broken).toEqual([]);
  });
});
