// One guard before express for every admin route: any spelling of a path, foreign pages refused, credentials under --verify-signatures.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { CreateSecretCommand, GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import aws4 from "aws4";
import request from "supertest";
import { credentials, startTestServer, type TestServer } from "../support/server";

const EVIL = "http://evil.example";

/** A request exactly as given, path included: supertest and fetch would normalise some of these spellings. */
function raw(server: { port: number }, method: string, requestPath: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: server.port, method, path: requestPath, headers: { "Content-Type": "text/plain", ...headers }, agent: false }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Every spelling express (or the router under it, or a proxy before it) might take for the reset route. */
const SPELLINGS = (port: number): string[] => [
  "/_SECRETSLITE/reset",
  "/_Secretslite/Reset",
  "/_secretslite/reset/",
  "//_secretslite/reset",
  "/_secretslite//reset",
  "/_secretslite/./reset",
  "/x/../_secretslite/reset",
  "/_secretslite%2Freset",
  "/_secretslite/%72eset",
  "/%5Fsecretslite/reset",
  "/_secretslite/reset;x",
  `http://127.0.0.1:${port}/_secretslite/reset`,
  `http://evil.example/_secretslite/reset`,
];

async function expectKept(server: TestServer, name: string): Promise<void> {
  expect((await server.secretsManager().send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe("kept");
}

describe("behaviour", () => {
  describe("signatures unchecked (the default)", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer();
      await server.secretsManager().send(new CreateSecretCommand({ Name: "guard/kept", SecretString: "kept" }));
    });
    afterAll(async () => {
      await server.close();
    });

    it("refuses a foreign page's simple POST to reset in every spelling, and keeps the data", async () => {
      for (const spelling of ["/_secretslite/reset", ...SPELLINGS(server.port)]) {
        const answer = await raw(server, "POST", spelling, { Origin: EVIL });
        expect([spelling, answer.status]).toEqual([spelling, expect.any(Number)]);
        expect([spelling, [403, 404].includes(answer.status)]).toEqual([spelling, true]);
        expect(() => JSON.parse(answer.body) as unknown).not.toThrow();
      }
      await expectKept(server, "guard/kept");
    });

    it("routes only the canonical spelling, even for local callers: the others get 404 and wipe nothing", async () => {
      for (const spelling of SPELLINGS(server.port)) {
        const answer = await raw(server, "POST", spelling);
        expect([spelling, answer.status]).toEqual([spelling, 404]);
      }
      await expectKept(server, "guard/kept");
    });

    it("refuses a foreign page on any admin route and method, health and unknown paths included", async () => {
      for (const [method, route] of [["GET", "/_secretslite/health"], ["GET", "/_secretslite/nothing"], ["PUT", "/_secretslite/reset"], ["DELETE", "/"]] as const) {
        expect([method, route, (await raw(server, method, route, { Origin: EVIL })).status]).toEqual([method, route, 403]);
      }
    });

    it("lets local callers reset without a token, as before", async () => {
      expect((await request(server.url).get("/_secretslite/health")).status).toBe(200);
      expect((await request(server.url).post("/_secretslite/reset").set("Origin", "http://localhost:3000")).status).toBe(200);
      await expect(server.secretsManager().send(new GetSecretValueCommand({ SecretId: "guard/kept" }))).rejects.toThrow(/can't find/);
    });
  });

  describe("--verify-signatures", () => {
    let server: TestServer;
    let workDir: string;
    const plant = () => server.secretsManager().send(new CreateSecretCommand({ Name: "guard/kept", SecretString: "kept" }));
    /** A reset signed by the `aws4` package, as `curl --aws-sigv4` or any SigV4 library would. */
    const signedReset = (signing: { service?: string; body?: string; credentials?: typeof credentials } = {}) => {
      const url = new URL(server.url);
      const signed = aws4.sign(
        { host: url.host, method: "POST", path: "/_secretslite/reset", service: signing.service ?? "secretsmanager", region: "us-east-1", body: signing.body ?? "" },
        signing.credentials ?? credentials,
      );
      const headers = Object.fromEntries(Object.entries(signed.headers ?? {}).filter(([name]) => name.toLowerCase() !== "host").map(([name, value]) => [name, String(value)]));
      return request(server.url).post("/_secretslite/reset").set(headers).send(signing.body ?? "");
    };

    beforeAll(async () => {
      workDir = mkdtempSync(path.join(os.tmpdir(), "secretslite-guard-"));
      const file = path.join(workDir, "credentials");
      writeFileSync(file, `[default]\naws_access_key_id = ${credentials.accessKeyId}\naws_secret_access_key = ${credentials.secretAccessKey}\n`);
      server = await startTestServer({ flags: ["--verify-signatures", "--credentials-file", file] });
      await plant();
    });
    afterAll(async () => {
      await server.close();
      rmSync(workDir, { recursive: true, force: true });
    });

    it("refuses reset without credentials (from any origin, or none) with 401 and keeps the data", async () => {
      for (const origin of [undefined, "http://localhost:3000", EVIL]) {
        const answer = await raw(server, "POST", "/_secretslite/reset", origin === undefined ? {} : { Origin: origin });
        expect([origin, answer.status]).toEqual([origin, 401]);
        expect(JSON.parse(answer.body).message).toMatch(/admin token/);
      }
      for (const spelling of SPELLINGS(server.port)) expect([spelling, (await raw(server, "POST", spelling)).status]).toEqual([spelling, 404]);
      const wrong = await request(server.url).post("/_secretslite/reset").set("x-secretslite-admin-token", "not-the-token");
      expect(wrong.status).toBe(401);
      expect(wrong.headers["www-authenticate"]).toMatch(/^Bearer/);
      await expectKept(server, "guard/kept");
    });

    it("leaves GET health open to probes without credentials, and nothing else", async () => {
      expect((await request(server.url).get("/_secretslite/health")).status).toBe(200);
      expect((await raw(server, "HEAD", "/_secretslite/health")).status).toBe(200);
      expect((await raw(server, "POST", "/_secretslite/health")).status).toBe(401);
      expect((await raw(server, "GET", "/_secretslite/nothing")).status).toBe(401);
    });

    it("accepts the admin token in its header or as a bearer token; the run file holds it, for its user alone", async () => {
      expect(server.adminToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const runFile = path.join(server.dataDir, "run.json");
      expect(JSON.parse(readFileSync(runFile, "utf8"))).toMatchObject({ url: server.url, adminToken: server.adminToken });
      expect(statSync(runFile).mode & 0o777).toBe(0o600);
      expect((await request(server.url).post("/_secretslite/reset").set("x-secretslite-admin-token", server.adminToken)).status).toBe(200);
      await expect(server.secretsManager().send(new GetSecretValueCommand({ SecretId: "guard/kept" }))).rejects.toThrow(/can't find/);
      await plant();
      expect((await request(server.url).post("/_secretslite/reset").set("Authorization", `Bearer ${server.adminToken}`)).status).toBe(200);
      await expect(server.secretsManager().send(new GetSecretValueCommand({ SecretId: "guard/kept" }))).rejects.toThrow(/can't find/);
      await plant();
    });

    it("accepts a request SigV4-signed with a key of the credentials file, and refuses other signatures", async () => {
      const stranger = { accessKeyId: "AKIDSTRANGER", secretAccessKey: "nope" };
      expect((await signedReset({ credentials: stranger })).status).toBe(401);
      expect((await signedReset({ credentials: { ...credentials, secretAccessKey: "wrong" } })).status).toBe(401);
      expect((await signedReset({ service: "s3" })).status).toBe(401);
      // The guard runs before express reads a body: a signed body could not be checked there.
      expect((await signedReset({ body: "{}" })).status).toBe(401);
      await expectKept(server, "guard/kept");
      expect((await signedReset()).status).toBe(200);
      await expect(server.secretsManager().send(new GetSecretValueCommand({ SecretId: "guard/kept" }))).rejects.toThrow(/can't find/);
      await plant();
      expect((await signedReset({ service: "kms" })).status).toBe(200);
    });

    it("makes a new token at every start", async () => {
      const other = await startTestServer();
      try {
        expect(other.adminToken).not.toBe(server.adminToken);
      } finally {
        await other.close();
      }
    });
  });
});
