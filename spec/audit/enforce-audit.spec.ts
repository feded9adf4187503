// --audit-log with --enforce-auth: events name the principal as CloudTrail's userIdentity does (IAMUser, AssumedRole
// with its session issuer, Root), denials are recorded as AccessDenied with the deciding statement, and with
// --log-level debug each decision is explained in an "authorization" log line.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import aws4 from "aws4";
import request from "supertest";
import { parseConfig } from "../../src/config";
import { createLogger } from "../../src/logger";
import { startSecretslite, type RunningSecretslite } from "../../src/main";
import { REGION } from "../support/server";
import { testSoftHsm } from "../support/softhsm";

type TrailEvent = Record<string, unknown> & {
  userIdentity: Record<string, unknown>;
  requestParameters: Record<string, unknown> | null;
  additionalEventData?: Record<string, unknown>;
};

const ACCT = "111122223333";
interface Keys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}
const ROOT: Keys = { accessKeyId: "AKIAAUDITROOT0000001", secretAccessKey: "audit-root-secret-access-key-0000000000" };
const ALICE: Keys = { accessKeyId: "AKIAAUDITALICE000001", secretAccessKey: "audit-alice-secret-access-key-000000000" };
const SESSION: Keys = { accessKeyId: "ASIAAUDITSESSION0001", secretAccessKey: "audit-session-secret-access-key-0000000", sessionToken: "FwoGZXIvYXdzEAUDITTOKEN" };
const BOB: Keys = { accessKeyId: "AKIAAUDITBOB00000001", secretAccessKey: "audit-bob-secret-access-key-00000000000" };
const ALICE_ARN = `arn:aws:iam::${ACCT}:user/alice`;
const BOB_ARN = `arn:aws:iam::${ACCT}:user/bob`;
const SESSION_ARN = `arn:aws:sts::${ACCT}:assumed-role/deployer/ci`;

function principalsFile(dir: string): string {
  const file = path.join(dir, "principals.json");
  const readApp = {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ReadApp", Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "kms:Decrypt"], Resource: "*" },
      { Sid: "NeverOps", Effect: "Deny", Action: "secretsmanager:GetSecretValue", Resource: `arn:aws:secretsmanager:*:${ACCT}:secret:ops/*` },
    ],
  };
  const principals = [
    { ...ROOT, arn: `arn:aws:iam::${ACCT}:root` },
    { ...ALICE, arn: ALICE_ARN, policies: [readApp] },
    { ...SESSION, arn: SESSION_ARN, policies: [readApp] },
    // bob may read secrets but not use KMS: Secrets Manager's Decrypt for him is denied by NoKms.
    { ...BOB, arn: BOB_ARN, policies: [{ Version: "2012-10-17", Statement: [readApp.Statement[0], { Sid: "NoKms", Effect: "Deny", Action: "kms:*", Resource: "*" }] }] },
  ];
  writeFileSync(file, JSON.stringify({ principals }));
  return file;
}

/** STS GetCallerIdentity as the query protocol sends it: the UserId the audit event's principalId must repeat. */
async function userIdOf(server: RunningSecretslite, as: Keys): Promise<string> {
  const body = "Action=GetCallerIdentity&Version=2011-06-15";
  const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" };
  if (as.sessionToken !== undefined) headers["X-Amz-Security-Token"] = as.sessionToken;
  const signed = aws4.sign({ host: new URL(server.url).host, path: "/", method: "POST", service: "sts", region: REGION, body, headers }, as);
  const answer = await request(server.url).post("/").set(signed.headers as Record<string, string>).send(body);
  return answer.text.match(/<UserId>(.*)<\/UserId>/)?.[1] ?? "";
}

interface Run {
  readonly events: TrailEvent[];
  readonly logLines: Array<Record<string, unknown>>;
  readonly ids: Record<string, string>;
  readonly userIds: Record<string, string>;
}
let run: Run;

const requestIdOf = (error: unknown): string => (error as { $metadata?: { requestId?: string } }).$metadata?.requestId ?? "";

