// Console sign-in under --enforce-auth with session credentials (a principals-file entry with a session token and an
// expiration, as an assumed-role session's): the token is required, a wrong one or a wrong secret key refused,
// expired credentials refused, views run as the role session and stop when the credentials expire; logout ends it.
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import request from "supertest";
import { temporaryDirs } from "../support/files";
import { writePrincipalsFile } from "../support/principals";
import { startTestServer, type TestServer } from "../support/server";

const newDir = temporaryDirs("secretslite-console-login-");
const UI = "/_secretslite/ui";
const ACCOUNT = "111122223333";
/**
 * The server's clock, moved ahead by hand so credentials expire without waiting. It stays within SigV4's five minutes
 * of the SDK's real clock, so the SDK's requests are refused for the expired token, not for a stale signature.
 */
const T0 = Date.now();
const clock = { offset: 0, now: () => new Date(Date.now() + clock.offset) };

const ADMIN = { accessKeyId: "AKIALOGINADMIN000001", secretAccessKey: "login-admin-secret-key-00000000000000000" };
const SESSION = {
  accessKeyId: "ASIALOGINSESSION0001",
  secretAccessKey: "login-session-secret-key-000000000000000",
  sessionToken: "FwoGZXIvYXdzEJr//////////wEaDLoginSessionTokenForTheConsoleSpec",
  expiration: new Date(T0 + 2 * 60 * 1000).toISOString(),
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/ci`,
};
/** What the SDK is given: the key pair and the token. */
const SESSION_CREDENTIALS = { accessKeyId: SESSION.accessKeyId, secretAccessKey: SESSION.secretAccessKey, sessionToken: SESSION.sessionToken };
const EXPIRED = {
  accessKeyId: "ASIALOGINEXPIRED0001",
  secretAccessKey: "login-expired-secret-key-000000000000000",
  sessionToken: "FwoGZXIvYXdzEJr//////////wEaDLoginExpiredTokenForTheConsoleSpec",
  expiration: new Date(T0 - 1000).toISOString(),
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/old`,
};
/** The role session may read one secret only: the console shows what it may see through the API, and no more. */
const READ_APP = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds", "secretsmanager:GetSecretValue"], Resource: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:login/app-*` }] };

const csrfOf = (text: string): string => /name="csrf" value="([^"]+)"/.exec(text)?.[1] ?? "";

let server: TestServer;
let appArn: string;
let otherArn: string;

beforeAll(async () => {
  const file = writePrincipalsFile(
    newDir(),
    [
      { ...ADMIN, arn: `arn:aws:iam::${ACCOUNT}:user/admin`, policies: ["admin"] },
      { ...SESSION, policies: ["read-app"] },
      { ...EXPIRED, policies: ["admin"] },
    ],
    { "read-app": READ_APP },
  );
  server = await startTestServer({ clock, flags: ["--enforce-auth", "--principals", file] });
  const admin = new SecretsManagerClient({ endpoint: server.url, region: "us-east-1", credentials: ADMIN, maxAttempts: 1 });
  appArn = (await admin.send(new CreateSecretCommand({ Name: "login/app", SecretString: "app-value" }))).ARN ?? "";
  otherArn = (await admin.send(new CreateSecretCommand({ Name: "login/other", SecretString: "other-value" }))).ARN ?? "";
  admin.destroy();
});
afterAll(() => server.close());
afterEach(() => {
  clock.offset = 0;
});

async function signIn(form: Record<string, string>): Promise<{ agent: ReturnType<typeof request.agent>; answer: request.Response }> {
  const agent = request.agent(server.url);
  const login = await agent.get(`${UI}/login`);
  const answer = await agent.post(`${UI}/login`).type("form").set("Origin", server.url).send({ csrf: csrfOf(login.text), ...form, next: `${UI}/secrets` });
  return { agent, answer };
}

