// The Calls, Overview and Actions pages rendered over the real API (a ConsoleView whose `call` is a signed request to a
// running endpoint): what they show against the API's answers, the actions' effects, and that every value is escaped.
import { randomUUID } from "node:crypto";
import { CreateSecretCommand, PutSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { CallRing } from "../../src/console/calls";
import { callsPage } from "../../src/console/pages/calls";
import { overviewPage, type OverviewFacts, type PartitionCounts } from "../../src/console/pages/overview";
import { actionsPage, resetAction, seedAction, snippets, snippetsBlock, type ConsoleActions } from "../../src/console/pages/actions";
import type { ConsolePage, ConsoleView } from "../../src/console/view";
import type { ServiceName } from "../../src/generated";
import { applySeed, wipePartitions } from "../../src/seed";
import { signedHeaders } from "../support/server";
import { testSoftHsm } from "../support/softhsm";
import { ACCOUNT, startEndpoint, type EndpointServer } from "./endpoint-fixture";

const OTHER_ACCOUNT = "111122223333";
const XSS = "<img src=x onerror=alert(1)>";
const SECRET_VALUE = "pages-spec-secret-value";

/** An API error as the view rejects with it: the wire's __type and message. */
class ApiError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** The console's window on the API, here as a signed request per call (a 12-digit access key names the account). */
function viewOf(server: EndpointServer, account = ACCOUNT, region = "us-east-1"): ConsoleView {
  return {
    account,
    region,
    csrfToken: "csrf-token-of-the-spec",
    href: (path, query = {}) => {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries({ account, region, ...query })) if (value !== undefined) params.set(name, value);
      return `${path}?${params.toString()}`;
    },
    call: async (service: ServiceName, operation: string, input: object) => {
      const body = JSON.stringify(input);
      const target = service === "kms" ? `TrentService.${operation}` : `secretsmanager.${operation}`;
      const headers = signedHeaders(server, { target, body, region, credentials: { accessKeyId: account, secretAccessKey: "spec" } });
      const response = await fetch(server.url, { method: "POST", headers, body });
      const answer = (await response.json()) as Record<string, unknown>;
      if (response.status !== 200) throw new ApiError(String(answer.__type), String(answer.message ?? answer.Message ?? ""));
      return answer;
    },
  };
}

/** Every page's markup must be text where a caller's value is: no tag of our own beyond the allowed ones. */
const bodyOf = (page: ConsolePage | { redirect: string }): string => {
  if ("redirect" in page) throw new Error(`expected a page, got a redirect to ${page.redirect}`);
  return page.body.text;
};

