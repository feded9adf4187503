// External key stores: the XKS proxy of src/xks (AWS's XKS proxy API v1), then KMS keys held in it.
import { createHash, createHmac, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { SignatureV4 } from "@smithy/signature-v4";
import { createLogger } from "../../src/logger";
import { ensureSelfSignedCertificate } from "../../src/tls/self-signed";
import { startXksProxy, type RunningXksProxy, type XksKey } from "../../src/xks/proxy";
import { temporaryDirs } from "../support/files";

const XKS_CREDENTIALS = { accessKeyId: "XKSPROXYACCESSKEYID01", secretAccessKey: "xksProxyRawSecretAccessKey/0123456789ABC" };
const newDir = temporaryDirs("secretslite-xks-spec-");

/** SHA-256 for @smithy/signature-v4, written from node:crypto so the signature is not the one src/ computes. */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", Buffer.from(secret as ArrayBuffer));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === "string" ? data : Buffer.from(data as ArrayBuffer));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

interface XksAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** POSTs one XKS API call, signed for kms-xks-proxy with the given credentials. */
async function callProxy(
  proxy: RunningXksProxy,
  ca: string,
  path: string,
  body: Record<string, unknown>,
  credentials = XKS_CREDENTIALS,
  method = "POST",
): Promise<XksAnswer> {
  const text = method === "GET" ? "" : JSON.stringify(body);
  const signer = new SignatureV4({ credentials, region: "us-east-1", service: "kms-xks-proxy", sha256: Sha256 });
  const signed = await signer.sign({
    method,
    protocol: "https:",
    hostname: "localhost",
    port: proxy.port,
    path,
    headers: { host: `localhost:${proxy.port}`, "content-type": "application/json" },
    body: text,
  });
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: "127.0.0.1", servername: "localhost", port: proxy.port, path, method, headers: signed.headers, ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown> }));
    });
    req.on("error", reject);
    req.end(text);
  });
}

const metadata = (kmsOperation: string) => ({ awsPrincipalArn: "arn:aws:iam::000000000000:root", kmsOperation, kmsRequestId: "11111111-2222-3333-4444-555555555555" });