describe("console sign-in with session credentials", () => {
  it("offers a session token field on the login page", async () => {
    const login = await request(server.url).get(`${UI}/login`);
    expect(login.status).toBe(200);
    expect(login.text).toContain('name="accessKeyId"');
    expect(login.text).toContain('name="secretAccessKey"');
    expect(login.text).toContain('name="sessionToken"');
  });

  it("refuses session credentials without their token, with a wrong token, or with a wrong secret key", async () => {
    const noToken = await signIn({ accessKeyId: SESSION.accessKeyId, secretAccessKey: SESSION.secretAccessKey });
    expect(noToken.answer.status).toBe(401);
    expect(noToken.answer.text).toContain("These are session credentials: give their session token too.");
    const wrongToken = await signIn({ accessKeyId: SESSION.accessKeyId, secretAccessKey: SESSION.secretAccessKey, sessionToken: `${SESSION.sessionToken}x` });
    expect(wrongToken.answer.status).toBe(401);
    const wrongSecret = await signIn({ accessKeyId: SESSION.accessKeyId, secretAccessKey: "not-the-secret-key", sessionToken: SESSION.sessionToken });
    expect(wrongSecret.answer.status).toBe(401);
    expect(wrongSecret.answer.text).toContain("not a pair the principals file holds");
    // None of them signed in: the pages still send the browser to the login page.
    for (const { agent } of [noToken, wrongToken, wrongSecret]) {
      const page = await agent.get(`${UI}/secrets`);
      expect(page.status).toBe(303);
      expect(page.headers.location).toMatch(new RegExp(`^${UI}/login\\?`));
    }
  });

  it("refuses session credentials that have already expired", async () => {
    const { answer } = await signIn({ accessKeyId: EXPIRED.accessKeyId, secretAccessKey: EXPIRED.secretAccessKey, sessionToken: EXPIRED.sessionToken });
    expect(answer.status).toBe(401);
    expect(answer.text).toContain("These session credentials have expired.");
  });

  it("signs in with key, secret and token, and runs each view as the role session: what its policy allows, no more", async () => {
    const { agent, answer } = await signIn({ accessKeyId: SESSION.accessKeyId, secretAccessKey: SESSION.secretAccessKey, sessionToken: SESSION.sessionToken });
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toBe(`${UI}/secrets`);
    const mine = await agent.get(`${UI}/secret`).query({ id: appArn });
    expect(mine.status).toBe(200);
    expect(mine.text).toContain(`<span class="principal" title="${SESSION.accessKeyId}">${SESSION.arn}</span>`);
    expect(mine.text).toContain("<h2>login/app</h2>");
    // The policy allows no ListSecrets and nothing on the other secret: the API's AccessDeniedException, as the session.
    const list = await agent.get(`${UI}/secrets`);
    expect(list.status).toBe(400);
    expect(list.text).toContain(`User: ${SESSION.arn} is not authorized to perform: secretsmanager:ListSecrets`);
    const other = await agent.get(`${UI}/secret`).query({ id: otherArn });
    expect(other.status).toBe(400);
    expect(other.text).toContain(`User: ${SESSION.arn} is not authorized to perform: secretsmanager:DescribeSecret`);
    expect(other.text).not.toContain("other-value");

    // A reveal runs GetSecretValue as the session too: the value the SDK gets with the same credentials.
    const sdk = new SecretsManagerClient({ endpoint: server.url, region: "us-east-1", credentials: SESSION_CREDENTIALS, maxAttempts: 1 });
    const viaSdk = await sdk.send(new GetSecretValueCommand({ SecretId: appArn }));
    sdk.destroy();
    const reveal = await agent.post(`${UI}/reveal`).type("form").set("Origin", server.url).send({ csrf: csrfOf(mine.text), id: appArn });
    expect(reveal.status).toBe(200);
    expect(reveal.text).toContain(`<pre class="secret-value">${viaSdk.SecretString}</pre>`);
  });

  it("stops answering data once the session credentials expire, as the wire does, until a new sign-in", async () => {
    const { agent, answer } = await signIn({ accessKeyId: SESSION.accessKeyId, secretAccessKey: SESSION.secretAccessKey, sessionToken: SESSION.sessionToken });
    expect(answer.status).toBe(303);
    expect((await agent.get(`${UI}/secret`).query({ id: appArn })).text).toContain("<h2>login/app</h2>");
    clock.offset = Date.parse(SESSION.expiration) + 1000 - Date.now();
    const after = await agent.get(`${UI}/secret`).query({ id: appArn });
    expect(after.text).toContain('<code class="error-type">ExpiredTokenException</code>');
    expect(after.text).not.toContain("<h2>login/app</h2>");
    // The SDK with the same credentials gets the same answer.
    const sdk = new SecretsManagerClient({ endpoint: server.url, region: "us-east-1", credentials: SESSION_CREDENTIALS, maxAttempts: 1 });
    await expect(sdk.send(new GetSecretValueCommand({ SecretId: appArn }))).rejects.toMatchObject({ name: "ExpiredTokenException" });
    sdk.destroy();
    // And signing in again with them is refused.
    const again = await signIn({ accessKeyId: SESSION.accessKeyId, secretAccessKey: SESSION.secretAccessKey, sessionToken: SESSION.sessionToken });
    expect(again.answer.status).toBe(401);
    expect(again.answer.text).toContain("These session credentials have expired.");
  });

  it("logs out with the session's CSRF token: the cookie no longer signs in, and a logout without the token is refused", async () => {
    const { agent } = await signIn({ accessKeyId: SESSION.accessKeyId, secretAccessKey: SESSION.secretAccessKey, sessionToken: SESSION.sessionToken });
    const page = await agent.get(`${UI}/secret`).query({ id: appArn });
    expect(page.status).toBe(200);
    const forged = await agent.post(`${UI}/logout`).type("form").set("Origin", server.url).send({ csrf: "not-this-sessions-token" });
    expect(forged.status).toBe(403);
    expect((await agent.get(`${UI}/secret`).query({ id: appArn })).status).toBe(200);
    const logout = await agent.post(`${UI}/logout`).type("form").set("Origin", server.url).send({ csrf: csrfOf(page.text) });
    expect(logout.status).toBe(303);
    expect(logout.headers.location).toBe(`${UI}/login`);
    const afterwards = await agent.get(`${UI}/secret`).query({ id: appArn });
    expect(afterwards.status).toBe(303);
    expect(afterwards.headers.location).toMatch(new RegExp(`^${UI}/login\\?`));
  });
});
