// External key stores: the XKS proxy of src/xks (AWS's XKS proxy API v1), then KMS keys held in it.
import { createDecipheriv, createHash, createHmac, randomBytes, X509Certificate } from "node:crypto";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { endianness } from "node:os";
import * as pkcs11 from "pkcs11js";
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
import { acquireModule, findTokenSlot, releaseModule, RW_SESSION } from "../../src/crypto/pkcs11-module";
import type { RunningXksProxy, XksKey } from "../../src/xks/proxy";
import { filesContaining, temporaryDirs } from "../support/files";
import { startTestServer, type TestServer } from "../support/server";
import { startCliLines, type CliLines } from "../support/cli-process";
import { describeStore, settled } from "../support/kms";
import { startTestXksProxy, xksTestToken, XKS_CREDENTIALS, type TestXksProxy } from "../support/xks";
import { errorOf } from "../support/errors";

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

interface Sealed {
  readonly ciphertext: Buffer;
  readonly iv: Buffer;
  readonly tag: Buffer;
}

/** Encrypt through the proxy (AES_GCM), the three parts of its answer decoded. */
async function sealThrough(proxy: RunningXksProxy, ca: string, path: string, plaintext: Buffer, aad: Buffer | undefined): Promise<Sealed> {
  const answer = await callProxy(proxy, ca, path, {
    requestMetadata: metadata("Encrypt"),
    plaintext: plaintext.toString("base64"),
    encryptionAlgorithm: "AES_GCM",
    ...(aad === undefined ? {} : { additionalAuthenticatedData: aad.toString("base64") }),
  });
  expect(answer.status).toBe(200);
  const field = (name: string) => Buffer.from(String(answer.body[name]), "base64");
  return { ciphertext: field("ciphertext"), iv: field("initializationVector"), tag: field("authenticationTag") };
}

function openThrough(proxy: RunningXksProxy, ca: string, path: string, sealed: Sealed, aad: Buffer | undefined): Promise<XksAnswer> {
  return callProxy(proxy, ca, path, {
    requestMetadata: metadata("Decrypt"),
    ciphertext: sealed.ciphertext.toString("base64"),
    initializationVector: sealed.iv.toString("base64"),
    authenticationTag: sealed.tag.toString("base64"),
    encryptionAlgorithm: "AES_GCM",
    ...(aad === undefined ? {} : { additionalAuthenticatedData: aad.toString("base64") }),
  });
}

/** A CK_ULONG attribute value (native byte order). */
function ulong(value: Buffer | undefined): number {
  if (value === undefined) return -1;
  return Number(endianness() === "LE" ? value.readBigUInt64LE() : value.readBigUInt64BE());
}

/**
 * Files under `paths` (files or directories) that hold a 32-byte AES key under which `sealed` (no AAD) opens: as raw bytes
 * anywhere in the file, or inside a base64 or hex run of its text. Each 32-byte window is tried as a key, so a key the
 * test never saw (one generated in the token) is found if it is written anywhere.
 */
function filesHoldingKeyOf(paths: readonly string[], sealed: Sealed): string[] {
  const files = paths.flatMap((root) =>
    statSync(root).isDirectory()
      ? readdirSync(root, { withFileTypes: true, recursive: true }).filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name))
      : [root],
  );
  const opens = (key: Buffer): boolean => {
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, sealed.iv);
      decipher.setAuthTag(sealed.tag);
      decipher.update(sealed.ciphertext);
      decipher.final();
      return true;
    } catch {
      return false;
    }
  };
  return files.filter((file) => {
    const bytes = readFileSync(file);
    const text = bytes.toString("latin1");
    const candidates = [
      bytes,
      ...[...text.matchAll(/[A-Za-z0-9+/_-]{43,}/g)].map((match) => Buffer.from(match[0], "base64")),
      ...[...text.matchAll(/[0-9a-fA-F]{64,}/g)].map((match) => Buffer.from(match[0], "hex")),
    ];
    return candidates.some((candidate) => {
      for (let i = 0; i + 32 <= candidate.length; i++) if (opens(candidate.subarray(i, i + 32))) return true;
      return false;
    });
  });
}

