// The README is the front door: its tour runs as written against a real server, its configuration table
// lists every option the CLI takes, and its links lead somewhere.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";

import path from "node:path";
import request from "supertest";
import { usage } from "../../src/config";
import { CLI_TEST_TIMEOUT_MS, CLIS } from "../support/aws-cli";
import { startTestServer, type TestServer } from "../support/server";
import { run } from "../support/run";

const ROOT = path.join(__dirname, "..", "..");
const README = readFileSync(path.join(ROOT, "README.md"), "utf8");
const DOCUMENTED_ENDPOINT = "http://127.0.0.1:4566";

/** The one fenced block whose info string is `<language> <name>` (`sh tour`, `sh byok`). */
function tourBlock(language: string, name = "tour"): string {
  const blocks = [...README.matchAll(/^```(\w+) (\w+)\n([\s\S]*?)^```$/gm)].filter((match) => match[1] === language && match[2] === name);
  expect(blocks).toHaveLength(1);
  return (blocks[0] as RegExpMatchArray)[3] as string;
}

/** AWS_ENDPOINT_URL arrived in aws CLI 1.29 and 2.13; older CLIs get --endpoint-url, as the README says. */
function readsEndpointVariable(cli: string): boolean {
  const version = /aws-cli\/(\d+)\.(\d+)/.exec(execFileSync(cli, ["--version"], { encoding: "utf8" }));
  const major = Number(version?.[1]);
  const minor = Number(version?.[2]);
  return major === 1 ? minor >= 29 : minor >= 13;
}

