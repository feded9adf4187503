// The Secrets and KMS keys console pages, rendered through a ConsoleView that runs each call on a started server with the SDK.
import { createPublicKey } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as kmsSdk from "@aws-sdk/client-kms";
import { CreateAliasCommand, CreateGrantCommand, CreateKeyCommand, EnableKeyRotationCommand, GetPublicKeyCommand, type KMSClient } from "@aws-sdk/client-kms";
import * as smSdk from "@aws-sdk/client-secrets-manager";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import type { ServiceName } from "../../src/generated";
import { keyPage } from "../../src/console/pages/key-detail";
import { keysPage } from "../../src/console/pages/keys";
import { revealAction, secretPage } from "../../src/console/pages/secret-detail";
import { secretsPage } from "../../src/console/pages/secrets";
import type { ConsolePage, ConsoleView } from "../../src/console/view";
import { eventually, functionArn } from "../support/rotation-function";
import { ACCOUNT, credentials, REGION, startTestServer, type TestServer } from "../support/server";

const BUILTIN = functionArn("console-rotate");
const HOSTILE = `<script>alert("x")</script> it's "quoted" & <b>bold</b>`;
const CSRF = "csrf-token-for-the-spec";

let server: TestServer;
let sm: SecretsManagerClient;
let kms: KMSClient;
let workDir: string;
const calls: Array<{ service: ServiceName; operation: string }> = [];

/** The console's window on the server: each operation sent by the SDK client of its service, as a browser user's would run. */
function consoleView(
  options: { refuse?: (service: ServiceName, operation: string, input: Record<string, unknown>) => boolean; kms?: KMSClient; sm?: SecretsManagerClient; account?: string } = {},
): ConsoleView {
  return {
    account: options.account ?? ACCOUNT,
    region: REGION,
    csrfToken: CSRF,
    href: (pathname, query = {}) => {
      const search = new URLSearchParams({ account: ACCOUNT, region: REGION });
      for (const [name, value] of Object.entries(query)) if (value !== undefined) search.set(name, value);
      return `${pathname}?${search.toString()}`;
    },
    call: async (service, operation, input) => {
      calls.push({ service, operation });
      if (options.refuse?.(service, operation, input as Record<string, unknown>) === true) {
        throw Object.assign(new Error(`User is not authorized to perform: kms:${operation}`), { name: "AccessDeniedException" });
      }
      const sdk = (service === "kms" ? kmsSdk : smSdk) as unknown as Record<string, new (input: object) => unknown>;
      const Command = sdk[`${operation}Command`];
      if (Command === undefined) throw new Error(`no SDK command for ${operation}`);
      const client = service === "kms" ? (options.kms ?? kms) : (options.sm ?? sm);
      const { $metadata: _metadata, ...output } = (await (client.send as (command: unknown) => Promise<Record<string, unknown>>)(new Command(input))) as Record<string, unknown>;
      return output;
    },
  };
}

const decode = (text: string): string =>
  text.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[name] as string);
/** The decoded text inside every element with this class. */
const textsOf = (page: ConsolePage, tag: string, className: string): string[] =>
  [...page.body.text.matchAll(new RegExp(`<${tag} class="${className}"[^>]*>([\\s\\S]*?)</${tag}>`, "g"))].map((match) => decode(match[1] ?? ""));
const linkWithRel = (page: ConsolePage, rel: string): string | undefined => {
  const match = new RegExp(`<a href="([^"]*)" rel="${rel}">`).exec(page.body.text);
  return match?.[1] === undefined ? undefined : decode(match[1]);
};
const rowOf = (page: ConsolePage, keyId: string): string =>
  new RegExp(`<tr[^>]*>\\s*<td><a href="[^"]*">${keyId}</a></td>([\\s\\S]*?)</tr>`).exec(page.body.text)?.[1] ?? "";