describe("the XKS proxy (src/xks/proxy.ts)", () => {
  let started: TestXksProxy;
  let proxy: RunningXksProxy;
  let ca: string;
  const lines: string[] = [];
  const keys: XksKey[] = [
    { id: "key-256", material: randomBytes(32), status: "ENABLED", usage: ["ENCRYPT", "DECRYPT"] },
    { id: "key-disabled", material: randomBytes(32), status: "DISABLED", usage: ["ENCRYPT", "DECRYPT"] },
    { id: "key-generated", status: "ENABLED", usage: ["ENCRYPT", "DECRYPT"] },
    { id: "key-128", material: randomBytes(16), status: "ENABLED", usage: ["ENCRYPT", "DECRYPT"] },
  ];

  beforeAll(async () => {
    started = await startTestXksProxy(keys, lines, "/example");
    ({ proxy, ca } = started);
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

  it("keeps each key as a private, sensitive, never-extractable AES token object in the XKS token, its value unreadable", async () => {
    const xksToken = await xksTestToken();
    const shared = acquireModule(xksToken.modulePath, xksToken.softhsmConfigPath);
    const session = findTokenSlot(shared.module, xksToken.tokenLabel).open(RW_SESSION);
    const { lib } = shared;
    try {
      for (const [id, bytes] of [["key-256", 32], ["key-disabled", 32], ["key-generated", 32], ["key-128", 16]] as const) {
        lib.C_FindObjectsInit(session.handle, [{ type: pkcs11.CKA_LABEL, value: started.keyLabel(id) }]);
        const found = lib.C_FindObjects(session.handle, 10);
        lib.C_FindObjectsFinal(session.handle);
        expect(found).toHaveLength(1);
        const handle = found[0] as Buffer;
        const types = [
          pkcs11.CKA_CLASS, pkcs11.CKA_KEY_TYPE, pkcs11.CKA_VALUE_LEN, pkcs11.CKA_TOKEN, pkcs11.CKA_PRIVATE, pkcs11.CKA_SENSITIVE, pkcs11.CKA_EXTRACTABLE,
          pkcs11.CKA_ENCRYPT, pkcs11.CKA_DECRYPT, pkcs11.CKA_WRAP, pkcs11.CKA_UNWRAP, pkcs11.CKA_SIGN, pkcs11.CKA_DERIVE,
        ];
        const values = lib.C_GetAttributeValue(session.handle, handle, types.map((type) => ({ type }))).map((attribute) => attribute.value as Buffer);
        const [klass, keyType, valueLen, ...flags] = values;
        expect([ulong(klass), ulong(keyType), ulong(valueLen)]).toEqual([pkcs11.CKO_SECRET_KEY, pkcs11.CKK_AES, bytes]);
        // token, private, sensitive, extractable, encrypt, decrypt, wrap, unwrap, sign, derive
        expect(flags.map((flag) => flag?.[0] === 1)).toEqual([true, true, true, false, true, true, false, false, false, false]);
        expect(() => lib.C_GetAttributeValue(session.handle, handle, [{ type: pkcs11.CKA_VALUE }])).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
      }
    } finally {
      session.close();
      releaseModule(shared);
    }
  });

  it("encrypts in the token: what it seals under imported material opens with that material outside; a generated key answers AES_256", async () => {
    const aad = Buffer.from("kms-key=arn:aws:kms:us-east-1:000000000000:key/x");
    for (const id of ["key-256", "key-128"]) {
      const plaintext = randomBytes(32);
      const sealed = await sealThrough(proxy, ca, `/example/kms/xks/v1/keys/${id}/encrypt`, plaintext, aad);
      const material = keys.find((key) => key.id === id)?.material ?? Buffer.alloc(0);
      const decipher = createDecipheriv(`aes-${material.length * 8}-gcm` as "aes-256-gcm", material, sealed.iv);
      decipher.setAAD(aad);
      decipher.setAuthTag(sealed.tag);
      expect(Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()])).toEqual(plaintext);
    }
    expect((await callProxy(proxy, ca, "/example/kms/xks/v1/keys/key-128/metadata", { requestMetadata: metadata("CreateKey") })).body.keySpec).toBe("AES_128");
    expect((await callProxy(proxy, ca, "/example/kms/xks/v1/keys/key-generated/metadata", { requestMetadata: metadata("CreateKey") })).body).toEqual({
      keySpec: "AES_256",
      keyUsage: ["ENCRYPT", "DECRYPT"],
      keyStatus: "ENABLED",
    });
    const plaintext = Buffer.from("made and kept in the token");
    const sealed = await sealThrough(proxy, ca, "/example/kms/xks/v1/keys/key-generated/encrypt", plaintext, aad);
    expect(await openThrough(proxy, ca, "/example/kms/xks/v1/keys/key-generated/decrypt", sealed, aad)).toEqual({ status: 200, body: { plaintext: plaintext.toString("base64") } });
    // Another key of the same proxy cannot open it.
    expect((await openThrough(proxy, ca, "/example/kms/xks/v1/keys/key-256/decrypt", sealed, aad)).body.errorName).toBe("InvalidCiphertextException");
  });

  it("answers InvalidStateException to encrypt and decrypt with a disabled key, and still describes it", async () => {
    const sealed = await sealThrough(proxy, ca, "/example/kms/xks/v1/keys/key-256/encrypt", Buffer.from("x"), undefined);
    expect(await callProxy(proxy, ca, "/example/kms/xks/v1/keys/key-disabled/encrypt", { requestMetadata: metadata("Encrypt"), plaintext: "AA==", encryptionAlgorithm: "AES_GCM" })).toEqual({
      status: 400,
      body: { errorName: "InvalidStateException", errorMessage: expect.stringContaining("key-disabled") },
    });
    expect((await openThrough(proxy, ca, "/example/kms/xks/v1/keys/key-disabled/decrypt", sealed, undefined)).body.errorName).toBe("InvalidStateException");
    expect((await callProxy(proxy, ca, "/example/kms/xks/v1/keys/key-disabled/metadata", { requestMetadata: metadata("DescribeKey") })).body).toMatchObject({
      keySpec: "AES_256",
      keyStatus: "DISABLED",
    });
  });

  it("logs every use with the KMS operation and request id, never the plaintext", () => {
    const uses = lines.filter((line) => line.includes("xks-proxy request"));
    expect(uses.length).toBeGreaterThanOrEqual(5);
    expect(uses.some((line) => line.includes("11111111-2222-3333-4444-555555555555") && line.includes("encrypt") && line.includes("key-256"))).toBe(true);
    expect(lines.join("\n")).not.toContain(Buffer.from("Hello World!").toString("base64"));
  });
});

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

