// The console's reset and seed under --enforce-auth: not API operations, so IAM cannot decide them; an account's root may
// reset its own account only, and no principal applies a seed from the console.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { CreateSecretCommand, ListSecretsCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import request from "supertest";
import { temporaryDirs } from "../support/files";
import { REGION, startTestServer, type TestServer } from "../support/server";

const newDir = temporaryDirs("secretslite-console-actions-spec-");
const UI = "/_secretslite/ui";
const A = "111122223333";
const B = "444455556666";
const ROOT_A = { accessKeyId: "AKIACONSOLEROOTA0001", secretAccessKey: "console-root-a-secret-key-0000000000000" };
const ROOT_B = { accessKeyId: "AKIACONSOLEROOTB0001", secretAccessKey: "console-root-b-secret-key-0000000000000" };
const ADMIN_USER = { accessKeyId: "AKIACONSOLEUSERA0001", secretAccessKey: "console-user-a-secret-key-0000000000000" };

const csrfOf = (text: string): string => /name="csrf" value="([^"]+)"/.exec(text)?.[1] ?? "";

describe("console actions with --enforce-auth", () => {
  let server: TestServer;
  const sm = (as: typeof ROOT_A) => new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials: as, maxAttempts: 1 });
  const names = async (as: typeof ROOT_A): Promise<string[]> => ((await sm(as).send(new ListSecretsCommand({}))).SecretList ?? []).map((s) => s.Name ?? "");

  beforeAll(async () => {
    const file = path.join(newDir(), "principals.yaml");
    writeFileSync(
      file,
      [
        "principals:",
        `  - { accessKeyId: ${ROOT_A.accessKeyId}, secretAccessKey: ${ROOT_A.secretAccessKey}, arn: "arn:aws:iam::${A}:root" }`,
        `  - { accessKeyId: ${ROOT_B.accessKeyId}, secretAccessKey: ${ROOT_B.secretAccessKey}, arn: "arn:aws:iam::${B}:root" }`,
        `  - accessKeyId: ${ADMIN_USER.accessKeyId}`,
        `    secretAccessKey: ${ADMIN_USER.secretAccessKey}`,
        `    arn: "arn:aws:iam::${A}:user/admin"`,
        "    policies: [{ Version: '2012-10-17', Statement: [{ Effect: Allow, Action: '*', Resource: '*' }] }]",
        "",
      ].join("\n"),
    );
    server = await startTestServer({ flags: ["--enforce-auth", "--principals", file] });
  });
  afterAll(() => server.close());

  /** Signs in with a principal's keys and answers the agent and the CSRF token of its actions page. */
  async function signIn(keys: typeof ROOT_A): Promise<{ agent: ReturnType<typeof request.agent>; csrf: string }> {
    const agent = request.agent(server.url);
    const login = await agent.get(`${UI}/login`);
    const signedIn = await agent.post(`${UI}/login`).type("form").set("Origin", server.url).send({ csrf: csrfOf(login.text), ...keys, next: `${UI}/actions` });
    expect(signedIn.status).toBe(303);
    const page = await agent.get(`${UI}/actions`);
    expect(page.status).toBe(200);
    return { agent, csrf: csrfOf(page.text) };
  }
  const post = (agent: ReturnType<typeof request.agent>, action: string, fields: Record<string, string>) =>
    agent.post(`${UI}/${action}`).type("form").set("Origin", server.url).send(fields);

  it("lets an account's root reset its own account, and nothing wider or elsewhere", async () => {
    await sm(ROOT_A).send(new CreateSecretCommand({ Name: "console/a", SecretString: "a" }));
    await sm(ROOT_B).send(new CreateSecretCommand({ Name: "console/b", SecretString: "b" }));
    const { agent, csrf } = await signIn(ROOT_A);
    const wider: Array<Record<string, string>> = [{ scope: "all" }, { scope: "region", region: REGION }, { scope: "account", account: B }];
    for (const fields of wider) {
      const refused = await post(agent, "reset", { csrf, ...fields });
      expect(refused.status).toBe(200);
      expect(refused.text).toContain(`With --enforce-auth an account&#39;s root resets its own account only (${A})`);
    }
    expect(await names(ROOT_A)).toEqual(["console/a"]);
    const done = await post(agent, "reset", { csrf, scope: "account", account: A });
    expect(done.status).toBe(303);
    expect(await names(ROOT_A)).toEqual([]);
    // The other account was not touched.
    expect(await names(ROOT_B)).toEqual(["console/b"]);
  });

  it("refuses a reset to a principal that is not an account's root, whatever its policies allow", async () => {
    await sm(ROOT_A).send(new CreateSecretCommand({ Name: "console/kept", SecretString: "k" }));
    const { agent, csrf } = await signIn(ADMIN_USER);
    const refused = await post(agent, "reset", { csrf, scope: "account", account: A });
    expect(refused.text).toContain(`Only an account&#39;s root may reset from the console with --enforce-auth; arn:aws:iam::${A}:user/admin is not one.`);
    expect(await names(ROOT_A)).toContain("console/kept");
  });

  it("applies no seed for a principal", async () => {
    const { agent, csrf } = await signIn(ROOT_A);
    const refused = await post(agent, "seed", { csrf, seed: "secretsmanager:\n  secrets:\n    - name: seeded/by-console\n      secretString: x\n" });
    expect(refused.text).toContain("With --enforce-auth the console applies no seed");
    expect(await names(ROOT_A)).not.toContain("seeded/by-console");
  });
});

describe("console actions in the Calls page", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it("lists a reveal (an action's GetSecretValue) among the calls, and not the page's own reads", async () => {
    const created = await server.secretsManager().send(new CreateSecretCommand({ Name: "console/revealed", SecretString: "shown-once" }));
    const agent = request.agent(server.url);
    const page = await agent.get(`${UI}/secret?id=${encodeURIComponent(created.ARN ?? "")}`);
    expect(page.status).toBe(200);
    const revealed = await agent.post(`${UI}/reveal`).type("form").set("Origin", server.url).send({ csrf: csrfOf(page.text), id: created.ARN ?? "" });
    expect(revealed.status).toBe(200);
    expect(revealed.text).toContain("shown-once");
    const calls = await agent.get(`${UI}/calls?operation=GetSecretValue`);
    const rows = calls.text.match(/<tr class="call-ok"[\s\S]*?<\/tr>/g) ?? [];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain(created.ARN ?? "");
    // The secret page's DescribeSecret was a read of the console's own, not a call being debugged.
    expect((await agent.get(`${UI}/calls?operation=DescribeSecret`)).text).not.toMatch(/<tr class="call-ok"/);
    expect(calls.text).not.toContain("shown-once");
  });
});
