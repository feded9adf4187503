// RotateSecret and CancelRotateSecret end to end: AWS-template rotation functions behind a Lambda Invoke endpoint and as a local command.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
  type RotationRulesType,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { eventually, functionArn, gate, singleUserTemplate, startLambdaEndpoint, type LambdaEndpoint, type TemplateLog } from "../support/rotation-function";
import { ConfigError, parseConfig } from "../../src/config";
import { ACCOUNT, credentials, rawRequest, REGION, startTestServer, type TestServer } from "../support/server";

/** A clock the test moves by hand: 2026-03-01 is a Sunday. */
const T0 = Date.parse("2026-03-01T10:00:00Z");
const clock = { time: T0, now: () => new Date(clock.time) };
const OTHER_ACCOUNT = "123456789012";
const BUILTIN = functionArn("rotate-password");

let lambda: LambdaEndpoint;
let server: TestServer;
let sm: SecretsManagerClient;
let workDir: string;
let commandLog: string;
let auditLog: string;
const log: TemplateLog = { tested: new Map() };
let template: string;

beforeAll(async () => {
  lambda = await startLambdaEndpoint();
  workDir = mkdtempSync(path.join(os.tmpdir(), "secretslite-rotation-"));
  commandLog = path.join(workDir, "command.log");
  const functionsFile = path.join(workDir, "functions.json");
  writeFileSync(
    functionsFile,
    JSON.stringify({
      [functionArn("local-command", OTHER_ACCOUNT)]: [process.execPath, path.join(__dirname, "..", "support", "rotation-command.js"), commandLog],
      [functionArn("missing-command")]: ["./no-such-rotation-command"],
      // Port 1 on loopback: nothing listens there.
      [functionArn("offline")]: "http://127.0.0.1:1/2015-03-31/functions/function/invocations",
      [BUILTIN]: "builtin:password",
    }),
  );
  auditLog = path.join(workDir, "audit.log");
  server = await startTestServer({ clock, flags: ["--lambda-endpoint", lambda.url, "--rotation-functions", functionsFile, "--audit-log", auditLog] });
  sm = server.secretsManager();
  template = lambda.define("template", singleUserTemplate(sm, log));
});
afterAll(async () => {
  await server.close();
  await lambda.close();
  rmSync(workDir, { recursive: true, force: true });
});

let counter = 0;
const uniqueName = (base = "rotation/db") => `${base}-${++counter}`;

const describeSecret = (secretId: string, client = sm) => client.send(new DescribeSecretCommand({ SecretId: secretId }));
const stepsOf = (token: string) => lambda.invocations.filter((call) => call.event.ClientRequestToken === token);

async function createSecret(value = "first", client = sm) {
  const created = await client.send(new CreateSecretCommand({ Name: uniqueName(), SecretString: value }));
  return { arn: created.ARN ?? "", firstVersion: created.VersionId ?? "" };
}

/**
 * Waits until the rotation to `token` is over: the function made it current and secretslite recorded the rotation
 * (LastRotatedDate, which `beforeEach` makes distinct per test).
 */
const rotatedTo = (arn: string, token: string, client = sm) =>
  eventually(async () => {
    const described = await describeSecret(arn, client);
    expect(described.VersionIdsToStages?.[token]).toEqual(["AWSCURRENT"]);
    expect(described.LastRotatedDate).toEqual(new Date(clock.time));
    return described;
  });

beforeEach(() => {
  clock.time += 1000;
});

