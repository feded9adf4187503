// The Testcontainers examples need a Docker engine to run, which the suite does not have: they are type-checked
// instead, against the typings of the `testcontainers` package (a devDependency for this) and the AWS SDK, with the
// compiler options examples/testcontainers/tsconfig.json gives users. The Node example's test file also runs, with
// `testcontainers` replaced by a stand-in that starts this checkout's CLI (support/testcontainers-standin.ts), so
// its own code (an account per test, resets of one account) is checked against a real server. Needs dist/.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.join(__dirname, "..", "..");
const EXAMPLE = path.join(ROOT, "examples", "testcontainers");

function tsc(project: string): Promise<{ code: number; output: string }> {
  const compiler = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
  return new Promise((resolve) => {
    execFile(process.execPath, [compiler, "-p", project], { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, output: stdout + stderr });
    });
  });
}

let work: string;
beforeAll(() => {
  // Inside the repository, so that modules resolve from its node_modules as they do for the examples.
  work = mkdtempSync(path.join(ROOT, ".testcontainers-check-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

it("examples/testcontainers type-checks against testcontainers' own typings", async () => {
  // Proof that the typings are really read (not `any` from a missing module): a misspelt method must be an error,
  // or the @ts-expect-error itself is one.
  writeFileSync(
    path.join(work, "typings-are-read.ts"),
    [
      'import { GenericContainer } from "testcontainers";',
      'import { startSecretsliteContainer } from "../examples/testcontainers/secretslite-container";',
      "// @ts-expect-error there is no withExposedPort",
      'export const misspelt = new GenericContainer("secretslite:local").withExposedPort(4566);',
      "// @ts-expect-error the image is a string",
      "export const wrong = startSecretsliteContainer(4566);",
      "",
    ].join("\n"),
  );
  writeFileSync(
    path.join(work, "tsconfig.json"),
    JSON.stringify({
      extends: path.join(EXAMPLE, "tsconfig.json"),
      files: [
        path.join(EXAMPLE, "secretslite-container.ts"),
        path.join(EXAMPLE, "secrets.test.ts"),
        path.join(work, "typings-are-read.ts"),
      ],
    }),
  );
  expect(await tsc(path.join(work, "tsconfig.json"))).toEqual({ code: 0, output: "" });
}, 60_000);

it("the Node example's tests pass against the CLI standing in for the container, and stop it", async () => {
  const tmp = path.join(work, "tmp");
  mkdirSync(tmp);
  const config = {
    rootDir: ROOT,
    roots: ["<rootDir>/examples/testcontainers"],
    testMatch: ["**/secrets.test.ts"],
    testEnvironment: "node",
    transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022", parser: { syntax: "typescript" } } }] },
    moduleNameMapper: { "^testcontainers$": "<rootDir>/spec/docs/support/testcontainers-standin.ts" },
  };
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
  for (const name of Object.keys(env)) if (name.startsWith("AWS_") || name.startsWith("SECRETSLITE_") || name === "SOFTHSM2_CONF") delete env[name];
  const jest = path.join(ROOT, "node_modules", "jest", "bin", "jest.js");
  const result = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(process.execPath, [jest, "--ci", "--config", JSON.stringify(config)], { cwd: ROOT, env, timeout: 90_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, output: stdout + stderr });
    });
  });
  expect(result).toMatchObject({ code: 0, output: expect.stringMatching(/Tests:\s+4 passed, 4 total/) });
  // stop() sent SIGTERM and waited: the in-memory token is gone.
  expect(readdirSync(tmp).filter((name) => name.startsWith("secretslite-"))).toEqual([]);
}, 90_000);
