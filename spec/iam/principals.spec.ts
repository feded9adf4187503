// --principals: callers as IAM principals — whose keys are accepted (session tokens and expiry too), which account each
// acts in, and STS GetCallerIdentity answering who the caller is, through the SDK, both aws CLIs and raw signed requests.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { CreateSecretCommand, ListSecretsCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import aws4 from "aws4";
import request from "supertest";
import { parseConfig } from "../../src/config";
import { readPrincipalsFile } from "../../src/iam/principals-file";
import { AwsCli, CLIS, CLI_TEST_TIMEOUT_MS } from "../support/aws-cli";
import { temporaryDirs } from "../support/files";
import { REGION, startTestServer, type TestServer } from "../support/server";
import { errorOf } from "../support/errors";

const newDir = temporaryDirs("secretslite-principals-spec-");

const ALICE = { accessKeyId: "AKIAALICE000000000001", secretAccessKey: "alice-secret-access-key-0000000000000000" };
const SESSION = { accessKeyId: "ASIASESSION000000001", secretAccessKey: "session-secret-access-key-000000000000", sessionToken: "FwoGZXIvYXdzEXAMPLETOKEN" };
const EXPIRED = { accessKeyId: "ASIAEXPIRED000000001", secretAccessKey: "expired-secret-access-key-000000000000", sessionToken: "FwoGZXIvYXdzEXPIRED" };
const ROOT = { accessKeyId: "AKIAROOT0000000000001", secretAccessKey: "root-secret-access-key-00000000000000000" };

function principalsFile(): string {
  const file = path.join(newDir(), "principals.yaml");
  writeFileSync(
    file,
    [
      "policies:",
      "  read-secrets:",
      '    Version: "2012-10-17"',
      "    Statement:",
      "      - { Effect: Allow, Action: ['secretsmanager:GetSecretValue', 'secretsmanager:ListSecrets'], Resource: '*' }",
      "principals:",
      `  - accessKeyId: ${ALICE.accessKeyId}`,
      `    secretAccessKey: ${ALICE.secretAccessKey}`,
      "    arn: arn:aws:iam::111122223333:user/alice",
      "    tags: { team: blue }",
      "    policies: [read-secrets]",
      `  - accessKeyId: ${SESSION.accessKeyId}`,
      `    secretAccessKey: ${SESSION.secretAccessKey}`,
      `    sessionToken: ${SESSION.sessionToken}`,
      "    expiration: 2999-01-01T00:00:00Z",
      "    arn: arn:aws:sts::444455556666:assumed-role/deployer/ci",
      `  - accessKeyId: ${EXPIRED.accessKeyId}`,
      `    secretAccessKey: ${EXPIRED.secretAccessKey}`,
      `    sessionToken: ${EXPIRED.sessionToken}`,
      "    expiration: 2020-01-01T00:00:00Z",
      "    arn: arn:aws:sts::444455556666:assumed-role/deployer/old",
      `  - accessKeyId: ${ROOT.accessKeyId}`,
      `    secretAccessKey: ${ROOT.secretAccessKey}`,
      "    arn: arn:aws:iam::777788889999:root",
      "",
    ].join("\n"),
  );
  return file;
}

/** A GetCallerIdentity as the query protocol sends it, signed by aws4 (not secretslite's signer) for sts. */
function callerIdentity(server: TestServer, as: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
  const body = "Action=GetCallerIdentity&Version=2011-06-15";
  const host = new URL(server.url).host;
  const signed = aws4.sign({ host, path: "/", method: "POST", service: "sts", region: REGION, body, headers: { "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" } }, as);
  return request(server.url).post("/").set(signed.headers as Record<string, string>).send(body);
}