describe("configuration", () => {
  it("takes the two options from flags or SECRETSLITE_* variables, flags first", () => {
    const fromEnv = parseConfig([], { SECRETSLITE_LAMBDA_ENDPOINT: "http://127.0.0.1:4567", SECRETSLITE_ROTATION_FUNCTIONS: "functions.json" });
    expect(fromEnv).toMatchObject({ lambdaEndpoint: "http://127.0.0.1:4567", rotationFunctionsFile: path.resolve("functions.json") });
    const fromFlags = parseConfig(["--lambda-endpoint", "http://localhost:9001"], { SECRETSLITE_LAMBDA_ENDPOINT: "http://127.0.0.1:4567" });
    expect(fromFlags?.lambdaEndpoint).toBe("http://localhost:9001");
    expect(() => parseConfig(["--lambda-endpoint", "localhost:9001"], {})).toThrow(ConfigError);
  });

  it("refuses to start with a functions file that names an unknown built-in function", async () => {
    const file = path.join(workDir, "unknown-builtin.json");
    writeFileSync(file, JSON.stringify({ [functionArn("typo")]: "builtin:xyz" }));
    await expect(startTestServer({ flags: ["--rotation-functions", file] })).rejects.toThrow(
      `--rotation-functions ${file}: ${functionArn("typo")}: unknown built-in rotation function 'builtin:xyz' (known: builtin:password)`,
    );
  });

  it("refuses to start with a functions file that maps a function to neither a URL nor a command", async () => {
    const file = path.join(workDir, "bad-functions.json");
    writeFileSync(file, JSON.stringify({ [functionArn("odd")]: 42 }));
    await expect(startTestServer({ flags: ["--rotation-functions", file] })).rejects.toThrow(/must map to a URL or a non-empty array of strings/);
  });
});

