// The console's router over HTTP against a started server: layout, security headers, same-origin and CSRF rules,
// sign-in with --verify-signatures and --enforce-auth (views run as the principal), audit, and --no-console.
import { readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { CreateSecretCommand, DescribeSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import request from "supertest";
import { parseConfig } from "../../src/config";
import { CONTENT_SECURITY_POLICY } from "../../src/console/app";
import { temporaryDirs } from "../support/files";
import { startTestServer, type TestServer } from "../support/server";
import { writePrincipalsFile } from "../support/principals";

const newDir = temporaryDirs("secretslite-console-spec-");
const UI = "/_secretslite/ui";

const csrfOf = (text: string): string => /name="csrf" value="([^"]+)"/.exec(text)?.[1] ?? "";
/** A harmless reset for the CSRF checks: an account that holds nothing. */
const RESET_FORM = { scope: "partition", account: "999999999999", region: "us-east-1" };

/**
 * The first bytes of a server-sent event stream and its headers; `then` runs once the stream is open (say an API call
 * whose event should arrive), and the connection is dropped once `until` matches what was read.
 */
function readStream(url: string, until: RegExp, then: () => Promise<void> = async () => undefined): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let text = "";
      let started = false;
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
        if (!started) {
          started = true;
          then().catch(reject);
        }
        if (until.test(text)) {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
        }
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on("error", reject);
  });
}

