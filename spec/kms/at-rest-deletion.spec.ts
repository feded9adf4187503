// KMS key material leaving LevelDB's files: the wrapped backing key searched for in the data dir while stored, and
// gone after the key's deletion or the imported material's expiry (compaction). LevelDB only, whatever
// SECRETSLITE_TEST_STORE says: on PostgreSQL these are rows whose dead versions autovacuum reclaims in its own time, so
// scripts/test.sh leaves this file out of the PostgreSQL job. The rest of deletion and import runs on both stores
// (spec/kms/deletion.spec.ts, spec/kms/import.spec.ts).
import { randomBytes } from "node:crypto";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GetKeyLastUsageCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  ListAliasesCommand,
  ListKeysCommand,
  ScheduleKeyDeletionCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import type { KmsKeyRecord } from "../../src/services/kms/key-record";
import { GLOBAL, kindRange, recordKey } from "../../src/storage/keys";
import type { StoredValue } from "../../src/storage/store";
import { TestClock } from "../support/clock";
import { filesContaining } from "../support/files";
import { readStore, wrapMaterial } from "../support/kms";
import { ACCOUNT, REGION, startTestServer, type TestServer } from "../support/server";

const DAY = 86_400_000;
const START = Date.UTC(2031, 0, 1, 12);

const scope = { account: ACCOUNT, region: REGION };

/** Every form the wrapped backing key could take in a file: raw bytes, base64, hex. */
const forms = (bytes: Buffer): Buffer[] => [bytes, Buffer.from(bytes.toString("base64")), Buffer.from(bytes.toString("hex"))];
const findAnywhere = (dir: string, bytes: Buffer): string[] => forms(bytes).flatMap((form) => filesContaining(dir, form));

const keyRecord = (dataDir: string, keyId: string): Promise<KmsKeyRecord | undefined> =>
  readStore(dataDir, (store) => store.get<KmsKeyRecord>(recordKey(scope, "kms", "kms-key", keyId)));

const scheduleEntries = (dataDir: string): Promise<StoredValue[]> =>
  readStore(dataDir, async (store) => {
    const entries: StoredValue[] = [];
    for await (const [, entry] of store.range<StoredValue>(kindRange(GLOBAL, "kms", "kms-schedule"))) entries.push(entry);
    return entries;
  });

describe("key deletion", () => {
  let clock: TestClock;
  let server: TestServer;
  let kms: KMSClient;

  beforeEach(async () => {
    clock = new TestClock(START);
    server = await startTestServer({ clock, store: "level" });
    kms = server.kms();
  });
  afterEach(() => server.close());

  const createKey = async () => (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;

  it("destroys the key, its material, its aliases and its usage when the window ends, and compacts them off the disk", async () => {
    const key = await createKey();
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("gone soon") }));
    await kms.send(new CreateAliasCommand({ AliasName: "alias/doomed", TargetKeyId: key.KeyId }));
    const bystander = await createKey();
    await kms.send(new CreateAliasCommand({ AliasName: "alias/bystander", TargetKeyId: bystander.KeyId }));

    // The wrapped backing key, read as the server stores it, is in the data files before destruction.
    await server.stop();
    const wrapped = Buffer.from((await keyRecord(server.dataDir, key.KeyId!))!.backingKeys[0]!.wrapped, "base64");
    expect(wrapped).toHaveLength(40);
    expect(findAnywhere(server.dataDir, wrapped)).not.toEqual([]);
    server = await startTestServer({ clock, dataDir: server.dataDir, store: "level" });
    kms = server.kms();

    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    clock.ms += 7 * DAY - 1;
    await expect(kms.send(new DecryptCommand({ CiphertextBlob }))).rejects.toMatchObject({ name: "KMSInvalidStateException" });
    expect((await kms.send(new DescribeKeyCommand({ KeyId: "alias/doomed" }))).KeyMetadata!.KeyId).toBe(key.KeyId);

    // Due: the next lookup finds no key, with no sweep needed first.
    clock.ms += 1;
    await expect(kms.send(new DecryptCommand({ CiphertextBlob }))).rejects.toMatchObject({
      name: "AccessDeniedException",
      message:
        "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
      $metadata: { httpStatusCode: 400 },
    });
    await expect(kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({
      name: "NotFoundException",
      message: `Key '${key.Arn}' does not exist`,
    });
    await expect(kms.send(new GetKeyLastUsageCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({ name: "NotFoundException" });
    await expect(kms.send(new DescribeKeyCommand({ KeyId: "alias/doomed" }))).rejects.toMatchObject({
      name: "NotFoundException",
      message: `Alias arn:aws:kms:${REGION}:${ACCOUNT}:alias/doomed is not found.`,
    });
    const keyIds = (await kms.send(new ListKeysCommand({}))).Keys!.map((entry) => entry.KeyId);
    expect(keyIds).not.toContain(key.KeyId);
    expect(keyIds).toContain(bystander.KeyId);
    const aliasNames = (await kms.send(new ListAliasesCommand({}))).Aliases!.map((alias) => alias.AliasName);
    expect(aliasNames).not.toContain("alias/doomed");
    expect(aliasNames).toContain("alias/bystander");

    await server.stop();
    expect(findAnywhere(server.dataDir, wrapped)).toEqual([]);
    expect(await keyRecord(server.dataDir, key.KeyId!)).toBeUndefined();
    await readStore(server.dataDir, async (store) => {
      expect(await store.get(recordKey(scope, "kms", "kms-key-usage", key.KeyId!))).toBeUndefined();
      expect(await store.get(recordKey(scope, "kms", "kms-alias", "alias/doomed"))).toBeUndefined();
      expect(await store.get(recordKey(scope, "kms", "kms-alias", "alias/bystander"))).toBeDefined();
    });
    expect((await scheduleEntries(server.dataDir)).filter((entry) => entry["keyId"] === key.KeyId)).toEqual([]);
    server = await startTestServer({ clock, dataDir: server.dataDir, store: "level" });
  });

  it("destroys at start a key whose deletion fell due while the server was down", async () => {
    const key = await createKey();
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("x") }));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    const kept = await createKey();
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: kept.KeyId, PendingWindowInDays: 30 }));
    await server.stop();
    const wrapped = Buffer.from((await keyRecord(server.dataDir, key.KeyId!))!.backingKeys[0]!.wrapped, "base64");
    expect(await scheduleEntries(server.dataDir)).toHaveLength(2);

    clock.ms += 8 * DAY;
    server = await startTestServer({ clock, dataDir: server.dataDir, store: "level" });
    // Stopped again before any request: only the start-up sweep can have destroyed it.
    await server.stop();
    expect(await keyRecord(server.dataDir, key.KeyId!)).toBeUndefined();
    expect(findAnywhere(server.dataDir, wrapped)).toEqual([]);
    expect((await keyRecord(server.dataDir, kept.KeyId!))?.keyState).toBe("PendingDeletion");
    expect(await scheduleEntries(server.dataDir)).toEqual([expect.objectContaining({ kind: "destroy", keyId: kept.KeyId })]);

    server = await startTestServer({ clock, dataDir: server.dataDir, store: "level" });
    kms = server.kms();
    await expect(kms.send(new DecryptCommand({ CiphertextBlob }))).rejects.toMatchObject({ name: "AccessDeniedException" });
  });
});