describe("validation", () => {
  const rotate = (secretId: string, rules: Record<string, unknown>) =>
    rawRequest(server, {
      target: "secretsmanager.RotateSecret",
      body: JSON.stringify({ SecretId: secretId, RotationLambdaARN: template, RotationRules: rules, ClientRequestToken: "a".repeat(32) }),
    });

  it("refuses a RotateSecret without ClientRequestToken before it looks the secret up", async () => {
    const { arn } = await createSecret();
    const refusal = { __type: "InvalidParameterException", Message: "You must provide a ClientRequestToken value. We recommend a UUID-type value." };
    for (const secretId of [arn, "no/such/secret"]) {
      const response = await rawRequest(server, {
        target: "secretsmanager.RotateSecret",
        body: JSON.stringify({ SecretId: secretId, RotationLambdaARN: template }),
      });
      expect({ status: response.status, body: JSON.parse(response.text) }).toEqual({ status: 400, body: refusal });
    }
    const described = await describeSecret(arn);
    expect(described.RotationEnabled).toBeUndefined();
    expect(Object.values(described.VersionIdsToStages ?? {})).toEqual([["AWSCURRENT"]]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["a frequency and an expression", { AutomaticallyAfterDays: 2, ScheduleExpression: "rate(2 days)" }, "You cannot specify both rotation frequency and schedule expression together."],
    ["a rate under four hours", { ScheduleExpression: "rate(3 hours)" }, "Rate in hour should be least 4 and less than 24."],
    ["a rate of a day in hours", { ScheduleExpression: "rate(24 hours)" }, "Rate in hour should be least 4 and less than 24."],
    ["a rate of 1000 days", { ScheduleExpression: "rate(1000 days)" }, "Rate in day should be greater than 0 and less than 1000."],
    ["a rate in minutes", { ScheduleExpression: "rate(30 minutes)" }, "Invalid schedule expression."],
    ["a cron expression off the hour", { ScheduleExpression: "cron(15 10 * * ? *)" }, "Invalid schedule expression."],
    ["a cron expression with a year", { ScheduleExpression: "cron(0 10 * * ? 2027)" }, "Invalid schedule expression."],
    ["a cron expression with both day fields", { ScheduleExpression: "cron(0 10 * * MON *)" }, "Invalid schedule expression."],
    ["a cron expression every two hours", { ScheduleExpression: "cron(0 0/2 * * ? *)" }, "Invalid schedule expression."],
    ["a cron expression that never comes", { ScheduleExpression: "cron(0 10 31 2 ? *)" }, "Invalid schedule expression."],
    ["a window longer than the rate", { ScheduleExpression: "rate(4 hours)", Duration: "5h" }, "Duration cannot be greater than Rate in hour."],
    ["a window past midnight", { ScheduleExpression: "cron(0 22 * * ? *)", Duration: "3h" }, "Starting hour and duration must be within a day."],
    ["a window of no hours", { AutomaticallyAfterDays: 2, Duration: "0h" }, "Duration must be at least 1 hour, at most 24 hour."],
  ])("refuses %s with InvalidParameterException and AWS's text, changing nothing", async (_case, rules, message) => {
    const { arn } = await createSecret();
    const response = await rotate(arn, rules);
    expect({ status: response.status, body: JSON.parse(response.text) }).toEqual({
      status: 400,
      body: { __type: "InvalidParameterException", Message: message },
    });
    expect((await describeSecret(arn)).RotationEnabled).toBeUndefined();
  });
});

describe("behaviour", () => {
  it("answers at once, then takes the function through its four steps until the new version is current", async () => {
    const atCreate = gate();
    const run = singleUserTemplate(sm, log);
    const gated = lambda.define("gated", async (event) => {
      if (event.Step === "createSecret") await atCreate.wait();
      return run(event);
    });
    const { arn, firstVersion } = await createSecret("first");
    const answer = await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: gated, RotationRules: { AutomaticallyAfterDays: 30 } }));
    const token = answer.VersionId ?? "";
    expect(answer).toMatchObject({ ARN: arn, Name: expect.stringMatching(/^rotation\/db-/) });
    expect(token).toMatch(/^[0-9a-f-]{36}$/);

    // createSecret is under way: the new version exists, labelled AWSPENDING, with no value yet.
    await atCreate.reached;
    const during = await describeSecret(arn);
    expect(during.VersionIdsToStages).toEqual({ [firstVersion]: ["AWSCURRENT"], [token]: ["AWSPENDING"] });
    expect(during).toMatchObject({ RotationEnabled: true, RotationLambdaARN: gated, RotationRules: { AutomaticallyAfterDays: 30 } });
    await expect(sm.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: "AWSPENDING" }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
    atCreate.open();

    const after = await rotatedTo(arn, token);
    expect(after.VersionIdsToStages).toEqual({ [firstVersion]: ["AWSPREVIOUS"], [token]: ["AWSCURRENT"] });
    expect(after.NextRotationDate).toEqual(new Date("2026-03-31T23:59:59Z"));

    const steps = stepsOf(token);
    expect(steps.map((call) => call.event.Step)).toEqual(["createSecret", "setSecret", "testSecret", "finishSecret"]);
    const rotationToken = steps[0]?.event.RotationToken ?? "";
    expect(rotationToken).toMatch(/^[a-zA-Z0-9-]{36,256}$/);
    for (const call of steps) {
      expect(call.event).toEqual({ Step: call.event.Step, SecretId: arn, ClientRequestToken: token, RotationToken: rotationToken });
      expect(call).toMatchObject({ functionName: "gated", invocationType: "RequestResponse", error: undefined });
      // Signed as the secret's account in its region, where a Lambda emulator looks the function up.
      expect(call.authorization).toContain(`Credential=${ACCOUNT}/`);
      expect(call.authorization).toContain(`/${REGION}/lambda/aws4_request`);
    }

    const current = await sm.send(new GetSecretValueCommand({ SecretId: arn }));
    expect(current.VersionId).toBe(token);
    expect(current.SecretString).toBe(log.tested.get(token));
    expect(current.SecretString).not.toBe("first");
    expect((await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: "AWSPREVIOUS" }))).SecretString).toBe("first");
  });

  it("needs a rotation function, given now or earlier", async () => {
    const { arn } = await createSecret();
    await expect(sm.send(new RotateSecretCommand({ SecretId: arn }))).rejects.toMatchObject({
      name: "InvalidRequestException",
      message: "No Lambda rotation function ARN is associated with this secret.",
    });

    const first = await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: template }));
    await rotatedTo(arn, first.VersionId ?? "");
    // The function given the first time is used again.
    clock.time += 1000;
    const again = await sm.send(new RotateSecretCommand({ SecretId: arn }));
    await rotatedTo(arn, again.VersionId ?? "");
    expect(stepsOf(again.VersionId ?? "").map((call) => call.functionName)).toEqual(["template", "template", "template", "template"]);
  });

  it.each([
    ["a function the Lambda endpoint does not have", functionArn("not-deployed")],
    ["a command that is not there", functionArn("missing-command")],
    ["an invocation URL nothing answers at", functionArn("offline")],
  ])("refuses %s with AccessDeniedException before it changes anything", async (_case, functionArnValue) => {
    const { arn, firstVersion } = await createSecret();
    await expect(sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: functionArnValue }))).rejects.toMatchObject({
      name: "AccessDeniedException",
      message:
        "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.",
      $metadata: { httpStatusCode: 400 },
    });
    const described = await describeSecret(arn);
    expect(described.RotationEnabled).toBeUndefined();
    expect(described.VersionIdsToStages).toEqual({ [firstVersion]: ["AWSCURRENT"] });
  });

  it("retries a failed rotation from createSecret with the same version, and finishes it", async () => {
    const run = singleUserTemplate(sm, log);
    let failures = 0;
    const flaky = lambda.define("flaky", async (event) => {
      if (event.Step === "setSecret" && failures < 2) {
        failures++;
        throw new Error("the database did not answer");
      }
      return run(event);
    });
    const { arn } = await createSecret();
    const token = (await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: flaky }))).VersionId ?? "";
    await rotatedTo(arn, token);
    const steps = stepsOf(token);
    expect(steps.map((call) => [call.event.Step, call.error !== undefined])).toEqual([
      ["createSecret", false],
      ["setSecret", true],
      ["createSecret", false],
      ["setSecret", true],
      ["createSecret", false],
      ["setSecret", false],
      ["testSecret", false],
      ["finishSecret", false],
    ]);
    // One rotation throughout: the retries carry its token.
    expect(new Set(steps.map((call) => call.event.RotationToken)).size).toBe(1);
  });

  it("leaves a rotation that keeps failing for the caller to see, and refuses the next until its AWSPENDING is cleared", async () => {
    const run = singleUserTemplate(sm, log);
    const broken = lambda.define("broken", async (event) => {
      if (event.Step === "setSecret") throw new Error("the database did not answer");
      return run(event);
    });
    const { arn, firstVersion } = await createSecret("first");
    const token = (await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: broken }))).VersionId ?? "";
    await eventually(async () => expect(stepsOf(token).filter((call) => call.event.Step === "setSecret")).toHaveLength(3));

    const described = await describeSecret(arn);
    expect(described.VersionIdsToStages).toEqual({ [firstVersion]: ["AWSCURRENT"], [token]: ["AWSPENDING"] });
    expect(described.LastRotatedDate).toBeUndefined();
    expect((await sm.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString).toBe("first");
    await expect(sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: template }))).rejects.toMatchObject({
      name: "InvalidRequestException",
      message: "A previous rotation isn't complete. That rotation will be reattempted.",
    });

    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: "AWSPENDING", RemoveFromVersionId: token }));
    const next = (await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: template }))).VersionId ?? "";
    await rotatedTo(arn, next);
    // Runs for one secret follow each other, so the failed one was over: three attempts, no more.
    expect(stepsOf(token).map((call) => call.event.Step)).toEqual(["createSecret", "setSecret", "createSecret", "setSecret", "createSecret", "setSecret"]);
  });

  it("with RotateImmediately false runs only testSecret, then removes the AWSPENDING version it made", async () => {
    const { arn, firstVersion } = await createSecret("first");
    const answer = await sm.send(
      new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: template, RotationRules: { AutomaticallyAfterDays: 2 }, RotateImmediately: false }),
    );
    const token = answer.VersionId ?? "";
    const described = await eventually(async () => {
      const now = await describeSecret(arn);
      expect(now.VersionIdsToStages).toEqual({ [firstVersion]: ["AWSCURRENT"] });
      return now;
    });
    expect(stepsOf(token).map((call) => call.event.Step)).toEqual(["testSecret"]);
    expect(described).toMatchObject({ RotationEnabled: true, NextRotationDate: new Date("2026-03-03T23:59:59Z") });
    expect(described.LastRotatedDate).toBeUndefined();
    expect((await sm.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString).toBe("first");
  });

  it.each<[string, RotationRulesType, string, RotationRulesType]>([
    ["AutomaticallyAfterDays", { AutomaticallyAfterDays: 2 }, "2026-03-03T23:59:59Z", { AutomaticallyAfterDays: 2 }],
    // Windows every four hours from midnight; 10:00 is in the 08:00 one, so the next opens at 12:00 for an hour.
    ["rate() in hours", { ScheduleExpression: "rate(4 hours)" }, "2026-03-01T12:59:59Z", { ScheduleExpression: "rate(4 hours)", AutomaticallyAfterDays: 1 }],
    [
      "rate() in days with a window",
      { ScheduleExpression: "rate(10 days)", Duration: "3h" },
      "2026-03-11T02:59:59Z",
      { ScheduleExpression: "rate(10 days)", Duration: "3h", AutomaticallyAfterDays: 10 },
    ],
    ["cron() weekly", { ScheduleExpression: "cron(0 18 ? * SAT *)" }, "2026-03-07T23:59:59Z", { ScheduleExpression: "cron(0 18 ? * SAT *)", AutomaticallyAfterDays: 7 }],
    [
      "cron() monthly with a window",
      { ScheduleExpression: "cron(0 8 1 * ? *)", Duration: "2h" },
      "2026-04-01T09:59:59Z",
      { ScheduleExpression: "cron(0 8 1 * ? *)", Duration: "2h", AutomaticallyAfterDays: 30 },
    ],
  ])("schedules by %s: NextRotationDate is the end of the next rotation window", async (_case, rules, next, shown) => {
    const { arn } = await createSecret();
    await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: template, RotationRules: rules, RotateImmediately: false }));
    const described = await describeSecret(arn);
    expect(described.NextRotationDate).toEqual(new Date(next));
    expect(described.RotationRules).toEqual(shown);
  });

  it("cancels: rotation off, the schedule kept on record, the version under way left in AWSPENDING", async () => {
    const atCreate = gate();
    const run = singleUserTemplate(sm, log);
    const held = lambda.define("held", async (event) => {
      if (event.Step === "createSecret") await atCreate.wait();
      return run(event);
    });
    const { arn, firstVersion } = await createSecret();
    const token = (await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: held, RotationRules: { AutomaticallyAfterDays: 7 } })))
      .VersionId ?? "";
    await atCreate.reached;

    const cancelled = await sm.send(new CancelRotateSecretCommand({ SecretId: arn }));
    expect(cancelled).toMatchObject({ ARN: arn, VersionId: token });
    const described = await describeSecret(arn);
    expect(described).toMatchObject({ RotationEnabled: false, RotationLambdaARN: held, RotationRules: { AutomaticallyAfterDays: 7 } });
    expect(described.NextRotationDate).toBeUndefined();
    expect(described.VersionIdsToStages).toEqual({ [firstVersion]: ["AWSCURRENT"], [token]: ["AWSPENDING"] });
    atCreate.open();

    // The caller cleans up as AWS advises; a new rotation then starts once the cancelled run has stopped.
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: "AWSPENDING", RemoveFromVersionId: token }));
    const next = (await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: template }))).VersionId ?? "";
    await rotatedTo(arn, next);
    expect(stepsOf(token).map((call) => call.event.Step)).toEqual(["createSecret"]);
  });

  it("refuses to cancel rotation on a secret that never had a rotation function", async () => {
    const { arn } = await createSecret();
    await expect(sm.send(new CancelRotateSecretCommand({ SecretId: arn }))).rejects.toMatchObject({
      name: "InvalidRequestException",
      message:
        "You tried to enable rotation on a secret that doesn't already have a Lambda function ARN configured and you didn't include such an ARN as a parameter in this call.",
    });
  });

  it("runs a local command with the event on stdin, acting in the secret's own account against this server", async () => {
    writeFileSync(commandLog, "");
    const other = server.secretsManager({ accessKeyId: OTHER_ACCOUNT });
    const { arn } = await createSecret("first", other);
    const token = (await other.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: functionArn("local-command", OTHER_ACCOUNT) })))
      .VersionId ?? "";
    await rotatedTo(arn, token, other);
    expect((await other.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString).toBe(`from-command-${token}`);
    const lines = readFileSync(commandLog, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { step: string; accessKeyId: string; region: string });
    expect(lines).toEqual(
      ["createSecret", "setSecret", "testSecret", "finishSecret"].map((step) => ({ step, accessKeyId: OTHER_ACCOUNT, region: REGION })),
    );
  });

  // Last: it moves the shared clock forward.
  it("starts due rotations on schedule while the server runs, counting from the last rotation", async () => {
    const { arn } = await createSecret();
    const first = (await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: template, RotationRules: { AutomaticallyAfterDays: 1 } })))
      .VersionId ?? "";
    const afterFirst = await rotatedTo(arn, first);
    expect(afterFirst.NextRotationDate).toEqual(new Date("2026-03-02T23:59:59Z"));

    // The window opens at midnight; the server's timer notices without any request.
    clock.time = Date.parse("2026-03-02T00:00:00Z");
    const afterSecond = await eventually(async () => {
      const described = await describeSecret(arn);
      expect(described.LastRotatedDate).toEqual(new Date(clock.time));
      return described;
    });
    const current = Object.entries(afterSecond.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes("AWSCURRENT"))?.[0];
    expect(current).not.toBe(first);
    expect(afterSecond.VersionIdsToStages?.[first]).toEqual(["AWSPREVIOUS"]);
    expect(afterSecond.NextRotationDate).toEqual(new Date("2026-03-03T23:59:59Z"));
  });
});