describe("the XKS proxy (src/xks/proxy.ts)", () => {
  let proxy: RunningXksProxy;
  let ca: string;
  const lines: string[] = [];
  const keys: XksKey[] = [
    { id: "key-256", material: randomBytes(32), status: "ENABLED", usage: ["ENCRYPT", "DECRYPT"] },
    { id: "key-disabled", material: randomBytes(32), status: "DISABLED", usage: ["ENCRYPT", "DECRYPT"] },
  ];

  beforeAll(async () => {
    const certificate = await ensureSelfSignedCertificate(newDir(), createLogger("error"));
    ca = readFileSync(certificate.certFile, "utf8");
    proxy = await startXksProxy({
      ...XKS_CREDENTIALS,
      pathPrefix: "/example",
      keys,
      tls: { cert: ca, key: readFileSync(certificate.keyFile) },
      logger: createLogger("info", (line) => lines.push(line)),
    });
  });
  afterAll(() => proxy.close());

  it("answers GetHealthStatus with the spec's fields", async () => {
    const answer = await callProxy(proxy, ca, "/example/kms/xks/v1/health", { requestMetadata: metadata("CreateCustomKeyStore") });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ xksProxyFleetSize: 1, xksProxyVendor: expect.any(String), xksProxyModel: expect.any(String), ekmVendor: expect.any(String) });
    expect(answer.body.ekmFleetDetails).toEqual([expect.objectContaining({ id: expect.any(String), model: expect.any(String), healthStatus: "ACTIVE" })]);
  });

  it("answers GetKeyMetadata: AES_256, ENCRYPT and DECRYPT, the key's status", async () => {
    expect((await callProxy(proxy, ca, "/example/kms/xks/v1/keys/key-256/metadata", { requestMetadata: metadata("CreateKey") })).body).toEqual({
      keySpec: "AES_256",
      keyUsage: ["ENCRYPT", "DECRYPT"],
      keyStatus: "ENABLED",
    });
    expect((await callProxy(proxy, ca, "/example/kms/xks/v1/keys/key-disabled/metadata", { requestMetadata: metadata("DescribeKey") })).body.keyStatus).toBe("DISABLED");
  });

  it("encrypts with AES-GCM under the AAD and decrypts only with the same AAD", async () => {
    const plaintext = Buffer.from("Hello World!");
    const aad = Buffer.from("project=nile,department=marketing");
    const sealed = await callProxy(proxy, ca, "/example/kms/xks/v1/keys/key-256/encrypt", {
      requestMetadata: { ...metadata("Encrypt"), kmsKeyArn: "arn:aws:kms:us-east-1:000000000000:key/x" },
      plaintext: plaintext.toString("base64"),
      encryptionAlgorithm: "AES_GCM",
      additionalAuthenticatedData: aad.toString("base64"),
      ciphertextDataIntegrityValueAlgorithm: "SHA_256",
    });
    expect(sealed.status).toBe(200);
    const { ciphertext, initializationVector, authenticationTag, ciphertextDataIntegrityValue } = sealed.body as Record<string, string>;
    expect(Buffer.from(ciphertext ?? "", "base64")).toHaveLength(plaintext.length);
    expect(Buffer.from(initializationVector ?? "", "base64")).toHaveLength(12);
    expect(Buffer.from(authenticationTag ?? "", "base64")).toHaveLength(16);
    // Appendix C: SHA-256 over AAD ‖ IV ‖ ciphertext ‖ tag (no ciphertextMetadata).
    const cdiv = createHash("sha256")
      .update(Buffer.concat([aad, ...[initializationVector, ciphertext, authenticationTag].map((field) => Buffer.from(field ?? "", "base64"))]))
      .digest("base64");
    expect(ciphertextDataIntegrityValue).toBe(cdiv);

    const opened = await callProxy(proxy, ca, "/example/kms/xks/v1/keys/key-256/decrypt", {
      requestMetadata: metadata("Decrypt"),
      ciphertext,
      initializationVector,
      authenticationTag,
      encryptionAlgorithm: "AES_GCM",
      additionalAuthenticatedData: aad.toString("base64"),
    });
    expect(opened).toEqual({ status: 200, body: { plaintext: plaintext.toString("base64") } });

    const wrongAad = await callProxy(proxy, ca, "/example/kms/xks/v1/keys/key-256/decrypt", {
      requestMetadata: metadata("Decrypt"),
      ciphertext,
      initializationVector,
      authenticationTag,
      encryptionAlgorithm: "AES_GCM",
      additionalAuthenticatedData: Buffer.from("project=amazon").toString("base64"),
    });
    expect(wrongAad.status).toBe(400);
    expect(wrongAad.body.errorName).toBe("InvalidCiphertextException");
  });

  it("answers the spec's errors: bad signature 401, unknown key 404, bad path 404, disabled key 400, GET 405", async () => {
    const badSignature = await callProxy(proxy, ca, "/example/kms/xks/v1/health", { requestMetadata: metadata("CreateCustomKeyStore") }, {
      ...XKS_CREDENTIALS,
      secretAccessKey: "not-the-secret-0123456789012345678901",
    });
    expect(badSignature).toMatchObject({ status: 401, body: { errorName: "AuthenticationFailedException" } });
    const wrongService = await callProxy(proxy, ca, "/example/kms/xks/v1/health", { requestMetadata: metadata("x") }, { ...XKS_CREDENTIALS, accessKeyId: "AKIAUNKNOWN000000000" });
    expect(wrongService).toMatchObject({ status: 401, body: { errorName: "AuthenticationFailedException" } });
    expect(await callProxy(proxy, ca, "/example/kms/xks/v1/keys/nope/metadata", { requestMetadata: metadata("CreateKey") })).toMatchObject({
      status: 404,
      body: { errorName: "KeyNotFoundException" },
    });
    expect(await callProxy(proxy, ca, "/other/kms/xks/v1/health", { requestMetadata: metadata("x") })).toMatchObject({ status: 404, body: { errorName: "InvalidUriPathException" } });
    expect(
      await callProxy(proxy, ca, "/example/kms/xks/v1/keys/key-disabled/encrypt", { requestMetadata: metadata("Encrypt"), plaintext: "AA==", encryptionAlgorithm: "AES_GCM" }),
    ).toMatchObject({ status: 400, body: { errorName: "InvalidStateException" } });
    expect((await callProxy(proxy, ca, "/example/kms/xks/v1/health", {}, XKS_CREDENTIALS, "GET")).status).toBe(405);
  });

  it("logs every use with the KMS operation and request id, never the plaintext", () => {
    const uses = lines.filter((line) => line.includes("xks-proxy request"));
    expect(uses.length).toBeGreaterThanOrEqual(5);
    expect(uses.some((line) => line.includes("11111111-2222-3333-4444-555555555555") && line.includes("encrypt") && line.includes("key-256"))).toBe(true);
    expect(lines.join("\n")).not.toContain(Buffer.from("Hello World!").toString("base64"));
  });
});