describe("README tour", () => {
  let server: TestServer;
  let work: string;
  beforeAll(async () => {
    server = await startTestServer();
    // Inside the project, so the ES module finds this checkout's node_modules.
    work = mkdtempSync(path.join(ROOT, ".readme-tour-"));
    writeFileSync(path.join(work, "config"), "");
    writeFileSync(path.join(work, "credentials"), "");
  });
  afterAll(async () => {
    await server.close();
    rmSync(work, { recursive: true, force: true });
  });

  /** Only the port differs from the README's text: the test server listens on a free one. */
  const asWritten = (code: string): string => code.split(DOCUMENTED_ENDPOINT).join(server.url);
  const env = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_CONFIG_FILE: path.join(work, "config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(work, "credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PAGER: "",
  });

  /** Runs a README shell block as written with `cli` as `aws` (given --endpoint-url when too old for AWS_ENDPOINT_URL): its output lines. */
  const shellLines = async (cli: string, block: string): Promise<string[]> => {
    const shim = readsEndpointVariable(cli)
      ? `aws() { command ${cli} "$@"; }\n`
      : `aws() { command ${cli} --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }\n`;
    const shell = await run("bash", ["--norc", "--noprofile", "-euo", "pipefail", "-c", shim + asWritten(block)], { cwd: work, env: env() });
    expect(shell.stderr).toBe("");
    expect(shell.code).toBe(0);
    return shell.stdout.trim().split("\n");
  };

  it.each(CLIS)(
    "the shell, SDK v3 and boto3 blocks run as written with %s",
    async (cli) => {
      await request(server.url).post("/_secretslite/reset").expect(200);
      const lines = await shellLines(cli, tourBlock("sh"));
      expect(lines).toContain('{"user":"admin","password":"hunter2"}');
      // verify's SignatureValid, printed as JSON.
      expect(lines).toContain("true");
      expect(lines[lines.length - 1]).toBe("hello");

      writeFileSync(path.join(work, "tour.mjs"), asWritten(tourBlock("js")));
      const sdk = await run(process.execPath, ["tour.mjs"], { cwd: work, env: env() });
      expect(sdk.code).toBe(0);
      expect(sdk.stdout.trim().split("\n")).toEqual(["admin", "data key round trip ok"]);

      const python = await run("/usr/bin/python3", ["-c", asWritten(tourBlock("python"))], { cwd: work, env: env() });
      expect(python.stderr).toBe("");
      expect(python.stdout.trim()).toBe("tour");
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it.each(CLIS)(
    "the bring-your-own-key walk-through runs as written with %s and openssl",
    async (cli) => {
      // The tour's first line sets the endpoint and credentials; the walk-through assumes it has run.
      const exports = tourBlock("sh").split("\n")[0] as string;
      const lines = await shellLines(cli, `${exports}\n${tourBlock("sh", "byok")}`);
      // describe-key after the material is deleted, the decrypted note after it is imported again, openssl's verdict.
      expect(lines).toContain('"PendingImport"');
      expect(lines).toContain("my own key");
      expect(lines[lines.length - 1]).toBe("Verified OK");
    },
    CLI_TEST_TIMEOUT_MS,
  );
});

describe("README principals example", () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(path.join(ROOT, ".readme-tour-principals-"));
    writeFileSync(path.join(work, "config"), "");
    writeFileSync(path.join(work, "credentials"), "");
    writeFileSync(path.join(work, "principals.yaml"), tourBlock("yaml", "principals"));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it.each(CLIS)(
    "runs as written with %s against --enforce-auth and the README's principals file",
    async (cli) => {
      const server = await startTestServer({ flags: ["--enforce-auth", "--principals", path.join(work, "principals.yaml")] });
      try {
        const shim = readsEndpointVariable(cli) ? `aws() { command ${cli} "$@"; }\n` : `aws() { command ${cli} --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }\n`;
        const block = tourBlock("sh", "principals").split(DOCUMENTED_ENDPOINT).join(server.url);
        const env = { PATH: process.env.PATH, HOME: process.env.HOME, AWS_CONFIG_FILE: path.join(work, "config"), AWS_SHARED_CREDENTIALS_FILE: path.join(work, "credentials"), AWS_EC2_METADATA_DISABLED: "true", AWS_PAGER: "" };
        const shell = await run("bash", ["--norc", "--noprofile", "-euo", "pipefail", "-c", shim + block], { cwd: work, env });
        expect(shell.stderr).toBe("");
        expect(shell.code).toBe(0);
        const lines = shell.stdout.trim().split("\n").filter((line) => line !== "");
        expect(lines).toEqual([
          "app/db",
          "ops/db",
          "arn:aws:iam::111122223333:user/alice",
          "s3cret",
          "An error occurred (AccessDeniedException) when calling the GetSecretValue operation: User: arn:aws:iam::111122223333:user/alice is not authorized to perform: secretsmanager:GetSecretValue on resource: ops/db because no identity-based policy allows the secretsmanager:GetSecretValue action",
        ]);
        // The README quotes that answer word for word.
        expect(README.replace(/\s+/g, " ")).toContain(`\`${lines[4]}\``);
      } finally {
        await server.close();
      }
    },
    CLI_TEST_TIMEOUT_MS,
  );
});

describe("README reference", () => {
  it("the configuration table lists every option and variable of `secretslite --help`", () => {
    const options = [...usage.matchAll(/^ {2}(--[a-z0-9-]+)\b[^\n]*?(SECRETSLITE_[A-Z0-9_]+)/gm)].map((match) => [match[1], match[2]]);
    expect(options.length).toBeGreaterThan(20);
    const table = README.slice(README.indexOf("## Configuration"), README.indexOf("### Strict signatures"));
    for (const [flag, variable] of options) {
      expect(table).toMatch(new RegExp("\\| `" + flag + "[ `]"));
      expect(table).toContain("`" + variable);
    }
  });

  it("every relative link points at a file or directory in the repository", () => {
    const links = [...README.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((match) => match[1] as string).filter((link) => !/^[a-z]+:/.test(link));
    expect(links.length).toBeGreaterThan(5);
    for (const link of links) expect({ link, exists: existsSync(path.join(ROOT, link)) }).toEqual({ link, exists: true });
  });

  it("names only bench options the bench takes", () => {
    const bench = readFileSync(path.join(ROOT, "scripts", "bench.js"), "utf8");
    for (const [, option] of README.matchAll(/npm run bench -- ([^`]*)`/g)) {
      for (const [, name] of (option as string).matchAll(/--([a-z-]+)/g)) expect(bench).toContain(`${name}: {`);
    }
  });
});



