// DNS rebinding: only loopback names, IP addresses, the listen host and --allowed-hosts names are served, on every route.
import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { ListSecretsCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { KMSClient, ListKeysCommand } from "@aws-sdk/client-kms";
import { parse as parseYaml } from "yaml";
import { parseConfig } from "../../src/config";
import { hostAllowed } from "../../src/http-access";
import { credentials, REGION, signedHeaders, startTestServer, type TestServer } from "../support/server";

/** One request with exactly this Host header (fetch and supertest would put the URL's own). */
function withHost(server: { port: number; url: string }, host: string, options: { method?: string; path?: string; target?: string } = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    // Signed (signatures are not checked here, but an AWS call must carry one); Host replaced after.
    const headers: Record<string, string> = { ...signedHeaders(server, { target: options.target }), Host: host };
    const req = http.request({ host: "127.0.0.1", port: server.port, method: options.method ?? "POST", path: options.path ?? "/", headers, agent: false }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(options.method === undefined || options.method === "POST" ? "{}" : undefined);
  });
}

const REBOUND = ["evil.example", "evil.example:4566", "127.0.0.1.nip.io", "localhost.evil.example", "secretslite"];
const LOOPBACK_AND_ADDRESSES = ["localhost", "LOCALHOST.", "app.localhost:3000", "127.0.0.1", "127.9.8.7:1", "[::1]:4566", "10.0.0.7:4566", "[fd00::7]"];

describe("serialization", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it("refuses the AWS endpoint to a rebound name with 403 AccessDeniedException, AWS-shaped, in the target service's casing", async () => {
    for (const host of REBOUND) {
      const secrets = await withHost(server, `${host}`, { target: "secretsmanager.ListSecrets" });
      expect([host, secrets.status]).toEqual([host, 403]);
      expect(secrets.headers["content-type"]).toBe("application/x-amz-json-1.1");
      expect(secrets.headers["x-amzn-errortype"]).toBe("AccessDeniedException");
      expect(secrets.headers["x-amzn-requestid"]).toEqual(expect.any(String));
      expect(JSON.parse(secrets.body)).toEqual({ __type: "AccessDeniedException", Message: expect.stringContaining("--allowed-hosts") });
    }
    const kms = await withHost(server, "evil.example", { target: "TrentService.ListKeys" });
    expect(JSON.parse(kms.body)).toEqual({ __type: "AccessDeniedException", message: expect.stringContaining("is not served here") });
  });

  it("refuses every admin route, preflight and unknown path to a rebound name with 403 and a JSON body", async () => {
    for (const [method, route] of [["GET", "/_secretslite/health"], ["POST", "/_secretslite/reset"], ["OPTIONS", "/"], ["GET", "/nothing"]] as const) {
      const answer = await withHost(server, "evil.example:4566", { method, path: route });
      expect([method, route, answer.status]).toEqual([method, route, 403]);
      expect(JSON.parse(answer.body).message).toMatch(/Host 'evil\.example' is not served here/);
    }
  });

  it("serves loopback names and IP addresses, any port", async () => {
    for (const host of LOOPBACK_AND_ADDRESSES) {
      const answer = await withHost(server, host, { target: "secretsmanager.ListSecrets" });
      expect([host, answer.status]).toEqual([host, 200]);
      expect([host, (await withHost(server, host, { method: "GET", path: "/_secretslite/health" })).status]).toEqual([host, 200]);
    }
  });
});

describe("behaviour", () => {
  it("serves SDK v3 clients whose endpoint names localhost or 127.0.0.1", async () => {
    const server = await startTestServer();
    try {
      for (const endpoint of [server.url, `http://localhost:${server.port}`]) {
        const config = { endpoint, region: REGION, credentials, maxAttempts: 1 };
        const secrets = new SecretsManagerClient(config);
        const kms = new KMSClient(config);
        expect((await secrets.send(new ListSecretsCommand({}))).$metadata.httpStatusCode).toBe(200);
        expect((await kms.send(new ListKeysCommand({}))).$metadata.httpStatusCode).toBe(200);
        secrets.destroy();
        kms.destroy();
      }
    } finally {
      await server.close();
    }
  });

  it("gives an SDK a rebound name's refusal as AccessDeniedException", async () => {
    const server = await startTestServer();
    const secrets = new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 });
    // What a rebinding page's request looks like at the server: its own name in Host.
    secrets.middlewareStack.add((next) => (args) => {
      (args.request as { headers: Record<string, string> }).headers.host = "evil.example";
      return next(args);
    }, { step: "finalizeRequest", priority: "low" });
    try {
      await expect(secrets.send(new ListSecretsCommand({}))).rejects.toMatchObject({ name: "AccessDeniedException", $metadata: { httpStatusCode: 403 } });
    } finally {
      secrets.destroy();
      await server.close();
    }
  });

  it("--allowed-hosts serves the names given (exact, or *.suffix for names under it), and * any name", async () => {
    const server = await startTestServer({ flags: ["--allowed-hosts", "secretslite, *.team.example"] });
    const any = await startTestServer({ flags: ["--allowed-hosts", "*"] });
    try {
      for (const host of ["secretslite:4566", "SecretsLite", "vault.team.example", "a.b.team.example:8080"]) {
        expect([host, (await withHost(server, host, { target: "secretsmanager.ListSecrets" })).status]).toEqual([host, 200]);
      }
      for (const host of ["team.example", "secretslite.evil.example", "evil.example"]) {
        expect([host, (await withHost(server, host, { target: "secretsmanager.ListSecrets" })).status]).toEqual([host, 403]);
      }
      expect((await withHost(any, "evil.example", { target: "secretsmanager.ListSecrets" })).status).toBe(200);
    } finally {
      await server.close();
      await any.close();
    }
  });

  it("serves the name it listens on", () => {
    const rule = { listenHost: "build-box.lan", allowedHosts: [] };
    expect(hostAllowed("build-box.lan:4566", rule)).toBe(true);
    expect(hostAllowed("BUILD-BOX.LAN.", rule)).toBe(true);
    expect(hostAllowed("other.lan", rule)).toBe(false);
    expect(hostAllowed("", rule)).toBe(false);
  });

  it("serves the compose example's app, which calls secretslite by its service name", () => {
    const compose = parseYaml(readFileSync(path.join(__dirname, "..", "..", "docs", "examples", "docker-compose.yml"), "utf8")) as {
      services: Record<string, { command?: string[]; environment?: Record<string, string> }>;
    };
    const endpoint = new URL(compose.services.app!.environment!.AWS_ENDPOINT_URL!);
    // The image listens on 0.0.0.0 (Dockerfile); the compose file adds its command's flags and its environment.
    const service = compose.services.secretslite!;
    const config = parseConfig(service.command ?? [], { SECRETSLITE_HOST: "0.0.0.0", ...service.environment });
    expect(hostAllowed(endpoint.host, { listenHost: config!.host, allowedHosts: config!.allowedHosts })).toBe(true);
  });
});
