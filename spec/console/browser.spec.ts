// The console in a real browser (Debian's chromium through playwright-core) against a server with --enforce-auth:
// secrets (versions, a custom label, a rotation), keys of several specs and failing calls made through the SDK, then
// each view checked against the API's answers, a reveal found in the audit log, the calls list live, a reset from the
// Actions page, the CSP holding against an injected script, and a page on another origin unable to read data or post
// actions. Each view's screenshot goes to docs/console/<view>.png (the README shows them).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  GetParametersForImportCommand,
  GetPublicKeyCommand,
  KMSClient,
  ListKeysCommand,
  type KeyMetadata,
} from "@aws-sdk/client-kms";
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import type { BrowserContext, Page } from "playwright-core";
import { launchBrowser } from "../support/browser";
import { temporaryDirs } from "../support/files";
import { eventually, functionArn } from "../support/rotation-function";
import { startTestServer, type TestServer } from "../support/server";
import { writePrincipalsFile } from "../support/principals";

// Run in the page by playwright (the spec's tsconfig has no DOM library).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const getComputedStyle: any;

const newDir = temporaryDirs("secretslite-console-browser-");
const UI = "/_secretslite/ui";
const ACCOUNT = "000000000000";
const REGION = "us-east-1";
const PRINCIPAL_ACCOUNT = "111122223333";
const ADMIN = { accessKeyId: "AKIABROWSERADMIN0001", secretAccessKey: "browser-admin-secret-key-00000000000000" };
const ROTATOR = functionArn("browser-rotate", ACCOUNT, REGION);
/** A local command as rotation function whose setSecret cannot reach its database: each attempt fails there. */
const FAILS_AT_SET = functionArn("browser-fails-at-set", ACCOUNT, REGION);
const SET_FAILURE = "connection to db.internal:5432 refused";
const FAILS_AT_SET_SCRIPT = `let input = ""; process.stdin.on("data", (c) => (input += c)).on("end", () => { if (JSON.parse(input).Step === "setSecret") { process.stderr.write(${JSON.stringify(SET_FAILURE)}); process.exit(2); } });`;
const SCREENSHOTS = path.join(__dirname, "..", "..", "docs", "console");

/** The request id of a call the SDK saw fail, and its error name. */
async function failure(call: Promise<unknown>): Promise<{ requestId: string; code: string }> {
  try {
    await call;
  } catch (error) {
    const failed = error as { name: string; $metadata?: { requestId?: string } };
    return { requestId: failed.$metadata?.requestId ?? "", code: failed.name };
  }
  throw new Error("the call was expected to fail");
}