const queryOf = (href: string): Record<string, string> => Object.fromEntries(new URL(href, "http://console.invalid").searchParams);

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), "secretslite-console-pages-"));
  const functionsFile = path.join(workDir, "functions.json");
  writeFileSync(functionsFile, JSON.stringify({ [BUILTIN]: "builtin:password" }));
  server = await startTestServer({ flags: ["--rotation-functions", functionsFile] });
  sm = server.secretsManager();
  kms = server.kms();
});
afterAll(async () => {
  await server.close();
  rmSync(workDir, { recursive: true, force: true });
});

describe("secrets list", () => {
  it("pages more than 100 secrets with a NextToken link that carries the filters, and filters by name", async () => {
    const names = Array.from({ length: 105 }, (_, index) => `bulk/item-${String(index).padStart(3, "0")}`);
    for (let start = 0; start < names.length; start += 15) {
      await Promise.all(names.slice(start, start + 15).map((name) => sm.send(new CreateSecretCommand({ Name: name, SecretString: "v" }))));
    }
    await sm.send(new CreateSecretCommand({ Name: "other/thing", SecretString: "v" }));
    const view = consoleView();
    const first = await secretsPage(view, { name: "bulk/", "sort-by": "name", sort: "asc" });
    const firstNames = [...first.body.text.matchAll(/<a href="[^"]*">(bulk\/item-\d+)<\/a>/g)].map((m) => m[1]);
    expect(firstNames).toEqual(names.slice(0, 100));
    const next = linkWithRel(first, "next");
    expect(next).toBeDefined();
    const nextQuery = queryOf(next ?? "");
    expect(nextQuery).toMatchObject({ account: ACCOUNT, region: REGION, name: "bulk/", "sort-by": "name", sort: "asc" });
    expect(nextQuery.next).toEqual(expect.any(String));
    const second = await secretsPage(view, nextQuery);
    expect([...second.body.text.matchAll(/<a href="[^"]*">(bulk\/item-\d+)<\/a>/g)].map((m) => m[1])).toEqual(names.slice(100));
    expect(linkWithRel(second, "next")).toBeUndefined();
    expect(linkWithRel(second, "first")).toBeDefined();
    expect(second.body.text).not.toContain("other/thing");
    // The filter form repeats the account and region: a GET form's fields replace its action's query.
    expect(first.body.text).toContain(`<input type="hidden" name="account" value="${ACCOUNT}">`);
    expect(first.body.text).toContain(`<input type="search" name="name" value="bulk/">`);
  });

  it("asks ListSecrets for at most 100 a page, and the API's own validation answers a bad filter", async () => {
    const page = await secretsPage(consoleView(), { name: "bulk/", max: "500" });
    expect([...page.body.text.matchAll(/>bulk\/item-\d+</g)]).toHaveLength(100);
    const small = await secretsPage(consoleView(), { name: "bulk/", max: "7" });
    expect([...small.body.text.matchAll(/>bulk\/item-\d+</g)]).toHaveLength(7);
    await expect(secretsPage(consoleView(), { "tag-key": "x".repeat(600) })).rejects.toMatchObject({ name: "ValidationException" });
  });

  it("shows description, rotation, KMS key and tags escaped, and planned deletions only when asked", async () => {
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata?.Arn ?? "";
    await sm.send(
      new CreateSecretCommand({ Name: "listed/hostile", Description: HOSTILE, KmsKeyId: key, SecretString: "v", Tags: [{ Key: "team", Value: "a=b" }, { Key: "env", Value: "dev" }] }),
    );
    await sm.send(new CreateSecretCommand({ Name: "listed/going", SecretString: "v" }));
    await sm.send(new DeleteSecretCommand({ SecretId: "listed/going", RecoveryWindowInDays: 7 }));
    const page = await secretsPage(consoleView(), { name: "listed/" });
    expect(page.body.text).not.toContain("<script>");
    expect(page.body.text).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; it&#39;s &quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;");
    expect(page.body.text).toContain(`href="/_secretslite/ui/key?account=${ACCOUNT}&amp;region=${REGION}&amp;id=${encodeURIComponent(key)}"`);
    expect(textsOf(page, "span", "tag-key")).toEqual(["team", "env"]);
    expect(textsOf(page, "span", "tag-value")).toEqual(["a=b", "dev"]);
    expect(page.body.text).not.toContain("listed/going");
    const withDeleted = await secretsPage(consoleView(), { name: "listed/", deleted: "true" });
    expect(withDeleted.body.text).toMatch(/<tr class="deleted">\s*<td><a [^>]*>listed\/going<\/a> <span class="badge">deleted<\/span>/);
  });
});

describe("a secret's page", () => {
  let arn: string;
  const value = "the-first-value-never-on-the-page";
  const policy = {
    Version: "2012-10-17",
    Statement: [{ Sid: "ReadIt", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "secretsmanager:GetSecretValue", Resource: "*", Condition: { StringEquals: { "aws:PrincipalTag/x": HOSTILE } } }],
  };

  beforeAll(async () => {
    arn = (await sm.send(new CreateSecretCommand({ Name: "app/db", Description: HOSTILE, SecretString: value, Tags: [{ Key: "owner", Value: "team-a" }] }))).ARN ?? "";
    await sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: "second-value", VersionStages: ["AWSCURRENT", "blue"] }));
    await sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: "custom-only-value", VersionStages: [HOSTILE.slice(0, 20)] }));
    await sm.send(new PutResourcePolicyCommand({ SecretId: arn, ResourcePolicy: JSON.stringify(policy) }));
  });

  it("shows every version newest first with the labels ListSecretVersionIds gives, AWS labels marked, custom labels escaped", async () => {
    const page = await secretPage(consoleView(), { id: arn });
    const listed = (await sm.send(new ListSecretVersionIdsCommand({ SecretId: arn, IncludeDeprecated: true }))).Versions ?? [];
    const newestFirst = [...listed].sort((a, b) => (b.CreatedDate?.getTime() ?? 0) - (a.CreatedDate?.getTime() ?? 0));
    const shown = [...page.body.text.matchAll(/<li class="version" data-version-id="([^"]+)">([\s\S]*?)<\/li>/g)].map((match) => ({
      id: match[1],
      labels: [...(match[2] ?? "").matchAll(/<span class="label [^"]+">([^<]*)<\/span>/g)].map((label) => decode(label[1] ?? "")),
    }));
    expect(shown).toEqual(newestFirst.map((version) => ({ id: version.VersionId, labels: version.VersionStages })));
    expect(shown).toHaveLength(3);
    expect(page.body.text).toContain(`<span class="label awscurrent">AWSCURRENT</span>`);
    expect(page.body.text).toContain(`<span class="label awsprevious">AWSPREVIOUS</span>`);
    expect(page.body.text).toContain(`<span class="label custom">blue</span>`);
    expect(page.body.text).toContain(`<span class="label custom">&lt;script&gt;alert(&quot;x&quot;)&lt;/</span>`);
    // ListSecretVersionIds names the AWS managed key "DefaultEncryptionKey": the link goes to its alias, which DescribeKey resolves.
    expect(page.body.text).toContain(`id=alias%2Faws%2Fsecretsmanager">aws/secretsmanager (DefaultEncryptionKey)</a>`);
    expect(page.body.text).not.toContain("id=DefaultEncryptionKey");
    expect(page.body.text).not.toContain("<script>");
  });

  it("never carries the value, and each Reveal form posts the secret, the version and the CSRF token", async () => {
    const page = await secretPage(consoleView(), { id: arn });
    for (const secretValue of [value, "second-value", "custom-only-value"]) expect(page.body.text).not.toContain(secretValue);
    const forms = [...page.body.text.matchAll(/<form class="reveal" method="post" action="([^"]*)">([\s\S]*?)<\/form>/g)];
    expect(forms).toHaveLength(4);
    for (const form of forms) {
      expect(decode(form[1] ?? "")).toBe(`/_secretslite/ui/reveal?account=${ACCOUNT}&region=${REGION}`);
      expect(form[2]).toContain(`<input type="hidden" name="csrf" value="${CSRF}">`);
      expect(form[2]).toContain(`<input type="hidden" name="id" value="${arn}">`);
    }
    expect(forms.filter((form) => (form[2] ?? "").includes(`name="versionId"`))).toHaveLength(3);
  });

  it("Reveal answers the value GetSecretValue gives, current or of a version, and says the reveal was recorded", async () => {
    const current = await revealAction(consoleView(), { id: arn, csrf: CSRF });
    if ("redirect" in current) throw new Error("a reveal answers a page");
    expect(textsOf(current, "pre", "secret-value")).toEqual(["second-value"]);
    expect(current.body.text).toContain("GetSecretValue");
    const versions = (await sm.send(new DescribeSecretCommand({ SecretId: arn }))).VersionIdsToStages ?? {};
    const previous = Object.keys(versions).find((id) => versions[id]?.includes("AWSPREVIOUS")) ?? "";
    const old = await revealAction(consoleView(), { id: arn, versionId: previous, csrf: CSRF });
    if ("redirect" in old) throw new Error("a reveal answers a page");
    expect(textsOf(old, "pre", "secret-value")).toEqual([value]);

    const binary = Uint8Array.from([0, 1, 2, 250, 251, 252]);
    const binaryArn = (await sm.send(new CreateSecretCommand({ Name: "app/binary", SecretBinary: binary }))).ARN ?? "";
    const shown = await revealAction(consoleView(), { id: binaryArn, versionId: "", csrf: CSRF });
    if ("redirect" in shown) throw new Error("a reveal answers a page");
    expect(textsOf(shown, "pre", "secret-value binary")).toEqual([Buffer.from(binary).toString("base64")]);
    // A reveal is the API's call: the secret's LastAccessedDate is what GetSecretValue sets.
    expect((await sm.send(new DescribeSecretCommand({ SecretId: binaryArn }))).LastAccessedDate).toBeDefined();
  });

  it("a reveal of a missing version is the API's error", async () => {
    await expect(revealAction(consoleView(), { id: arn, versionId: "00000000-0000-0000-0000-000000000000", csrf: CSRF })).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });

  it("shows the resource policy as indented JSON, tags, and the default KMS key", async () => {
    const page = await secretPage(consoleView(), { id: arn });
    expect(textsOf(page, "pre", "json")).toEqual([JSON.stringify(policy, null, 2)]);
    expect(textsOf(page, "span", "tag-key")).toEqual(["owner"]);
    expect(textsOf(page, "span", "tag-value")).toEqual(["team-a"]);
    expect(page.body.text).toContain(`id=alias%2Faws%2Fsecretsmanager">alias/aws/secretsmanager</a>`);
    expect(page.title).toBe("Secret app/db");
    expect(page.body.text).toContain("Not replicated.");
    // The link's target answers: DescribeKey resolves the AWS managed key by its alias.
    const managed = await keyPage(consoleView(), { id: "alias/aws/secretsmanager" });
    expect(managed.body.text).toContain("<dt>Key manager</dt><dd>AWS</dd>");
    expect(textsOf(managed, "li", "alias")).toEqual(["alias/aws/secretsmanager"]);
  });

  it("shows a rotation by the built-in function: enabled, rules, function, last and next date, and the labels it moved", async () => {
    const rotated = (await sm.send(new CreateSecretCommand({ Name: "app/rotated", SecretString: "before-rotation" }))).ARN ?? "";
    const token = (await sm.send(new RotateSecretCommand({ SecretId: rotated, RotationLambdaARN: BUILTIN, RotationRules: { AutomaticallyAfterDays: 30 } }))).VersionId ?? "";
    // Done once the driver has recorded the rotation (LastRotatedDate), a write after finishSecret moved the label.
    const described = await eventually(async () => {
      const answer = await sm.send(new DescribeSecretCommand({ SecretId: rotated }));
      expect(answer.VersionIdsToStages?.[token]).toEqual(["AWSCURRENT"]);
      expect(answer.LastRotatedDate).toBeInstanceOf(Date);
      return answer;
    });
    const page = await secretPage(consoleView(), { id: rotated });
    const rotation = /<section class="rotation">([\s\S]*?)<\/section>/.exec(page.body.text)?.[1] ?? "";
    expect(rotation).toContain("<dt>Enabled</dt><dd>yes</dd>");
    expect(rotation).toContain(`<code>${BUILTIN}</code>`);
    expect(rotation).toContain("every 30 days");
    expect(rotation).toContain(described.LastRotatedDate?.toISOString().replace(".000Z", "Z"));
    expect(rotation).toContain(described.NextRotationDate?.toISOString().replace(".000Z", "Z"));
    expect(rotation).not.toContain("AWSPENDING");
    const listed = await secretsPage(consoleView(), { name: "app/rotated" });
    expect(listed.body.text).toMatch(new RegExp(`<td>on</td>\\s*<td><time>${described.NextRotationDate?.toISOString().replace(".000Z", "Z")}</time></td>`));
    expect(page.body.text).toMatch(new RegExp(`data-version-id="${token}">[\\s\\S]*?<span class="label awscurrent">AWSCURRENT</span>`));
    expect(page.body.text).not.toContain((await sm.send(new GetSecretValueCommand({ SecretId: rotated }))).SecretString);
  });

  it("flags a version left AWSPENDING by an unfinished rotation", async () => {
    const stuck = (await sm.send(new CreateSecretCommand({ Name: "app/stuck", SecretString: "v" }))).ARN ?? "";
    const pending = (await sm.send(new PutSecretValueCommand({ SecretId: stuck, SecretString: "p", VersionStages: ["AWSPENDING"] }))).VersionId ?? "";
    const page = await secretPage(consoleView(), { id: stuck });
    expect(page.body.text).toContain(`<p class="warning">Version <code>${pending}</code> is AWSPENDING`);
    expect(page.body.text).toContain(`<span class="label awspending">AWSPENDING</span>`);
  });

  it("shows a scheduled deletion, the policy section failing on its own as the API refuses it", async () => {
    const doomed = (await sm.send(new CreateSecretCommand({ Name: "app/doomed", SecretString: "v" }))).ARN ?? "";
    await sm.send(new DeleteSecretCommand({ SecretId: doomed, RecoveryWindowInDays: 7 }));
    const deleted = (await sm.send(new DescribeSecretCommand({ SecretId: doomed }))).DeletedDate;
    const page = await secretPage(consoleView(), { id: doomed });
    expect(page.body.text).toContain(`Scheduled for deletion since <time>${deleted?.toISOString().replace(".000Z", "Z")}</time>`);
    expect(page.body.text).toMatch(/<section class="policy"><h3>Resource policy<\/h3><p class="error" role="alert">InvalidRequestException: /);
  });

  it("shows each replica's region and status as DescribeSecret gives them", async () => {
    const replicated = (await sm.send(new CreateSecretCommand({ Name: "app/replicated", SecretString: "v", AddReplicaRegions: [{ Region: "eu-west-1" }] }))).ARN ?? "";
    const status = await eventually(async () => {
      const replicas = (await sm.send(new DescribeSecretCommand({ SecretId: replicated }))).ReplicationStatus ?? [];
      expect(replicas[0]?.Status).not.toBe("InProgress");
      return replicas;
    });
    const page = await secretPage(consoleView(), { id: replicated });
    expect(status).toHaveLength(1);
    expect(page.body.text).toContain(`<tr><td>eu-west-1</td><td class="status ${(status[0]?.Status ?? "").toLowerCase()}">${status[0]?.Status}</td>`);
  });

  it("a missing secret is the API's error", async () => {
    await expect(secretPage(consoleView(), { id: "no/such/secret" })).rejects.toMatchObject({ name: "ResourceNotFoundException" });
  });
});

