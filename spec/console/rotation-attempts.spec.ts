// The secret page's "Last attempts" under Rotation: each attempt's outcome, the step it failed at and the function's
// error, recorded by the rotation driver for rotations a Lambda endpoint runs, read over HTTP from a started server.
import { CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, RotateSecretCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import request from "supertest";
import { eventually, singleUserTemplate, startLambdaEndpoint, type LambdaEndpoint } from "../support/rotation-function";
import { ACCOUNT, openServerStore, REGION, startTestServer, TEST_STORE, type TestServer } from "../support/server";
import { attemptsKey } from "../../src/services/secretsmanager/rotation-attempts";
import { keysOfKind } from "../secretsmanager/stored-records";

const UI = "/_secretslite/ui";
const SET_SECRET_ERROR = "database said no: password authentication failed for user app <script>";

let lambda: LambdaEndpoint;
let server: TestServer;
let sm: SecretsManagerClient;
let failing: string;
let working: string;
let dataDir: string;

interface Row {
  readonly outcome: string;
  readonly failedStep: string;
  readonly error: string;
  readonly versionId: string;
  readonly startedBy: string;
  readonly ended: string;
}

const decode = (text: string): string =>
  text.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[name] as string);
const strip = (text: string): string => decode(text.replace(/<[^>]*>/g, "")).trim();

/** The rows of the attempts table on the secret's page, as the page answers over HTTP. */
async function attemptRows(arn: string, url = server.url): Promise<{ rows: Row[]; rotation: string }> {
  const answer = await request(url).get(`${UI}/secret`).query({ id: arn });
  expect(answer.status).toBe(200);
  const rotation = /<section class="rotation">([\s\S]*?)<\/section>/.exec(answer.text)?.[1] ?? "";
  const table = /<table class="rotation-attempts">([\s\S]*?)<\/table>/.exec(rotation)?.[1] ?? "";
  const rows = [...table.matchAll(/<tr class="attempt [a-z]+" data-version-id="([^"]+)">([\s\S]*?)<\/tr>/g)].map((match) => {
    const cells = [...(match[2] ?? "").matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => cell[1] ?? "");
    return {
      versionId: match[1] ?? "",
      ended: strip(cells[1] ?? ""),
      outcome: strip(cells[2] ?? ""),
      failedStep: strip(cells[3] ?? ""),
      error: strip(cells[4] ?? ""),
      startedBy: strip(cells[6] ?? ""),
    };
  });
  return { rows, rotation };
}

beforeAll(async () => {
  lambda = await startLambdaEndpoint();
  server = await startTestServer({ flags: ["--lambda-endpoint", lambda.url] });
  dataDir = server.dataDir;
  sm = server.secretsManager();
  const template = singleUserTemplate(sm);
  working = lambda.define("rotate-ok", template);
  // The template's steps, except that setSecret cannot reach the database it would set the password in.
  failing = lambda.define("rotate-fails-at-set", async (event) => {
    if (event.Step === "setSecret") throw new Error(SET_SECRET_ERROR);
    await template(event);
  });
});
afterAll(async () => {
  await server.close();
  await lambda.close();
});