beforeAll(async () => {
  const token = await testSoftHsm();
  const dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-enforce-audit-"));
  const auditFile = path.join(dir, "audit.jsonl");
  const logged: string[] = [];
  const config = parseConfig(
    ["--port", "0", "--in-memory", "--token-label", token.tokenLabel, `--pin=${token.pin}`, "--log-level", "debug", "--audit-log", auditFile, "--enforce-auth", "--principals", principalsFile(dir)],
    {},
  );
  if (config === undefined) throw new Error("unreachable: no --help given");
  const server = await startSecretslite(config, { logger: createLogger("debug", (line) => logged.push(line)) });
  const sm = (as: Keys) => new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials: as, maxAttempts: 1 });
  const ids: Record<string, string> = {};
  try {
    ids.create = (await sm(ROOT).send(new CreateSecretCommand({ Name: "app/db", SecretString: "app-value" }))).$metadata.requestId ?? "";
    await sm(ROOT).send(new CreateSecretCommand({ Name: "ops/db", SecretString: "ops-value" }));
    ids.aliceRead = (await sm(ALICE).send(new GetSecretValueCommand({ SecretId: "app/db" }))).$metadata.requestId ?? "";
    ids.sessionRead = (await sm(SESSION).send(new GetSecretValueCommand({ SecretId: "app/db" }))).$metadata.requestId ?? "";
    ids.explicitDeny = await sm(ALICE).send(new GetSecretValueCommand({ SecretId: "ops/db" })).then(() => "not denied", requestIdOf);
    ids.kmsDeny = await sm(BOB).send(new GetSecretValueCommand({ SecretId: "app/db" })).then(() => "not denied", requestIdOf);
    ids.implicitDeny = await sm(ALICE).send(new DescribeSecretCommand({ SecretId: "app/db" })).then(() => "not denied", requestIdOf);
    const userIds = { alice: await userIdOf(server, ALICE), session: await userIdOf(server, SESSION) };
    run = {
      events: readFileSync(auditFile, "utf8").trim().split("\n").map((line) => JSON.parse(line) as TrailEvent),
      logLines: logged.map((line) => JSON.parse(line) as Record<string, unknown>),
      ids,
      userIds,
    };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

const eventsOf = (requestId: string): TrailEvent[] => run.events.filter((event) => event.requestID === requestId);
const mainEvent = (requestId: string): TrailEvent => {
  const found = eventsOf(requestId).find((event) => event.eventSource === "secretsmanager.amazonaws.com");
  if (found === undefined) throw new Error(`no Secrets Manager event for request ${requestId}`);
  return found;
};

describe("audit events under --enforce-auth", () => {
  it("name an IAM user as CloudTrail does, with the principalId GetCallerIdentity reports", () => {
    expect(run.userIds.alice).toMatch(/^AIDA[0-9A-F]{17}$/);
    expect(mainEvent(run.ids.aliceRead ?? "").userIdentity).toEqual({
      type: "IAMUser",
      principalId: run.userIds.alice,
      arn: ALICE_ARN,
      accountId: ACCT,
      accessKeyId: ALICE.accessKeyId,
      userName: "alice",
    });
  });

  it("name a role session as an AssumedRole with the role as its session issuer", () => {
    const roleId = (run.userIds.session ?? "").split(":")[0];
    expect(run.userIds.session).toMatch(/^AROA[0-9A-F]{17}:ci$/);
    expect(mainEvent(run.ids.sessionRead ?? "").userIdentity).toEqual({
      type: "AssumedRole",
      principalId: run.userIds.session,
      arn: SESSION_ARN,
      accountId: ACCT,
      accessKeyId: SESSION.accessKeyId,
      sessionContext: {
        sessionIssuer: { type: "Role", principalId: roleId, arn: `arn:aws:iam::${ACCT}:role/deployer`, accountId: ACCT, userName: "deployer" },
        attributes: { mfaAuthenticated: "false" },
      },
    });
  });

  it("name the account root as Root", () => {
    expect(mainEvent(run.ids.create ?? "").userIdentity).toEqual({
      type: "Root",
      principalId: ACCT,
      arn: `arn:aws:iam::${ACCT}:root`,
      accountId: ACCT,
      accessKeyId: ROOT.accessKeyId,
    });
  });

  it("name the principal on Secrets Manager's KMS calls for it, invoked by secretsmanager.amazonaws.com", () => {
    const forAlice = run.events.filter((event) => event.eventSource === "kms.amazonaws.com" && event.userIdentity.arn === ALICE_ARN);
    expect(forAlice.map((event) => event.eventName)).toEqual(["Decrypt"]);
    expect(forAlice[0]?.userIdentity).toMatchObject({ type: "IAMUser", userName: "alice", accessKeyId: ALICE.accessKeyId, invokedBy: "secretsmanager.amazonaws.com" });
  });

  it("record a denied KMS call Secrets Manager made for the caller with the statement that denied it", () => {
    const kmsDenial = run.events.find((event) => event.eventSource === "kms.amazonaws.com" && event.userIdentity.arn === BOB_ARN);
    expect(kmsDenial).toMatchObject({
      eventName: "Decrypt",
      errorCode: "AccessDenied",
      additionalEventData: { authorization: { decision: "explicit-deny", policyType: "identity-based", sid: "NoKms" } },
    });
    // Secrets Manager's own answer is its "Access to KMS is not allowed", not an IAM decision of its own.
    expect(mainEvent(run.ids.kmsDeny ?? "")).toMatchObject({ errorCode: "AccessDeniedException", errorMessage: "Access to KMS is not allowed" });
    expect(mainEvent(run.ids.kmsDeny ?? "").additionalEventData).toBeUndefined();
  });

  it("record an explicit deny as AccessDenied, with the deciding statement's Sid under additionalEventData", () => {
    const event = mainEvent(run.ids.explicitDeny ?? "");
    expect(event).toMatchObject({
      eventName: "GetSecretValue",
      errorCode: "AccessDenied",
      errorMessage: `User: ${ALICE_ARN} is not authorized to perform: secretsmanager:GetSecretValue on resource: ops/db with an explicit deny in an identity-based policy`,
      additionalEventData: { authorization: { decision: "explicit-deny", policyType: "identity-based", sid: "NeverOps" } },
      responseElements: null,
    });
  });

  it("record an implicit deny with the policy type that did not allow and no Sid", () => {
    const event = mainEvent(run.ids.implicitDeny ?? "");
    expect(event.errorCode).toBe("AccessDenied");
    expect(event.additionalEventData).toEqual({ authorization: { decision: "implicit-deny", policyType: "identity-based" } });
  });

  it("leave allowed calls without an authorization entry", () => {
    expect(mainEvent(run.ids.aliceRead ?? "").additionalEventData).toBeUndefined();
    expect(mainEvent(run.ids.aliceRead ?? "").errorCode).toBeUndefined();
  });
});

describe("the debug explanation of each decision", () => {
  const explanations = () => run.logLines.filter((line) => line.msg === "authorization");

  it("names the statement that denied, its Sid and the statements that applied", () => {
    const denial = explanations().find((line) => line.requestId === run.ids.explicitDeny);
    expect(denial).toMatchObject({
      level: "debug",
      principal: ALICE_ARN,
      action: "secretsmanager:GetSecretValue",
      decision: "explicit-deny",
      policyType: "identity-based",
      sid: "NeverOps",
    });
    expect(String(denial?.resource)).toMatch(new RegExp(`^arn:aws:secretsmanager:${REGION}:${ACCT}:secret:ops/db-[A-Za-z0-9]{6}$`));
    expect((denial?.statements as string[]).join("\n")).toContain("NeverOps");
  });

  it("explains allowed decisions too, naming the allowing statement", () => {
    const allowed = explanations().find((line) => line.requestId === run.ids.aliceRead && line.action === "secretsmanager:GetSecretValue");
    expect(allowed).toMatchObject({ decision: "allow", sid: "ReadApp", policyType: "identity-based" });
    expect((allowed?.statements as string[]).join("\n")).toContain("ReadApp");
  });
});
