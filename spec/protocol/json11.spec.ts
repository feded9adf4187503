// The JSON-1.1 endpoint on the raw wire: check order, error bodies and headers, limits, auth, admin routes.
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import aws4 from "aws4";
import request from "supertest";
import { operations as kmsModelOperations } from "../../src/generated/kms";
import { operations as secretsManagerModelOperations } from "../../src/generated/secretsmanager";
import { kmsOperations } from "../../src/services/kms";
import { secretsManagerOperations } from "../../src/services/secretsmanager";
import { rawRequest, signedHeaders, startTestServer, type TestServer } from "../support/server";

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ flags: ["--max-body-bytes", "65536"] });
});
afterAll(() => server.close());

const expectAwsHeaders = (response: request.Response): void => {
  expect(response.headers["content-type"]).toBe("application/x-amz-json-1.1");
  expect(response.headers["x-amzn-requestid"]).toMatch(/^[0-9a-f-]{36}$/);
  expect(new Date(response.headers["date"] as string).getTime()).not.toBeNaN();
};

/** `messageMember` null: AWS sends no message for this error. */
const expectError = (response: request.Response, status: number, type: string, messageMember: string | null = "message"): void => {
  expectAwsHeaders(response);
  expect(response.status).toBe(status);
  const body = JSON.parse(response.text) as Record<string, unknown>;
  expect(body.__type).toBe(type);
  expect(response.headers["x-amzn-errortype"]).toBe(type);
  if (messageMember === null) expect(Object.keys(body)).toEqual(["__type"]);
  else expect(typeof body[messageMember]).toBe("string");
};