describe("each view in Chromium against the API's answers (signatures unchecked: no sign-in)", () => {
  let server: TestServer;
  let sm: SecretsManagerClient;
  let kms: KMSClient;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let auditFile: string;
  let versioned: { arn: string; first: string; second: string; custom: string };
  let rotated: { arn: string; token: string };
  const keys: Record<string, KeyMetadata> = {};
  let missing: { requestId: string; code: string };

  const screenshot = async (view: string): Promise<void> => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, `${view}.png`) });
  };
  const open = async (target: string): Promise<void> => {
    const answer = await page.goto(`${server.url}${UI}/${target}`);
    expect(answer?.status()).toBe(200);
  };

  beforeAll(async () => {
    const dir = newDir();
    // The built-in rotation function. (Not under --enforce-auth: builtin:password signs its calls with the secret's
    // account id as access key id, which a principals file cannot hold, so its calls would be refused there.)
    const functions = path.join(dir, "functions.json");
    writeFileSync(functions, JSON.stringify({ [ROTATOR]: "builtin:password", [FAILS_AT_SET]: [process.execPath, "-e", FAILS_AT_SET_SCRIPT] }));
    auditFile = path.join(dir, "audit.jsonl");
    server = await startTestServer({ flags: ["--audit-log", auditFile, "--rotation-functions", functions] });
    sm = server.secretsManager();
    kms = server.kms();
    // Secrets: one with three versions (the last under a custom label only), one rotated by the built-in function, a plain one.
    const created = await sm.send(new CreateSecretCommand({ Name: "browser/versioned", Description: "three versions, one custom label", SecretString: "first-value" }));
    const second = await sm.send(new PutSecretValueCommand({ SecretId: created.ARN, SecretString: "second-value" }));
    const custom = await sm.send(new PutSecretValueCommand({ SecretId: created.ARN, SecretString: "staged-value", VersionStages: ["qa-candidate"] }));
    versioned = { arn: created.ARN ?? "", first: created.VersionId ?? "", second: second.VersionId ?? "", custom: custom.VersionId ?? "" };
    const toRotate = await sm.send(new CreateSecretCommand({ Name: "browser/rotated", SecretString: "before-rotation" }));
    const token = (await sm.send(new RotateSecretCommand({ SecretId: toRotate.ARN, RotationLambdaARN: ROTATOR, RotationRules: { AutomaticallyAfterDays: 30 } }))).VersionId ?? "";
    // Over once the driver recorded it (LastRotatedDate, written after finishSecret moved the label).
    await eventually(async () => {
      const described = await sm.send(new DescribeSecretCommand({ SecretId: toRotate.ARN }));
      expect(described.VersionIdsToStages?.[token]).toEqual(["AWSCURRENT"]);
      expect(described.LastRotatedDate).toBeInstanceOf(Date);
    });
    rotated = { arn: toRotate.ARN ?? "", token };
    await sm.send(new CreateSecretCommand({ Name: "browser/visible-only-here", SecretString: "v", Tags: [{ Key: "team", Value: "console" }] }));

    // Keys of several specs; the HMAC one disabled so the list shows more than one state.
    const specs = [
      ["symmetric", { KeySpec: "SYMMETRIC_DEFAULT", KeyUsage: "ENCRYPT_DECRYPT" }],
      ["rsa", { KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" }],
      ["ecc", { KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" }],
      ["hmac", { KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC" }],
    ] as const;
    for (const [name, spec] of specs) {
      const key = (await kms.send(new CreateKeyCommand({ ...spec, Description: `browser ${name} key` }))).KeyMetadata;
      if (key === undefined) throw new Error("CreateKey answered no metadata");
      keys[name] = key;
    }
    await kms.send(new DisableKeyCommand({ KeyId: keys.hmac?.KeyId }));

    // A failing call the Calls page must show.
    missing = await failure(sm.send(new GetSecretValueCommand({ SecretId: "browser/no-such-secret" })));
    expect(missing.code).toBe("ResourceNotFoundException");

    browser = await launchBrowser();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("shows the overview in the console's layout, its script and stylesheet let in by the CSP, with the partition's counts", async () => {
    await page.goto(`${server.url}${UI}`);
    expect(new URL(page.url()).pathname).toBe(`${UI}/overview`);
    expect(await page.locator("header nav a").allTextContents()).toEqual(["Overview", "Secrets", "KMS keys", "Calls", "Actions"]);
    // The console's own script ran (script-src 'self'); its stylesheet applied (style-src 'self').
    expect(await page.getAttribute("html", "data-console-script")).toBe("ready");
    expect(await page.evaluate(() => getComputedStyle(document.querySelector("header")).display)).toBe("flex");
    // This account and region's keys and secrets, counted as the API lists them.
    const listedKeys = (await kms.send(new ListKeysCommand({}))).Keys ?? [];
    const listedSecrets = (await sm.send(new ListSecretsCommand({}))).SecretList ?? [];
    const row = page.locator("table.partitions tr.current");
    expect(await row.locator("td.number").allTextContents()).toEqual([String(listedKeys.length), String(listedSecrets.length)]);
    await screenshot("overview");
  });


  it("lists the secrets ListSecrets lists, each linking to its page", async () => {
    await open(`secrets?account=${ACCOUNT}&region=${REGION}`);
    const listed = (await sm.send(new ListSecretsCommand({}))).SecretList ?? [];
    const names = await page.locator("table.secrets tbody tr td:first-child a").allTextContents();
    expect([...names].sort()).toEqual(listed.map((secret) => secret.Name).sort());
    expect(names).toEqual(expect.arrayContaining(["browser/versioned", "browser/rotated", "browser/visible-only-here"]));
    const rotatedRow = page.locator("table.secrets tbody tr", { has: page.locator("a", { hasText: "browser/rotated" }) });
    expect(await rotatedRow.locator("td").nth(4).textContent()).toBe("on");
    await screenshot("secrets");
  });

  it("shows a secret's versions with the labels ListSecretVersionIds gives, its rotation, and reveals a value into the audit log", async () => {
    await open(`secrets?account=${ACCOUNT}&region=${REGION}`);
    await Promise.all([page.waitForURL(`**${UI}/secret?**`), page.click('table.secrets a:text-is("browser/versioned")')]);
    expect(new URL(page.url()).searchParams.get("id")).toBe(versioned.arn);
    const versions = (await sm.send(new ListSecretVersionIdsCommand({ SecretId: versioned.arn, IncludeDeprecated: true }))).Versions ?? [];
    expect(versions).toHaveLength(3);
    expect(await page.locator("li.version").count()).toBe(versions.length);
    for (const version of versions) {
      const labels = await page.locator(`li.version[data-version-id="${version.VersionId}"] .labels .label`).allTextContents();
      expect([...labels].sort()).toEqual([...(version.VersionStages ?? [])].sort());
    }
    expect(await page.locator(`li.version[data-version-id="${versioned.custom}"] .label.custom`).textContent()).toBe("qa-candidate");
    expect(await page.locator(`li.version[data-version-id="${versioned.second}"] .label.awscurrent`).textContent()).toBe("AWSCURRENT");
    expect(await page.locator(`li.version[data-version-id="${versioned.first}"] .label.awsprevious`).textContent()).toBe("AWSPREVIOUS");
    // No value is on the page before a reveal.
    expect(await page.content()).not.toContain("second-value");
    await screenshot("secret");

    // Reveal the current value: a GetSecretValue as the signed-in principal, answered with no-store.
    const [answer] = await Promise.all([page.waitForResponse((response) => new URL(response.url()).pathname === `${UI}/reveal`), page.click("section.summary ~ form.reveal button")]);
    expect(answer.status()).toBe(200);
    expect(answer.headers()["cache-control"]).toBe("no-store");
    const current = await sm.send(new GetSecretValueCommand({ SecretId: versioned.arn }));
    expect(await page.locator("pre.secret-value").textContent()).toBe(current.SecretString);
    expect(current.SecretString).toBe("second-value");
    const revealed = await eventually(async () => {
      const events = readFileSync(auditFile, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { eventName: string; userAgent: string; requestParameters: { secretId?: string; versionId?: string } | null; recipientAccountId: string });
      const found = events.filter((event) => event.eventName === "GetSecretValue" && event.userAgent === "secretslite-console" && event.requestParameters?.secretId === versioned.arn);
      expect(found).toHaveLength(1);
      return found[0];
    });
    expect(revealed?.recipientAccountId).toBe(ACCOUNT);

    // A version's own Reveal: the custom-labelled one's value.
    await page.goBack();
    await Promise.all([page.waitForURL(`**${UI}/reveal**`), page.click(`li.version[data-version-id="${versioned.custom}"] form.reveal button`)]);
    expect(await page.locator("pre.secret-value").textContent()).toBe("staged-value");
  });

  it("shows the rotated secret's rotation: enabled, the function, and the version the rotation made AWSCURRENT", async () => {
    await open(`secret?id=${encodeURIComponent(rotated.arn)}&account=${ACCOUNT}&region=${REGION}`);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: rotated.arn }));
    const rotation = page.locator("section.rotation");
    expect(await rotation.locator("code").first().textContent()).toBe(ROTATOR);
    expect(await rotation.textContent()).toContain("every 30 days");
    expect(await rotation.textContent()).toContain(described.LastRotatedDate?.toISOString().replace(".000Z", "Z"));
    expect(await page.locator(`li.version[data-version-id="${rotated.token}"] .labels .label`).allTextContents()).toEqual(["AWSCURRENT"]);
    expect(await page.locator("p.warning").count()).toBe(0);
    // The rotation's attempt: the driver's record, one that succeeded for the version made AWSCURRENT.
    const attempts = rotation.locator("table.rotation-attempts tbody tr");
    expect(await attempts.count()).toBe(1);
    expect(await attempts.first().getAttribute("data-version-id")).toBe(rotated.token);
    expect(await attempts.first().locator("td.outcome").textContent()).toBe("succeeded");
    expect(await attempts.first().locator("td.attempt-error").textContent()).toBe("");
  });

  it("shows a stuck rotation's failed attempts with the step and the error, and the version left AWSPENDING", async () => {
    const stuck = await sm.send(new CreateSecretCommand({ Name: "browser/stuck-rotation", SecretString: "before" }));
    const token = (await sm.send(new RotateSecretCommand({ SecretId: stuck.ARN, RotationLambdaARN: FAILS_AT_SET }))).VersionId ?? "";
    const rows = page.locator("section.rotation table.rotation-attempts tbody tr");
    // Three attempts in all (AWS's retries), each settled as failed.
    await eventually(async () => {
      await open(`secret?id=${encodeURIComponent(stuck.ARN ?? "")}&account=${ACCOUNT}&region=${REGION}`);
      expect(await rows.locator("td.outcome").allTextContents()).toEqual(["failed", "failed", "failed"]);
    });
    for (let index = 0; index < 3; index++) {
      const row = rows.nth(index);
      expect(await row.getAttribute("data-version-id")).toBe(token);
      expect(await row.locator("td.failed-step").textContent()).toBe("setSecret");
      expect(await row.locator("td.attempt-error").textContent()).toContain(SET_FAILURE);
    }
    expect(await page.locator("section.rotation p.warning code").textContent()).toBe(token);
    await page.locator("section.rotation").screenshot({ path: path.join(SCREENSHOTS, "rotation-attempts.png") });
  });

  it("lists the keys with the spec, usage and state DescribeKey gives", async () => {
    await open(`keys?account=${ACCOUNT}&region=${REGION}`);
    const listed = (await kms.send(new ListKeysCommand({}))).Keys ?? [];
    const ids = await page.locator("table.keys tbody tr td:first-child a").allTextContents();
    expect([...ids].sort()).toEqual(listed.map((key) => key.KeyId).sort());
    for (const created of Object.values(keys)) {
      const metadata = (await kms.send(new DescribeKeyCommand({ KeyId: created.KeyId }))).KeyMetadata;
      const cells = await page.locator("table.keys tbody tr", { has: page.locator(`a:text-is("${created.KeyId}")`) }).locator("td").allTextContents();
      expect(cells.slice(2, 6)).toEqual([metadata?.KeySpec, metadata?.KeyUsage, metadata?.KeyState, metadata?.Origin]);
    }
    expect(await page.locator("table.keys td.state").allTextContents()).toEqual(expect.arrayContaining(["Enabled", "Disabled"]));
    await screenshot("keys");
  });

  it("shows an RSA key's page with the PEM of GetPublicKey's DER", async () => {
    const rsa = keys.rsa as KeyMetadata;
    await open(`keys?account=${ACCOUNT}&region=${REGION}`);
    await Promise.all([page.waitForURL(`**${UI}/key?**`), page.click(`table.keys a:text-is("${rsa.KeyId}")`)]);
    const pem = (await page.locator("pre.pem").textContent()) ?? "";
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/);
    const der = Buffer.from(pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s/g, ""), "base64");
    const publicKey = await kms.send(new GetPublicKeyCommand({ KeyId: rsa.KeyId }));
    expect(der.equals(Buffer.from(publicKey.PublicKey ?? new Uint8Array()))).toBe(true);
    expect(await page.locator("section.metadata").textContent()).toContain("RSA_2048");
    expect(await page.locator("section.policy pre.json").textContent()).toContain('"Version"');
    await screenshot("key");
  });

  it("shows the failed call with its error code, and a call made after the page loaded appears live", async () => {
    await open(`calls?account=${ACCOUNT}&region=${REGION}`);
    const failedRow = page.locator(`table.calls tr[data-request-id="${missing.requestId}"]`);
    expect(await failedRow.locator("td.error-code").textContent()).toBe("ResourceNotFoundException");
    expect(await failedRow.locator("td.status").textContent()).toBe("400");
    expect(await failedRow.getAttribute("class")).toBe("call-error");

    // The stream is open once the page has subscribed: a later failing call shows up without a reload.
    await page.waitForFunction(() => document.querySelector("table.calls[data-stream]") !== null);
    const live = await eventually(async () => {
      const attempt = await failure(sm.send(new GetSecretValueCommand({ SecretId: "browser/live-missing" })));
      await page.locator(`table.calls tr[data-request-id="${attempt.requestId}"]`).waitFor({ timeout: 2_000 });
      return attempt;
    });
    const liveRow = page.locator(`table.calls tr[data-request-id="${live.requestId}"]`);
    expect(await liveRow.locator("td.error-code").textContent()).toBe("ResourceNotFoundException");
    expect(await liveRow.locator("td").nth(4).textContent()).toBe("browser/live-missing");
    // The live row went first, above the rows the page was served with.
    expect(await page.locator("table.calls tbody tr").first().getAttribute("data-request-id")).toBe(live.requestId);
    await screenshot("calls");

    // The failed call's detail: its error and parameters as the audit log records them.
    await Promise.all([page.waitForURL(`**${UI}/calls?**request=**`), failedRow.locator("a").click()]);
    const detail = (await page.locator("section.call-detail").textContent()) ?? "";
    expect(detail).toContain("ResourceNotFoundException");
    expect(detail).toContain(missing.requestId);
    expect(JSON.parse((await page.locator("pre.parameters").textContent()) ?? "null")).toEqual({ secretId: "browser/no-such-secret" });
  });

  it("fits every label and figure of the calls-per-operation chart inside its viewBox, the longest operation names too", async () => {
    await sm.send(new BatchGetSecretValueCommand({ SecretIdList: [versioned.arn] }));
    // Failing calls of a long name, enough to make the longest bar, whose figure "N (N failed)" is the widest.
    for (let index = 0; index < 40; index++) {
      await failure(kms.send(new GetParametersForImportCommand({ KeyId: "alias/browser-no-such-key", WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048" })));
    }
    await open(`calls?account=${ACCOUNT}&region=${REGION}`);
    const chart = (await page.evaluate(() => {
      const svg = document.querySelector("svg.chart-operations");
      const box = svg.viewBox.baseVal;
      return {
        viewBox: { x: box.x, y: box.y, width: box.width, height: box.height },
        texts: [...svg.querySelectorAll("text")].map((text: { textContent: string; getBBox(): { x: number; y: number; width: number; height: number } }) => {
          const bounds = text.getBBox();
          return { text: text.textContent, x: bounds.x, y: bounds.y, width: bounds.width, height: bounds.height };
        }),
      };
    })) as { viewBox: { x: number; y: number; width: number; height: number }; texts: Array<{ text: string; x: number; y: number; width: number; height: number }> };
    const labels = chart.texts.map((text) => text.text);
    expect(labels).toEqual(expect.arrayContaining(["secretsmanager:BatchGetSecretValue", "kms:GetParametersForImport", "40 (40 failed)"]));
    expect(chart.viewBox).toMatchObject({ x: 0, y: 0 });
    for (const text of chart.texts) {
      expect({ text: text.text, left: text.x >= 0, right: text.x + text.width <= chart.viewBox.width, top: text.y >= 0, bottom: text.y + text.height <= chart.viewBox.height }).toEqual({
        text: text.text,
        left: true,
        right: true,
        top: true,
        bottom: true,
      });
    }
  });

  it("resets this account and region from the Actions page: the API then lists nothing", async () => {
    await open(`actions?account=${ACCOUNT}&region=${REGION}`);
    // The reset asks first when the form says so (console.js confirm): accept it.
    page.on("dialog", (dialog) => void dialog.accept());
    expect(await page.locator('form.reset input[name="scope"]:checked').getAttribute("value")).toBe("partition");
    await Promise.all([page.waitForURL(`**${UI}/actions?**done=**`), page.click("form.reset button")]);
    expect(await page.locator("p.notice-done").textContent()).toBe(`Reset account ${ACCOUNT} in ${REGION}.`);
    expect((await sm.send(new ListSecretsCommand({}))).SecretList).toEqual([]);
    expect((await kms.send(new ListKeysCommand({}))).Keys).toEqual([]);
    expect((await failure(sm.send(new GetSecretValueCommand({ SecretId: versioned.arn })))).code).toBe("ResourceNotFoundException");
    await screenshot("actions");
    // The secrets page agrees.
    await open(`secrets?account=${ACCOUNT}&region=${REGION}`);
    expect(await page.locator("p.empty").textContent()).toBe("No secrets match.");
  });
});

describe("the console in Chromium under --enforce-auth: sign-in, the CSP, other origins", () => {
  let server: TestServer;
  let sm: SecretsManagerClient;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let page: Page;
  let foreign: http.Server;
  let foreignUrl: string;
  const open = async (target: string): Promise<void> => {
    const answer = await page.goto(`${server.url}${UI}/${target}`);
    expect(answer?.status()).toBe(200);
  };

  beforeAll(async () => {
    const file = writePrincipalsFile(newDir(), [{ ...ADMIN, arn: `arn:aws:iam::${PRINCIPAL_ACCOUNT}:user/browser-admin`, policies: ["admin"] }]);
    server = await startTestServer({ flags: ["--enforce-auth", "--principals", file] });
    sm = new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
    await sm.send(new CreateSecretCommand({ Name: "browser/visible-only-here", SecretString: "v" }));
    // Another origin on this machine: same site (127.0.0.1) as far as cookies go, another port.
    // Its page holds a form aimed at the console's reset action, with a guessed CSRF token.
    foreign = http.createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end(
        `<!doctype html><title>elsewhere</title><p>another origin</p>` +
          // Posted into a frame of its own: the foreign tab stays where it is (a top-level navigation to the console's
          // 403 page swaps browsing context groups under its COOP, and headless Chromium then sometimes stalls).
          `<iframe name="sink"></iframe>` +
          `<form method="post" target="sink" action="${server.url}${UI}/reset"><input name="csrf" value="guessed"><input name="scope" value="all"><button id="go">go</button></form>`,
      );
    });
    await new Promise<void>((resolve) => foreign.listen(0, "127.0.0.1", resolve));
    foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
    browser = await launchBrowser();
    context = browser.context;
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    sm?.destroy();
    await browser?.close();
    await new Promise<void>((resolve) => (foreign === undefined ? resolve() : foreign.close(() => resolve())));
    await server?.close();
  });

  it("sends an unsigned-in browser to the login page, signs in with a principal's keys and shows the layout as that principal", async () => {
    await page.goto(`${server.url}${UI}`);
    expect(new URL(page.url()).pathname).toBe(`${UI}/login`);
    await page.fill('input[name="accessKeyId"]', ADMIN.accessKeyId);
    await page.fill('input[name="secretAccessKey"]', ADMIN.secretAccessKey);
    await Promise.all([page.waitForURL(`**${UI}/overview**`), page.click('button[type="submit"]')]);
    expect(await page.locator("header nav a").allTextContents()).toEqual(["Overview", "Secrets", "KMS keys", "Calls", "Actions"]);
    expect(await page.locator("header .principal").textContent()).toBe(`arn:aws:iam::${PRINCIPAL_ACCOUNT}:user/browser-admin`);
    // The principal's account: the switch offers the region only.
    expect(await page.locator('header input[name="account"]').inputValue()).toBe(PRINCIPAL_ACCOUNT);
    expect(await page.locator('header input[name="account"]').getAttribute("readonly")).not.toBeNull();
    expect(await page.getAttribute("html", "data-console-script")).toBe("ready");
  });

  it("shows data the principal may read, and the CSP stops a script injected into the page", async () => {
    await open(`secrets?region=${REGION}`);
    expect(await page.locator("table.secrets a").allTextContents()).toContain("browser/visible-only-here");
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
    const secretsUrl = `${server.url}${UI}/secrets?region=${REGION}`;
    // The control: the console's own origin reads the page with the session cookie.
    const own = await page.evaluate(async (url) => (await fetch(url, { credentials: "include" })).text(), secretsUrl);
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
    }, secretsUrl);
    expect(read).toBe("refused: TypeError");
    // Nor the live calls stream.
    const streamed = await other.evaluate(async (url) => {
      try {
        const answer = await fetch(url, { credentials: "include" });
        return `read ${answer.status}`;
      } catch (error) {
        return `refused: ${(error as Error).name}`;
      }
    }, `${server.url}${UI}/calls/stream`);
    expect(streamed).toBe("refused: TypeError");

    // Its form posted (a "simple" request, no preflight, the cookie sent: same site) to the reset action: 403, nothing reset.
    const [posted] = await Promise.all([other.waitForResponse((answer) => answer.url() === `${server.url}${UI}/reset`), other.click("#go")]);
    expect(posted.status()).toBe(403);
    await other.close();
    expect(((await sm.send(new ListSecretsCommand({}))).SecretList ?? []).map((secret) => secret.Name)).toEqual(["browser/visible-only-here"]);

    // The session lives on: a new tab of the console still reads the page.
    const again = await context.newPage();
    await again.goto(secretsUrl, { waitUntil: "domcontentloaded" });
    expect(new URL(again.url()).pathname).toBe(`${UI}/secrets`);
    expect(await again.locator("table.secrets a").allTextContents()).toContain("browser/visible-only-here");
    await page.close();
    page = again;
  });

  it("signs out with the layout's form: the session is gone", async () => {
    await Promise.all([page.waitForURL(`**${UI}/login**`), page.click("form.logout button")]);
    await page.goto(`${server.url}${UI}/secrets`);
    expect(new URL(page.url()).pathname).toBe(`${UI}/login`);
  });
});