describe("imported material expiry", () => {
  it("destroys material at ValidTo (and at start when it fell due while stopped); the same material brings the key back", async () => {
    const clock = new TestClock(START);
    let server = await startTestServer({ clock, store: "level" });
    try {
      let kms = server.kms();
      const material = randomBytes(32);
      const importWithValidTo = async (keyId: string, validTo: Date) => {
        const { ImportToken, PublicKey } = await kms.send(
          new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: "RSAES_OAEP_SHA_1", WrappingKeySpec: "RSA_2048" }),
        );
        await kms.send(
          new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken, EncryptedKeyMaterial: wrapMaterial(PublicKey!, "RSAES_OAEP_SHA_1", material), ValidTo: validTo }),
        );
      };
      const key = (await kms.send(new CreateKeyCommand({ Origin: "EXTERNAL" }))).KeyMetadata!;
      // A wrapping key and token issued before a restart still import after it: they are stored, wrapped.
      const issued = await kms.send(new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048" }));
      await server.stop();
      server = await startTestServer({ clock, dataDir: server.dataDir, store: "level" });
      kms = server.kms();
      await kms.send(
        new ImportKeyMaterialCommand({
          KeyId: key.KeyId,
          ImportToken: issued.ImportToken,
          EncryptedKeyMaterial: wrapMaterial(issued.PublicKey!, "RSAES_OAEP_SHA_256", material),
          ValidTo: new Date(clock.ms + DAY),
        }),
      );
      const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("until tomorrow") }));
      clock.ms += DAY - 1;
      expect((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata).toMatchObject({ KeyState: "Enabled", ValidTo: new Date(clock.ms + 1) });
      clock.ms += 1;
      expect((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata).toMatchObject({ KeyState: "PendingImport" });
      await expect(kms.send(new DecryptCommand({ CiphertextBlob }))).rejects.toMatchObject({ name: "KMSInvalidStateException" });
      await importWithValidTo(key.KeyId!, new Date(clock.ms + DAY));
      expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString()).toBe("until tomorrow");

      // Due while the server is down: carried out by the sweep at start, before any lookup.
      await server.stop();
      const storedKey = () => readStore(server.dataDir, (store) => store.get<KmsKeyRecord>(recordKey({ account: ACCOUNT, region: REGION }, "kms", "kms-key", key.KeyId!)));
      const wrapped = Buffer.from((await storedKey())!.backingKeys[0]!.wrapped, "base64");
      expect(wrapped).toHaveLength(40);
      // The material itself is never on disk; its wrapped form is, until it expires.
      const forms = (bytes: Buffer) => [bytes, Buffer.from(bytes.toString("base64")), Buffer.from(bytes.toString("hex"))];
      expect(forms(material).flatMap((form) => filesContaining(server.dataDir, form))).toEqual([]);
      expect(forms(wrapped).flatMap((form) => filesContaining(server.dataDir, form))).not.toEqual([]);
      clock.ms += 2 * DAY;
      server = await startTestServer({ clock, dataDir: server.dataDir, store: "level" });
      await server.stop();
      expect(await storedKey()).toMatchObject({ keyState: "PendingImport", backingKeys: [{ wrapped: "", deleted: true }] });
      expect(forms(wrapped).flatMap((form) => filesContaining(server.dataDir, form))).toEqual([]);
      server = await startTestServer({ clock, dataDir: server.dataDir, store: "level" });
      kms = server.kms();
      const described = (await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!;
      expect(described).toMatchObject({ KeyState: "PendingImport" });
      expect(described.ValidTo).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});
