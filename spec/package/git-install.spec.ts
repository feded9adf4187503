// Installing from git as README says (`npm i -D github:OWNER/secretslite#v0.1.0`), done for real on a local clone:
// npm clones the tag, installs the package's dependencies there, runs `prepare` (which builds dist/: npm runs no
// prepack for git dependencies), packs by "files", and installs that. Uses the npm registry (or npm's cache) for the
// dependencies; takes about 45 s. The clone holds the checkout's committed HEAD, not uncommitted edits.
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { temporaryDirs } from "../support/files";

const ROOT = path.join(__dirname, "..", "..");
const INSTALL_TIMEOUT_MS = 300_000;
const tempDir = temporaryDirs("secretslite-git-install-");
const { version } = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };

// npm passes its own settings to scripts as npm_* variables; the nested npm must see only the user's config.
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));

function run(command: string, args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: npmEnv, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new Error(`${command} ${args.join(" ")} failed: ${error.message}\n${stderr}`));
    });
  });
}

describe("npm install from a git tag", () => {
  let installed: string;
  let project: string;

  beforeAll(async () => {
    const scratch = tempDir();
    const repo = path.join(scratch, "secretslite.git");
    if (existsSync(path.join(ROOT, ".git"))) {
      await run("git", ["clone", "--quiet", ROOT, repo], scratch);
    } else {
      // scripts/test-current-node.sh runs the suite in a copy without .git: commit that copy's files as a repository
      // (.gitignore keeps node_modules, dist and local state out, as in a real clone).
      cpSync(ROOT, repo, { recursive: true, filter: (source) => !/\/(node_modules|dist|data)$/.test(source) });
      await run("git", ["init", "--quiet"], repo);
      await run("git", ["add", "-A"], repo);
      await run("git", ["-c", "user.name=spec", "-c", "user.email=spec@secretslite.local", "commit", "--quiet", "-m", "checkout"], repo);
    }
    // The release tag as `git tag -a` makes it (forced: the clone may already hold one of that name elsewhere).
    await run("git", ["-c", "user.name=spec", "-c", "user.email=spec@secretslite.local", "tag", "--force", "-a", `v${version}`, "-m", `secretslite ${version}`], repo);
    // A clean clone has no dist/: whatever the install gets, prepare built.
    expect(existsSync(path.join(repo, "dist"))).toBe(false);
    project = path.join(scratch, "project");
    mkdirSync(project);
    writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "secretslite-git-probe", private: true }));
    await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--save-dev", `git+file://${repo}#v${version}`], project);
    installed = path.join(project, "node_modules", "secretslite");
  }, INSTALL_TIMEOUT_MS);

  it("builds dist/ through prepare and installs only what \"files\" lists", () => {
    expect(existsSync(path.join(installed, "dist", "cli.js"))).toBe(true);
    expect(existsSync(path.join(installed, "dist", "index.d.ts"))).toBe(true);
    for (const shipped of ["bin/secretslite.js", "README.md", "LICENSE", "CHANGELOG.md", "package.json"]) {
      expect([shipped, existsSync(path.join(installed, shipped))]).toEqual([shipped, true]);
    }
    for (const left of ["src", "spec", "scripts", "fixtures", "tsconfig.json"]) expect([left, existsSync(path.join(installed, left))]).toEqual([left, false]);
    // The project records the tag it asked for.
    const manifest = JSON.parse(readFileSync(path.join(project, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
    expect(manifest.devDependencies.secretslite).toMatch(new RegExp(`#v${version.replace(/\./g, "\\.")}$`));
  });

  it("runs its bin: npx secretslite --version prints the tagged version", async () => {
    expect(await run("npx", ["--no-install", "secretslite", "--version"], project)).toBe(`secretslite ${version}\n`);
  });
});
