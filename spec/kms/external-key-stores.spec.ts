// External key stores: the XKS proxy of src/xks (AWS's XKS proxy API v1), then KMS keys held in it.
import { createHash, createHmac, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  ConnectCustomKeyStoreCommand,
  CreateCustomKeyStoreCommand,
  DeleteCustomKeyStoreCommand,
  DescribeCustomKeyStoresCommand,
  DisconnectCustomKeyStoreCommand,
  GenerateRandomCommand,
  UpdateCustomKeyStoreCommand,
  type CreateCustomKeyStoreCommandInput,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { request as httpsRequest } from "node:https";
import { SignatureV4 } from "@smithy/signature-v4";
import { createLogger } from "../../src/logger";
import { ensureSelfSignedCertificate } from "../../src/tls/self-signed";
import { startXksProxy, type RunningXksProxy, type XksKey } from "../../src/xks/proxy";
import { temporaryDirs } from "../support/files";
import { startTestServer, type TestServer } from "../support/server";
import { startCliLines } from "../support/cli-process";
import { describeStore, settled } from "../support/kms";
import { startTestXksProxy, XKS_CREDENTIALS } from "../support/xks";

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

const errorOf = async (promise: Promise<unknown>): Promise<{ name: string; message: string }> =>
  promise.then(
    () => ({ name: "no error", message: "" }),
    (error: Error) => ({ name: error.name, message: error.message }),
  );

describe("EXTERNAL_KEY_STORE custom key stores (--xks-proxies)", () => {
  const lines: string[] = [];
  let proxy: RunningXksProxy;
  let server: TestServer;
  let kms: KMSClient;
  const publicStore = (name: string, overrides: Partial<CreateCustomKeyStoreCommandInput> = {}): CreateCustomKeyStoreCommandInput => ({
    CustomKeyStoreName: name,
    CustomKeyStoreType: "EXTERNAL_KEY_STORE",
    XksProxyUriEndpoint: "https://xks.example.com",
    XksProxyUriPath: `/${name}/kms/xks/v1`,
    XksProxyConnectivity: "PUBLIC_ENDPOINT",
    XksProxyAuthenticationCredential: { AccessKeyId: XKS_CREDENTIALS.accessKeyId, RawSecretAccessKey: XKS_CREDENTIALS.secretAccessKey },
    ...overrides,
  });

  beforeAll(async () => {
    const started = await startTestXksProxy([{ id: "key-256", material: randomBytes(32), status: "ENABLED", usage: ["ENCRYPT", "DECRYPT"] }], lines);
    proxy = started.proxy;
    const file = path.join(newDir(), "xks-proxies.json");
    writeFileSync(
      file,
      JSON.stringify({
        "xks.example.com": { url: proxy.url, ca: started.caFile },
        // Mapped, but nothing listens there.
        "down.example.com": { url: "https://localhost:1", ca: started.caFile },
      }),
    );
    server = await startTestServer({ flags: ["--xks-proxies", file] });
    kms = server.kms();
  });
  afterAll(async () => {
    await server.close();
    await proxy.close();
  });

  it("CreateCustomKeyStore calls the proxy's health check, then DescribeCustomKeyStores shows the proxy settings, never the secret", async () => {
    const before = lines.length;
    // A proxy answers any path prefix only if it is configured for it: this one serves no prefix.
    const { CustomKeyStoreId: id } = await kms.send(new CreateCustomKeyStoreCommand(publicStore("one", { XksProxyUriPath: "/kms/xks/v1" })));
    expect(lines.slice(before).some((line) => line.includes("xks-proxy request") && line.includes("CreateCustomKeyStore"))).toBe(true);
    const entry = await describeStore(kms, id ?? "");
    expect(entry).toMatchObject({
      CustomKeyStoreId: id,
      CustomKeyStoreName: "one",
      CustomKeyStoreType: "EXTERNAL_KEY_STORE",
      ConnectionState: "DISCONNECTED",
      XksProxyConfiguration: { Connectivity: "PUBLIC_ENDPOINT", AccessKeyId: XKS_CREDENTIALS.accessKeyId, UriEndpoint: "https://xks.example.com", UriPath: "/kms/xks/v1" },
    });
    expect(entry?.CloudHsmClusterId).toBeUndefined();
    expect(JSON.stringify(entry)).not.toContain(XKS_CREDENTIALS.secretAccessKey);

    // The same endpoint and path again: the model's XksProxyUriInUseException.
    expect((await errorOf(kms.send(new CreateCustomKeyStoreCommand(publicStore("two", { XksProxyUriPath: "/kms/xks/v1" }))))).name).toBe("XksProxyUriInUseException");

    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    expect(await settled(kms, id ?? "")).toBe("CONNECTED");
    // Connected: only the name may change.
    expect((await errorOf(kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: id, XksProxyUriPath: "/x/kms/xks/v1" })))).name).toBe("CustomKeyStoreInvalidStateException");
    await kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: id, NewCustomKeyStoreName: "one-renamed" }));
    // GenerateRandom never draws from an external key store (the model).
    expect((await errorOf(kms.send(new GenerateRandomCommand({ NumberOfBytes: 16, CustomKeyStoreId: id })))).name).toBe("UnsupportedOperationException");
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    expect((await describeStore(kms, id ?? ""))?.ConnectionState).toBe("DISCONNECTED");
    // Disconnected, a new path is checked against the proxy first: this one does not serve it.
    expect((await errorOf(kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: id, XksProxyUriPath: "/x/kms/xks/v1" })))).name).toBe(
      "XksProxyInvalidConfigurationException",
    );
    await kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    expect((await errorOf(describeStore(kms, id ?? ""))).name).toBe("CustomKeyStoreNotFoundException");
  });

  it("refuses a store whose proxy cannot be reached, rejects the credential, or does not serve the path, with the spec's exceptions and messages", async () => {
    const wrongSecret = await errorOf(
      kms.send(new CreateCustomKeyStoreCommand(publicStore("bad-secret", { XksProxyUriPath: "/kms/xks/v1", XksProxyAuthenticationCredential: { AccessKeyId: XKS_CREDENTIALS.accessKeyId, RawSecretAccessKey: "wrongSecretAccessKeyWrongSecretKey0123456789" } }))),
    );
    expect(wrongSecret).toEqual({
      name: "XksProxyIncorrectAuthenticationCredentialException",
      message: expect.stringContaining("The external key store proxy rejected the request because it could not authenticate AWS KMS."),
    });
    const unmapped = await errorOf(kms.send(new CreateCustomKeyStoreCommand(publicStore("unmapped", { XksProxyUriEndpoint: "https://elsewhere.example.com" }))));
    expect(unmapped).toEqual({ name: "XksProxyUriUnreachableException", message: expect.stringContaining("AWS KMS cannot communicate with the external key store proxy.") });
    expect((await errorOf(kms.send(new CreateCustomKeyStoreCommand(publicStore("down", { XksProxyUriEndpoint: "https://down.example.com" }))))).name).toBe(
      "XksProxyUriUnreachableException",
    );
    expect((await errorOf(kms.send(new CreateCustomKeyStoreCommand(publicStore("wrong-path", { XksProxyUriPath: "/nope/kms/xks/v1" }))))).name).toBe(
      "XksProxyInvalidConfigurationException",
    );
    expect((await kms.send(new DescribeCustomKeyStoresCommand({}))).CustomKeyStores?.map((store) => store.CustomKeyStoreName)).not.toEqual(
      expect.arrayContaining(["bad-secret", "unmapped", "down", "wrong-path"]),
    );
  });

  it("creates a VPC_ENDPOINT_SERVICE store without calling it; connecting fails with XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND", async () => {
    const { CustomKeyStoreId: id } = await kms.send(
      new CreateCustomKeyStoreCommand(
        publicStore("vpc", {
          XksProxyUriEndpoint: "https://vpce.example.com",
          XksProxyConnectivity: "VPC_ENDPOINT_SERVICE",
          XksProxyVpcEndpointServiceName: "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0",
        }),
      ),
    );
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    expect(await settled(kms, id ?? "")).toBe("FAILED");
    expect(await describeStore(kms, id ?? "")).toMatchObject({
      ConnectionErrorCode: "XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND",
      XksProxyConfiguration: { Connectivity: "VPC_ENDPOINT_SERVICE", VpcEndpointServiceName: "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0" },
    });
    // FAILED: Connect is refused until a Disconnect, as for CloudHSM key stores.
    expect((await errorOf(kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }))))).toMatchObject({ name: "CustomKeyStoreInvalidStateException" });
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    await kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id }));
  });

  it("a connected store whose proxy stops answering fails its next connection with XKS_PROXY_NOT_REACHABLE", async () => {
    const extraLines: string[] = [];
    const second = await startTestXksProxy([], extraLines);
    const file = path.join(newDir(), "xks-proxies.json");
    writeFileSync(file, JSON.stringify({ "xks2.example.com": { url: second.proxy.url, ca: second.caFile } }));
    const other = await startTestServer({ flags: ["--xks-proxies", file] });
    try {
      const client = other.kms();
      const { CustomKeyStoreId: id } = await client.send(new CreateCustomKeyStoreCommand(publicStore("stops", { XksProxyUriEndpoint: "https://xks2.example.com", XksProxyUriPath: "/kms/xks/v1" })));
      await second.proxy.close();
      await client.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
      expect(await settled(client, id ?? "")).toBe("FAILED");
      expect((await describeStore(client, id ?? ""))?.ConnectionErrorCode).toBe("XKS_PROXY_NOT_REACHABLE");
    } finally {
      await other.close();
      await second.proxy.close();
    }
  });
});