describe("console pages: calls, overview, actions", () => {
  let ring: CallRing;
  let server: EndpointServer;
  let actions: ConsoleActions;
  const started = new Date();

  beforeAll(async () => {
    ring = new CallRing();
    server = await startEndpoint(ring.record);
    actions = {
      reset: (partition) => wipePartitions({ store: server.store, keyStore: server.keyStore, kms: server.kms, secrets: server.secrets }, partition),
      applySeed: (plan) => applySeed(plan, server.domains, { now: () => new Date() }),
    };
  });
  afterAll(() => server.close());

  /** What the API says a partition holds: ListSecrets and ListKeys counted page by page. */
  async function countsOf(account: string, region: string): Promise<PartitionCounts> {
    const view = viewOf(server, account, region);
    let secrets = 0;
    let token: string | undefined;
    do {
      const page = (await view.call("secretsmanager", "ListSecrets", { MaxResults: 100, ...(token === undefined ? {} : { NextToken: token }) })) as { SecretList: unknown[]; NextToken?: string };
      secrets += page.SecretList.length;
      token = page.NextToken;
    } while (token !== undefined);
    let kmsKeys = 0;
    let marker: string | undefined;
    do {
      const page = (await view.call("kms", "ListKeys", { Limit: 100, ...(marker === undefined ? {} : { Marker: marker }) })) as { Keys: unknown[]; NextMarker?: string; Truncated: boolean };
      kmsKeys += page.Keys.length;
      marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker !== undefined);
    return { account, region, kmsKeys, secrets };
  }

  describe("calls", () => {
    it("lists recent calls with their status and error, the counts chart, and the stream's data attributes", async () => {
      const sm = server.secretsClient();
      const created = await sm.send(new CreateSecretCommand({ Name: "pages/one", SecretString: SECRET_VALUE }));
      const failed = await viewOf(server).call("secretsmanager", "DescribeSecret", { SecretId: "pages/missing" }).catch((error: unknown) => error);
      expect(failed).toMatchObject({ code: "ResourceNotFoundException" });
      const missing = ring.recent({ resource: "pages/missing" })[0]!;

      const body = bodyOf(await callsPage(ring)(viewOf(server), {}));
      expect(body).toContain(`data-request-id="${created.$metadata.requestId}"`);
      expect(body).toMatch(new RegExp(`<tr class="call-error" data-request-id="${missing.requestId}">[\\s\\S]*?<td class="status">400</td>\\s*<td class="error-code" title="Secrets Manager can&#39;t find the specified secret.">ResourceNotFoundException</td>`));
      expect(body).toMatch(new RegExp(`<tr class="call-ok" data-request-id="${created.$metadata.requestId}">[\\s\\S]*?<td>CreateSecret</td>`));
      expect(body).toContain('data-stream="/_secretslite/ui/calls/stream" data-stream-max="100"');
      expect(body).toMatch(/<g class="bar" data-operation="secretsmanager:DescribeSecret">\s*<title>secretsmanager:DescribeSecret: 1 calls, 1 failed<\/title>/);
      expect(body).not.toContain(SECRET_VALUE);
    });

    it("filters the table and carries the filter into the stream's URL", async () => {
      const body = bodyOf(await callsPage(ring)(viewOf(server), { operation: "DescribeSecret", error: "ResourceNotFoundException" }));
      expect(body).toContain('data-stream="/_secretslite/ui/calls/stream?operation=DescribeSecret&amp;error=ResourceNotFoundException"');
      const rows = body.match(/<tr class="call-[a-z]+" data-request-id="[^"]+">/g) ?? [];
      expect(rows).toHaveLength(ring.recent({ operation: "DescribeSecret", errorCode: "ResourceNotFoundException" }).length);
      expect(body).not.toContain("<td>CreateSecret</td>");
    });

    it("shows a call's detail: parameters as the audit log records them, the error and the request id; never the value", async () => {
      const sm = server.secretsClient();
      const put = await sm.send(new PutSecretValueCommand({ SecretId: "pages/one", SecretString: SECRET_VALUE, VersionStages: ["staged"] }));
      const body = bodyOf(await callsPage(ring)(viewOf(server), { request: put.$metadata.requestId! }));
      expect(body).toContain(`<code>${put.$metadata.requestId}</code>`);
      expect(body).toContain("&quot;secretId&quot;: &quot;pages/one&quot;");
      expect(body).toContain("&quot;versionStages&quot;: [\n    &quot;staged&quot;\n  ]");
      expect(body).not.toContain(SECRET_VALUE);

      const missing = ring.recent({ resource: "pages/missing" })[0]!;
      const failure = bodyOf(await callsPage(ring)(viewOf(server), { request: missing.requestId }));
      expect(failure).toContain("<dt>Error code</dt><dd>ResourceNotFoundException</dd>");
      expect(failure).toContain("<dt>HTTP status</dt><dd>400</dd>");
      const unknown = await callsPage(ring)(viewOf(server), { request: "no-such-request" });
      expect(unknown.title).toBe("Call not found");
    });

    it("escapes every value a caller sent: a resource, an error message, a filter", async () => {
      const refused = await viewOf(server).call("secretsmanager", "CreateSecret", { Name: XSS, SecretString: "x", ClientRequestToken: randomUUID() }).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: "ValidationException" });
      const call = ring.recent({ resource: XSS })[0]!;
      const list = bodyOf(await callsPage(ring)(viewOf(server), { resource: XSS, principal: '"><script>alert(1)</script>' }));
      const detail = bodyOf(await callsPage(ring)(viewOf(server), { request: call.requestId }));
      for (const body of [list, detail]) {
        expect(body).toContain("&lt;img src=x onerror=alert(1)&gt;");
        expect(body).not.toContain("<img");
        expect(body).not.toContain("<script");
      }
      expect(list).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    });
  });

  describe("overview", () => {
    it("shows health, version, data, token specs, uptime, the partitions in use as the API counts them, and the request rate", async () => {
      const token = await testSoftHsm();
      await viewOf(server, OTHER_ACCOUNT, "eu-west-1").call("secretsmanager", "CreateSecret", { Name: "other/one", SecretString: "x", ClientRequestToken: randomUUID() });
      await viewOf(server, OTHER_ACCOUNT, "eu-west-1").call("kms", "CreateKey", {});
      const facts: OverviewFacts = {
        health: () => ({ storage: server.store.status(), keyStore: server.keyStore.health() }),
        version: "9.9.9-spec",
        nodeVersion: process.version,
        dataLocation: "in memory",
        token: { label: token.tokenLabel, supports: (spec) => server.keyStore.supports(spec) },
        startedAt: started,
        partitions: async () => [await countsOf(ACCOUNT, "us-east-1"), await countsOf(OTHER_ACCOUNT, "eu-west-1")],
      };
      const expected = await facts.partitions();
      const body = bodyOf(await overviewPage(facts, ring)(viewOf(server), {}));
      expect(body).toContain('<dd class="health health-ready">ready');
      expect(body).toContain("secretslite 9.9.9-spec on Node");
      expect(body).toContain(`<code>${token.tokenLabel}</code>`);
      expect(body).toMatch(/<dd class="specs-token">[^<]*RSA_2048/);
      for (const partition of expected) {
        expect(body).toMatch(new RegExp(`<td>${partition.account}</td><td>${partition.region}</td>\\s*<td class="number"><a [^>]+>${partition.kmsKeys}</a></td>\\s*<td class="number"><a [^>]+>${partition.secrets}</a></td>`));
      }
      // The key made here and aws/secretsmanager, which the secret's creation made (ListKeys lists AWS managed keys too).
      expect(expected.find((partition) => partition.account === OTHER_ACCOUNT)).toEqual({ account: OTHER_ACCOUNT, region: "eu-west-1", kmsKeys: 2, secrets: 1 });
      const seconds = ring.perSecond();
      const requests = seconds.reduce((sum, second) => sum + second.requests, 0);
      const errors = seconds.reduce((sum, second) => sum + second.errors, 0);
      expect(requests).toBeGreaterThan(0);
      expect(body).toContain(`${requests} requests, ${errors} failed`);
      expect(body).toMatch(/<svg class="chart chart-rate"[\s\S]*<polyline class="chart-requests"[^>]*points="[\d., ]+"/);
    });
  });

  describe("actions", () => {
    it("resets one region of every account and leaves the others", async () => {
      const west = viewOf(server, OTHER_ACCOUNT, "eu-west-1");
      await viewOf(server, OTHER_ACCOUNT, "eu-central-1").call("secretsmanager", "CreateSecret", { Name: "kept/one", SecretString: "x", ClientRequestToken: randomUUID() });
      expect((await countsOf(OTHER_ACCOUNT, "eu-west-1")).secrets).toBe(1);
      const answer = await resetAction(actions)(west, { scope: "region", account: OTHER_ACCOUNT, region: "eu-west-1", csrf: west.csrfToken });
      expect(answer).toEqual({ redirect: west.href("/_secretslite/ui/actions", { done: "Reset region eu-west-1 (every account)." }) });
      expect(await countsOf(OTHER_ACCOUNT, "eu-west-1")).toEqual({ account: OTHER_ACCOUNT, region: "eu-west-1", kmsKeys: 0, secrets: 0 });
      expect((await countsOf(OTHER_ACCOUNT, "eu-central-1")).secrets).toBe(1);
      expect((await countsOf(ACCOUNT, "us-east-1")).secrets).toBeGreaterThan(0);

      const done = bodyOf(await actionsPage(west, { done: "Reset region eu-west-1 (every account)." }));
      expect(done).toContain('<p class="notice notice-done" role="status">Reset region eu-west-1 (every account).</p>');
    });

    it("resets one account's region, and refuses a malformed account on the page", async () => {
      const central = viewOf(server, OTHER_ACCOUNT, "eu-central-1");
      await resetAction(actions)(central, { scope: "partition", account: OTHER_ACCOUNT, region: "eu-central-1" });
      expect((await countsOf(OTHER_ACCOUNT, "eu-central-1")).secrets).toBe(0);
      const refused = bodyOf(await resetAction(actions)(central, { scope: "account", account: "<b>12</b>", region: "" }));
      expect(refused).toContain("account must be one 12-digit account id, not &quot;&lt;b&gt;12&lt;/b&gt;&quot;.");
    });

    it("applies a pasted seed and the API then answers what it created", async () => {
      const view = viewOf(server, OTHER_ACCOUNT, "eu-west-1");
      const seed = `region: eu-west-1\nsecretsmanager:\n  secrets:\n    - name: seeded/one\n      secretString: seeded-value\n`;
      const answer = await seedAction(actions)(view, { seed, csrf: view.csrfToken });
      expect(answer).toEqual({ redirect: expect.stringContaining("/_secretslite/ui/actions?") });
      // Entries without an account go to the account on screen.
      const value = (await view.call("secretsmanager", "GetSecretValue", { SecretId: "seeded/one" })) as { SecretString: string };
      expect(value.SecretString).toBe("seeded-value");
    });

    it("shows a bad seed's errors on the page, the text kept and escaped", async () => {
      const view = viewOf(server);
      const seed = `secretsmanager:\n  secrets:\n    - name: "${XSS}"\n      secretString: "</textarea><script>alert(1)</script>"\n`;
      const body = bodyOf(await seedAction(actions)(view, { seed }));
      expect(body).toContain('<div class="notice notice-error" role="alert">');
      expect(body).toMatch(/pasted seed: secretsmanager\.secrets\[0\]: Invalid name\. /);
      expect(body).toContain("&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
      expect(body).not.toContain("<script");
      expect(body).not.toContain("<img");
      const notYaml = bodyOf(await seedAction(actions)(view, { seed: "a: [\n" }));
      expect(notYaml).toContain("pasted seed: not valid YAML or JSON");
    });

    it("renders the forms with the session's CSRF token", async () => {
      const body = bodyOf(await actionsPage(viewOf(server), {}));
      expect(body.match(/<input type="hidden" name="csrf" value="csrf-token-of-the-spec">/g)).toHaveLength(2);
      expect(body).toContain('<form class="reset" method="post" data-confirm="Reset the chosen keys and secrets? Their values and key material are gone for good." action="/_secretslite/ui/reset">');
      expect(body).toContain('<form class="seed" method="post" action="/_secretslite/ui/seed">');
    });
  });

  describe("snippets", () => {
    it("gives the aws CLI and SDK v3 calls for a secret or a key, quoted for the shell and for JavaScript", () => {
      const [cli, sdk] = snippets("secret", "team's/db", OTHER_ACCOUNT, "eu-west-1", "http://127.0.0.1:4566");
      expect(cli?.text).toBe(`AWS_ACCESS_KEY_ID=${OTHER_ACCOUNT} AWS_SECRET_ACCESS_KEY=test aws secretsmanager get-secret-value --secret-id 'team'\\''s/db' --region eu-west-1 --endpoint-url http://127.0.0.1:4566`);
      expect(sdk?.text).toContain(`new GetSecretValueCommand({ SecretId: "team's/db" })`);
      const [keyCli, keySdk] = snippets("key", "alias/app", ACCOUNT, "us-east-1");
      expect(keyCli?.text).toContain("aws kms describe-key --key-id alias/app --region us-east-1 --endpoint-url http://localhost:4566");
      expect(keySdk?.text).toContain(`new DescribeKeyCommand({ KeyId: "alias/app" })`);
      expect(snippetsBlock(snippets("secret", XSS, ACCOUNT, "us-east-1")).text).not.toContain("<img");
    });
  });
});
