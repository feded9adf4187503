// The examples docs/test-suites.md shows, run as a user runs them. Needs dist/ (`npm run build`).
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const ROOT = path.resolve(__dirname, "../..");
const run = promisify(execFile);

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), "secretslite-api-examples-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("behaviour", () => {
  it("examples/jest: globalSetup starts one instance, its tests reach it through AWS_ENDPOINT_URL, globalTeardown stops it", async () => {
    const jest = path.join(ROOT, "node_modules", "jest", "bin", "jest.js");
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: scratch };
    // Whatever the outer run set for its own workers must not steer the example's clients.
    for (const name of Object.keys(env)) if (name.startsWith("AWS_") || name.startsWith("SECRETSLITE_")) delete env[name];
    const { stderr } = await run(process.execPath, [jest, "--ci", "--config", "examples/jest/jest.config.js"], {
      cwd: ROOT,
      env,
      timeout: 90_000,
    });
    expect(stderr).toContain("PASS examples/jest/secrets.test.js");
    expect(stderr).toMatch(/Tests:\s+2 passed, 2 total/);
    // The teardown removed the temporary token: only jest's own cache is left in its TMPDIR.
    expect(readdirSync(scratch).filter((name) => name.startsWith("secretslite-"))).toEqual([]);
  }, 90_000);
});