describe("built-in rotation functions (local only)", () => {
  interface AuditLine {
    readonly eventName: string;
    readonly readOnly: boolean;
    readonly errorCode?: string;
    readonly userAgent: string;
    readonly userIdentity: { readonly accountId: string };
    readonly requestParameters: { readonly secretId?: string } | null;
  }
  /** What the built-in function asked of this server about `arn`, from the audit log. */
  const builtinCalls = (arn: string) =>
    readFileSync(auditLog, "utf8")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as AuditLine)
      .filter((event) => event.userAgent === "secretslite-builtin-password" && event.requestParameters?.secretId === arn)
      .map((event) => ({ eventName: event.eventName, readOnly: event.readOnly, errorCode: event.errorCode, accountId: event.userIdentity.accountId }));
  const PASSWORD_CLASSES = [/[a-z]/, /[A-Z]/, /[0-9]/, /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/];
  const expectFreshPassword = (password: unknown, old: string) => {
    expect(typeof password).toBe("string");
    expect(password).toHaveLength(32);
    expect(password).not.toBe(old);
    for (const cls of PASSWORD_CLASSES) expect(password).toMatch(cls);
  };

  it("rotates a plain-string secret to a new 32-character password through the four steps", async () => {
    const { arn, firstVersion } = await createSecret("first-password");
    const answer = await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: BUILTIN, RotateImmediately: true }));
    const token = answer.VersionId ?? "";
    expect(token).not.toBe("");
    const described = await rotatedTo(arn, token);
    expect(described.VersionIdsToStages).toEqual({ [firstVersion]: ["AWSPREVIOUS"], [token]: ["AWSCURRENT"] });
    expect(described).toMatchObject({ RotationEnabled: true, RotationLambdaARN: BUILTIN });
    // The function's calls are ordinary requests in the secret's account: the audit log shows them.
    expect(builtinCalls(arn).filter((call) => !call.readOnly)).toEqual([
      { eventName: "PutSecretValue", readOnly: false, errorCode: undefined, accountId: ACCOUNT },
      { eventName: "UpdateSecretVersionStage", readOnly: false, errorCode: undefined, accountId: ACCOUNT },
      { eventName: "UpdateSecretVersionStage", readOnly: false, errorCode: undefined, accountId: ACCOUNT },
    ]);

    const current = await sm.send(new GetSecretValueCommand({ SecretId: arn }));
    expect(current.VersionId).toBe(token);
    expectFreshPassword(current.SecretString, "first-password");
    expect((await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: "AWSPREVIOUS" }))).SecretString).toBe("first-password");

    // Again: a new version, a new password, the last one previous.
    clock.time += 1000;
    const second = (await sm.send(new RotateSecretCommand({ SecretId: arn }))).VersionId ?? "";
    const after = await rotatedTo(arn, second);
    expect(after.VersionIdsToStages).toEqual({ [token]: ["AWSPREVIOUS"], [second]: ["AWSCURRENT"] });
    expectFreshPassword((await sm.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString, current.SecretString ?? "");
  });

  it("replaces only the password member of a JSON secret, keeping the others", async () => {
    const before = { engine: "postgres", host: "db.local", port: 5432, username: "app", password: "old-one" };
    const { arn, firstVersion } = await createSecret(JSON.stringify(before));
    const token = (await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: BUILTIN }))).VersionId ?? "";
    const described = await rotatedTo(arn, token);
    expect(described.VersionIdsToStages).toEqual({ [firstVersion]: ["AWSPREVIOUS"], [token]: ["AWSCURRENT"] });
    const after = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString ?? "") as Record<string, unknown>;
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    expect(after).toMatchObject({ engine: "postgres", host: "db.local", port: 5432, username: "app" });
    expectFreshPassword(after.password, before.password);
  });

  it("with RotateImmediately false only tests: the value stays and the AWSPENDING version goes", async () => {
    const { arn, firstVersion } = await createSecret("kept");
    await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: BUILTIN, RotateImmediately: false }));
    await eventually(async () => expect((await describeSecret(arn)).VersionIdsToStages).toEqual({ [firstVersion]: ["AWSCURRENT"] }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString).toBe("kept");
    expect((await describeSecret(arn)).LastRotatedDate).toBeUndefined();
  });

  it("fails as a real function would on a binary secret: AWSPENDING stays and blocks the next rotation", async () => {
    const created = await sm.send(new CreateSecretCommand({ Name: uniqueName(), SecretBinary: Buffer.from([1, 2, 3]) }));
    const arn = created.ARN ?? "";
    const token = (await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: BUILTIN }))).VersionId ?? "";
    // Three attempts, each finding no pending value and refusing to make one from binary data; then the version is
    // left for the caller to see.
    await eventually(async () =>
      expect(builtinCalls(arn).filter((call) => call.errorCode === "ResourceNotFoundException").map((call) => call.eventName)).toEqual([
        "GetSecretValue",
        "GetSecretValue",
        "GetSecretValue",
      ]),
    );
    expect(builtinCalls(arn).filter((call) => !call.readOnly)).toEqual([]);
    await expect(sm.send(new RotateSecretCommand({ SecretId: arn }))).rejects.toMatchObject({
      name: "InvalidRequestException",
      message: "A previous rotation isn't complete. That rotation will be reattempted.",
    });
    const described = await describeSecret(arn);
    expect(described.VersionIdsToStages).toEqual({ [created.VersionId ?? ""]: ["AWSCURRENT"], [token]: ["AWSPENDING"] });
    expect(described.LastRotatedDate).toBeUndefined();
    expect(Buffer.from((await sm.send(new GetSecretValueCommand({ SecretId: arn }))).SecretBinary ?? [])).toEqual(Buffer.from([1, 2, 3]));
  });

  it("signs its calls so that --verify-signatures accepts them, given the account's key in the credentials file", async () => {
    const credentialsFile = path.join(workDir, "strict-credentials");
    writeFileSync(
      credentialsFile,
      `[default]\naws_access_key_id = ${credentials.accessKeyId}\naws_secret_access_key = ${credentials.secretAccessKey}\n` +
        `[rotation]\naws_access_key_id = ${ACCOUNT}\naws_secret_access_key = secretslite\n`,
    );
    const functionsFile = path.join(workDir, "strict-functions.json");
    writeFileSync(functionsFile, JSON.stringify({ [BUILTIN]: "builtin:password" }));
    const strict = await startTestServer({ flags: ["--verify-signatures", "--credentials-file", credentialsFile, "--rotation-functions", functionsFile] });
    try {
      const client = strict.secretsManager();
      const arn = (await client.send(new CreateSecretCommand({ Name: uniqueName(), SecretString: "strict" }))).ARN ?? "";
      const token = (await client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: BUILTIN }))).VersionId ?? "";
      await eventually(async () => expect((await client.send(new DescribeSecretCommand({ SecretId: arn }))).VersionIdsToStages?.[token]).toEqual(["AWSCURRENT"]));
      expect((await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString).toHaveLength(32);
    } finally {
      await strict.close();
    }
  });
});
