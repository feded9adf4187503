// The GitHub Actions workflows, which cannot run here: each validated against GitHub's workflow schema by
// action-validator, and the image workflow checked for what it publishes (multi-arch, ghcr, this Dockerfile).
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parse as parseYaml } from "yaml";

const ROOT = path.join(__dirname, "..", "..");
const WORKFLOWS = path.join(ROOT, ".github", "workflows");
const VALIDATOR = require.resolve("@action-validator/cli/cli.mjs");
const run = promisify(execFile);

const workflowFiles = readdirSync(WORKFLOWS).filter((name) => /\.ya?ml$/.test(name));

/** action-validator's exit code and output for one file. */
async function validate(file: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [VALIDATOR, file], { timeout: 30_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === "number" ? failed.code : -1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

interface Step {
  uses?: string;
  with?: Record<string, string | boolean>;
}
interface Workflow {
  on: { push?: { tags?: string[] } };
  permissions?: Record<string, string>;
  jobs: Record<string, { steps: Step[] }>;
}

describe(".github/workflows", () => {
  it("has workflows, each valid by action-validator", async () => {
    expect(workflowFiles).toContain("image.yml");
    for (const name of workflowFiles) {
      const result = await validate(path.join(WORKFLOWS, name));
      expect([name, result]).toEqual([name, { code: 0, output: "" }]);
    }
  });

  it("action-validator does refuse a broken workflow (so the check above means something)", async () => {
    const scratch = mkdtempSync(path.join(os.tmpdir(), "secretslite-workflow-"));
    try {
      const broken = readFileSync(path.join(WORKFLOWS, "image.yml"), "utf8").replace("runs-on:", "runs_on:");
      writeFileSync(path.join(scratch, "image.yml"), broken);
      const result = await validate(path.join(scratch, "image.yml"));
      expect(result.code).not.toBe(0);
      expect(result.output).toContain("runs_on");
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  describe("image.yml", () => {
    const workflow = parseYaml(readFileSync(path.join(WORKFLOWS, "image.yml"), "utf8")) as Workflow;
    const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
    const step = (action: string): Step | undefined => steps.find((s) => s.uses?.split("@")[0] === action);

    it("runs on version tags like the ones CHANGELOG.md lists, and may write packages", () => {
      const patterns = workflow.on.push?.tags ?? [];
      const matches = (tag: string) => patterns.some((p) => new RegExp(`^${p.replace(/\./g, "\\.").replace(/\*/g, ".*")}$`).test(tag));
      const version = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;
      expect(matches(`v${version}`)).toBe(true);
      expect(matches("main")).toBe(false);
      expect(workflow.permissions?.packages).toBe("write");
    });

    it("builds this checkout's Dockerfile with buildx for amd64 and arm64 and pushes it to ghcr.io", () => {
      expect(step("docker/setup-buildx-action")).toBeDefined();
      // Building arm64 on an amd64 runner needs QEMU, set up before buildx.
      expect(steps.indexOf(step("docker/setup-qemu-action")!)).toBeLessThan(steps.indexOf(step("docker/setup-buildx-action")!));
      expect(step("docker/login-action")?.with?.registry).toBe("ghcr.io");
      const build = step("docker/build-push-action")!;
      expect(build.with?.context).toBe(".");
      expect(build.with?.file ?? "Dockerfile").toBe("Dockerfile");
      expect(String(build.with?.platforms).split(",").map((p) => p.trim())).toEqual(expect.arrayContaining(["linux/amd64", "linux/arm64"]));
      expect(build.with?.push).toBe(true);
      // The image is built on the Dockerfile's own (tested) Node: no build argument overrides it.
      expect(build.with?.["build-args"]).toBeUndefined();
      expect(String(step("docker/metadata-action")?.with?.images)).toMatch(/^ghcr\.io\//);
    });
  });
});