describe("serialization", () => {
  it("answers a good request with 200 and the AWS headers", async () => {
    const response = await rawRequest(server, { target: "TrentService.CreateKey", body: "{}" });
    expect(response.status).toBe(200);
    expectAwsHeaders(response);
    const body = JSON.parse(response.text) as { KeyMetadata: { CreationDate: unknown } };
    // Timestamps are epoch seconds with a fraction, as AWS sends them.
    expect(typeof body.KeyMetadata.CreationDate).toBe("number");
  });

  it("takes an empty body as an empty object", async () => {
    const response = await rawRequest(server, { target: "TrentService.CreateKey", body: "" });
    expect(response.status).toBe(200);
  });

  it("answers a body that is not JSON with SerializationException", async () => {
    expectError(await rawRequest(server, { target: "TrentService.CreateKey", body: "{not json" }), 400, "SerializationException");
  });

  it("refuses a body that is not UTF-8 with SerializationException, and stores nothing of it", async () => {
    const secretWith = (name: string, value: Buffer): Buffer =>
      Buffer.concat([
        Buffer.from(`{"Name":"${name}","ClientRequestToken":"utf8-spec-token-0000000000000000001","SecretString":"`),
        value,
        Buffer.from('"}'),
      ]);
    const notUtf8 = {
      "a byte UTF-8 never uses": Buffer.from([0x61, 0xff, 0x62]),
      "a lead byte without its continuation": Buffer.from([0x61, 0xc3, 0x62]),
      "an overlong '/'": Buffer.from([0xc0, 0xaf]),
      "a UTF-16 surrogate encoded as UTF-8": Buffer.from([0xed, 0xa0, 0x80]),
    };
    for (const [index, bytes] of Object.values(notUtf8).entries()) {
      const name = `not-utf8-${index}`;
      const response = await rawRequest(server, { target: "secretsmanager.CreateSecret", body: secretWith(name, bytes) });
      expectError(response, 400, "SerializationException");
      expect(JSON.parse(response.text).message).toBe("Request body is not valid UTF-8.");
      const read = await rawRequest(server, { target: "secretsmanager.GetSecretValue", body: JSON.stringify({ SecretId: name }) });
      expectError(read, 400, "ResourceNotFoundException", "Message");
    }
    // Characters of every UTF-8 length go through as sent.
    const text = "aü€😀";
    const created = await rawRequest(server, { target: "secretsmanager.CreateSecret", body: secretWith("utf8-ok", Buffer.from(text, "utf8")) });
    expect(created.status).toBe(200);
    const read = await rawRequest(server, { target: "secretsmanager.GetSecretValue", body: JSON.stringify({ SecretId: "utf8-ok" }) });
    expect(JSON.parse(read.text).SecretString).toBe(text);
  });

  it("answers a JSON type mismatch with SerializationException", async () => {
    const response = await rawRequest(server, {
      target: "TrentService.GenerateDataKey",
      body: JSON.stringify({ KeyId: "alias/aws/secretsmanager", NumberOfBytes: "32" }),
    });
    expectError(response, 400, "SerializationException");
    expect(JSON.parse(response.text).message).toBe("STRING_VALUE can not be converted to an Integer");
  });

  it("answers a wrong content type with SerializationException", async () => {
    const response = await rawRequest(server, {
      target: "TrentService.CreateKey",
      headers: { "Content-Type": "text/plain" },
    });
    expectError(response, 400, "SerializationException");
  });

  it("answers an unknown or missing target with UnknownOperationException, saying why with the services' own names", async () => {
    // AWS sends no message here; secretslite says what was wrong, naming the service as users know it and never
    // the wire's target prefix (TrentService, secretsmanager.).
    const message = (response: request.Response): unknown => (JSON.parse(response.text) as Record<string, unknown>).message;
    const kms = await rawRequest(server, { target: "TrentService.MakeCoffee" });
    expectError(kms, 400, "UnknownOperationException");
    expect(message(kms)).toBe("KMS has no operation MakeCoffee");
    const sm = await rawRequest(server, { target: "secretsmanager.CreateKey", service: "secretsmanager" });
    expectError(sm, 400, "UnknownOperationException");
    expect(message(sm)).toBe("Secrets Manager has no operation CreateKey");
    const missing = await rawRequest(server, { service: "kms" });
    expectError(missing, 400, "UnknownOperationException");
    expect(message(missing)).toBe("No operation named: send the X-Amz-Target header (secretslite serves KMS and Secrets Manager)");
    const other = await rawRequest(server, { target: "DynamoDB_20120810.GetItem" });
    expectError(other, 400, "UnknownOperationException");
    expect(message(other)).toBe("X-Amz-Target 'DynamoDB_20120810.GetItem' names no service secretslite serves (KMS and Secrets Manager)");
  });

  it("checks the body before the target, and the target before authentication", async () => {
    expectError(await rawRequest(server, { target: "TrentService.MakeCoffee", body: "[" }), 400, "SerializationException");
    expectError(await rawRequest(server, { target: "TrentService.MakeCoffee", sign: false }), 400, "UnknownOperationException");
  });

  it("cases the message member as the service model does", async () => {
    const kms = await rawRequest(server, { target: "TrentService.DescribeKey", body: JSON.stringify({ KeyId: "alias/none" }) });
    expectError(kms, 400, "NotFoundException", "message");
    const sm = await rawRequest(server, { target: "secretsmanager.GetSecretValue", body: JSON.stringify({ SecretId: "none" }) });
    expectError(sm, 400, "ResourceNotFoundException", "Message");
    expect(JSON.parse(sm.text).message).toBeUndefined();
    const bad = await rawRequest(server, {
      target: "TrentService.Decrypt",
      body: JSON.stringify({ CiphertextBlob: Buffer.from("not a ciphertext").toString("base64") }),
    });
    expectError(bad, 400, "InvalidCiphertextException", null);
  });

  it("rejects an oversized body with 413 and keeps serving", async () => {
    const big = JSON.stringify({ Plaintext: "A".repeat(70_000) });
    const response = await rawRequest(server, { target: "TrentService.Encrypt", body: big });
    expect(response.status).toBe(413);
    expect(JSON.parse(response.text).__type).toBe("RequestEntityTooLargeException");
    expect(response.headers["content-type"]).toBe("application/x-amz-json-1.1");
    const after = await rawRequest(server, { target: "TrentService.CreateKey" });
    expect(after.status).toBe(200);
  });

  it("serves every operation of both models: none answers NotImplementedException", async () => {
    const served = { kms: new Set(Object.keys(kmsOperations)), secretsmanager: new Set(Object.keys(secretsManagerOperations)) };
    expect(kmsModelOperations.filter((name) => !served.kms.has(name))).toEqual([]);
    expect(secretsManagerModelOperations.filter((name) => !served.secretsmanager.has(name))).toEqual([]);
    expect(kmsModelOperations).toHaveLength(54);
    expect(secretsManagerModelOperations).toHaveLength(23);
    // The last ones to land answer through the wire: a request without its required members is a validation error.
    for (const target of ["TrentService.CreateCustomKeyStore", "TrentService.ReplicateKey", "TrentService.ImportKeyMaterial", "TrentService.CreateGrant"]) {
      const response = await rawRequest(server, { target, body: "{}" });
      expectError(response, 400, "ValidationException");
    }
  });
});