const BIN = path.join(__dirname, "..", "..", "bin", "secretslite.js");
const XKS_ENV = { SECRETSLITE_XKS_ACCESS_KEY_ID: XKS_CREDENTIALS.accessKeyId, SECRETSLITE_XKS_SECRET_ACCESS_KEY: XKS_CREDENTIALS.secretAccessKey };

interface StartedBin {
  readonly cli: CliLines;
  readonly proxy: RunningXksProxy;
  readonly ca: string;
  readonly caFile: string;
}

/** The bin at its two ready lines (URL, CA file); stop it with stopBin. */
async function startBin(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<StartedBin> {
  const cli = await startCliLines(BIN, ["xks-proxy", ...args], 2, { ...XKS_ENV, ...env });
  const url = /^secretslite xks-proxy listening on (https:\/\/localhost:(\d+))$/.exec(cli.lines[0] ?? "");
  const caFile = /^secretslite xks-proxy CA (\S+)$/.exec(cli.lines[1] ?? "")?.[1] ?? "";
  expect(url).not.toBeNull();
  return { cli, proxy: { url: url?.[1] ?? "", port: Number(url?.[2]), close: async () => undefined }, ca: readFileSync(caFile, "utf8"), caFile };
}

async function stopBin(bin: StartedBin): Promise<number | null> {
  process.kill(bin.cli.child.pid ?? 0, "SIGTERM");
  return bin.cli.exit;
}

/** Runs the bin to its exit (a start that must fail): exit code and stderr. */
function runBin(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, "xks-proxy", ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...XKS_ENV, ...env }, timeout: 60_000 }, (error, _stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stderr });
    });
  });
}

