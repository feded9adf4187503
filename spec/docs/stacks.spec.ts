// The test-runner examples of docs/test-suites.md that jest does not already run (spec/api/examples.spec.ts runs
// examples/jest), run as a user runs them: node:test with start() in-process, and pytest with boto3 against the CLI.
// Needs dist/ (`npm run build`).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { run } from "../support/run";

const ROOT = path.join(__dirname, "..", "..");

let scratch: string;
beforeEach(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), "secretslite-stacks-"));
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

/** The machine's environment less what would steer the examples' clients, with a TMPDIR that shows leftover tokens. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: scratch, ...extra };
  for (const name of Object.keys(env)) if (name.startsWith("AWS_") || name.startsWith("SECRETSLITE_") || name === "SOFTHSM2_CONF") delete env[name];
  return { ...env, ...extra };
}

const leftoverTokens = (): string[] => readdirSync(scratch).filter((name) => name.startsWith("secretslite-"));

describe("examples/node-test", () => {
  it("`node --test` starts secretslite in-process, resets it before each test, and stops it", async () => {
    const result = await run(process.execPath, ["--test", "--test-reporter=tap"], { cwd: path.join(ROOT, "examples", "node-test"), env: cleanEnv() });
    expect(result.stdout).toMatch(/^# pass 4$/m);
    expect(result.stdout).toMatch(/^# fail 0$/m);
    expect(result.code).toBe(0);
    expect(leftoverTokens()).toEqual([]);
  }, 90_000);
});

// Debian's python3 with python3-boto3 and python3-pytest: what scripts/setup.sh installs for the suite, and what a
// CI machine has (a pyenv python may have newer ones, but CI cannot install from PyPI).
const PYTHON = "/usr/bin/python3";

describe("examples/python", () => {
  it("pytest fixtures start the CLI on a free port, reset it before each test, and stop it; boto3 tests pass", async () => {
    const result = await run(PYTHON, ["-m", "pytest", "-q", "-p", "no:cacheprovider", "examples/python"], {
      cwd: ROOT,
      env: cleanEnv({
        // The fixture's default is `npx secretslite` from the user's node_modules; here, this checkout's bin.
        SECRETSLITE_COMMAND: `"${process.execPath}" "${path.join(ROOT, "bin", "secretslite.js")}"`,
        PYTHONDONTWRITEBYTECODE: "1",
      }),
    });
    expect({ code: result.code, stdout: result.stdout, stderr: result.stderr }).toMatchObject({ code: 0, stdout: expect.stringMatching(/^5 passed in /m) });
    // SIGTERM from the session fixture let the server remove its in-memory token.
    expect(leftoverTokens()).toEqual([]);
  }, 90_000);
});

describe("docs/test-suites.md", () => {
  it("shows the examples' code as it is in the files the suite runs or type-checks", () => {
    const doc = readFileSync(path.join(ROOT, "docs", "test-suites.md"), "utf8");
    // A block whose first line is a comment naming an examples/ file is an excerpt of that file.
    const excerpts = [...doc.matchAll(/^```\w+\n(?:\/\/|#) (examples\/\S+)\n([\s\S]*?)^```$/gm)].map((match) => ({
      file: match[1] as string,
      code: match[2] as string,
    }));
    expect(excerpts.map((excerpt) => excerpt.file)).toEqual([
      "examples/node-test/secrets.test.mjs",
      "examples/python/conftest.py",
      "examples/python/test_secrets.py",
      "examples/testcontainers/secretslite-container.ts",
    ]);
    for (const { file, code } of excerpts) {
      expect({ file, inFile: readFileSync(path.join(ROOT, file), "utf8").includes(code) }).toEqual({ file, inFile: true });
    }
  });
});