describe("validation", () => {
  it("reports constraint violations in AWS's form", async () => {
    const response = await rawRequest(server, {
      target: "TrentService.CreateKey",
      body: JSON.stringify({ KeySpec: "AES_999", Description: "d".repeat(8193) }),
    });
    expectError(response, 400, "ValidationException");
    const message = JSON.parse(response.text).message as string;
    expect(message).toMatch(/^2 validation errors detected: /);
    expect(message).toContain("Value 'AES_999' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [");
    expect(message).toContain("at 'description' failed to satisfy constraint: Member must have length less than or equal to 8192");
  });

  it("reports a missing required member as null and never echoes a sensitive value", async () => {
    const response = await rawRequest(server, {
      target: "TrentService.Encrypt",
      body: JSON.stringify({ Plaintext: Buffer.alloc(4097, 7).toString("base64") }),
    });
    expectError(response, 400, "ValidationException");
    const message = JSON.parse(response.text).message as string;
    expect(message).toContain("Value null at 'keyId' failed to satisfy constraint: Member must not be null");
    expect(message).toContain("Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096");
    expect(message).not.toContain("BwcH");
  });
});

describe("authentication", () => {
  it("requires a SigV4 Authorization header", async () => {
    const unsigned = await rawRequest(server, { target: "TrentService.CreateKey", sign: false });
    expectError(unsigned, 400, "MissingAuthenticationTokenException");
    expect(JSON.parse(unsigned.text).message).toBe("Request is missing Authentication Token");
    const otherScheme = await rawRequest(server, {
      target: "TrentService.CreateKey",
      sign: false,
      headers: { Authorization: "Basic dXNlcjpwYXNz" },
    });
    expectError(otherScheme, 400, "MissingAuthenticationTokenException");
  });

  it("answers a malformed SigV4 header with IncompleteSignatureException", async () => {
    const response = await rawRequest(server, {
      target: "TrentService.CreateKey",
      sign: false,
      headers: { Authorization: "AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/kms/aws4_request", "X-Amz-Date": "20261123T000000Z" },
    });
    expectError(response, 400, "IncompleteSignatureException");
    expect(JSON.parse(response.text).message).toContain("Authorization header requires 'Signature' parameter.");
  });

  it("accepts any well-formed signature outside strict mode, and a session token", async () => {
    const response = await rawRequest(server, {
      target: "TrentService.CreateKey",
      credentials: { accessKeyId: "ASIAEXAMPLE", secretAccessKey: "not-the-real-one" },
      headers: { "X-Amz-Security-Token": "session-token" },
    });
    expect(response.status).toBe(200);
  });
});

