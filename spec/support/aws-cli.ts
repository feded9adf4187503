// Runs the real `aws` CLIs against a test server: Debian's v2 always, a developer's v1 when present.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { credentials, REGION, startTestServer, type TestServer } from "./server";

/** Debian's awscli v2, which `npm test` installs, must be there; pyenv's aws v1 is there on developers' machines and CI's. */
export const REQUIRED_CLI = "/usr/bin/aws";
export const CLIS = [REQUIRED_CLI, "/root/.pyenv/shims/aws"].filter((cli) => cli === REQUIRED_CLI || existsSync(cli));

/** Each CLI call starts a Python interpreter: most of these tests' time. */
export const CLI_TEST_TIMEOUT_MS = 120_000;

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class AwsCli {
  private readonly workDir = mkdtempSync(path.join(os.tmpdir(), "secretslite-aws-cli-"));
  private fileCounter = 0;

  constructor(
    private readonly endpointUrl: string,
    /** Whose keys the CLI signs with: the suite's default credentials unless given. */
    private readonly as: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string } = credentials,
  ) {
    // Empty config and credentials files, so a developer's own ~/.aws cannot change what the CLI sends.
    writeFileSync(path.join(this.workDir, "config"), "");
    writeFileSync(path.join(this.workDir, "credentials"), "");
  }

  /** Runs `<cli> <service> <args> --endpoint-url … --output json` with only the environment the test chooses. */
  run(cli: string, service: "kms" | "secretsmanager" | "sts", args: readonly string[]): Promise<CliResult> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ACCESS_KEY_ID: this.as.accessKeyId,
      AWS_SECRET_ACCESS_KEY: this.as.secretAccessKey,
      ...(this.as.sessionToken === undefined ? {} : { AWS_SESSION_TOKEN: this.as.sessionToken }),
      AWS_DEFAULT_REGION: REGION,
      AWS_CONFIG_FILE: path.join(this.workDir, "config"),
      AWS_SHARED_CREDENTIALS_FILE: path.join(this.workDir, "credentials"),
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_PAGER: "",
    };
    return new Promise((resolve) => {
      execFile(cli, [service, ...args, "--endpoint-url", this.endpointUrl, "--output", "json"], { env, timeout: 60_000 }, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      });
    });
  }

  async json<T>(cli: string, service: "kms" | "secretsmanager" | "sts", args: readonly string[]): Promise<T> {
    const result = await this.run(cli, service, args);
    if (result.code !== 0) throw new Error(`${cli} ${service} ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
    return (result.stdout.trim() === "" ? {} : JSON.parse(result.stdout)) as T;
  }

  /** A `fileb://` argument holding `bytes`. */
  file(bytes: Buffer): string {
    const name = path.join(this.workDir, `blob-${++this.fileCounter}`);
    writeFileSync(name, bytes);
    return `fileb://${name}`;
  }

  close(): void {
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

/** A test server and an AwsCli against it for the file's tests, started in beforeAll; read the fields inside tests only. */
export function useCliServer(): { readonly server: TestServer; readonly aws: AwsCli } {
  const state: { server?: TestServer; aws?: AwsCli } = {};
  beforeAll(async () => {
    state.server = await startTestServer();
    state.aws = new AwsCli(state.server.url);
  });
  afterAll(async () => {
    await state.server?.close();
    state.aws?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("useCliServer: the server starts in beforeAll");
    return value;
  };
  return {
    get server() {
      return started(state.server);
    },
    get aws() {
      return started(state.aws);
    },
  };
}

/** Runs a program (a python with boto3, say) in a bare environment: never a developer's AWS settings. */
export function runProgram(file: string, args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_EC2_METADATA_DISABLED: "true" }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr }),
    );
  });
}

/**
 * The commands `<cli> <service> help` lists: what that CLI's bundled service model knows. Without a terminal the
 * page comes out as groff's overstruck text (bold is "X\bX", the bullet "+\bo"); once the overstrikes are dropped, the
 * "AVAILABLE COMMANDS" are lines "o <command>". One interpreter start per CLI.
 */
export function cliCommands(cli: string, service: "kms" | "secretsmanager" | "sts"): ReadonlySet<string> {
  let page: string;
  try {
    page = execFileSync(cli, [service, "help"], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_PAGER: "" },
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 60_000,
    });
  } catch {
    return new Set();
  }
  const plain = page.replace(/.\x08/g, "");
  return new Set([...plain.matchAll(/^\s*o\s+([a-z0-9-]+)\s*$/gm)].map((match) => match[1] ?? ""));
}

/**
 * Which of the CLIs on the machine know every one of `commands`, asked of each CLI at collection time (Debian's v2
 * 2.9 predates operations AWS added after 2023). `asked` is what each CLI answered about them, for a test that
 * fails when `clis` is empty to say what the machine has.
 */
export function clisThatKnow(
  service: "kms" | "secretsmanager" | "sts",
  commands: readonly string[],
): { readonly clis: readonly string[]; readonly asked: ReadonlyArray<{ readonly cli: string; readonly unknown: readonly string[] }> } {
  const asked = CLIS.map((cli) => {
    const known = cliCommands(cli, service);
    return { cli, unknown: commands.filter((command) => !known.has(command)) };
  });
  return { clis: asked.filter(({ unknown }) => unknown.length === 0).map(({ cli }) => cli), asked };
}