describe("secretslite xks-proxy (the built bin)", () => {
  it("serves the keys of --keys on a self-signed certificate, checks signatures, and stops on SIGTERM", async () => {
    const dir = newDir();
    const keysFile = path.join(dir, "keys.json");
    writeFileSync(keysFile, JSON.stringify({ keys: [{ id: "cli-key", material: randomBytes(32).toString("base64") }] }));
    const cli = await startCliLines(path.join(__dirname, "..", "..", "bin", "secretslite.js"), ["xks-proxy", "--keys", keysFile, "--tls-dir", dir], 2, {
      SECRETSLITE_XKS_ACCESS_KEY_ID: XKS_CREDENTIALS.accessKeyId,
      SECRETSLITE_XKS_SECRET_ACCESS_KEY: XKS_CREDENTIALS.secretAccessKey,
    });
    try {
      const url = /^secretslite xks-proxy listening on (https:\/\/localhost:(\d+))$/.exec(cli.lines[0] ?? "");
      const certFile = /^secretslite xks-proxy certificate (\S+)$/.exec(cli.lines[1] ?? "")?.[1];
      expect(url).not.toBeNull();
      const running = { url: url?.[1] ?? "", port: Number(url?.[2]), close: async () => undefined };
      const ca = readFileSync(certFile ?? "", "utf8");
      expect((await callProxy(running, ca, "/kms/xks/v1/keys/cli-key/metadata", { requestMetadata: metadata("CreateKey") })).body).toMatchObject({ keySpec: "AES_256", keyStatus: "ENABLED" });
      expect((await callProxy(running, ca, "/kms/xks/v1/health", { requestMetadata: metadata("x") }, { ...XKS_CREDENTIALS, secretAccessKey: "x".repeat(44) })).status).toBe(401);
    } finally {
      process.kill(cli.child.pid ?? 0, "SIGTERM");
    }
    expect(await cli.exit).toBe(0);
    // The log (stderr): every use, and the refused one.
    expect(cli.stderr()).toContain('"externalKeyId":"cli-key","kmsOperation":"CreateKey"');
    expect(cli.stderr()).toContain('"errorName":"AuthenticationFailedException"');
  });
});
