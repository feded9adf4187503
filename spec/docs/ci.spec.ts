// docs/ci.md's GitHub Actions workflow, as a user's CI runs it: its `run:` steps, one shell each as Actions runs
// them, in a temporary project that has secretslite (this checkout) among its dependencies. Needs dist/.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";

const ROOT = path.join(__dirname, "..", "..");
const DOC = readFileSync(path.join(ROOT, "docs", "ci.md"), "utf8");
const DOCUMENTED_PORT = "4566";

interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly if?: string;
}
interface Workflow {
  readonly jobs: { readonly test: { readonly env: Record<string, string>; readonly steps: readonly Step[] } };
}

function workflow(): Workflow {
  const blocks = [...DOC.matchAll(/^```yaml github-actions\n([\s\S]*?)^```$/gm)];
  expect(blocks).toHaveLength(1);
  return parse((blocks[0] as RegExpMatchArray)[1] as string) as Workflow;
}

/** A port nothing listens on now: the documented 4566 may be taken by a developer's own secretslite. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Actions' default shell for `run:` on Linux: `bash --noprofile --norc -eo pipefail {0}`. */
function runStep(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], { cwd, env, timeout: 90_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, output: stdout + stderr });
    });
  });
}

let project: string;
let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), "secretslite-ci-"));
  project = path.join(scratch, "app");
  const modules = path.join(project, "node_modules");
  mkdirSync(path.join(modules, ".bin"), { recursive: true });
  mkdirSync(path.join(scratch, "tmp"));
  // What `npm ci` makes of a project with secretslite and the SDK as devDependencies: the package and its bin link.
  symlinkSync(ROOT, path.join(modules, "secretslite"), "dir");
  symlinkSync(path.join("..", "secretslite", "bin", "secretslite.js"), path.join(modules, ".bin", "secretslite"));
  symlinkSync(path.join(ROOT, "node_modules", "@aws-sdk"), path.join(modules, "@aws-sdk"), "dir");
  writeFileSync(
    path.join(project, "package.json"),
    JSON.stringify({ name: "app", private: true, scripts: { test: "node --test" }, devDependencies: { secretslite: "*" } }),
  );
  // The user's tests: plain SDK clients that find secretslite through the job's environment.
  writeFileSync(
    path.join(project, "app.test.mjs"),
    [
      'import assert from "node:assert/strict";',
      'import { test } from "node:test";',
      'import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";',
      'test("reads the secret it wrote", async () => {',
      "  const client = new SecretsManagerClient({});",
      '  await client.send(new CreateSecretCommand({ Name: "ci/db", SecretString: "from ci" }));',
      '  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: "ci/db" }));',
      '  assert.equal(SecretString, "from ci");',
      "  client.destroy();",
      "});",
      "",
    ].join("\n"),
  );
});
afterAll(() => {
  // A failed step may leave the background server running: stop it by the pid the workflow wrote.
  const pidFile = path.join(project, "secretslite.pid");
  if (existsSync(pidFile)) {
    try {
      process.kill(Number(readFileSync(pidFile, "utf8").trim()), "SIGTERM");
    } catch {
      // Already stopped, as the workflow's own stop step leaves it.
    }
  }
  rmSync(scratch, { recursive: true, force: true });
});

describe("docs/ci.md workflow", () => {
  it("installs SoftHSM2 and the project's dependencies, then starts, waits for, tests against, stops secretslite and uploads its audit log", () => {
    const { steps, env } = workflow().jobs.test;
    expect(steps.map((step) => step.name ?? step.uses)).toEqual([
      "actions/checkout@v4",
      "actions/setup-node@v4",
      "Install SoftHSM2",
      "Install dependencies",
      "Start secretslite",
      "Wait until secretslite is ready",
      "Test",
      "Stop secretslite",
      "Upload the audit log",
    ]);
    expect(steps[2]?.run).toMatch(/apt-get install -y softhsm2$/);
    expect(steps[3]?.run).toBe("npm ci");
    expect(steps[4]?.run).toContain("--audit-log secretslite-audit.jsonl");
    expect(steps[5]?.run).toContain("/_secretslite/health");
    expect(steps[7]?.if).toBe("always()");
    expect(steps[8]).toMatchObject({ if: "always()", uses: "actions/upload-artifact@v4" });
    expect((steps[8] as unknown as { with: { path: string } }).with.path).toContain("secretslite-audit.jsonl");
    expect(env.AWS_ENDPOINT_URL).toBe(`http://127.0.0.1:${DOCUMENTED_PORT}`);
  });

  it("its run steps pass as written, and leave an audit log with the tests' calls", async () => {
    const { steps, env } = workflow().jobs.test;
    const port = String(await freePort());
    // Only the port differs from the doc's text.
    const onPort = (text: string): string => text.split(DOCUMENTED_PORT).join(port);
    const stepEnv: NodeJS.ProcessEnv = {
      PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}`,
      HOME: process.env.HOME,
      TMPDIR: path.join(scratch, "tmp"),
      ...Object.fromEntries(Object.entries(env).map(([name, value]) => [name, onPort(String(value))])),
    };
    // The two install steps are checked above; this machine has SoftHSM2, and beforeAll installed the project.
    const runnable = steps.slice(4).filter((step) => step.run !== undefined);
    expect(runnable.map((step) => step.name)).toEqual(["Start secretslite", "Wait until secretslite is ready", "Test", "Stop secretslite"]);
    for (const step of runnable) {
      const result = await runStep(onPort(step.run as string), project, stepEnv);
      expect({ step: step.name, ...result }).toMatchObject({ step: step.name, code: 0 });
    }

    const events = readFileSync(path.join(project, "secretslite-audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { eventName: string; eventSource: string; errorCode?: string });
    expect(events.filter((event) => event.eventSource === "secretsmanager.amazonaws.com").map((event) => [event.eventName, event.errorCode])).toEqual([
      ["CreateSecret", undefined],
      ["GetSecretValue", undefined],
    ]);
    // The stop step waited for the exit: nothing is left listening, and the in-memory token is gone.
    expect(readFileSync(path.join(project, "secretslite.log"), "utf8")).toContain(`secretslite listening on http://127.0.0.1:${port}`);
    await expect(fetch(`http://127.0.0.1:${port}/_secretslite/health`)).rejects.toThrow();
    expect(readdirSync(path.join(scratch, "tmp")).filter((name) => name.startsWith("secretslite-"))).toEqual([]);
  }, 90_000);
});