describe("rotation attempts on the secret page", () => {
  it("shows none before a rotation", async () => {
    const arn = (await sm.send(new CreateSecretCommand({ Name: "attempts/none", SecretString: "v" }))).ARN ?? "";
    const { rows, rotation } = await attemptRows(arn);
    expect(rows).toEqual([]);
    expect(rotation).toContain("No rotation attempts recorded.");
  });

  it("shows a rotation that failed at setSecret (each retry, with the function's error) and its retry that succeeded", async () => {
    const arn = (await sm.send(new CreateSecretCommand({ Name: "attempts/db", SecretString: "first-password" }))).ARN ?? "";
    const token = "11111111-2222-4333-8444-555555555555";
    await sm.send(new RotateSecretCommand({ SecretId: arn, ClientRequestToken: token, RotationLambdaARN: failing }));
    // The driver tries the whole rotation three times (createSecret again each time), then leaves AWSPENDING for the user.
    const failed = await eventually(async () => {
      const { rows } = await attemptRows(arn);
      expect(rows).toHaveLength(3);
      expect(rows.every((row) => row.outcome === "failed")).toBe(true);
      return rows;
    });
    for (const row of failed) {
      expect(row).toMatchObject({ failedStep: "setSecret", versionId: token });
      expect(row.error).toContain(SET_SECRET_ERROR);
      expect(row.ended).not.toBe("—");
    }
    // Newest first: the last retry on top.
    expect(failed.map((row) => row.startedBy)).toEqual(["RotateSecret · retry 2", "RotateSecret · retry 1", "RotateSecret"]);
    // What the function's invocations show: setSecret reached on each attempt, never testSecret.
    const steps = lambda.invocations.filter((call) => call.event.ClientRequestToken === token).map((call) => call.event.Step);
    expect(steps.filter((step) => step === "setSecret")).toHaveLength(3);
    expect(steps).not.toContain("testSecret");
    // The page escapes the function's error: its markup is text, not an element.
    const page = await request(server.url).get(`${UI}/secret`).query({ id: arn });
    expect(page.text).not.toContain("<script>");
    expect(page.text).toContain("&lt;script&gt;");

    // The same token again restarts that rotation, now with a function that works.
    await sm.send(new RotateSecretCommand({ SecretId: arn, ClientRequestToken: token, RotationLambdaARN: working }));
    const rows = await eventually(async () => {
      const current = (await attemptRows(arn)).rows;
      expect(current[0]?.outcome).toBe("succeeded");
      return current;
    });
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatchObject({ outcome: "succeeded", failedStep: "", error: "", versionId: token, startedBy: "RotateSecret" });
    expect(rows.slice(1).map((row) => row.outcome)).toEqual(["failed", "failed", "failed"]);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
    expect(described.VersionIdsToStages?.[token]).toEqual(["AWSCURRENT"]);
    expect(described.LastRotatedDate).toBeDefined();
  });

  it("keeps the last five attempts, newest first", async () => {
    const arn = (await sm.send(new CreateSecretCommand({ Name: "attempts/many", SecretString: "v0" }))).ARN ?? "";
    const tokens: string[] = [];
    for (let index = 0; index < 7; index++) {
      const token = `00000000-0000-4000-8000-00000000000${index}`;
      tokens.push(token);
      await sm.send(new RotateSecretCommand({ SecretId: arn, ClientRequestToken: token, RotationLambdaARN: working }));
      await eventually(async () => {
        const described = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
        expect(described.VersionIdsToStages?.[token]).toEqual(["AWSCURRENT"]);
        expect((await attemptRows(arn)).rows[0]).toMatchObject({ versionId: token, outcome: "succeeded" });
      });
    }
    const { rows } = await attemptRows(arn);
    expect(rows.map((row) => row.versionId)).toEqual(tokens.slice(2).reverse());
  });

  it("does not show a deleted secret's attempts on a new secret of the same name", async () => {
    const first = (await sm.send(new CreateSecretCommand({ Name: "attempts/again", SecretString: "v" }))).ARN ?? "";
    await sm.send(new RotateSecretCommand({ SecretId: first, RotationLambdaARN: working }));
    await eventually(async () => expect((await attemptRows(first)).rows[0]?.outcome).toBe("succeeded"));
    await sm.send(new DeleteSecretCommand({ SecretId: first, ForceDeleteWithoutRecovery: true }));
    const second = (await sm.send(new CreateSecretCommand({ Name: "attempts/again", SecretString: "v" }))).ARN ?? "";
    expect(second).not.toBe(first);
    expect((await attemptRows(second)).rows).toEqual([]);
  });

  // Last: it restarts the server (the function handlers keep the first server's client, and are not called again).
  it("keeps the attempts in the store: a restarted server shows them, and purging the secret removes them", async () => {
    const arn = (await sm.send(new CreateSecretCommand({ Name: "attempts/stored", SecretString: "v" }))).ARN ?? "";
    const token = "33333333-4444-4555-8666-777777777777";
    await sm.send(new RotateSecretCommand({ SecretId: arn, ClientRequestToken: token, RotationLambdaARN: working }));
    await eventually(async () => expect((await attemptRows(arn)).rows[0]).toMatchObject({ versionId: token, outcome: "succeeded" }));
    await server.stop();
    expect((await keysOfKind(dataDir, "secret-rotation-attempts")).filter((key) => key.endsWith("attempts/stored"))).toHaveLength(1);
    server = await startTestServer({ dataDir, flags: ["--lambda-endpoint", lambda.url] });
    expect((await attemptRows(arn)).rows).toEqual([expect.objectContaining({ versionId: token, outcome: "succeeded" })]);
    await server.secretsManager().send(new DeleteSecretCommand({ SecretId: arn, ForceDeleteWithoutRecovery: true }));
    await server.stop();
    expect((await keysOfKind(dataDir, "secret-rotation-attempts")).filter((key) => key.endsWith("attempts/stored"))).toEqual([]);
    server = await startTestServer({ dataDir, flags: ["--lambda-endpoint", lambda.url] });
  });
});

