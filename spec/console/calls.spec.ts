// The console's call ring fed by the AWS endpoint's onCall: entries, filter, stats, no secret material, and the live stream.
import http from "node:http";
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from "@aws-sdk/client-kms";
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { CallRing, streamCalls, callFilterOf, RING_SIZE, type CallEvent } from "../../src/console/calls";
import type { Principals } from "../../src/iam/principals-file";
import { credentials } from "../support/server";
import { ACCOUNT, startEndpoint, type EndpointServer } from "./endpoint-fixture";

const SECRET_VALUE = "s3cr3t-value-never-in-the-ring";

describe("CallRing through the endpoint's onCall", () => {
  let ring: CallRing;
  let server: EndpointServer;
  beforeAll(async () => {
    ring = new CallRing();
    server = await startEndpoint(ring.record);
  });
  afterAll(async () => {
    ring.closeStreams();
    await server.close();
  });

  it("records successful and failing calls with service, operation, principal, resource, status, error and request id", async () => {
    const sm = server.secretsClient();
    const created = await sm.send(new CreateSecretCommand({ Name: "ring/one", SecretString: SECRET_VALUE }));
    const failure = await sm.send(new GetSecretValueCommand({ SecretId: "ring/missing" })).catch((error: Error & { $metadata: { requestId?: string } }) => error);
    expect(failure).toBeInstanceOf(Error);

    const [missing, create] = ring.recent({}, 2);
    expect(create).toMatchObject({
      service: "secretsmanager",
      operation: "CreateSecret",
      principal: credentials.accessKeyId,
      resource: "ring/one",
      account: ACCOUNT,
      region: "us-east-1",
      status: 200,
      errorCode: undefined,
      requestId: created.$metadata.requestId,
    });
    expect(create?.durationMs).toBeGreaterThanOrEqual(0);
    expect(missing).toMatchObject({
      service: "secretsmanager",
      operation: "GetSecretValue",
      resource: "ring/missing",
      status: 400,
      errorCode: "ResourceNotFoundException",
      errorMessage: "Secrets Manager can't find the specified secret.",
      requestId: (failure as { $metadata: { requestId?: string } }).$metadata.requestId,
    });
    expect(missing?.parameters).toEqual({ secretId: "ring/missing" });
    expect(ring.find(created.$metadata.requestId!)).toBe(create);
  });

  it("keeps request parameters as the audit log does: never a secret value or a plaintext", async () => {
    const sm = server.secretsClient();
    await sm.send(new PutSecretValueCommand({ SecretId: "ring/one", SecretString: SECRET_VALUE, VersionStages: ["custom"] }));
    const kms = server.kmsClient();
    const key = await kms.send(new CreateKeyCommand({}));
    const sealed = await kms.send(new EncryptCommand({ KeyId: key.KeyMetadata!.KeyId!, Plaintext: Buffer.from(SECRET_VALUE), EncryptionContext: { Purpose: "spec" } }));
    await kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob!, EncryptionContext: { Purpose: "spec" } }));
    await sm.send(new GetSecretValueCommand({ SecretId: "ring/one" }));

    const put = ring.recent({ operation: "PutSecretValue" })[0];
    expect(put?.parameters).toEqual({ secretId: "ring/one", versionStages: ["custom"], clientRequestToken: expect.any(String) });
    const encrypt = ring.recent({ operation: "Encrypt" })[0];
    expect(encrypt?.parameters).toEqual({ keyId: key.KeyMetadata!.KeyId, encryptionContext: { Purpose: "spec" } });
    expect(encrypt?.resource).toBe(key.KeyMetadata!.KeyId);
    const everything = JSON.stringify(ring.recent());
    expect(everything).not.toContain(SECRET_VALUE);
    expect(everything).not.toContain(Buffer.from(SECRET_VALUE).toString("base64"));
    expect(everything).not.toContain(Buffer.from(sealed.CiphertextBlob!).toString("base64"));
  });

  it("filters by service, operation, principal, resource substring and error code; counts per operation and per second", async () => {
    const sm = server.secretsClient();
    await sm.send(new CreateSecretCommand({ Name: "filter/alpha", SecretString: "a" }));
    await sm.send(new GetSecretValueCommand({ SecretId: "filter/nothing" })).catch(() => undefined);

    expect(ring.recent({ service: "kms" }).every((entry) => entry.service === "kms")).toBe(true);
    expect(ring.recent({ service: "kms" }).length).toBeGreaterThanOrEqual(3);
    expect(ring.recent({ resource: "alpha" }).map((entry) => entry.resource)).toEqual(["filter/alpha"]);
    const notFound = ring.recent(callFilterOf({ error: "ResourceNotFoundException" }));
    expect(notFound.map((entry) => entry.resource)).toEqual(["filter/nothing", "ring/missing"]);
    expect(ring.recent({ principal: "AKIAIOSFODNN7" }).length).toBe(ring.recent().length);
    expect(ring.recent({ principal: "someone-else" })).toEqual([]);

    const counts = ring.countsByOperation();
    expect(counts.find((count) => count.operation === "secretsmanager:GetSecretValue")).toEqual({ operation: "secretsmanager:GetSecretValue", calls: 3, errors: 2 });
    const seconds = ring.perSecond();
    expect(seconds).toHaveLength(900);
    expect(seconds.reduce((sum, second) => sum + second.requests, 0)).toBe(ring.recorded);
    expect(seconds.reduce((sum, second) => sum + second.errors, 0)).toBe(ring.recent().filter((entry) => entry.status >= 400).length);
  });

  it("records a request that names no operation, with no parameters", async () => {
    const response = await fetch(server.url, { method: "POST", headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.NoSuchThing" }, body: "{}" });
    expect(response.status).toBe(400);
    expect(ring.recent({}, 1)[0]).toMatchObject({ service: undefined, operation: "NoSuchThing", status: 400, errorCode: "UnknownOperationException", parameters: null, requestId: response.headers.get("x-amzn-requestid") });
  });

  it("streams each new matching call as an event to an SSE client", async () => {
    const stream = http.createServer((req, res) => streamCalls(ring, req, res, callFilterOf(Object.fromEntries(new URL(req.url ?? "/", "http://x").searchParams))));
    await new Promise<void>((resolve) => stream.listen(0, "127.0.0.1", resolve));
    const { port } = stream.address() as { port: number };
    try {
      const response = await new Promise<http.IncomingMessage>((resolve, reject) => http.get({ host: "127.0.0.1", port, path: "/?operation=DescribeSecret" }, resolve).on("error", reject));
      expect(response.statusCode).toBe(200);
      expect(response.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
      expect(response.headers["cache-control"]).toBe("no-store");
      response.setEncoding("utf8");
      let text = "";
      const event = new Promise<string>((resolve) => {
        response.on("data", (chunk: string) => {
          text += chunk;
          const at = text.indexOf("event: call\n");
          if (at >= 0 && text.indexOf("\n\n", at) > at) resolve(text.slice(at, text.indexOf("\n\n", at)));
        });
      });
      // Wait until the stream is subscribed (its first bytes are out), then make a call it skips and one it shows.
      await new Promise<void>((resolve) => response.once("data", (chunk: string) => ((text += chunk), resolve())));
      const sm = server.secretsClient();
      await sm.send(new GetSecretValueCommand({ SecretId: "ring/one" }));
      const { DescribeSecretCommand } = await import("@aws-sdk/client-secrets-manager");
      const described = await sm.send(new DescribeSecretCommand({ SecretId: "ring/one" }));
      const lines = (await event).split("\n");
      expect(lines[1]).toBe(`id: ${described.$metadata.requestId}`);
      const data = JSON.parse((lines[2] ?? "").replace(/^data: /, "")) as CallEvent;
      expect(data).toMatchObject({ service: "secretsmanager", operation: "DescribeSecret", resource: "ring/one", status: 200, errorCode: "", requestId: described.$metadata.requestId });
      expect(data.detail).toBe(`/_secretslite/ui/calls?request=${described.$metadata.requestId}`);
      expect(text).not.toContain("GetSecretValue");
      response.destroy();
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      ring.closeStreams();
      await new Promise<void>((resolve) => stream.close(() => resolve()));
    }
  });

  it("replays the kept calls after Last-Event-ID to a reconnecting client, then ends every stream on closeStreams", async () => {
    const stream = http.createServer((req, res) => streamCalls(ring, req, res, { service: "secretsmanager" }));
    await new Promise<void>((resolve) => stream.listen(0, "127.0.0.1", resolve));
    const { port } = stream.address() as { port: number };
    try {
      const sm = server.secretsClient();
      const { DescribeSecretCommand } = await import("@aws-sdk/client-secrets-manager");
      const seen = await sm.send(new DescribeSecretCommand({ SecretId: "ring/one" }));
      const missedOne = await sm.send(new DescribeSecretCommand({ SecretId: "ring/one" }));
      await server.kmsClient().send(new CreateKeyCommand({}));
      const missedTwo = await sm.send(new GetSecretValueCommand({ SecretId: "ring/one" }));
      const response = await new Promise<http.IncomingMessage>((resolve, reject) =>
        http.get({ host: "127.0.0.1", port, path: "/", headers: { "Last-Event-ID": seen.$metadata.requestId! } }, resolve).on("error", reject),
      );
      response.setEncoding("utf8");
      let text = "";
      response.on("data", (chunk: string) => (text += chunk));
      const ended = new Promise<void>((resolve) => response.on("end", resolve));
      await new Promise<void>((resolve) => response.once("data", () => resolve()));
      ring.closeStreams();
      await ended;
      const ids = [...text.matchAll(/^id: (.+)$/gm)].map((match) => match[1]);
      expect(ids).toEqual([missedOne.$metadata.requestId, missedTwo.$metadata.requestId]);
    } finally {
      await new Promise<void>((resolve) => stream.close(() => resolve()));
    }
  });
});

describe("CallRing with --principals", () => {
  it("names the caller by its principal's ARN", async () => {
    const arn = `arn:aws:iam::${ACCOUNT}:user/console-spec`;
    const principals: Principals = {
      byAccessKey: new Map([
        [credentials.accessKeyId, { ...credentials, userId: "AIDACONSOLESPEC", identityPolicies: [], principal: { arn, account: ACCOUNT, kind: "user", username: "console-spec", tags: {} } }],
      ]),
    };
    const ring = new CallRing();
    const server = await startEndpoint(ring.record, { principals });
    try {
      await server.secretsClient().send(new GetSecretValueCommand({ SecretId: "nothing" })).catch(() => undefined);
      expect(ring.recent()[0]).toMatchObject({ principal: arn, operation: "GetSecretValue", errorCode: "ResourceNotFoundException" });
      expect(ring.recent({ principal: "user/console-spec" })).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe("CallRing alone", () => {
  const call = (n: number, status = 200) => ({
    requestId: `r${n}`,
    startedAt: 1_000_000 + n,
    durationMs: 1,
    service: "kms" as const,
    operation: "DescribeKey",
    accessKeyId: "AKID",
    principalArn: undefined,
    account: ACCOUNT,
    region: "us-east-1",
    input: { KeyId: `k${n}` },
    body: {},
    status,
    errorCode: status === 200 ? undefined : "NotFoundException",
    errorMessage: undefined,
  });

  it("keeps the last 1,000 calls, newest first", () => {
    const ring = new CallRing(() => 5_000_000);
    for (let n = 0; n < RING_SIZE + 5; n++) ring.record(call(n));
    const kept = ring.recent();
    expect(kept).toHaveLength(RING_SIZE);
    expect(kept[0]?.requestId).toBe(`r${RING_SIZE + 4}`);
    expect(kept[RING_SIZE - 1]?.requestId).toBe("r5");
    expect(ring.find("r4")).toBeUndefined();
  });

  it("buckets requests and errors per second over the last 15 minutes", () => {
    let now = 10_000_000;
    const ring = new CallRing(() => now);
    ring.record(call(1));
    ring.record(call(2, 404));
    now += 2000;
    ring.record(call(3, 400));
    let seconds = ring.perSecond();
    expect(seconds.at(-1)).toEqual({ second: 10_002_000, requests: 1, errors: 1 });
    expect(seconds.at(-3)).toEqual({ second: 10_000_000, requests: 2, errors: 1 });
    // Fifteen minutes later the old seconds are gone, even though their slots were never overwritten by a call.
    now += 15 * 60 * 1000;
    seconds = ring.perSecond();
    expect(seconds.every((second) => second.requests === 0)).toBe(true);
  });
});