describe("strict signatures (--verify-signatures)", () => {
  let strict: TestServer;
  const key = { accessKeyId: "AKIASTRICTEXAMPLE", secretAccessKey: "strict-secret-key" };

  beforeAll(async () => {
    const file = path.join(server.dataDir, "credentials");
    writeFileSync(file, `[default]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n`);
    strict = await startTestServer({ flags: ["--verify-signatures", "--credentials-file", file] });
  });
  afterAll(() => strict.close());

  it("accepts a correctly signed request", async () => {
    expect((await rawRequest(strict, { target: "TrentService.CreateKey", credentials: key })).status).toBe(200);
  });

  it("rejects a wrong secret with InvalidSignatureException", async () => {
    const response = await rawRequest(strict, {
      target: "TrentService.CreateKey",
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: "wrong" },
    });
    expectError(response, 400, "InvalidSignatureException");
  });

  it("rejects an unknown access key with UnrecognizedClientException", async () => {
    const response = await rawRequest(strict, {
      target: "TrentService.CreateKey",
      credentials: { accessKeyId: "AKIAUNKNOWN", secretAccessKey: "x" },
    });
    expectError(response, 400, "UnrecognizedClientException");
  });

  it("rejects a signature over another body", async () => {
    const headers = signedHeaders(strict, { target: "TrentService.CreateKey", credentials: key, body: '{"Description":"a"}' });
    const original = await request(strict.url).post("/").set(headers).send('{"Description":"a"}');
    expect(original.status).toBe(200);
    const tampered = await request(strict.url).post("/").set(headers).send('{"Description":"b"}');
    expectError(tampered, 400, "InvalidSignatureException");
  });

  it("rejects an expired signature with AWS's 5-minute text", async () => {
    const old = new Date(Date.now() - 10 * 60 * 1000).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
    const response = await rawRequest(strict, {
      target: "secretsmanager.GetSecretValue",
      credentials: key,
      body: JSON.stringify({ SecretId: "x" }),
      headers: { "X-Amz-Date": old },
    });
    // No model declares InvalidSignatureException, so its message member is lower-case even here.
    expectError(response, 400, "InvalidSignatureException", "message");
    expect(JSON.parse(response.text).message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/);
  });

  /** Signed by aws4 over host and x-amz-date only (aws4 signs every header it is given unless told to ignore it). */
  const signedOverHostAndDate = (body: string, target: string, extraSigned: readonly string[] = []): Record<string, string> => {
    const url = new URL(strict.url);
    const ignored = ["content-type", "content-length", "x-amz-target"].filter((name) => !extraSigned.includes(name));
    const signed = aws4.sign(
      {
        host: url.host,
        method: "POST",
        path: "/",
        service: "secretsmanager",
        region: "us-east-1",
        headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target },
        body,
        ...{ extraHeadersToIgnore: Object.fromEntries(ignored.map((name) => [name, true])) },
      },
      key,
    );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers ?? {})) {
      if (name.toLowerCase() !== "host" && name.toLowerCase() !== "content-length") headers[name] = String(value);
    }
    return headers;
  };

  it("refuses a signature that leaves X-Amz-Target out, so a captured call cannot be replayed as another operation", async () => {
    const body = JSON.stringify({ SecretId: "strict/replayed", ForceDeleteWithoutRecovery: true });
    const created = await rawRequest(strict, {
      target: "secretsmanager.CreateSecret",
      credentials: key,
      body: JSON.stringify({ Name: "strict/replayed", SecretString: "s", ClientRequestToken: "strict-replay-token-000000000000000001" }),
    });
    expect(created.status).toBe(200);
    const headers = signedOverHostAndDate(body, "secretsmanager.DescribeSecret");
    expect(headers.Authorization).toContain("SignedHeaders=host;x-amz-date,");
    for (const target of ["secretsmanager.DescribeSecret", "secretsmanager.DeleteSecret"]) {
      for (const contentType of ["application/x-amz-json-1.1", "application/json"]) {
        const response = await request(strict.url).post("/").set({ ...headers, "X-Amz-Target": target, "Content-Type": contentType }).send(body);
        expectError(response, 400, "InvalidSignatureException");
        expect(JSON.parse(response.text).message).toBe("'x-amz-target' must be a 'SignedHeader' in the AWS Authorization.");
      }
    }
    const described = await rawRequest(strict, { target: "secretsmanager.DescribeSecret", credentials: key, body: JSON.stringify({ SecretId: "strict/replayed" }) });
    expect(JSON.parse(described.text).DeletedDate).toBeUndefined();
  });

  it("accepts a signature over X-Amz-Target that leaves Content-Type out, as AWS's JSON services do", async () => {
    const body = JSON.stringify({ SecretId: "strict/replayed" });
    const headers = signedOverHostAndDate(body, "secretsmanager.DescribeSecret", ["x-amz-target"]);
    expect(headers.Authorization).toContain("SignedHeaders=host;x-amz-date;x-amz-target,");
    const response = await request(strict.url).post("/").set({ ...headers, "Content-Type": "application/json" }).send(body);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text).Name).toBe("strict/replayed");
  });

  it("rejects a signature scoped to the other service", async () => {
    const response = await rawRequest(strict, { target: "TrentService.CreateKey", credentials: key, service: "secretsmanager" });
    expectError(response, 400, "InvalidSignatureException");
    expect(JSON.parse(response.text).message).toContain("Credential should be scoped to correct service: 'kms'.");
  });
});

describe("admin routes", () => {
  it("reports health with versions and the state of storage and token", async () => {
    const response = await request(server.url).get("/_secretslite/health");
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: "ready", storage: "open", keyStore: { ok: true, kind: "pkcs11" } });
    expect(response.body.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("resets every account and region", async () => {
    const created = await rawRequest(server, { target: "TrentService.CreateKey", region: "eu-central-1" });
    const keyId = JSON.parse(created.text).KeyMetadata.KeyId as string;
    const secret = await rawRequest(server, {
      target: "secretsmanager.CreateSecret",
      body: JSON.stringify({ Name: "reset-me", SecretString: "s", ClientRequestToken: createHash("sha256").update("t").digest("hex").slice(0, 36) }),
    });
    expect(secret.status).toBe(200);
    expect((await request(server.url).post("/_secretslite/reset")).status).toBe(200);
    const described = await rawRequest(server, {
      target: "TrentService.DescribeKey",
      region: "eu-central-1",
      body: JSON.stringify({ KeyId: keyId }),
    });
    expect(JSON.parse(described.text).__type).toBe("NotFoundException");
    const read = await rawRequest(server, { target: "secretsmanager.GetSecretValue", body: JSON.stringify({ SecretId: "reset-me" }) });
    expect(JSON.parse(read.text).__type).toBe("ResourceNotFoundException");
  });

  it("answers unknown admin paths with 404 JSON", async () => {
    const response = await request(server.url).get("/_secretslite/nothing");
    expect(response.status).toBe(404);
  });
});