describe("--principals with --verify-signatures", () => {
  let server: TestServer;
  const client = (as: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
    new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials: as, maxAttempts: 1 });

  beforeAll(async () => {
    server = await startTestServer({ flags: ["--verify-signatures", "--principals", principalsFile()] });
  });
  afterAll(() => server.close());

  it("acts in the principal's account, whatever the access key id looks like", async () => {
    const alice = client(ALICE);
    const { ARN } = await alice.send(new CreateSecretCommand({ Name: "alice-secret", SecretString: "x" }));
    expect(ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:111122223333:secret:alice-secret-/);
    const session = client(SESSION);
    const { ARN: sessionArn } = await session.send(new CreateSecretCommand({ Name: "session-secret", SecretString: "y" }));
    expect(sessionArn).toContain(":444455556666:");
    // Each account sees its own secrets only.
    expect((await session.send(new ListSecretsCommand({}))).SecretList?.map((secret) => secret.Name)).toEqual(["session-secret"]);
    alice.destroy();
    session.destroy();
  });

  it("answers unknown keys, wrong secrets, missing or wrong session tokens and expired sessions as AWS does", async () => {
    expect(await errorOf(client({ accessKeyId: "AKIANOBODY0000000001", secretAccessKey: "x" }).send(new ListSecretsCommand({})))).toEqual({
      name: "UnrecognizedClientException",
      message: "The security token included in the request is invalid.",
    });
    expect((await errorOf(client({ ...ALICE, secretAccessKey: "not-alice" }).send(new ListSecretsCommand({})))).name).toBe("InvalidSignatureException");
    // A session key without its token, with another token, and a long-term key sent with a token.
    expect((await errorOf(client({ accessKeyId: SESSION.accessKeyId, secretAccessKey: SESSION.secretAccessKey }).send(new ListSecretsCommand({})))).name).toBe(
      "UnrecognizedClientException",
    );
    expect((await errorOf(client({ ...SESSION, sessionToken: "another" }).send(new ListSecretsCommand({})))).name).toBe("UnrecognizedClientException");
    expect((await errorOf(client({ ...ALICE, sessionToken: SESSION.sessionToken }).send(new ListSecretsCommand({})))).name).toBe("UnrecognizedClientException");
    expect(await errorOf(client(EXPIRED).send(new ListSecretsCommand({})))).toEqual({
      name: "ExpiredTokenException",
      message: "The security token included in the request is expired",
    });
  });

  it("answers STS GetCallerIdentity with the principal's ARN, account and a stable UserId", async () => {
    const alice = await callerIdentity(server, ALICE);
    expect(alice.status).toBe(200);
    expect(alice.headers["content-type"]).toMatch(/^text\/xml/);
    expect(alice.text).toMatch(
      /^<GetCallerIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user\/alice<\/Arn><UserId>AIDA[0-9A-F]{17}<\/UserId><Account>111122223333<\/Account><\/GetCallerIdentityResult><ResponseMetadata><RequestId>[0-9a-f-]{36}<\/RequestId><\/ResponseMetadata><\/GetCallerIdentityResponse>$/,
    );
    expect((await callerIdentity(server, ALICE)).text.match(/<UserId>(.*)<\/UserId>/)?.[1]).toBe(alice.text.match(/<UserId>(.*)<\/UserId>/)?.[1]);
    const session = await callerIdentity(server, SESSION);
    expect(session.text).toContain("<Arn>arn:aws:sts::444455556666:assumed-role/deployer/ci</Arn>");
    expect(session.text).toMatch(/<UserId>AROA[0-9A-F]{17}:ci<\/UserId>/);
    expect((await callerIdentity(server, ROOT)).text).toContain("<Arn>arn:aws:iam::777788889999:root</Arn><UserId>777788889999</UserId>");

    const unknown = await callerIdentity(server, { accessKeyId: "AKIANOBODY0000000001", secretAccessKey: "x" });
    expect(unknown.status).toBe(403);
    expect(unknown.text).toContain("<Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message>");
    const expired = await callerIdentity(server, EXPIRED);
    expect(expired.status).toBe(403);
    expect(expired.text).toContain("<Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message>");
    const wrongSecret = await callerIdentity(server, { ...ALICE, secretAccessKey: "not-alice" });
    expect(wrongSecret.status).toBe(403);
    expect(wrongSecret.text).toContain("<Code>SignatureDoesNotMatch</Code>");
  });

  it.each(CLIS)("%s sts get-caller-identity names the principal, session credentials included", async (cli) => {
    for (const [as, arn] of [
      [ALICE, "arn:aws:iam::111122223333:user/alice"],
      [SESSION, "arn:aws:sts::444455556666:assumed-role/deployer/ci"],
    ] as const) {
      const aws = new AwsCli(server.url, as);
      try {
        expect(await aws.json(cli, "sts", ["get-caller-identity"])).toEqual({ UserId: expect.any(String), Account: arn.split(":")[4], Arn: arn });
      } finally {
        aws.close();
      }
    }
  }, CLI_TEST_TIMEOUT_MS);
});