describe("console without sign-in (signatures unchecked)", () => {
  let server: TestServer;
  const auditFile = path.join(newDir(), "audit.jsonl");
  beforeAll(async () => {
    server = await startTestServer({ flags: ["--audit-log", auditFile] });
    await server.secretsManager().send(new CreateSecretCommand({ Name: "console/app", Description: "<b>bold</b> & 'q'", SecretString: "v" }));
  });
  afterAll(() => server.close());

  it("redirects /_secretslite/ui to the overview, keeping the account and region", async () => {
    const answer = await request(server.url).get(`${UI}?account=111122223333&region=eu-west-1`);
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toBe(`${UI}/overview?account=111122223333&region=eu-west-1`);
  });

  it("renders the secrets page in the layout through view.call, escaped, with the API's dates and the scope kept in links", async () => {
    const answer = await request(server.url).get(`${UI}/secrets`);
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(answer.text).toContain("<nav>");
    for (const label of ["Overview", "Secrets", "KMS keys", "Calls", "Actions"]) expect(answer.text).toContain(`>${label}</a>`);
    // The hostile description is text, never markup; the name links to the secret's page by its ARN, in this scope.
    expect(answer.text).toContain("<td>&lt;b&gt;bold&lt;/b&gt; &amp; &#39;q&#39;</td>");
    expect(answer.text).not.toContain("<b>bold</b>");
    const arn = /href="\/_secretslite\/ui\/secret\?id=([^&"]+)&amp;account=000000000000&amp;region=us-east-1">console\/app<\/a>/.exec(answer.text)?.[1];
    expect(decodeURIComponent(arn ?? "")).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:console\/app-[A-Za-z0-9]{6}$/);
    // LastChangedDate came back from the API as a date (the wire's epoch seconds made a Date), shown in UTC.
    expect(answer.text).toMatch(/<td><time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3})?Z<\/time><\/td>/);
    expect(answer.text).toContain('<script src="/_secretslite/ui/assets/console.js" defer></script>');
    expect(answer.text).toContain(`href="${UI}/secrets?account=000000000000&amp;region=us-east-1"`);
    const other = await request(server.url).get(`${UI}/secrets?account=111122223333&region=eu-west-1`);
    expect(other.status).toBe(200);
    expect(other.text).toContain('<input name="account" value="111122223333"');
    expect(other.text).toContain('<input name="region" value="eu-west-1"');
    expect(other.text).toContain(`href="${UI}/keys?account=111122223333&amp;region=eu-west-1"`);
    // The filter form (a GET) carries the scope along as hidden fields.
    expect(other.text).toContain('<input type="hidden" name="account" value="111122223333">');
    // Another account holds no secrets: the view ran in the account the query names.
    expect(other.text).toContain('<p class="empty">No secrets match.</p>');
    expect(other.text).not.toContain("console/app");
  });

  it("answers an unknown page 404 inside the layout, and a bad account 400", async () => {
    const answer = await request(server.url).get(`${UI}/no-such-page`);
    expect(answer.status).toBe(404);
    expect(answer.text).toContain("<nav>");
    expect(answer.text).toContain("The console has no page no-such-page.");
    const bad = await request(server.url).get(`${UI}/secrets?account=12`);
    expect(bad.status).toBe(400);
    expect(bad.text).toContain("account must be a 12-digit account id");
  });

  it("sets the CSP and the other security headers, no-store on pages, and makes an HttpOnly SameSite=Strict session cookie", async () => {
    const answer = await request(server.url).get(`${UI}/secrets`);
    expect(answer.headers["content-security-policy"]).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self';");
    expect(answer.headers["x-content-type-options"]).toBe("nosniff");
    expect(answer.headers["referrer-policy"]).toBe("same-origin");
    expect(answer.headers["x-frame-options"]).toBe("DENY");
    expect(answer.headers["cache-control"]).toBe("no-store");
    expect(answer.headers["set-cookie"]?.[0]).toMatch(/^secretslite_console=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}; Path=\/_secretslite\/ui; HttpOnly; SameSite=Strict$/);
  });

  it("serves the assets from the package with their types and nosniff", async () => {
    const css = await request(server.url).get(`${UI}/assets/console.css`);
    expect(css.status).toBe(200);
    expect(css.headers["content-type"]).toBe("text/css; charset=utf-8");
    expect(css.text).toBe(readFileSync(path.join(__dirname, "../../src/console/assets/console.css"), "utf8"));
    const js = await request(server.url).get(`${UI}/assets/console.js`);
    expect(js.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(js.headers["x-content-type-options"]).toBe("nosniff");
    expect((await request(server.url).get(`${UI}/assets/other.js`)).status).toBe(404);
  });

  it("refuses pages of other origins (another port of this machine included) and gives them no CORS answer", async () => {
    for (const origin of ["http://evil.example", "http://127.0.0.1:1", "http://localhost:3000"]) {
      const answer = await request(server.url).get(`${UI}/secrets`).set("Origin", origin);
      expect(answer.status).toBe(403);
      expect(answer.headers["access-control-allow-origin"]).toBeUndefined();
      const preflight = await request(server.url).options(`${UI}/reset`).set("Origin", origin).set("Access-Control-Request-Method", "POST");
      expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
    }
    // Fetch metadata without Origin: a cross-site subresource is refused, a navigation from elsewhere is not.
    expect((await request(server.url).get(`${UI}/secrets`).set("Sec-Fetch-Site", "same-site").set("Sec-Fetch-Mode", "no-cors")).status).toBe(403);
    expect((await request(server.url).get(`${UI}/secrets`).set("Sec-Fetch-Site", "cross-site").set("Sec-Fetch-Mode", "navigate")).status).toBe(200);
    // Its own origin is answered, still without CORS headers.
    const own = await request(server.url).get(`${UI}/secrets`).set("Origin", server.url);
    expect(own.status).toBe(200);
    expect(own.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("runs an action only with the session's CSRF token and this origin; 403 otherwise", async () => {
    const agent = request.agent(server.url);
    const page = await agent.get(`${UI}/actions`);
    const csrf = csrfOf(page.text);
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const post = (fields: Record<string, string>, origin?: string) => {
      const req = agent.post(`${UI}/reset`).type("form").send({ ...RESET_FORM, ...fields });
      return origin === undefined ? req : req.set("Origin", origin);
    };
    expect((await post({}, server.url)).status).toBe(403);
    expect((await post({ csrf: "wrong" }, server.url)).status).toBe(403);
    expect((await post({ csrf }, undefined)).status).toBe(403);
    // Another session's token is not this one's.
    const otherCsrf = csrfOf((await request(server.url).get(`${UI}/actions`)).text);
    expect(otherCsrf).not.toBe(csrf);
    expect((await post({ csrf: otherCsrf }, server.url)).status).toBe(403);
    // Another origin is refused even with the right token.
    expect((await post({ csrf }, "http://evil.example")).status).toBe(403);
    // None of the refused posts reset anything: the secret is still listed.
    expect((await agent.get(`${UI}/secrets`)).text).toContain(">console/app</a>");
    const ok = await post({ csrf }, server.url);
    expect(ok.status).toBe(303);
    const done = new URL(ok.headers.location ?? "", server.url);
    expect(done.pathname).toBe(`${UI}/actions`);
    expect(done.searchParams.get("done")).toBe("Reset account 999999999999 in us-east-1.");
    expect(done.searchParams.get("account")).toBe("000000000000");
    // A Referer of this origin stands in for a missing Origin.
    expect((await agent.post(`${UI}/reset`).type("form").send({ ...RESET_FORM, csrf }).set("Referer", `${server.url}${UI}/actions`)).status).toBe(303);
    // A reset of another account left this one's secret alone.
    expect((await agent.get(`${UI}/secrets`)).text).toContain(">console/app</a>");
  });

  it("streams calls at calls/stream with the security headers, each later API call as an event; an unknown stream is 404", async () => {
    const answer = await readStream(`${server.url}${UI}/calls/stream?operation=DescribeSecret`, /event: call\n/, async () => {
      await server.secretsManager().send(new DescribeSecretCommand({ SecretId: "console/app" }));
    });
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(answer.headers["content-security-policy"]).toBe(CONTENT_SECURITY_POLICY);
    expect(answer.headers["cache-control"]).toBe("no-store");
    expect(answer.headers["access-control-allow-origin"]).toBeUndefined();
    expect(answer.text.startsWith("retry: 3000\n\n")).toBe(true);
    const data = JSON.parse(/event: call\nid: [^\n]+\ndata: ([^\n]+)\n/.exec(answer.text)?.[1] ?? "null") as { operation: string; resource: string; status: number };
    expect(data).toMatchObject({ operation: "DescribeSecret", resource: "console/app", status: 200 });
    expect((await request(server.url).get(`${UI}/other/stream`)).status).toBe(404);
    // Another origin's page cannot open it either.
    const foreign = await request(server.url).get(`${UI}/calls/stream`).set("Origin", "http://evil.example");
    expect(foreign.status).toBe(403);
  });

  it("audits the console's calls like API calls, with the console's user agent", async () => {
    await request(server.url).get(`${UI}/secrets`);
    const events = readFileSync(auditFile, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { eventName: string; userAgent: string; recipientAccountId: string });
    const listed = events.filter((event) => event.eventName === "ListSecrets");
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((event) => event.userAgent === "secretslite-console")).toBe(true);
  });
});

describe("console with --verify-signatures", () => {
  let server: TestServer;
  beforeAll(async () => {
    const credentials = path.join(newDir(), "credentials");
    writeFileSync(credentials, "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n");
    server = await startTestServer({ flags: ["--verify-signatures", "--credentials-file", credentials] });
  });
  afterAll(() => server.close());

  it("sends a browser without a session to the login page, refuses a wrong admin token, and signs in with the right one", async () => {
    const first = await request(server.url).get(`${UI}/secrets`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe(`${UI}/login?next=%2F_secretslite%2Fui%2Fsecrets`);
    expect((await request(server.url).post(`${UI}/reset`).set("Origin", server.url)).status).toBe(401);
    expect((await request(server.url).get(`${UI}/calls/stream`)).status).toBe(303);
    // The login page and the assets need no session.
    expect((await request(server.url).get(`${UI}/assets/console.css`)).status).toBe(200);

    const agent = request.agent(server.url);
    const login = await agent.get(`${UI}/login?next=%2F_secretslite%2Fui%2Fsecrets`);
    expect(login.status).toBe(200);
    expect(login.text).toContain('name="token"');
    const csrf = csrfOf(login.text);
    const wrong = await agent.post(`${UI}/login`).type("form").set("Origin", server.url).send({ csrf, token: "not-the-token", next: `${UI}/secrets` });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain("That is not this server&#39;s admin token.");
    expect((await agent.get(`${UI}/secrets`)).status).toBe(303);
    // No CSRF token: even the right admin token is refused (login CSRF).
    expect((await agent.post(`${UI}/login`).type("form").set("Origin", server.url).send({ token: server.adminToken })).status).toBe(403);
    const right = await agent.post(`${UI}/login`).type("form").set("Origin", server.url).send({ csrf, token: server.adminToken, next: `${UI}/secrets` });
    expect(right.status).toBe(303);
    expect(right.headers.location).toBe(`${UI}/secrets`);
    const page = await agent.get(`${UI}/secrets`);
    expect(page.status).toBe(200);
    expect(page.text).toContain("admin token holder");

    // Logout ends the session: the same cookie is sent to the login page again.
    const logout = await agent.post(`${UI}/logout`).type("form").set("Origin", server.url).send({ csrf: csrfOf(page.text) });
    expect(logout.status).toBe(303);
    expect((await agent.get(`${UI}/secrets`)).status).toBe(303);
  });
});

describe("console with --enforce-auth", () => {
  const ADMIN = { accessKeyId: "AKIACONSOLEADMIN0001", secretAccessKey: "console-admin-secret-key-000000000000000" };
  const NOBODY = { accessKeyId: "AKIACONSOLENOBODY001", secretAccessKey: "console-nobody-secret-key-00000000000000" };
  let server: TestServer;
  beforeAll(async () => {
    const file = writePrincipalsFile(newDir(), [
      { ...ADMIN, arn: "arn:aws:iam::111122223333:user/admin", policies: ["admin"] },
      { ...NOBODY, arn: "arn:aws:iam::111122223333:user/nobody" },
    ]);
    server = await startTestServer({ flags: ["--enforce-auth", "--principals", file] });
    const client = new SecretsManagerClient({ endpoint: server.url, region: "us-east-1", credentials: ADMIN, maxAttempts: 1 });
    await client.send(new CreateSecretCommand({ Name: "enforced/app", SecretString: "v" }));
    client.destroy();
  });
  afterAll(() => server.close());

  const signIn = async (keys: { accessKeyId: string; secretAccessKey: string }) => {
    const agent = request.agent(server.url);
    const csrf = csrfOf((await agent.get(`${UI}/login`)).text);
    const answer = await agent.post(`${UI}/login`).type("form").set("Origin", server.url).send({ csrf, ...keys, next: `${UI}/secrets` });
    return { agent, answer };
  };

  it("refuses the admin token's form and a wrong secret key; a principal's keys sign in", async () => {
    const { answer } = await signIn({ accessKeyId: ADMIN.accessKeyId, secretAccessKey: "wrong" });
    expect(answer.status).toBe(401);
    expect(answer.text).toContain("not a pair the principals file holds");
    const unknown = await signIn({ accessKeyId: "AKIANOTINTHEFILE0001", secretAccessKey: ADMIN.secretAccessKey });
    expect(unknown.answer.status).toBe(401);
    const ok = await signIn(ADMIN);
    expect(ok.answer.status).toBe(303);
  });

  it("runs each view as the signed-in principal: AccessDeniedException for one, the list for the other", async () => {
    const admin = await signIn(ADMIN);
    const adminPage = await admin.agent.get(`${UI}/secrets?account=000000000000`);
    expect(adminPage.status).toBe(200);
    expect(adminPage.text).toContain('<span class="principal" title="AKIACONSOLEADMIN0001">arn:aws:iam::111122223333:user/admin</span>');
    expect(adminPage.text).toContain(">enforced/app</a>");
    // The principal's account (the switch offers the region only).
    expect(adminPage.text).toContain('<input name="account" value="111122223333" size="12" pattern="[0-9]{12}" readonly>');
    expect(adminPage.text).toContain(`href="${UI}/keys?account=111122223333&amp;region=us-east-1"`);

    const nobody = await signIn(NOBODY);
    const denied = await nobody.agent.get(`${UI}/secrets`);
    expect(denied.status).toBe(400);
    expect(denied.text).toContain('<code class="error-type">AccessDeniedException</code>');
    expect(denied.text).toContain("User: arn:aws:iam::111122223333:user/nobody is not authorized to perform: secretsmanager:ListSecrets");
    expect(denied.text).toContain("<nav>");
  });
});

describe("--no-console", () => {
  it("parses the flag and its variable", () => {
    expect(parseConfig(["--no-console"], {})?.console).toBe(false);
    expect(parseConfig([], { SECRETSLITE_NO_CONSOLE: "1" })?.console).toBe(false);
    expect(parseConfig([], {})?.console).toBe(true);
  });

  it("answers the console's paths 404 like any unknown admin path", async () => {
    const server = await startTestServer({ flags: ["--no-console"] });
    try {
      for (const route of [UI, `${UI}/overview`, `${UI}/login`, `${UI}/assets/console.js`]) {
        const answer = await request(server.url).get(route);
        expect(answer.status).toBe(404);
        expect(answer.headers["content-security-policy"]).toBeUndefined();
      }
    } finally {
      await server.close();
    }
  });
});
