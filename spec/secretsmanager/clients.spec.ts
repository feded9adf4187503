// Secrets Manager through clients nobody here wrote: the aws CLIs, boto3, and Powertools' getSecret.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { AwsCli, CLI_TEST_TIMEOUT_MS, CLIS, runProgram } from "../support/aws-cli";
import { credentials, REGION, startTestServer, type TestServer } from "../support/server";

const ROTATION_FUNCTION = `arn:aws:lambda:${REGION}:000000000000:function:cli-rotation`;

let server: TestServer;
let aws: AwsCli;
let workDir: string;

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), "secretslite-sm-clients-"));
  const functionsFile = path.join(workDir, "functions.json");
  const commandLog = path.join(workDir, "rotation.log");
  writeFileSync(
    functionsFile,
    JSON.stringify({ [ROTATION_FUNCTION]: [process.execPath, path.join(__dirname, "..", "support", "rotation-command.js"), commandLog] }),
  );
  server = await startTestServer({ flags: ["--rotation-functions", functionsFile] });
  aws = new AwsCli(server.url);
});
afterAll(async () => {
  await server.close();
  aws.close();
  rmSync(workDir, { recursive: true, force: true });
});

/** Polls `probe` until it returns a value, for work secretslite does after answering (rotation). */
async function eventually<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.each(CLIS)("%s secretsmanager", (cli) => {
  const sm = (args: readonly string[]) => aws.json<Record<string, unknown>>(cli, "secretsmanager", args);
  const tag = path.basename(path.dirname(cli)).replace(/\W/g, "");

  it("creates, reads, puts, lists with filters and moves labels", async () => {
    const name = `cli/${tag}/db-${Date.now()}`;
    const created = (await sm(["create-secret", "--name", name, "--secret-string", "first", "--tags", "Key=team,Value=qa"])) as {
      ARN: string;
      VersionId: string;
    };
    expect(created.ARN).toMatch(new RegExp(`:secret:${name}-[A-Za-z0-9]{6}$`));
    expect(await sm(["get-secret-value", "--secret-id", name])).toMatchObject({ SecretString: "first", VersionStages: ["AWSCURRENT"] });

    const put = (await sm(["put-secret-value", "--secret-id", created.ARN, "--secret-binary", aws.file(Buffer.from([0, 1, 2, 255]))])) as {
      VersionId: string;
    };
    const current = (await sm(["get-secret-value", "--secret-id", name])) as { SecretBinary: string; VersionId: string };
    expect(Buffer.from(current.SecretBinary, "base64")).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(current.VersionId).toBe(put.VersionId);

    const listed = (await sm(["list-secrets", "--filters", `Key=name,Values=cli/${tag}/`, "Key=tag-key,Values=team"])) as {
      SecretList: Array<{ Name: string; SecretVersionsToStages: Record<string, string[]> }>;
    };
    const entry = listed.SecretList.find((secret) => secret.Name === name);
    expect(entry?.SecretVersionsToStages).toEqual({ [created.VersionId]: ["AWSPREVIOUS"], [put.VersionId]: ["AWSCURRENT"] });
    const none = (await sm(["list-secrets", "--filters", `Key=name,Values=cli/${tag}/`, "Key=tag-key,Values=!team"])) as {
      SecretList: unknown[];
    };
    expect(none.SecretList).toEqual([]);

    await sm(["update-secret-version-stage", "--secret-id", name, "--version-stage", "AWSCURRENT", "--move-to-version-id", created.VersionId, "--remove-from-version-id", put.VersionId]);
    expect(await sm(["get-secret-value", "--secret-id", name])).toMatchObject({ SecretString: "first", VersionId: created.VersionId });
  }, CLI_TEST_TIMEOUT_MS);

  it("deletes with a recovery window, refuses reads meanwhile, and restores", async () => {
    const name = `cli/${tag}/doomed-${Date.now()}`;
    await sm(["create-secret", "--name", name, "--secret-string", "keep me"]);
    // v1 prints timestamps as epoch numbers, v2 as ISO strings: both parse to about a week from now.
    const deleted = (await sm(["delete-secret", "--secret-id", name, "--recovery-window-in-days", "7"])) as { DeletionDate: number | string };
    const due = typeof deleted.DeletionDate === "number" ? deleted.DeletionDate * 1000 : Date.parse(deleted.DeletionDate);
    expect(Math.abs(due - (Date.now() + 7 * 24 * 3600 * 1000))).toBeLessThan(3600 * 1000);
    expect(await sm(["describe-secret", "--secret-id", name])).toHaveProperty("DeletedDate");
    const refused = await aws.run(cli, "secretsmanager", ["get-secret-value", "--secret-id", name]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("(InvalidRequestException) when calling the GetSecretValue operation");
    await sm(["restore-secret", "--secret-id", name]);
    expect(await sm(["get-secret-value", "--secret-id", name])).toMatchObject({ SecretString: "keep me" });
  }, CLI_TEST_TIMEOUT_MS);

  it("rotates through a rotation function and ends with a new AWSCURRENT", async () => {
    const name = `cli/${tag}/rotated-${Date.now()}`;
    const created = (await sm(["create-secret", "--name", name, "--secret-string", "before rotation"])) as { VersionId: string };
    const rotated = (await sm(["rotate-secret", "--secret-id", name, "--rotation-lambda-arn", ROTATION_FUNCTION])) as { VersionId: string };
    expect(rotated.VersionId).not.toBe(created.VersionId);
    const client = server.secretsManager();
    const after = await eventually(async () => {
      const value = await client.send(new GetSecretValueCommand({ SecretId: name }));
      return value.VersionId === rotated.VersionId ? value : undefined;
    }, "the rotation to finish");
    expect(after.SecretString).toBe(`from-command-${rotated.VersionId}`);
    expect(await sm(["describe-secret", "--secret-id", name])).toMatchObject({ RotationEnabled: true, RotationLambdaARN: ROTATION_FUNCTION });
  }, CLI_TEST_TIMEOUT_MS);
});

const importsBoto3 = (python: string): boolean => {
  try {
    execFileSync(python, ["-c", "import boto3"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

/** Debian's python3 with Debian's python3-boto3 (`npm test` installs it); a developer's pyenv python3 when it has boto3. */
const PYTHONS = ["/usr/bin/python3", "/root/.pyenv/shims/python3"].filter(
  (python) => python === "/usr/bin/python3" || (existsSync(python) && importsBoto3(python)),
);

describe.each(PYTHONS)("boto3 under %s", (python) => {
  it("runs the end-to-end script", async () => {
    const result = await runProgram(python, [path.join(__dirname, "..", "support", "boto3-e2e.py"), server.url]);
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe("boto3 e2e ok");
  }, CLI_TEST_TIMEOUT_MS);
});

describe("Powertools for AWS Lambda getSecret", () => {
  it("reads through AWS_ENDPOINT_URL_SECRETS_MANAGER, honouring its cache and forceFetch", async () => {
    const sm = server.secretsManager();
    const name = `powertools/${Date.now()}`;
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: "one" }));
    // The SDK reads these when Powertools builds its own client, as in a Lambda.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    });
    const { getSecret } = await import("@aws-lambda-powertools/parameters/secrets");
    expect(await getSecret(name)).toBe("one");
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "two" }));
    // Powertools caches for 5 seconds by default; forceFetch goes back to the service.
    expect(await getSecret(name)).toBe("one");
    expect(await getSecret(name, { forceFetch: true })).toBe("two");
  });
});
