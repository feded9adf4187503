// KMS keys in an external key store: CreateKey with an XksKeyId, double encryption through the store's XKS proxy, the
// proxy's failures as KMS answers them, and the restrictions on such keys.
import { createDecipheriv, createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, Socket, type Server } from "node:net";
import path from "node:path";
import {
  ConnectCustomKeyStoreCommand,
  CreateAliasCommand,
  CreateGrantCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  TagResourceCommand,
  UpdateKeyDescriptionCommand,
  CreateCustomKeyStoreCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisconnectCustomKeyStoreCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyPairCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GetParametersForImportCommand,
  ReEncryptCommand,
  ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  type CreateKeyCommandInput,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { CreateSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { AwsCli, CLIS, CLI_TEST_TIMEOUT_MS } from "../support/aws-cli";
import { temporaryDirs } from "../support/files";
import { describeStore, settled } from "../support/kms";
import { startTestServer, type TestServer } from "../support/server";
import { startTestXksProxy, XKS_CREDENTIALS, type TestXksProxy } from "../support/xks";
import { errorOf } from "../support/errors";

const newDir = temporaryDirs("secretslite-xks-keys-spec-");

/**
 * A TCP relay in front of the proxy, so a spec can make the proxy hang or vanish while KMS's store stays as it is. TLS
 * passes through untouched (the proxy's certificate still names localhost).
 */
class Relay {
  mode: "forward" | "hang" = "forward";
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  port = 0;

  constructor(private readonly target: number) {}

  async listen(): Promise<void> {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      socket.on("error", () => undefined);
      if (this.mode === "hang") return;
      const upstream = new Socket();
      upstream.on("error", () => socket.destroy());
      upstream.connect(this.target, "127.0.0.1", () => {
        socket.pipe(upstream);
        upstream.pipe(socket);
      });
      socket.on("close", () => upstream.destroy());
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, "127.0.0.1", resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Drops every connection (kept-alive ones too), so the next call sees the new mode. */
  set(mode: "forward" | "hang"): void {
    this.mode = mode;
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.set(this.mode);
    await new Promise<void>((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())));
    this.server = undefined;
  }
}

describe("KMS keys in an external key store", () => {
  const lines: string[] = [];
  const material = randomBytes(32);
  let proxy: TestXksProxy;
  let relay: Relay;
  let server: TestServer;
  let kms: KMSClient;
  let sm: SecretsManagerClient;
  let storeId: string;
  let proxiesFile: string;
  /** The KMS key made on each external key, by its XksKeyId. */
  const keysByXks = new Map<string, string>();

  const xksKey = (xksKeyId: string, overrides: Partial<CreateKeyCommandInput> = {}): CreateKeyCommandInput => ({
    Origin: "EXTERNAL_KEY_STORE",
    CustomKeyStoreId: storeId,
    XksKeyId: xksKeyId,
    ...overrides,
  });
  const proxyCalls = (since: number, operation: string) =>
    lines.slice(since).filter((line) => line.includes("xks-proxy request") && line.includes(`"operation":"${operation}"`));

  beforeAll(async () => {
    proxy = await startTestXksProxy(
      [
        { id: "ext-1", material, status: "ENABLED", usage: ["ENCRYPT", "DECRYPT"] },
        { id: "ext-2", material: randomBytes(32), status: "ENABLED", usage: ["ENCRYPT", "DECRYPT"] },
        { id: "ext-3", material: randomBytes(32), status: "ENABLED", usage: ["ENCRYPT", "DECRYPT"] },
        { id: "ext-4", material: randomBytes(32), status: "ENABLED", usage: ["ENCRYPT", "DECRYPT"] },
        { id: "ext-disabled", material: randomBytes(32), status: "DISABLED", usage: ["ENCRYPT", "DECRYPT"] },
        { id: "ext-encrypt-only", material: randomBytes(32), status: "ENABLED", usage: ["ENCRYPT"] },
        ...CLIS.map((_, index) => ({ id: `ext-cli-${index}`, material: randomBytes(32), status: "ENABLED" as const, usage: ["ENCRYPT", "DECRYPT"] })),
      ],
      lines,
    );
    relay = new Relay(proxy.proxy.port);
    await relay.listen();
    proxiesFile = path.join(newDir(), "xks-proxies.json");
    writeFileSync(
      proxiesFile,
      JSON.stringify({
        "xks.example.com": { url: `https://localhost:${relay.port}`, ca: proxy.caFile },
        // The same proxy under another name, for the CLI's own store (a store's endpoint and path are unique).
        "xks-cli.example.com": { url: `https://localhost:${relay.port}`, ca: proxy.caFile },
      }),
    );
    server = await startTestServer({ flags: ["--xks-proxies", proxiesFile] });
    kms = server.kms();
    sm = server.secretsManager();
    const created = await kms.send(
      new CreateCustomKeyStoreCommand({
        CustomKeyStoreName: "hyok",
        CustomKeyStoreType: "EXTERNAL_KEY_STORE",
        XksProxyUriEndpoint: "https://xks.example.com",
        XksProxyUriPath: "/kms/xks/v1",
        XksProxyConnectivity: "PUBLIC_ENDPOINT",
        XksProxyAuthenticationCredential: { AccessKeyId: XKS_CREDENTIALS.accessKeyId, RawSecretAccessKey: XKS_CREDENTIALS.secretAccessKey },
      }),
    );
    storeId = created.CustomKeyStoreId ?? "";
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    expect(await settled(kms, storeId)).toBe("CONNECTED");
  });
  afterAll(async () => {
    await server.close();
    await relay.close();
    await proxy.proxy.close();
  });

  it("CreateKey asks the proxy for the external key's metadata and answers Origin EXTERNAL_KEY_STORE with XksKeyConfiguration", async () => {
    const before = lines.length;
    const { KeyMetadata: created } = await kms.send(new CreateKeyCommand(xksKey("ext-1", { Description: "held outside" })));
    expect(created).toMatchObject({
      Origin: "EXTERNAL_KEY_STORE",
      CustomKeyStoreId: storeId,
      XksKeyConfiguration: { Id: "ext-1" },
      KeySpec: "SYMMETRIC_DEFAULT",
      KeyUsage: "ENCRYPT_DECRYPT",
      KeyState: "Enabled",
      MultiRegion: false,
      EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
    });
    expect(created?.CloudHsmClusterId).toBeUndefined();
    keysByXks.set("ext-1", created?.KeyId ?? "");
    const metadataCalls = proxyCalls(before, "metadata");
    expect(metadataCalls).toHaveLength(1);
    expect(metadataCalls[0]).toContain('"externalKeyId":"ext-1"');
    expect(metadataCalls[0]).toContain('"kmsOperation":"CreateKey"');
    const { KeyMetadata: described } = await kms.send(new DescribeKeyCommand({ KeyId: created?.KeyId }));
    expect(described).toMatchObject({ Origin: "EXTERNAL_KEY_STORE", XksKeyConfiguration: { Id: "ext-1" }, CustomKeyStoreId: storeId });
  });

  it("encrypts twice — KMS-side material, then the external key through the proxy — and the outer layer opens with the external key alone", async () => {
    const { KeyMetadata: key } = await kms.send(new CreateKeyCommand(xksKey("ext-2")));
    const plaintext = Buffer.from("hold your own key");
    const context = { purpose: "spec" };
    const before = lines.length;
    const { CiphertextBlob, KeyId } = await kms.send(new EncryptCommand({ KeyId: key?.KeyId, Plaintext: plaintext, EncryptionContext: context }));
    expect(KeyId).toBe(key?.Arn);
    const encryptCalls = proxyCalls(before, "encrypt");
    expect(encryptCalls).toHaveLength(1);
    expect(encryptCalls[0]).toContain('"kmsOperation":"Encrypt"');
    expect(encryptCalls[0]).toContain(`"kmsKeyArn":"${key?.Arn}"`);
    const blob = Buffer.from(CiphertextBlob ?? new Uint8Array());
    // Format 3: u8 3 | u8 id length | key id | 32-byte material id | 4-byte check | 12-byte IV | outer layer.
    expect(blob[0]).toBe(3);
    expect(blob.toString("latin1", 2, 2 + (blob[1] ?? 0))).toBe(key?.KeyId);
    expect(blob.includes(plaintext)).toBe(false);

    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context }));
    expect(Buffer.from(decrypted.Plaintext ?? new Uint8Array()).toString()).toBe("hold your own key");
    expect(decrypted.KeyId).toBe(key?.Arn);
    expect(proxyCalls(before, "decrypt").some((line) => line.includes('"kmsOperation":"Decrypt"'))).toBe(true);

    // Without the external key nothing opens: a context that differs fails in the proxy (the spec's table: KMSInvalidStateException).
    expect(await errorOf(kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { purpose: "other" } })))).toEqual({
      name: "KMSInvalidStateException",
      message: "The external key store proxy rejected the request because the specified ciphertext or encryption context is corrupted, missing, or otherwise invalid.",
    });
    const tampered = Buffer.from(blob);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    expect((await errorOf(kms.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: context })))).name).toBe("KMSInvalidStateException");
  });

  it("the outer layer is the external key's AES-GCM over KMS's own ciphertext: opened outside with the key's material, it is not the plaintext", async () => {
    // The first test's key, on ext-1, whose material this spec knows.
    const key = { KeyId: keysByXks.get("ext-1") };
    const plaintext = Buffer.from("double encryption");
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key?.KeyId, Plaintext: plaintext }));
    const blob = Buffer.from(CiphertextBlob ?? new Uint8Array());
    const ivStart = 2 + (blob[1] ?? 0) + 32 + 4;
    const header = blob.subarray(0, ivStart);
    let at = ivStart + 12;
    const outerIv = blob.subarray(at + 1, at + 1 + (blob[at] ?? 0));
    at += 1 + outerIv.length;
    const metadataLength = blob[at] ?? 0;
    at += 1 + metadataLength;
    const tag = blob.subarray(at, at + 16);
    const outer = blob.subarray(at + 16);
    // No encryption context: the proxy's AAD is the header alone.
    const decipher = createDecipheriv("aes-256-gcm", material, outerIv);
    decipher.setAAD(header);
    decipher.setAuthTag(tag);
    const inner = Buffer.concat([decipher.update(outer), decipher.final()]);
    // The inner layer is KMS's AES-GCM: payload and tag, as long as the plaintext plus 16, and not the plaintext.
    expect(inner).toHaveLength(plaintext.length + 16);
    expect(inner.subarray(0, plaintext.length).equals(plaintext)).toBe(false);
    expect(createHash("sha256").update(inner).digest()).not.toEqual(createHash("sha256").update(plaintext).digest());
  });

  it("GenerateDataKey, GenerateDataKeyWithoutPlaintext and ReEncrypt both ways go through the proxy", async () => {
    const { KeyMetadata: key } = await kms.send(new CreateKeyCommand(xksKey("ext-4")));
    keysByXks.set("ext-4", key?.KeyId ?? "");
    const { KeyMetadata: plain } = await kms.send(new CreateKeyCommand({}));
    const before = lines.length;
    const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: key?.KeyId, KeySpec: "AES_256", EncryptionContext: { a: "1" } }));
    const opened = await kms.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: { a: "1" } }));
    expect(Buffer.from(opened.Plaintext ?? new Uint8Array())).toEqual(Buffer.from(dataKey.Plaintext ?? new Uint8Array()));
    const withoutPlaintext = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: key?.KeyId, NumberOfBytes: 16 }));
    expect((await kms.send(new DecryptCommand({ CiphertextBlob: withoutPlaintext.CiphertextBlob }))).Plaintext).toHaveLength(16);
    expect(proxyCalls(before, "encrypt").map((line) => /"kmsOperation":"(\w+)"/.exec(line)?.[1])).toEqual(["GenerateDataKey", "GenerateDataKeyWithoutPlaintext"]);

    // Out of the external key store and back in.
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key?.KeyId, Plaintext: Buffer.from("move me") }));
    const toPlain = await kms.send(new ReEncryptCommand({ CiphertextBlob, DestinationKeyId: plain?.KeyId }));
    expect(toPlain).toMatchObject({ SourceKeyId: key?.Arn, KeyId: plain?.Arn });
    const back = await kms.send(new ReEncryptCommand({ CiphertextBlob: toPlain.CiphertextBlob, DestinationKeyId: key?.KeyId }));
    expect(Buffer.from(back.CiphertextBlob ?? new Uint8Array())[0]).toBe(3);
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: back.CiphertextBlob }))).Plaintext ?? new Uint8Array()).toString()).toBe("move me");
    expect(proxyCalls(before, "decrypt").some((line) => line.includes('"kmsOperation":"ReEncrypt"'))).toBe(true);
    // A blob of a one-layer key named as if the external key had made it is not its ciphertext.
    expect((await errorOf(kms.send(new DecryptCommand({ CiphertextBlob: toPlain.CiphertextBlob, KeyId: key?.KeyId })))).name).toBe("IncorrectKeyException");
  });

  it("CreateKey refuses an external key the proxy does not have, one that is disabled or cannot decrypt, and one another key uses", async () => {
    expect(await errorOf(kms.send(new CreateKeyCommand(xksKey("no-such-key"))))).toEqual({
      name: "XksKeyNotFoundException",
      message: expect.stringContaining("was not found in its external key manager"),
    });
    expect((await errorOf(kms.send(new CreateKeyCommand(xksKey("ext-disabled")))))).toEqual({
      name: "XksKeyInvalidConfigurationException",
      message: expect.stringContaining("keyStatus DISABLED"),
    });
    expect((await errorOf(kms.send(new CreateKeyCommand(xksKey("ext-encrypt-only"))))).name).toBe("XksKeyInvalidConfigurationException");
    expect((await errorOf(kms.send(new CreateKeyCommand(xksKey("ext-1"))))).name).toBe("XksKeyAlreadyInUseException");
  });

  it("keys in an external key store are symmetric, single-Region, and need an XksKeyId; nothing else takes one", async () => {
    const refused = async (input: CreateKeyCommandInput) => (await errorOf(kms.send(new CreateKeyCommand(input)))).name;
    expect(await refused({ Origin: "EXTERNAL_KEY_STORE", CustomKeyStoreId: storeId })).toBe("UnsupportedOperationException");
    expect(await refused({ XksKeyId: "ext-2" })).toBe("UnsupportedOperationException");
    expect(await refused(xksKey("ext-9", { MultiRegion: true }))).toBe("UnsupportedOperationException");
    expect(await refused(xksKey("ext-9", { KeySpec: "RSA_2048", KeyUsage: "ENCRYPT_DECRYPT" }))).toBe("UnsupportedOperationException");
    expect(await refused({ Origin: "AWS_CLOUDHSM", CustomKeyStoreId: storeId })).toBe("UnsupportedOperationException");
    expect(await refused(xksKey("ext-9", { CustomKeyStoreId: "cks-0000000000000000" }))).toBe("CustomKeyStoreNotFoundException");
  });

  it("no rotation, import, data key pairs or replicas for such keys, each refused with AWS's error", async () => {
    const keyId = keysByXks.get("ext-4") ?? "";
    const refusal = async (promise: Promise<unknown>) => errorOf(promise);
    const arn = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.Arn;
    expect(await refusal(kms.send(new EnableKeyRotationCommand({ KeyId: keyId })))).toEqual({
      name: "UnsupportedOperationException",
      message: `${arn} origin is EXTERNAL_KEY_STORE which is not valid for this operation.`,
    });
    expect((await refusal(kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId })))).name).toBe("UnsupportedOperationException");
    expect((await refusal(kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048" })))).name).toBe(
      "UnsupportedOperationException",
    );
    expect((await refusal(kms.send(new GenerateDataKeyPairCommand({ KeyId: keyId, KeyPairSpec: "ECC_NIST_P256" })))).name).toBe("UnsupportedOperationException");
    expect((await refusal(kms.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: "eu-west-1" })))).name).toBe("UnsupportedOperationException");
  });

  it("Secrets Manager stores a secret under such a key; KMS tells the proxy it came through Secrets Manager", async () => {
    const keyId = keysByXks.get("ext-4") ?? "";
    const before = lines.length;
    await sm.send(new CreateSecretCommand({ Name: "hyok-secret", SecretString: "s3cr3t", KmsKeyId: keyId }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "hyok-secret" }))).SecretString).toBe("s3cr3t");
    const calls = [...proxyCalls(before, "encrypt"), ...proxyCalls(before, "decrypt")];
    expect(calls).toHaveLength(2);
    for (const call of calls) expect(call).toContain('"kmsViaService":"secretsmanager"');
  });

  it("a proxy that does not answer in time is DependencyTimeoutException; one that is gone, KMSInvalidStateException; both recover", async () => {
    const keyId = keysByXks.get("ext-4") ?? "";
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("x") }));
    relay.set("hang");
    expect(await errorOf(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("x") })))).toEqual({
      name: "DependencyTimeoutException",
      message: expect.stringContaining("did not respond in time"),
    });
    await relay.close();
    expect(await errorOf(kms.send(new DecryptCommand({ CiphertextBlob })))).toEqual({
      name: "KMSInvalidStateException",
      message: expect.stringContaining("AWS KMS cannot communicate with the external key store proxy."),
    });
    // Secrets Manager's read of a secret under the key fails as a KMS failure does there.
    expect((await errorOf(sm.send(new GetSecretValueCommand({ SecretId: "hyok-secret" })))).name).toBe("DecryptionFailure");
    relay.set("forward");
    await relay.listen();
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext ?? new Uint8Array()).toString()).toBe("x");
  });

  it("while the store is disconnected its keys are Unavailable and refuse cryptography with the XKS sentence; a restart reconnects it", async () => {
    const keyId = keysByXks.get("ext-4") ?? "";
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("kept") }));
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState).toBe("Unavailable");
    expect(await errorOf(kms.send(new DecryptCommand({ CiphertextBlob })))).toEqual({
      name: "KMSInvalidStateException",
      message: "This KMS key is in a custom key store that is not connected to its external key store proxy. Connect the external key store and try the request again.",
    });
    expect((await errorOf(kms.send(new CreateKeyCommand(xksKey("ext-9"))))).name).toBe("CustomKeyStoreInvalidStateException");
    // The key-state table's Unavailable column: managing the key goes on, CreateGrant included.
    await kms.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: "while", TagValue: "unavailable" }] }));
    await kms.send(new UpdateKeyDescriptionCommand({ KeyId: keyId, Description: "store disconnected" }));
    await kms.send(new CreateAliasCommand({ AliasName: "alias/xks-unavailable", TargetKeyId: keyId }));
    const { GrantId } = await kms.send(new CreateGrantCommand({ KeyId: keyId, GranteePrincipal: "arn:aws:iam::000000000000:role/reader", Operations: ["Decrypt"] }));
    expect(GrantId).toMatch(/^[0-9a-f]{64}$/);
    await kms.send(new DisableKeyCommand({ KeyId: keyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState).toBe("Unavailable");
    await kms.send(new EnableKeyCommand({ KeyId: keyId }));
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    expect(await settled(kms, storeId)).toBe("CONNECTED");

    await server.stop();
    server = await startTestServer({ dataDir: server.dataDir, flags: ["--xks-proxies", proxiesFile] });
    kms = server.kms();
    sm = server.secretsManager();
    expect(await settled(kms, storeId)).toBe("CONNECTED");
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext ?? new Uint8Array()).toString()).toBe("kept");
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "hyok-secret" }))).SecretString).toBe("s3cr3t");
  });

  it("a restart while the store is still connecting finishes the connection", async () => {
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    relay.set("hang");
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    expect((await describeStore(kms, storeId))?.ConnectionState).toBe("CONNECTING");
    await server.stop();
    relay.set("forward");
    server = await startTestServer({ dataDir: server.dataDir, flags: ["--xks-proxies", proxiesFile] });
    kms = server.kms();
    sm = server.secretsManager();
    expect(await settled(kms, storeId)).toBe("CONNECTED");
    expect((await kms.send(new DescribeKeyCommand({ KeyId: keysByXks.get("ext-4") }))).KeyMetadata?.KeyState).toBe("Enabled");
  });

  it.each(CLIS)("%s runs an external key store's life: create, describe, connect, rename, disconnect, delete", async (cli) => {
    const aws = new AwsCli(server.url);
    try {
      const name = `cli-store-${CLIS.indexOf(cli)}`;
      // As JSON: aws CLI v1 fetches any parameter value that starts with https:// (cli_follow_urlparam), the endpoint included.
      const input = {
        CustomKeyStoreName: name,
        CustomKeyStoreType: "EXTERNAL_KEY_STORE",
        XksProxyUriEndpoint: "https://xks-cli.example.com",
        XksProxyUriPath: "/kms/xks/v1",
        XksProxyConnectivity: "PUBLIC_ENDPOINT",
        XksProxyAuthenticationCredential: { AccessKeyId: XKS_CREDENTIALS.accessKeyId, RawSecretAccessKey: XKS_CREDENTIALS.secretAccessKey },
      };
      const { CustomKeyStoreId } = await aws.json<{ CustomKeyStoreId: string }>(cli, "kms", ["create-custom-key-store", "--cli-input-json", JSON.stringify(input)]);
      const describe = async () =>
        (await aws.json<{ CustomKeyStores: Array<Record<string, unknown>> }>(cli, "kms", ["describe-custom-key-stores", "--custom-key-store-id", CustomKeyStoreId]))
          .CustomKeyStores[0];
      expect(await describe()).toMatchObject({ CustomKeyStoreName: name, CustomKeyStoreType: "EXTERNAL_KEY_STORE", ConnectionState: "DISCONNECTED" });
      await aws.json(cli, "kms", ["connect-custom-key-store", "--custom-key-store-id", CustomKeyStoreId]);
      expect(await settled(kms, CustomKeyStoreId)).toBe("CONNECTED");
      await aws.json(cli, "kms", ["update-custom-key-store", "--custom-key-store-id", CustomKeyStoreId, "--new-custom-key-store-name", `${name}-renamed`]);
      await aws.json(cli, "kms", ["disconnect-custom-key-store", "--custom-key-store-id", CustomKeyStoreId]);
      expect(await describe()).toMatchObject({ CustomKeyStoreName: `${name}-renamed`, ConnectionState: "DISCONNECTED" });
      await aws.json(cli, "kms", ["delete-custom-key-store", "--custom-key-store-id", CustomKeyStoreId]);
      const gone = await aws.run(cli, "kms", ["describe-custom-key-stores", "--custom-key-store-id", CustomKeyStoreId]);
      expect(gone.stderr).toContain("(CustomKeyStoreNotFoundException)");
    } finally {
      aws.close();
    }
  }, CLI_TEST_TIMEOUT_MS);

  it.each(CLIS)("%s creates a key on an external key, encrypts and decrypts with it", async (cli) => {
    const aws = new AwsCli(server.url);
    try {
      const xksKeyId = `ext-cli-${CLIS.indexOf(cli)}`;
      const created = await aws.json<{ KeyMetadata: { Arn: string; Origin: string; XksKeyConfiguration: { Id: string } } }>(cli, "kms", [
        "create-key", "--origin", "EXTERNAL_KEY_STORE", "--custom-key-store-id", storeId, "--xks-key-id", xksKeyId,
      ]);
      expect(created.KeyMetadata).toMatchObject({ Origin: "EXTERNAL_KEY_STORE", XksKeyConfiguration: { Id: xksKeyId } });
      const sealed = await aws.json<{ CiphertextBlob: string }>(cli, "kms", [
        "encrypt", "--key-id", created.KeyMetadata.Arn, "--plaintext", aws.file(Buffer.from("via the aws CLI")), "--encryption-context", "tool=cli",
      ]);
      const opened = await aws.json<{ Plaintext: string; KeyId: string }>(cli, "kms", [
        "decrypt", "--ciphertext-blob", aws.file(Buffer.from(sealed.CiphertextBlob, "base64")), "--encryption-context", "tool=cli",
      ]);
      expect(opened.KeyId).toBe(created.KeyMetadata.Arn);
      expect(Buffer.from(opened.Plaintext, "base64").toString()).toBe("via the aws CLI");
    } finally {
      aws.close();
    }
  }, CLI_TEST_TIMEOUT_MS);

  it("deleting such a key leaves the external key to its manager: the proxy is not called", async () => {
    const keyId = keysByXks.get("ext-4") ?? "";
    const before = lines.length;
    const { KeyState } = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    expect(KeyState).toBe("PendingDeletion");
    expect(lines.slice(before).filter((line) => line.includes("xks-proxy request"))).toEqual([]);
    // Still associated while pending deletion.
    expect((await errorOf(kms.send(new CreateKeyCommand(xksKey("ext-4"))))).name).toBe("XksKeyAlreadyInUseException");
  });
});