describe("KMS keys", () => {
  let symmetric: kmsSdk.KeyMetadata;
  let rsa: kmsSdk.KeyMetadata;
  let ecc: kmsSdk.KeyMetadata;
  let hmac: kmsSdk.KeyMetadata;
  let grantId: string;

  beforeAll(async () => {
    const create = async (input: kmsSdk.CreateKeyCommandInput) => (await kms.send(new CreateKeyCommand(input))).KeyMetadata as kmsSdk.KeyMetadata;
    symmetric = await create({ Description: HOSTILE, Tags: [{ TagKey: "purpose", TagValue: "console" }] });
    rsa = await create({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY", Description: "rsa" });
    ecc = await create({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" });
    hmac = await create({ KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC" });
    await kms.send(new CreateAliasCommand({ AliasName: "alias/console-main", TargetKeyId: symmetric.KeyId }));
    await kms.send(new EnableKeyRotationCommand({ KeyId: symmetric.KeyId, RotationPeriodInDays: 120 }));
    grantId = (await kms.send(new CreateGrantCommand({ KeyId: symmetric.KeyId, GranteePrincipal: `arn:aws:iam::${ACCOUNT}:role/grantee`, Operations: ["Encrypt", "Decrypt"], Name: "console-grant" }))).GrantId ?? "";
  });

  it("lists keys with their spec, usage, state, origin, aliases and description as DescribeKey gives them", async () => {
    const page = await keysPage(consoleView(), {});
    for (const key of [symmetric, rsa, ecc, hmac]) {
      const row = rowOf(page, key.KeyId ?? "");
      expect(row).toContain(`<td>${key.KeySpec}</td><td>${key.KeyUsage}</td><td class="state">${key.KeyState}</td><td>${key.Origin}</td>`);
    }
    expect(rowOf(page, symmetric.KeyId ?? "")).toContain(`<span class="alias">alias/console-main</span>`);
    expect(rowOf(page, symmetric.KeyId ?? "")).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(page.body.text).not.toContain("<script>");
  });

  it("pages ListKeys with a Marker link", async () => {
    const first = await keysPage(consoleView(), { max: "2" });
    expect([...first.body.text.matchAll(/<tr class="state-/g)]).toHaveLength(2);
    const next = queryOf(linkWithRel(first, "next") ?? "");
    expect(next).toMatchObject({ account: ACCOUNT, region: REGION, max: "2" });
    const all = (await kms.send(new kmsSdk.ListKeysCommand({}))).Keys ?? [];
    const second = await keysPage(consoleView(), next);
    expect([...second.body.text.matchAll(/<tr class="state-[^"]*">\s*<td><a href="[^"]*">([^<]+)<\/a>/g)].map((m) => m[1])).toEqual(all.slice(2, 4).map((key) => key.KeyId));
    await expect(keysPage(consoleView(), { next: "not-a-marker" })).rejects.toMatchObject({ name: expect.stringMatching(/Exception$/) });
  });

  it("shows a refused DescribeKey in its row and the rest of the page", async () => {
    const view = consoleView({ refuse: (service, operation, input) => service === "kms" && operation === "DescribeKey" && String(input.KeyId).endsWith(rsa.KeyId ?? "-") });
    const page = await keysPage(view, {});
    expect(rowOf(page, rsa.KeyId ?? "")).toContain("AccessDeniedException: User is not authorized to perform: kms:DescribeKey");
    expect(rowOf(page, ecc.KeyId ?? "")).toContain("<td>ECC_NIST_P256</td>");
  });

  it("a key's page: metadata, alias, rotation status, policy, grant, last usage and tags as the API answers", async () => {
    const page = await keyPage(consoleView(), { id: "alias/console-main" });
    expect(page.title).toBe(`KMS key ${symmetric.KeyId}`);
    expect(page.body.text).toContain(`<dt>Key spec</dt><dd>SYMMETRIC_DEFAULT</dd>`);
    expect(page.body.text).toContain(`<dt>Description</dt><dd>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;`);
    expect(textsOf(page, "li", "alias")).toEqual(["alias/console-main"]);
    const status = await kms.send(new kmsSdk.GetKeyRotationStatusCommand({ KeyId: symmetric.KeyId }));
    expect(textsOf(page, "dd", "rotation-enabled")).toEqual(["enabled"]);
    expect(page.body.text).toContain(`<dt>Period</dt><dd>120 days</dd>`);
    expect(page.body.text).toContain(status.NextRotationDate?.toISOString().replace(".000Z", "Z"));
    expect(page.body.text).toContain("No rotations yet.");
    const policy = (await kms.send(new kmsSdk.GetKeyPolicyCommand({ KeyId: symmetric.KeyId }))).Policy ?? "";
    expect(textsOf(page, "pre", "json")).toEqual([JSON.stringify(JSON.parse(policy), null, 2)]);
    expect(textsOf(page, "code", "grant-id")).toEqual([grantId]);
    expect(page.body.text).toContain("<td>Encrypt, Decrypt</td>");
    expect(page.body.text).toContain("not used since tracking started");
    expect(textsOf(page, "span", "tag-key")).toEqual(["purpose"]);
    expect(page.body.text).not.toContain(`class="public-key"`);
  });

  it("shows the key's last use and its on-demand rotations", async () => {
    await kms.send(new kmsSdk.EncryptCommand({ KeyId: symmetric.KeyId, Plaintext: Buffer.from("x") }));
    await kms.send(new kmsSdk.RotateKeyOnDemandCommand({ KeyId: symmetric.KeyId }));
    const rotations = await eventually(async () => {
      const listed = (await kms.send(new kmsSdk.ListKeyRotationsCommand({ KeyId: symmetric.KeyId }))).Rotations ?? [];
      expect(listed).toHaveLength(1);
      return listed;
    });
    const page = await keyPage(consoleView(), { id: symmetric.Arn ?? "" });
    expect(page.body.text).toContain(`<td>ON_DEMAND</td><td><code>${rotations[0]?.KeyMaterialId}</code></td>`);
    expect(page.body.text).toMatch(/by <code>Encrypt<\/code>/);
  });

  it.each([
    ["RSA_2048", () => rsa],
    ["ECC_NIST_P256", () => ecc],
  ])("an %s key's page shows its public key as PEM equal to GetPublicKey's DER, with a data: download of it", async (_spec, key) => {
    const page = await keyPage(consoleView(), { id: key().KeyId ?? "" });
    const der = Buffer.from((await kms.send(new GetPublicKeyCommand({ KeyId: key().KeyId }))).PublicKey ?? []);
    const [pem] = textsOf(page, "pre", "pem");
    const lines = (pem ?? "").trim().split("\n");
    expect(lines[0]).toBe("-----BEGIN PUBLIC KEY-----");
    expect(lines.at(-1)).toBe("-----END PUBLIC KEY-----");
    expect(lines.slice(1, -1).every((line) => line.length <= 64)).toBe(true);
    expect(Buffer.from(lines.slice(1, -1).join(""), "base64")).toEqual(der);
    expect(createPublicKey(pem ?? "").export({ format: "der", type: "spki" })).toEqual(der);
    const download = /<a class="download" download="([^"]*)" href="data:application\/x-pem-file;base64,([^"]*)">/.exec(page.body.text);
    expect(download?.[1]).toBe(`${key().KeyId}.pem`);
    expect(Buffer.from(download?.[2] ?? "", "base64").toString()).toBe(pem);
    // Rotation is not for asymmetric keys: that section shows the API's refusal, the rest of the page is there.
    expect(page.body.text).toMatch(/<section class="rotation"><h3>Rotation<\/h3><p class="error" role="alert">UnsupportedOperationException: /);
    expect(page.body.text).toContain(`<dt>Key usage</dt><dd>SIGN_VERIFY</dd>`);
  });

  it("an HMAC key's page lists its MAC algorithms and has no public key", async () => {
    const page = await keyPage(consoleView(), { id: hmac.KeyId ?? "" });
    expect(page.body.text).toContain(`<dt>MAC algorithms</dt><dd>${(hmac.MacAlgorithms ?? []).join(", ")}</dd>`);
    expect(page.body.text).not.toContain(`class="public-key"`);
  });

  it("a key pending deletion shows its deletion date, and each section the API's answer for that state", async () => {
    const doomed = (await kms.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId ?? "";
    const deletion = (await kms.send(new kmsSdk.ScheduleKeyDeletionCommand({ KeyId: doomed, PendingWindowInDays: 7 }))).DeletionDate;
    const page = await keyPage(consoleView(), { id: doomed });
    expect(page.body.text).toContain(`<dt>State</dt><dd><span class="state">PendingDeletion</span></dd>`);
    expect(page.body.text).toContain(`<span class="deleted">${deletion?.toISOString().replace(".000Z", "Z")}</span>`);
    // PendingDeletionWindowInDays is only for a multi-Region primary waiting on its replicas (DescribeKey leaves it out here).
    expect(page.body.text).not.toContain("Pending deletion window");
    const list = await keysPage(consoleView(), {});
    expect(rowOf(list, doomed)).toContain(`<td class="state">PendingDeletion</td>`);
  });

  it("a missing key is the API's error", async () => {
    await expect(keyPage(consoleView(), { id: "alias/no-such-alias" })).rejects.toMatchObject({ name: "NotFoundException" });
  });
});

describe("KMS keys under --enforce-auth", () => {
  const account = "111122223333";
  const admin = { accessKeyId: "AKIACONSOLEADMIN0001", arn: `arn:aws:iam::${account}:user/admin` };
  const viewer = { accessKeyId: "AKIACONSOLEVIEWER001", arn: `arn:aws:iam::${account}:user/viewer` };
  let strict: TestServer;

  beforeAll(async () => {
    const file = path.join(workDir, "principals.json");
    const allow = (Action: string[]) => ({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action, Resource: "*" }] });
    writeFileSync(
      file,
      JSON.stringify({
        principals: [
          { ...admin, secretAccessKey: credentials.secretAccessKey, policies: [allow(["kms:*"])] },
          { ...viewer, secretAccessKey: credentials.secretAccessKey, policies: [allow(["kms:ListKeys", "kms:ListAliases", "kms:DescribeKey"])] },
        ],
      }),
    );
    strict = await startTestServer({ flags: ["--enforce-auth", "--principals", file] });
  });
  afterAll(async () => {
    await strict.close();
  });

  it("a key whose policy does not let the viewer describe it shows AccessDeniedException in its row; the others are listed", async () => {
    const adminKms = strict.kms({ accessKeyId: admin.accessKeyId });
    const open = (await adminKms.send(new CreateKeyCommand({ Description: "default policy" }))).KeyMetadata?.KeyId ?? "";
    const closedPolicy = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: admin.arn }, Action: "kms:*", Resource: "*" }] };
    const closed = (await adminKms.send(new CreateKeyCommand({ Description: "admin only", Policy: JSON.stringify(closedPolicy) }))).KeyMetadata?.KeyId ?? "";
    const view = consoleView({ kms: strict.kms({ accessKeyId: viewer.accessKeyId }), account });
    const page = await keysPage(view, {});
    expect(rowOf(page, open)).toContain("<td>default policy</td>");
    expect(rowOf(page, closed)).toMatch(/<td colspan="7"><p class="error" role="alert">AccessDeniedException: [^<]*kms:DescribeKey/);
    // The key's own page needs DescribeKey: the router shows the API's refusal.
    await expect(keyPage(view, { id: closed })).rejects.toMatchObject({ name: "AccessDeniedException" });
  });
});

