// The console in a real browser (Debian's chromium through playwright-core): sign-in under --enforce-auth, the layout,
// the CSP holding against an injected inline script, and a page on another origin unable to read data or post actions.
import { mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { BrowserContext, Page } from "playwright-core";
import { html } from "../../src/console/html";
import { pages } from "../../src/console/pages";
import { launchBrowser } from "../support/browser";
import { temporaryDirs } from "../support/files";
import { startTestServer, type TestServer } from "../support/server";

// Run in the page by playwright (the spec's tsconfig has no DOM library).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const getComputedStyle: any;

const newDir = temporaryDirs("secretslite-console-browser-");
const UI = "/_secretslite/ui";
const ADMIN = { accessKeyId: "AKIABROWSERADMIN0001", secretAccessKey: "browser-admin-secret-key-00000000000000" };
const SCREENSHOTS = path.join(__dirname, "..", "..", "docs", "console");

describe("the console in Chromium", () => {
  let server: TestServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let page: Page;
  let foreign: http.Server;
  let foreignUrl: string;

  beforeAll(async () => {
    // A spec-only page reading through view.call: the data another origin must not get.
    pages["spec-data"] = async (view) => {
      const listed = (await view.call("secretsmanager", "ListSecrets", {})) as { SecretList: Array<{ Name: string }> };
      return { title: "Spec data", body: html`<ul>${listed.SecretList.map((s) => html`<li class="secret">${s.Name}</li>`)}</ul>` };
    };
    const file = path.join(newDir(), "principals.yaml");
    writeFileSync(
      file,
      [
        "policies:",
        "  admin:",
        '    Version: "2012-10-17"',
        "    Statement:",
        "      - { Effect: Allow, Action: ['secretsmanager:*', 'kms:*'], Resource: '*' }",
        "principals:",
        `  - { accessKeyId: ${ADMIN.accessKeyId}, secretAccessKey: ${ADMIN.secretAccessKey}, arn: "arn:aws:iam::111122223333:user/browser-admin", policies: [admin] }`,
        "",
      ].join("\n"),
    );
    server = await startTestServer({ flags: ["--enforce-auth", "--principals", file] });
    const client = new SecretsManagerClient({ endpoint: server.url, region: "us-east-1", credentials: ADMIN, maxAttempts: 1 });
    await client.send(new CreateSecretCommand({ Name: "browser/visible-only-here", SecretString: "v" }));
    client.destroy();
    // Another origin on this machine: same site (127.0.0.1) as far as cookies go, another port.
    // Its page holds a form aimed at the console's logout action, with a guessed CSRF token.
    foreign = http.createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end(
        `<!doctype html><title>elsewhere</title><p>another origin</p>` +
          `<form method="post" action="${server.url}${UI}/logout"><input name="csrf" value="guessed"><button id="go">go</button></form>`,
      );
    });
    await new Promise<void>((resolve) => foreign.listen(0, "127.0.0.1", resolve));
    foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
    browser = await launchBrowser();
    context = browser.context;
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    delete pages["spec-data"];
    await browser?.close();
    await new Promise<void>((resolve) => (foreign === undefined ? resolve() : foreign.close(() => resolve())));
    await server?.close();
  });

  it("sends an unsigned-in browser to the login page, signs in with a principal's keys and shows the layout", async () => {
    await page.goto(`${server.url}${UI}`);
    expect(new URL(page.url()).pathname).toBe(`${UI}/login`);
    await page.fill('input[name="accessKeyId"]', ADMIN.accessKeyId);
    await page.fill('input[name="secretAccessKey"]', ADMIN.secretAccessKey);
    await Promise.all([page.waitForURL(`**${UI}/overview**`), page.click('button[type="submit"]')]);
    expect(await page.locator("header nav a").allTextContents()).toEqual(["Overview", "Secrets", "KMS keys", "Calls"]);
    expect(await page.locator("header .principal").textContent()).toBe("arn:aws:iam::111122223333:user/browser-admin");
    // The console's own script ran (script-src 'self'); its stylesheet applied (style-src 'self').
    expect(await page.getAttribute("html", "data-console-script")).toBe("ready");
    expect(await page.evaluate(() => getComputedStyle(document.querySelector("header")!).display)).toBe("flex");
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, "overview.png"), fullPage: true });
  });

  it("shows data the principal may read, and the CSP stops a script injected into the page", async () => {
    await page.goto(`${server.url}${UI}/spec-data`);
    expect(await page.locator("li.secret").allTextContents()).toContain("browser/visible-only-here");
    const outcome = await page.evaluate(async () => {
      const violations: string[] = [];
      document.addEventListener("securitypolicyviolation", (event: { violatedDirective: string; blockedURI: string }) => violations.push(`${event.violatedDirective} ${event.blockedURI}`));
      const script = document.createElement("script");
      script.textContent = "document.documentElement.setAttribute('data-injected', 'ran')";
      document.body.appendChild(script);
      // An inline event handler is refused the same way.
      const image = document.createElement("img");
      image.setAttribute("onerror", "document.documentElement.setAttribute('data-injected-handler', 'ran')");
      image.src = "data:image/png;base64,invalid";
      document.body.appendChild(image);
      await new Promise((resolve) => setTimeout(resolve, 200));
      return {
        injected: document.documentElement.getAttribute("data-injected"),
        handler: document.documentElement.getAttribute("data-injected-handler"),
        violations,
      };
    });
    expect(outcome.injected).toBeNull();
    expect(outcome.handler).toBeNull();
    expect(outcome.violations).toEqual(expect.arrayContaining([expect.stringMatching(/^script-src-elem inline$/), expect.stringMatching(/^script-src-attr inline$/)]));
    await expect(page.addScriptTag({ content: "document.documentElement.setAttribute('data-added', 'ran')" })).rejects.toThrow();
    expect(await page.getAttribute("html", "data-added")).toBeNull();
  });

  it("lets a page of another origin neither read the console's data nor post its actions", async () => {
    // The control: the console's own origin reads the page with the session cookie.
    const own = await page.evaluate(async (url) => (await fetch(url, { credentials: "include" })).text(), `${server.url}${UI}/spec-data`);
    expect(own).toContain("browser/visible-only-here");

    const other = await context.newPage();
    await other.goto(foreignUrl);
    const read = await other.evaluate(async (url) => {
      try {
        const answer = await fetch(url, { credentials: "include" });
        return `read ${answer.status}: ${await answer.text()}`;
      } catch (error) {
        return `refused: ${(error as Error).name}`;
      }
    }, `${server.url}${UI}/spec-data`);
    expect(read).toBe("refused: TypeError");

    // Its form posted (a "simple" request, no preflight, the cookie sent: same site) to the logout action: 403, and the session lives on.
    const [posted] = await Promise.all([other.waitForResponse((answer) => answer.url() === `${server.url}${UI}/logout`), other.click("#go")]);
    expect(posted.status()).toBe(403);
    await other.close();

    await page.bringToFront();
    await page.goto(`${server.url}${UI}/spec-data`, { waitUntil: "domcontentloaded" });
    expect(new URL(page.url()).pathname).toBe(`${UI}/spec-data`);
    expect(await page.locator("li.secret").allTextContents()).toContain("browser/visible-only-here");
  });

  it("signs out with the layout's form: the session is gone", async () => {
    await Promise.all([page.waitForURL(`**${UI}/login**`), page.click("form.logout button")]);
    await page.goto(`${server.url}${UI}/spec-data`);
    expect(new URL(page.url()).pathname).toBe(`${UI}/login`);
  });
});