describe("GetCallerIdentity without --principals", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it("answers the root of the account the key stands for: a 12-digit key's, or the default account", async () => {
    expect((await callerIdentity(server, { accessKeyId: "210987654321", secretAccessKey: "x" })).text).toContain(
      "<Arn>arn:aws:iam::210987654321:root</Arn><UserId>210987654321</UserId><Account>210987654321</Account>",
    );
    expect((await callerIdentity(server, ALICE)).text).toContain("<Account>000000000000</Account>");
  });

  it("answers an action it does not serve with InvalidAction", async () => {
    const host = new URL(server.url).host;
    const body = "Action=AssumeRole&Version=2011-06-15";
    const signed = aws4.sign({ host, path: "/", method: "POST", service: "sts", region: REGION, body, headers: { "Content-Type": "application/x-www-form-urlencoded" } }, ALICE);
    const answer = await request(server.url).post("/").set(signed.headers as Record<string, string>).send(body);
    expect(answer.status).toBe(400);
    expect(answer.text).toContain("<Code>InvalidAction</Code>");
  });
});

describe("the principals file", () => {
  const write = (text: string): string => {
    const file = path.join(newDir(), "principals.yaml");
    writeFileSync(file, text);
    return file;
  };
  const key = `accessKeyId: ${ALICE.accessKeyId}\n    secretAccessKey: s`;

  it("names every mistake with where it is", () => {
    const cases: Array<[string, RegExp]> = [
      ["principals: []\n", /principals must be a list of at least one principal/],
      [`principals:\n  - ${key}\n`, /principals\[0\]: arn is required/],
      [`principals:\n  - ${key}\n    arn: arn:aws:iam::111122223333:group/devs\n`, /is not an IAM user, an account root or an assumed-role session/],
      [`principals:\n  - ${key}\n    arn: arn:aws:iam::111122223333:user/a\n    policies: [missing]\n`, /policies\[0\] names missing, which the file's policies section does not define/],
      [`principals:\n  - ${key}\n    arn: arn:aws:iam::111122223333:user/a\n    colour: red\n`, /unknown colour/],
      [`principals:\n  - ${key}\n    arn: arn:aws:iam::111122223333:user/a\n    expiration: 2030-01-01T00:00:00Z\n`, /expiration is for session credentials/],
      [`principals:\n  - ${key}\n    arn: arn:aws:iam::111122223333:user/a\n    account: "999999999999"\n`, /account 999999999999 is not the account of/],
      [`principals:\n  - ${key}\n    arn: arn:aws:iam::111122223333:user/a\n  - ${key}\n    arn: arn:aws:iam::111122223333:user/b\n`, /principals\[1\]: access key AKIAALICE000000000001 is given twice/],
      [`policies:\n  broken: { Statement: [{ Effect: Allow }] }\nprincipals:\n  - ${key}\n    arn: arn:aws:iam::111122223333:user/a\n`, /policies\.broken: /],
    ];
    for (const [text, message] of cases) expect(() => readPrincipalsFile(write(text))).toThrow(message);
  });

  it("replaces --credentials-file: both at once are refused", () => {
    expect(() => parseConfig(["--principals", "p.yaml", "--credentials-file", "c"], {})).toThrow(/--principals replaces --credentials-file/);
    expect(() => parseConfig(["--verify-signatures"], {})).toThrow(/--credentials-file .* or --principals/);
    expect(parseConfig(["--verify-signatures", "--principals", "p.yaml"], {})?.principalsFile).toBe(path.resolve("p.yaml"));
  });
});