describe("secretslite xks-proxy (the built bin)", () => {
  it("makes its own SoftHSM2 token and local CA in DIR, generates or imports the keys there, and decrypts old ciphertext after a restart", async () => {
    const dir = newDir();
    // Outside DIR, so every file of DIR can be searched for key material.
    const keysFile = path.join(newDir(), "keys.json");
    const imported = randomBytes(32);
    writeFileSync(
      keysFile,
      JSON.stringify({
        keys: [
          { id: "cli-generated" },
          { id: "cli-imported", material: imported.toString("base64") },
          { id: "cli-disabled", status: "DISABLED" },
        ],
      }),
    );
    const keysFileBefore = readFileSync(keysFile);
    const plaintext = Buffer.from("sealed before the restart");

    const first = await startBin(["--keys", keysFile, "--tls-dir", dir]);
    let generatedSealed: Sealed;
    let importedSealed: Sealed;
    try {
      expect(first.caFile).toBe(path.join(dir, "tls", "ca.pem"));
      // The CA signs the served certificate; it is not the certificate itself.
      const ca = new X509Certificate(first.ca);
      const served = new X509Certificate(readFileSync(path.join(dir, "tls", "cert.pem")));
      expect(ca.ca).toBe(true);
      expect(served.ca).toBe(false);
      expect(served.verify(ca.publicKey)).toBe(true);
      expect((await callProxy(first.proxy, first.ca, "/kms/xks/v1/keys/cli-generated/metadata", { requestMetadata: metadata("CreateKey") })).body).toEqual({
        keySpec: "AES_256",
        keyUsage: ["ENCRYPT", "DECRYPT"],
        keyStatus: "ENABLED",
      });
      generatedSealed = await sealThrough(first.proxy, first.ca, "/kms/xks/v1/keys/cli-generated/encrypt", plaintext, undefined);
      importedSealed = await sealThrough(first.proxy, first.ca, "/kms/xks/v1/keys/cli-imported/encrypt", plaintext, undefined);
      expect((await callProxy(first.proxy, first.ca, "/kms/xks/v1/health", { requestMetadata: metadata("x") }, { ...XKS_CREDENTIALS, secretAccessKey: "x".repeat(44) })).status).toBe(401);
    } finally {
      expect(await stopBin(first)).toBe(0);
    }
    expect(first.cli.stderr()).toContain('"externalKeyId":"cli-generated","kmsOperation":"CreateKey"');
    expect(first.cli.stderr()).toContain('"errorName":"AuthenticationFailedException"');
    expect(first.cli.stderr()).toContain("xks-proxy key generated in the token");
    expect(first.cli.stderr()).not.toContain(plaintext.toString("base64"));

    // The token is SoftHSM2's, in DIR/token with its PIN file; the keys file is as it was.
    expect(readFileSync(path.join(dir, "token", "softhsm2.conf"), "utf8")).toContain(path.join(dir, "token", "tokens"));
    expect(readFileSync(path.join(dir, "token", "pin"), "utf8").length).toBeGreaterThan(0);
    expect(readFileSync(keysFile)).toEqual(keysFileBefore);
    // No file of DIR, nor the keys file, holds the generated key in any form; the imported one is only in the keys file.
    expect(filesHoldingKeyOf([dir, keysFile], generatedSealed)).toEqual([]);
    expect(filesHoldingKeyOf([dir, keysFile], importedSealed)).toEqual([keysFile]);
    for (const form of [imported, imported.toString("base64"), imported.toString("hex")]) expect(filesContaining(dir, form)).toEqual([]);

    const second = await startBin(["--keys", keysFile, "--tls-dir", dir]);
    try {
      // Same CA: a client configured once keeps trusting the proxy.
      expect(second.ca).toBe(first.ca);
      for (const [id, sealed] of [["cli-generated", generatedSealed], ["cli-imported", importedSealed]] as const) {
        expect(await openThrough(second.proxy, second.ca, `/kms/xks/v1/keys/${id}/decrypt`, sealed, undefined)).toEqual({ status: 200, body: { plaintext: plaintext.toString("base64") } });
      }
      expect((await openThrough(second.proxy, second.ca, "/kms/xks/v1/keys/cli-disabled/decrypt", generatedSealed, undefined)).body.errorName).toBe("InvalidStateException");
    } finally {
      expect(await stopBin(second)).toBe(0);
    }
    expect(second.cli.stderr()).not.toContain("xks-proxy key generated in the token");
    expect(second.cli.stderr()).not.toContain("xks-proxy key imported");
  });

  it("refuses to start when the keys file gives material other than what the token holds under that id", async () => {
    const dir = newDir();
    const keysFile = path.join(dir, "keys.json");
    writeFileSync(keysFile, JSON.stringify({ keys: [{ id: "k", material: randomBytes(32).toString("base64") }] }));
    await stopBin(await startBin(["--keys", keysFile, "--tls-dir", dir]));
    writeFileSync(keysFile, JSON.stringify({ keys: [{ id: "k", material: randomBytes(32).toString("base64") }] }));
    const refused = await runBin(["--keys", keysFile, "--tls-dir", dir], {});
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("External key k: the keys file gives material other than the token's key labelled 'k'");
  });

  it("with --pkcs11-module and --token-label uses that library's token, and refuses a wrong PIN or a PIN on the command line", async () => {
    const home = newDir();
    const tokensDir = path.join(home, "tokens");
    mkdirSync(tokensDir);
    const softhsmConf = path.join(home, "softhsm2.conf");
    writeFileSync(softhsmConf, `directories.tokendir = ${tokensDir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    const pin = "external-pin-4321";
    execFileSync("softhsm2-util", ["--init-token", "--free", "--label", "xks-external", "--so-pin", "external-so-1234", "--pin", pin], {
      env: { ...process.env, SOFTHSM2_CONF: softhsmConf },
      stdio: "ignore",
    });
    const objectFiles = () => readdirSync(tokensDir, { recursive: true }).filter((name) => String(name).endsWith(".object")).length;
    const objectsBefore = objectFiles();
    const dir = newDir();
    const keysFile = path.join(dir, "keys.json");
    writeFileSync(keysFile, JSON.stringify({ keys: [{ id: "ext-key" }] }));
    const tokenArgs = ["--keys", keysFile, "--tls-dir", dir, "--pkcs11-module", "/usr/lib/softhsm/libsofthsm2.so", "--token-label", "xks-external"];

    const bin = await startBin(tokenArgs, { SOFTHSM2_CONF: softhsmConf, SECRETSLITE_XKS_PIN: pin });
    try {
      const plaintext = Buffer.from("in someone else's token");
      const sealed = await sealThrough(bin.proxy, bin.ca, "/kms/xks/v1/keys/ext-key/encrypt", plaintext, undefined);
      expect((await openThrough(bin.proxy, bin.ca, "/kms/xks/v1/keys/ext-key/decrypt", sealed, undefined)).body.plaintext).toBe(plaintext.toString("base64"));
      const health = await callProxy(bin.proxy, bin.ca, "/kms/xks/v1/health", { requestMetadata: metadata("x") });
      expect(JSON.stringify(health.body.ekmFleetDetails)).toContain("xks-external");
    } finally {
      expect(await stopBin(bin)).toBe(0);
    }
    // The key is a new object of that token; the proxy made no token of its own.
    expect(objectFiles()).toBe(objectsBefore + 1);
    expect(existsSync(path.join(dir, "token"))).toBe(false);

    const pinFile = path.join(home, "wrong-pin");
    writeFileSync(pinFile, "not-the-pin-0000\n");
    const wrong = await runBin([...tokenArgs, "--pin-file", pinFile], { SOFTHSM2_CONF: softhsmConf });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(
      `secretslite xks-proxy: could not start: Cannot log in to the PKCS#11 token labelled 'xks-external' of /usr/lib/softhsm/libsofthsm2.so: CKR_PIN_INCORRECT; the PIN from ${pinFile} is wrong`,
    );
    expect(wrong.stderr).not.toContain("not-the-pin-0000");

    const onCommandLine = await runBin([...tokenArgs, "--pin", pin], { SOFTHSM2_CONF: softhsmConf });
    expect(onCommandLine.code).toBe(2);
    expect(onCommandLine.stderr).toContain("the PIN is never taken from the command line");
  });
});
