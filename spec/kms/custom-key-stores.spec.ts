// AWS_CLOUDHSM custom key stores on a second SoftHSM2 token: configuration, connection states, keys in the token, GenerateRandom.
import {
  ConnectCustomKeyStoreCommand,
  CreateCustomKeyStoreCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteCustomKeyStoreCommand,
  DescribeCustomKeyStoresCommand,
  DescribeKeyCommand,
  DisconnectCustomKeyStoreCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyPairCommand,
  NotFoundException,
  ReEncryptCommand,
  GenerateRandomCommand,
  ScheduleKeyDeletionCommand,
  UpdateCustomKeyStoreCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { writeFileSync } from "node:fs";
import path from "node:path";
import * as pkcs11js from "pkcs11js";
import request from "supertest";
import { connectClusterToken } from "../../src/crypto/cluster-token";
import { acquireModule, initialisePkcs11Token, listPkcs11Tokens, releaseModule } from "../../src/crypto/pkcs11-module";
import { DAY_MS } from "../../src/services/kms/key-record";
import { TestClock } from "../support/clock";
import { readClusterFile } from "../../src/services/kms/cloudhsm-clusters";
import { temporaryDirs } from "../support/files";
import { startTestServer, type TestServer } from "../support/server";
import { testSoftHsm } from "../support/softhsm";
import { describeStore, settled } from "../support/kms";

const CLUSTER = "cluster-234567abcdefg";
const OTHER_CLUSTER = "cluster-234567abcdefh";
const MISSING_TOKEN_CLUSTER = "cluster-234567abcdefz";
const WRONG_PIN_CLUSTER = "cluster-234567abcdefw";
const LOCKED_PIN_CLUSTER = "cluster-234567abcdefl";
const SAME_TOKEN_CLUSTERS = ["cluster-234567abcdefa", "cluster-234567abcdefb"] as const;
const TOKEN_LABEL = "secretslite-spec-cloudhsm";
/** A throwaway token of its own, so that no store connected to TOKEN_LABEL answers for it (checkSamePin). */
const LOCKED_TOKEN_LABEL = "secretslite-spec-locked";
const PIN = "kmsuser-pin-1";
const TRUST_ANCHOR = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

const tempDir = temporaryDirs("secretslite-cks-");

/** A clusters file naming the test token by label under every cluster id the tests use. */
function clustersFile(): string {
  const file = path.join(tempDir(), "clusters.yaml");
  writeFileSync(
    file,
    `${CLUSTER}: { tokenLabel: ${TOKEN_LABEL} }\n${OTHER_CLUSTER}: { tokenLabel: ${TOKEN_LABEL} }\n${MISSING_TOKEN_CLUSTER}: { tokenLabel: no-such-token }\n` +
      `${WRONG_PIN_CLUSTER}: { tokenLabel: ${TOKEN_LABEL} }\n${LOCKED_PIN_CLUSTER}: { tokenLabel: ${LOCKED_TOKEN_LABEL} }\n` +
      SAME_TOKEN_CLUSTERS.map((cluster) => `${cluster}: { tokenLabel: ${TOKEN_LABEL} }\n`).join(""),
  );
  return file;
}

/**
 * The cluster's token: the free slot of this worker's SoftHSM2 token directory, made in-process with C_InitToken while a
 * server holds the library (a token softhsm2-util made now would not be seen until the next C_Initialize).
 */
async function ensureClusterToken(label = TOKEN_LABEL, pin = PIN): Promise<void> {
  const softhsm = await testSoftHsm();
  if (listPkcs11Tokens(softhsm.modulePath, softhsm.softhsmConfigPath).some((token) => token.label === label)) return;
  initialisePkcs11Token({ modulePath: softhsm.modulePath, softhsmConfigPath: softhsm.softhsmConfigPath, tokenLabel: label, soPin: "so-pin-1234", pin });
}


const createStore = async (kms: KMSClient, name: string, clusterId: string, password = PIN) =>
  (await kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: name, CloudHsmClusterId: clusterId, TrustAnchorCertificate: TRUST_ANCHOR, KeyStorePassword: password })))
    .CustomKeyStoreId ?? "";