describe("rotation attempts started by the schedule, and RotateImmediately=false's test", () => {
  /** A clock the spec moves by hand: 2026-03-01 is a Sunday. */
  const clock = { time: Date.parse("2026-03-01T10:00:00Z"), now: () => new Date(clock.time) };
  let scheduled: TestServer;
  let client: SecretsManagerClient;
  let rotator: string;
  beforeAll(async () => {
    scheduled = await startTestServer({ clock, flags: ["--lambda-endpoint", lambda.url] });
    client = scheduled.secretsManager();
    rotator = lambda.define("rotate-on-schedule", singleUserTemplate(client));
  });
  afterAll(() => scheduled.close());

  it("marks a test-only run and a scheduled run as such", async () => {
    const arn = (await client.send(new CreateSecretCommand({ Name: "attempts/scheduled", SecretString: "v" }))).ARN ?? "";
    // RotateImmediately=false: only testSecret runs, against a version it then removes; the schedule starts now. The
    // template's testSecret reads the AWSPENDING value, which no createSecret made: that test fails, and says where.
    const tested = (await client.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: rotator, RotationRules: { AutomaticallyAfterDays: 1 }, RotateImmediately: false }))).VersionId ?? "";
    const testRow = await eventually(async () => {
      const first = (await attemptRows(arn, scheduled.url)).rows[0];
      expect(first).toMatchObject({ versionId: tested, outcome: "failed", failedStep: "testSecret", startedBy: "RotateSecret (test only)" });
      return first;
    });
    expect(testRow?.error).toContain("ResourceNotFoundException");
    // The window opens at midnight; the server's timer starts the rotation without any request.
    clock.time = Date.parse("2026-03-02T00:00:00Z");
    const rows = await eventually(async () => {
      const current = (await attemptRows(arn, scheduled.url)).rows;
      expect(current[0]).toMatchObject({ outcome: "succeeded", startedBy: "schedule" });
      return current;
    });
    const described = await client.send(new DescribeSecretCommand({ SecretId: arn }));
    expect(described.VersionIdsToStages?.[rows[0]?.versionId ?? ""]).toEqual(["AWSCURRENT"]);
    expect(rows).toHaveLength(2);
  });
});

describe("an attempt whose driver died", () => {
  it("is shown as interrupted after a restart: recorded as running, but no process runs it any more", async () => {
    const own = await startTestServer();
    const client = own.secretsManager();
    const secret = await client.send(new CreateSecretCommand({ Name: "attempts/killed", SecretString: "v" }));
    await own.stop();
    // What a kill -9 in the middle of a run leaves: the attempt's start was recorded, its end never was.
    const store = await openServerStore(own.dataDir);
    const scope = { account: ACCOUNT, region: REGION, partition: "aws" };
    // On LevelDB one process owns the store, so an attempt it does not run is dead at once; on a shared store another node
    // may be running it, so only one older than the longest run (four steps of 15 minutes) is.
    const startedAt = TEST_STORE === "postgres" ? Date.now() - 61 * 60_000 : Date.now();
    const attempt = { id: "a1", versionId: "44444444-5555-4666-8777-888888888888", scheduled: false, testOnly: false, attempt: 1, startedAt, outcome: "running" };
    await store.batch([{ type: "put", key: attemptsKey(scope, "attempts/killed"), value: { v: 1, arn: secret.ARN ?? "", attempts: [attempt] } }]);
    await store.close();
    const restarted = await startTestServer({ dataDir: own.dataDir });
    try {
      expect((await attemptRows(secret.ARN ?? "", restarted.url)).rows).toEqual([
        expect.objectContaining({ versionId: attempt.versionId, outcome: "interrupted", ended: "—" }),
      ]);
    } finally {
      await restarted.close();
    }
  });
});
