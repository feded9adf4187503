// CORS for browser SDKs: preflight for the headers SDK v3 sends, the AWS response headers exposed, --no-cors.
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { CreateSecretCommand, GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import request from "supertest";
import { credentials, rawRequest, REGION, startTestServer, type TestServer } from "../support/server";

const ORIGIN = "http://localhost:3000";

/** The preflight a browser sends before the SDK's POST: it names the method and the non-safelisted headers. */
const preflight = (server: { url: string }, requestHeaders: string) =>
  request(server.url)
    .options("/")
    .set("Origin", ORIGIN)
    .set("Access-Control-Request-Method", "POST")
    .set("Access-Control-Request-Headers", requestHeaders);

const listOf = (header: string | undefined): string[] => (header ?? "").split(",").map((name) => name.trim().toLowerCase());

describe("serialization", () => {
  describe("CORS on (the default)", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer();
    });
    afterAll(async () => {
      await server.close();
    });

    it("answers the preflight with the origin, POST, the AWS headers and a max age", async () => {
      const response = await preflight(server, "authorization,content-type,x-amz-date,x-amz-target,x-amz-user-agent,amz-sdk-invocation-id,amz-sdk-request");
      expect(response.status).toBe(204);
      expect(response.headers["access-control-allow-origin"]).toBe(ORIGIN);
      expect(listOf(response.headers["access-control-allow-methods"])).toEqual(expect.arrayContaining(["post", "get", "options"]));
      expect(listOf(response.headers["access-control-allow-headers"])).toEqual(
        expect.arrayContaining([
          "authorization", "content-type", "x-amz-date", "x-amz-target", "x-amz-security-token",
          "x-amz-user-agent", "amz-sdk-invocation-id", "amz-sdk-request", "x-amz-content-sha256",
        ]),
      );
      expect(Number(response.headers["access-control-max-age"])).toBeGreaterThan(0);
      expect(response.text).toBe("");
    });

    it("also allows headers a page adds beyond the AWS ones (tracing middleware)", async () => {
      const response = await preflight(server, "content-type,traceparent");
      expect(listOf(response.headers["access-control-allow-headers"])).toEqual(expect.arrayContaining(["content-type", "traceparent"]));
    });

    it("puts the origin and the exposed x-amzn-RequestId, x-amzn-ErrorType and Date on answers and on errors", async () => {
      const ok = await rawRequest(server, { target: "secretsmanager.ListSecrets" }).set("Origin", ORIGIN);
      expect(ok.status).toBe(200);
      const failed = await rawRequest(server, { target: "secretsmanager.GetSecretValue", body: JSON.stringify({ SecretId: "nope" }) }).set("Origin", ORIGIN);
      expect(failed.status).toBe(400);
      expect(failed.headers["x-amzn-errortype"]).toBe("ResourceNotFoundException");
      const unsigned = await rawRequest(server, { target: "TrentService.ListKeys", sign: false }).set("Origin", ORIGIN);
      expect(unsigned.status).toBe(400);
      for (const response of [ok, failed, unsigned]) {
        expect(response.headers["access-control-allow-origin"]).toBe(ORIGIN);
        expect(listOf(response.headers["access-control-expose-headers"])).toEqual(["x-amzn-requestid", "x-amzn-errortype", "date"]);
        expect(response.headers["x-amzn-requestid"]).toEqual(expect.any(String));
        expect(response.headers.date).toEqual(expect.any(String));
      }
    });

    it("allows every header SDK v3 signs and sends, recorded from real calls with retry headers and a session token", async () => {
      const sent = new Set<string>();
      const config = { endpoint: server.url, region: REGION, credentials: { ...credentials, sessionToken: "session-token" }, maxAttempts: 2 };
      const secrets = new SecretsManagerClient(config);
      const kms = new KMSClient(config);
      // At the HTTP handler, so the headers are exactly what goes on the wire, signed.
      for (const { requestHandler } of [secrets.config, kms.config]) {
        const handle = requestHandler.handle.bind(requestHandler);
        requestHandler.handle = (sentRequest, options) => {
          for (const name of Object.keys(sentRequest.headers)) sent.add(name.toLowerCase());
          return handle(sentRequest, options);
        };
      }
      await secrets.send(new ListSecretsCommand({}));
      await expect(secrets.send(new GetSecretValueCommand({ SecretId: "nope" }))).rejects.toThrow();
      await kms.send(new CreateKeyCommand({}));
      secrets.destroy();
      kms.destroy();

      expect([...sent]).toEqual(expect.arrayContaining([
        "authorization", "content-type", "x-amz-date", "x-amz-security-token", "x-amz-target",
        "x-amz-user-agent", "amz-sdk-invocation-id", "amz-sdk-request",
      ]));
      // The browser sets these itself (forbidden request headers); the SDK's browser build sends x-amz-user-agent instead of user-agent.
      const browserOwned = new Set(["host", "content-length", "user-agent"]);
      const response = await preflight(server, "content-type");
      const allowed = listOf(response.headers["access-control-allow-headers"]);
      expect([...sent].filter((name) => !browserOwned.has(name) && !allowed.includes(name))).toEqual([]);
    });

    it("gives the admin routes the same headers", async () => {
      const health = await request(server.url).get("/_secretslite/health").set("Origin", ORIGIN);
      expect(health.status).toBe(200);
      expect(health.headers["access-control-allow-origin"]).toBe(ORIGIN);
    });
  });

  describe("origins (signatures unchecked by default)", () => {
    const FOREIGN = "https://attacker.example";
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer();
    });
    afterAll(async () => {
      await server.close();
    });

    it("lets pages from this machine call, and gives other sites' pages no CORS headers", async () => {
      for (const origin of ["http://localhost:5173", "http://app.localhost", "http://127.0.0.1:8080", "http://[::1]:3000"]) {
        const answer = await rawRequest(server, { target: "secretsmanager.ListSecrets" }).set("Origin", origin);
        expect(answer.headers["access-control-allow-origin"]).toBe(origin);
      }
      const foreignPreflight = await request(server.url)
        .options("/")
        .set("Origin", FOREIGN)
        .set("Access-Control-Request-Method", "POST")
        .set("Access-Control-Request-Headers", "authorization,content-type,x-amz-target");
      const foreign = await rawRequest(server, { target: "secretsmanager.ListSecrets" }).set("Origin", FOREIGN);
      for (const { headers } of [foreignPreflight, foreign]) {
        expect(Object.keys(headers).filter((name) => name.startsWith("access-control-"))).toEqual([]);
      }
    });

    it("refuses an admin POST from another site's page (a simple request needs no preflight) and keeps the data", async () => {
      const sm = server.secretsManager();
      await sm.send(new CreateSecretCommand({ Name: "cors/kept", SecretString: "v" }));
      const refused = await request(server.url).post("/_secretslite/reset").set("Origin", FOREIGN);
      expect(refused.status).toBe(403);
      expect((await sm.send(new GetSecretValueCommand({ SecretId: "cors/kept" }))).SecretString).toBe("v");
      const local = await request(server.url).post("/_secretslite/reset").set("Origin", "http://localhost:3000");
      expect(local.status).toBe(200);
      await expect(sm.send(new GetSecretValueCommand({ SecretId: "cors/kept" }))).rejects.toThrow(/can't find/);
    });
  });

  describe("--no-cors", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ flags: ["--no-cors"] });
    });
    afterAll(async () => {
      await server.close();
    });

    it("answers no preflight and sends no CORS headers", async () => {
      const response = await preflight(server, "authorization,content-type,x-amz-target");
      expect(response.status).not.toBe(204);
      expect(response.status).not.toBe(200);
      const ok = await rawRequest(server, { target: "secretsmanager.ListSecrets" }).set("Origin", ORIGIN);
      expect(ok.status).toBe(200);
      for (const { headers } of [response, ok]) {
        expect(Object.keys(headers).filter((name) => name.startsWith("access-control-"))).toEqual([]);
      }
    });
  });
});