describe("AWS_CLOUDHSM custom key stores", () => {
  let server: TestServer;
  let kms: KMSClient;

  beforeAll(async () => {
    server = await startTestServer({ flags: ["--cloudhsm-clusters", clustersFile()] });
    kms = server.kms();
    await ensureClusterToken();
  });
  afterAll(async () => {
    await server?.close();
  });

  const create = (name: string, clusterId: string, password?: string) => createStore(kms, name, clusterId, password);

  it("creates, connects, holds a key in the token, and makes it Unavailable while disconnected", async () => {
    const id = await create("main-store", CLUSTER);
    expect(id).toMatch(/^cks-[0-9a-f]{17}$/);
    expect(await describeStore(kms, id)).toMatchObject({
      CustomKeyStoreId: id,
      CustomKeyStoreName: "main-store",
      CloudHsmClusterId: CLUSTER,
      TrustAnchorCertificate: TRUST_ANCHOR,
      ConnectionState: "DISCONNECTED",
      CustomKeyStoreType: "AWS_CLOUDHSM",
      CreationDate: expect.any(Date),
    });
    await expect(kms.send(new CreateKeyCommand({ CustomKeyStoreId: id, Origin: "AWS_CLOUDHSM" }))).rejects.toMatchObject({
      name: "CustomKeyStoreInvalidStateException",
    });
    await expect(kms.send(new GenerateRandomCommand({ NumberOfBytes: 8, CustomKeyStoreId: id }))).rejects.toMatchObject({
      name: "CustomKeyStoreInvalidStateException",
    });

    expect(await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }))).toMatchObject({});
    expect(await settled(kms, id)).toBe("CONNECTED");
    // Connecting a connected store is valid and changes nothing.
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));

    const created = (await kms.send(new CreateKeyCommand({ CustomKeyStoreId: id, Origin: "AWS_CLOUDHSM", Description: "in the token" }))).KeyMetadata;
    expect(created).toMatchObject({ Origin: "AWS_CLOUDHSM", CustomKeyStoreId: id, CloudHsmClusterId: CLUSTER, KeySpec: "SYMMETRIC_DEFAULT", KeyState: "Enabled" });
    const keyId = created?.KeyId ?? "";
    const arn = created?.Arn ?? "";
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("held in a CloudHSM") }));
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext ?? []).toString()).toBe("held in a CloudHSM");
    const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: "AES_256" }));
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob }))).Plaintext ?? [])).toEqual(Buffer.from(dataKey.Plaintext ?? []));
    const random = (await kms.send(new GenerateRandomCommand({ NumberOfBytes: 32, CustomKeyStoreId: id }))).Plaintext;
    expect(random).toHaveLength(32);
    const reEncrypted = await kms.send(new ReEncryptCommand({ CiphertextBlob, DestinationKeyId: keyId }));
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: reEncrypted.CiphertextBlob }))).Plaintext ?? []).toString()).toBe("held in a CloudHSM");
    await expect(kms.send(new GenerateDataKeyPairCommand({ KeyId: keyId, KeyPairSpec: "ECC_NIST_P256" }))).rejects.toMatchObject({
      name: "UnsupportedOperationException",
    });
    for (const refused of [{ KeySpec: "RSA_2048" as const, KeyUsage: "ENCRYPT_DECRYPT" as const }, { MultiRegion: true }, { Origin: "AWS_KMS" as const }]) {
      await expect(kms.send(new CreateKeyCommand({ CustomKeyStoreId: id, ...refused }))).rejects.toMatchObject({ name: "UnsupportedOperationException" });
    }
    await expect(kms.send(new EnableKeyRotationCommand({ KeyId: keyId }))).rejects.toMatchObject({
      name: "UnsupportedOperationException",
      message: `${arn} origin is AWS_CLOUDHSM which is not valid for this operation.`,
    });

    // Update (but for the name) and Delete need it DISCONNECTED.
    await expect(kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: id, KeyStorePassword: "another-pin" }))).rejects.toMatchObject({
      name: "CustomKeyStoreInvalidStateException",
    });
    await kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: id, NewCustomKeyStoreName: "renamed-store" }));
    await expect(kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id }))).rejects.toMatchObject({ name: "CustomKeyStoreInvalidStateException" });

    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    expect((await describeStore(kms, id))?.ConnectionState).toBe("DISCONNECTED");
    await expect(kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }))).rejects.toMatchObject({
      name: "CustomKeyStoreInvalidStateException",
    });
    expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState).toBe("Unavailable");
    await expect(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("x") }))).rejects.toMatchObject({
      name: "KMSInvalidStateException",
      message: `${arn} is unavailable.`,
    });
    await expect(kms.send(new DecryptCommand({ CiphertextBlob }))).rejects.toMatchObject({ name: "KMSInvalidStateException", message: `${arn} is unavailable.` });
    await expect(kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id }))).rejects.toMatchObject({ name: "CustomKeyStoreHasCMKsException" });

    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    expect(await settled(kms, id)).toBe("CONNECTED");
    expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState).toBe("Enabled");
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext ?? []).toString()).toBe("held in a CloudHSM");
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    // A key pending deletion is still in the store.
    await expect(kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id }))).rejects.toMatchObject({ name: "CustomKeyStoreHasCMKsException" });
  });

  it("a reset of the store's account removes the store, closes its connection and takes its keys' objects off the token", async () => {
    const other = server.kms({ accessKeyId: "111122223333" });
    const id = await createStore(other, "wiped", CLUSTER);
    await other.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    expect(await settled(other, id)).toBe("CONNECTED");
    const keyId = (await other.send(new CreateKeyCommand({ CustomKeyStoreId: id, Origin: "AWS_CLOUDHSM" }))).KeyMetadata?.KeyId ?? "";
    expect((await request(server.url).post("/_secretslite/reset?account=111122223333")).status).toBe(200);
    expect((await other.send(new DescribeCustomKeyStoresCommand({}))).CustomKeyStores).toEqual([]);
    const softhsm = await testSoftHsm();
    const look = connectClusterToken({ modulePath: softhsm.modulePath, tokenLabel: TOKEN_LABEL }, PIN);
    try {
      expect(() => look.seal(keyId, Buffer.alloc(12, 1), Buffer.alloc(0), Buffer.from("x"))).toThrow(/No key labelled/);
    } finally {
      look.close();
    }
    // The cluster is free again in that account, and a new store on it connects.
    const again = await createStore(other, "after-reset", CLUSTER);
    await other.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: again }));
    expect(await settled(other, again)).toBe("CONNECTED");
    await other.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: again }));
  });

  it("refuses a second store on the same cluster, a name in use, and an unknown cluster", async () => {
    await create("first-of-two", OTHER_CLUSTER);
    await expect(create("second-of-two", OTHER_CLUSTER)).rejects.toMatchObject({ name: "CloudHsmClusterInUseException" });
    await expect(create("first-of-two", MISSING_TOKEN_CLUSTER)).rejects.toMatchObject({ name: "CustomKeyStoreNameInUseException" });
    await expect(create("unknown-cluster", "cluster-abcdefghijkl")).rejects.toMatchObject({ name: "CloudHsmClusterNotFoundException" });
    await expect(kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: "cks-1234567890abcdef0" }))).rejects.toMatchObject({
      name: "CustomKeyStoreNotFoundException",
    });
    const named = await kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreName: "first-of-two" }));
    expect(named.CustomKeyStores?.map((store) => store.CloudHsmClusterId)).toEqual([OTHER_CLUSTER]);
  });

  it("fails with INVALID_CREDENTIALS for a wrong PIN, and needs a disconnect and the right PIN to connect", async () => {
    const id = await create("wrong-pin", WRONG_PIN_CLUSTER, "not-the-pin");
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    expect(await settled(kms, id)).toBe("FAILED");
    expect(await describeStore(kms, id)).toMatchObject({ ConnectionState: "FAILED", ConnectionErrorCode: "INVALID_CREDENTIALS" });
    await expect(kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }))).rejects.toMatchObject({
      name: "CustomKeyStoreInvalidStateException",
    });
    await expect(kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: id, KeyStorePassword: PIN }))).rejects.toMatchObject({
      name: "CustomKeyStoreInvalidStateException",
    });
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    const disconnected = await describeStore(kms, id);
    expect(disconnected?.ConnectionState).toBe("DISCONNECTED");
    expect(disconnected?.ConnectionErrorCode).toBeUndefined();
    await kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: id, KeyStorePassword: PIN }));
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    expect(await settled(kms, id)).toBe("CONNECTED");
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    await kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    await expect(describeStore(kms, id)).rejects.toMatchObject({ name: "CustomKeyStoreNotFoundException" });
  });

  it("fails with INVALID_CREDENTIALS for a wrong PIN while another store is logged in to the same token", async () => {
    // Login is per application, so the token itself would let the second store in with any PIN.
    const right = await create("right-pin", SAME_TOKEN_CLUSTERS[0]);
    const wrong = await create("other-pin", SAME_TOKEN_CLUSTERS[1], "not-the-pin-either");
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: right }));
    expect(await settled(kms, right)).toBe("CONNECTED");
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: wrong }));
    expect(await settled(kms, wrong)).toBe("FAILED");
    expect((await describeStore(kms, wrong))?.ConnectionErrorCode).toBe("INVALID_CREDENTIALS");
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: wrong }));
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: right }));
  });

  it("fails with USER_LOCKED_OUT when the token answers C_Login with CKR_PIN_LOCKED", async () => {
    // SoftHSM2 never locks a user PIN: Token::loginUser only sets CKF_USER_PIN_COUNT_LOW and answers CKR_PIN_INCORRECT
    // (SoftHSM 2.6.1 still logs in with the right PIN after 50 wrong ones). So the token's answer to this one PIN is
    // what a locking HSM gives (pkcs11js's own error for CKR_PIN_LOCKED, 0xA4); the session, slot lookup, connection
    // state machine and the wire are the real ones.
    const lockedPin = "kmsuser-locked-out";
    await ensureClusterToken(LOCKED_TOKEN_LABEL, lockedPin);
    // The server's loaded module (shared per library in this process); pkcs11js binds C_* on each instance.
    const softhsm = await testSoftHsm();
    const shared = acquireModule(softhsm.modulePath, softhsm.softhsmConfigPath);
    const login = shared.lib.C_Login.bind(shared.lib);
    const spy = jest.spyOn(shared.lib, "C_Login").mockImplementation((session, userType, pin) => {
      if (userType === pkcs11js.CKU_USER && pin === lockedPin) throw new pkcs11js.Pkcs11Error(`CKR_PIN_LOCKED:${pkcs11js.CKR_PIN_LOCKED}`);
      login(session, userType, pin);
    });
    try {
      const id = await create("locked-out", LOCKED_PIN_CLUSTER, lockedPin);
      await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
      expect(await settled(kms, id)).toBe("FAILED");
      expect(await describeStore(kms, id)).toMatchObject({ ConnectionState: "FAILED", ConnectionErrorCode: "USER_LOCKED_OUT" });
      expect(spy).toHaveBeenCalledWith(expect.anything(), pkcs11js.CKU_USER, lockedPin);
      await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
      expect((await describeStore(kms, id))?.ConnectionErrorCode).toBeUndefined();
    } finally {
      spy.mockRestore();
      releaseModule(shared);
    }
  });

  it("fails with CLUSTER_NOT_FOUND when no token has the configured label", async () => {
    const id = await create("missing-token", MISSING_TOKEN_CLUSTER);
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    expect(await settled(kms, id)).toBe("FAILED");
    expect((await describeStore(kms, id))?.ConnectionErrorCode).toBe("CLUSTER_NOT_FOUND");
  });
});

