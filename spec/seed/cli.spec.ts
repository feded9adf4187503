// `secretslite --seed FILE` as users run it (the built CLI in dist/: `npm run build` first).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const BIN = path.join(__dirname, "..", "..", "bin", "secretslite.js");

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr })));
}

describe("secretslite --seed", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-seed-cli-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("exits non-zero with the seed's message, naming file, entry and field, and never prints the ready line", async () => {
    const file = path.join(dir, "bad-seed.yaml");
    writeFileSync(file, "kms:\n  keys:\n    - keyId: 11111111-2222-4333-8444-555555555555\n      keySpec: ECC_NIST_P256\n");
    const result = await run(["--port", "0", "--in-memory", "--seed", file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(
      /^secretslite: could not start: \S*bad-seed\.yaml: kms\.keys\[0\]\.keyUsage: key 11111111-2222-4333-8444-555555555555: You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys\. \(ValidationException\)\n$/,
    );
  });

  it("exits non-zero when the seed file cannot be read", async () => {
    const result = await run(["--port", "0", "--in-memory", "--seed", path.join(dir, "missing.yaml")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/could not start: \S*missing\.yaml: cannot read the seed file: ENOENT/);
  });
});