describe("the --cloudhsm-clusters file", () => {
  it("names every mistake", () => {
    const file = path.join(tempDir(), "clusters.yaml");
    writeFileSync(file, "cluster-1: { tokenLabel: a }\ncluster-234567abcdefg: { tokenLabel: a, slot: 1 }\ncluster-234567abcdefh: { pin: x, slot: 2 }\n");
    expect(() => readClusterFile(file, "/lib/p11.so")).toThrow(
      /cluster-1: a cluster id is[\s\S]*cluster-234567abcdefg: needs tokenLabel or slot, not both[\s\S]*cluster-234567abcdefh\.pin: unknown field/,
    );
    writeFileSync(file, "cluster-234567abcdefg: { tokenLabel: a }\ncluster-234567abcdefh: { pkcs11Module: /opt/other.so, slot: 3 }\n");
    expect([...readClusterFile(file, "/lib/p11.so")]).toEqual([
      ["cluster-234567abcdefg", { modulePath: "/lib/p11.so", tokenLabel: "a" }],
      ["cluster-234567abcdefh", { modulePath: "/opt/other.so", slot: 3 }],
    ]);
  });
});

describe("keys of a custom key store across deletion and restart", () => {
  const clock = new TestClock(Date.now());
  const dataDir = tempDir();
  const flags = ["--cloudhsm-clusters", clustersFile()];

  it("destroys a deleted key's token object, and reconnects a CONNECTED store when secretslite starts again", async () => {
    const first = await startTestServer({ dataDir, flags, clock });
    let second: TestServer | undefined;
    try {
      await ensureClusterToken();
      const kms = first.kms();
      const id = await createStore(kms, "restarted", CLUSTER);
      await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
      expect(await settled(kms, id)).toBe("CONNECTED");
      const kept = (await kms.send(new CreateKeyCommand({ CustomKeyStoreId: id, Origin: "AWS_CLOUDHSM" }))).KeyMetadata?.KeyId ?? "";
      const deleted = (await kms.send(new CreateKeyCommand({ CustomKeyStoreId: id, Origin: "AWS_CLOUDHSM" }))).KeyMetadata?.KeyId ?? "";
      const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: kept, Plaintext: Buffer.from("after a restart") }));

      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: deleted, PendingWindowInDays: 7 }));
      clock.ms += 8 * DAY_MS;
      await expect(kms.send(new DescribeKeyCommand({ KeyId: deleted }))).rejects.toBeInstanceOf(NotFoundException);
      // Looked at from outside: the token still holds the kept key's object and no longer the deleted one's.
      const softhsm = await testSoftHsm();
      const look = connectClusterToken({ modulePath: softhsm.modulePath, tokenLabel: TOKEN_LABEL }, PIN);
      try {
        const iv = Buffer.alloc(12, 1);
        expect(look.seal(kept, iv, Buffer.alloc(0), Buffer.from("x"))).toHaveLength(17);
        expect(() => look.seal(deleted, iv, Buffer.alloc(0), Buffer.from("x"))).toThrow(/No key labelled/);
      } finally {
        look.close();
      }

      await first.stop();
      second = await startTestServer({ dataDir, flags, clock });
      const again = second.kms();
      expect(await settled(again, id)).toBe("CONNECTED");
      expect(Buffer.from((await again.send(new DecryptCommand({ CiphertextBlob }))).Plaintext ?? []).toString()).toBe("after a restart");
    } finally {
      await (second ?? first).close();
    }
  });
});
