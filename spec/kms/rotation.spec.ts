// Key rotation: automatic (on schedule, by the test clock) and on demand, ListKeyRotations, and who may rotate what.
import {
  CancelKeyDeletionCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyRotationStatusCommand,
  ListKeyRotationsCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  type KMSClient,
  type RotationsListEntry,
} from "@aws-sdk/client-kms";
import type { KmsKeyRecord } from "../../src/services/kms/key-record";
import { recordKey } from "../../src/storage/keys";
import { TestClock } from "../support/clock";
import { ACCOUNT, openServerStore, rawRequest, REGION, startTestServer, type TestServer } from "../support/server";

const DAY = 86_400_000;
const START = Date.UTC(2031, 5, 1, 8);

let clock: TestClock;
let server: TestServer;
let kms: KMSClient;

beforeEach(async () => {
  clock = new TestClock(START);
  server = await startTestServer({ clock });
  kms = server.kms();
});
afterEach(() => server.close());

const createKey = async (input: { Origin?: "EXTERNAL" } = {}) => (await kms.send(new CreateKeyCommand(input))).KeyMetadata!;
const currentMaterial = async (keyId: string) => (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.CurrentKeyMaterialId!;
const encrypt = async (keyId: string, text: string) =>
  (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(text) }))).CiphertextBlob!;
const decrypt = async (blob: Uint8Array) => {
  const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: blob }));
  return { text: Buffer.from(decrypted.Plaintext!).toString(), keyMaterialId: decrypted.KeyMaterialId };
};
const rotations = async (keyId: string, include?: "ALL_KEY_MATERIAL" | "ROTATIONS_ONLY"): Promise<RotationsListEntry[]> =>
  (await kms.send(new ListKeyRotationsCommand({ KeyId: keyId, IncludeKeyMaterial: include }))).Rotations!;

describe("behaviour", () => {
  describe("automatic rotation", () => {
    it("is off for a new key, and on with a 365-day period by default", async () => {
      const key = await createKey();
      const fresh = await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }));
      expect(fresh).toMatchObject({ KeyId: key.KeyId, KeyRotationEnabled: false });
      expect([fresh.RotationPeriodInDays, fresh.NextRotationDate, fresh.OnDemandRotationStartDate]).toEqual([undefined, undefined, undefined]);
      await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId }));
      expect(await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.Arn }))).toMatchObject({
        KeyId: key.KeyId,
        KeyRotationEnabled: true,
        RotationPeriodInDays: 365,
        NextRotationDate: new Date(clock.ms + 365 * DAY),
      });
      await kms.send(new DisableKeyRotationCommand({ KeyId: key.KeyId }));
      const disabled = await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }));
      expect(disabled.KeyRotationEnabled).toBe(false);
      expect(disabled.NextRotationDate).toBeUndefined();
    });

    it("rotates when due: new encryptions use the new material, old ciphertexts still decrypt", async () => {
      const key = await createKey();
      const enabledAt = clock.ms;
      await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 90 }));
      const before = await encrypt(key.KeyId!, "before");

      clock.ms = enabledAt + 90 * DAY - 1;
      expect(await currentMaterial(key.KeyId!)).toBe(key.CurrentKeyMaterialId);

      // Due: the lookup of an Encrypt rotates first, with no sweep needed, and a burst of them rotates once.
      clock.ms = enabledAt + 90 * DAY;
      const burst = await Promise.all(
        Array.from({ length: 8 }, () => kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: "AES_256" }))),
      );
      const dataKey = burst[0]!;
      expect(new Set(burst.map((generated) => generated.KeyMaterialId))).toEqual(new Set([dataKey.KeyMaterialId]));
      expect(dataKey.KeyMaterialId).not.toBe(key.CurrentKeyMaterialId);
      expect(await currentMaterial(key.KeyId!)).toBe(dataKey.KeyMaterialId);
      const after = await encrypt(key.KeyId!, "after");
      expect(await decrypt(before)).toEqual({ text: "before", keyMaterialId: key.CurrentKeyMaterialId });
      expect(await decrypt(after)).toEqual({ text: "after", keyMaterialId: dataKey.KeyMaterialId });

      expect(await rotations(key.KeyId!)).toEqual([
        {
          KeyId: key.KeyId,
          KeyMaterialId: dataKey.KeyMaterialId,
          KeyMaterialState: "CURRENT",
          RotationDate: new Date(enabledAt + 90 * DAY),
          RotationType: "AUTOMATIC",
        },
      ]);
      // On time, the cadence holds.
      expect((await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }))).NextRotationDate).toEqual(
        new Date(enabledAt + 180 * DAY),
      );
    });

    it("rotates a key that was disabled when due as soon as it is enabled again, once", async () => {
      const key = await createKey();
      await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 90 }));
      await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
      clock.ms += 200 * DAY;
      expect(await currentMaterial(key.KeyId!)).toBe(key.CurrentKeyMaterialId);
      await kms.send(new EnableKeyCommand({ KeyId: key.KeyId }));
      expect(await currentMaterial(key.KeyId!)).not.toBe(key.CurrentKeyMaterialId);
      expect(await rotations(key.KeyId!)).toHaveLength(1);
      // Late, the schedule starts again from the rotation.
      expect((await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }))).NextRotationDate).toEqual(
        new Date(clock.ms + 90 * DAY),
      );
    });

    it("does not rotate a key pending deletion, and reports rotation off until the deletion is cancelled", async () => {
      const key = await createKey();
      await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 90 }));
      const next = (await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }))).NextRotationDate;
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 30 }));
      const pending = await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }));
      expect(pending.KeyRotationEnabled).toBe(false);
      expect(pending.NextRotationDate).toBeUndefined();
      await kms.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }));
      expect(await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }))).toMatchObject({
        KeyRotationEnabled: true,
        RotationPeriodInDays: 90,
        NextRotationDate: next,
      });
    });

    it("keeps the start of the current period when the period changes", async () => {
      const key = await createKey();
      const enabledAt = clock.ms;
      await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 365 }));
      clock.ms += 10 * DAY;
      await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 100 }));
      expect(await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }))).toMatchObject({
        RotationPeriodInDays: 100,
        NextRotationDate: new Date(enabledAt + 100 * DAY),
      });
    });

    it("rotates at start a key whose rotation fell due while the server was down", async () => {
      const key = await createKey();
      await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 90 }));
      await server.stop();
      clock.ms += 91 * DAY;
      server = await startTestServer({ clock, dataDir: server.dataDir });
      // Stopped before any request: only the start-up sweep can have rotated it.
      await server.stop();
      const store = await openServerStore(server.dataDir);
      const record = await store.get<KmsKeyRecord>(recordKey({ account: ACCOUNT, region: REGION }, "kms", "kms-key", key.KeyId!));
      await store.close();
      expect(record?.backingKeys.map((backingKey) => backingKey.rotationType)).toEqual([undefined, "AUTOMATIC"]);
      server = await startTestServer({ clock, dataDir: server.dataDir });
      kms = server.kms();
    });
  });

  describe("on-demand rotation", () => {
    it("rotates now and leaves the automatic schedule alone", async () => {
      const key = await createKey();
      await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 90 }));
      const status = await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }));
      const before = await encrypt(key.KeyId!, "before");
      clock.ms += DAY;
      expect(await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.Arn }))).toMatchObject({ KeyId: key.Arn });
      const rotated = await currentMaterial(key.KeyId!);
      expect(rotated).not.toBe(key.CurrentKeyMaterialId);
      expect(await decrypt(before)).toEqual({ text: "before", keyMaterialId: key.CurrentKeyMaterialId });
      expect(await decrypt(await encrypt(key.KeyId!, "after"))).toEqual({ text: "after", keyMaterialId: rotated });
      const after = await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }));
      expect(after.NextRotationDate).toEqual(status.NextRotationDate);
      // Complete within the request, so never "in progress".
      expect(after.OnDemandRotationStartDate).toBeUndefined();
      expect(await rotations(key.KeyId!, "ALL_KEY_MATERIAL")).toEqual([
        { KeyId: key.KeyId, KeyMaterialId: key.CurrentKeyMaterialId, KeyMaterialState: "NON_CURRENT" },
        { KeyId: key.KeyId, KeyMaterialId: rotated, KeyMaterialState: "CURRENT", RotationDate: new Date(clock.ms), RotationType: "ON_DEMAND" },
      ]);
    });

    it("allows 25 on-demand rotations per key, even to calls racing for the last ones, listed in pages", async () => {
      const key = await createKey();
      for (let i = 0; i < 20; i++) await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }));
      const racing = await Promise.allSettled(Array.from({ length: 9 }, () => kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }))));
      expect(racing.filter((outcome) => outcome.status === "fulfilled")).toHaveLength(5);
      expect(racing.filter((outcome) => outcome.status === "rejected").map((outcome) => (outcome as PromiseRejectedResult).reason.name)).toEqual(
        Array(4).fill("LimitExceededException"),
      );
      await expect(kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({
        name: "LimitExceededException",
        message: `The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: ${key.Arn}`,
      });
      const pages: RotationsListEntry[][] = [];
      let marker: string | undefined;
      do {
        const page = await kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId, Limit: 10, Marker: marker }));
        expect(page.Truncated).toBe(page.NextMarker !== undefined);
        pages.push(page.Rotations!);
        marker = page.NextMarker;
      } while (marker !== undefined);
      expect(pages.map((page) => page.length)).toEqual([10, 10, 5]);
      const listed = pages.flat();
      expect(new Set(listed.map((entry) => entry.KeyMaterialId)).size).toBe(25);
      expect(listed.every((entry) => entry.RotationType === "ON_DEMAND" && /^[0-9a-f]{64}$/.test(entry.KeyMaterialId!))).toBe(true);
      expect(listed[24]!.KeyMaterialId).toBe(await currentMaterial(key.KeyId!));
      await expect(kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId, Marker: "bm90LW91cnM" }))).rejects.toMatchObject({
        name: "InvalidMarkerException",
      });
    });

    it("conflicts with an automatic rotation due within 20 minutes", async () => {
      const key = await createKey();
      const enabledAt = clock.ms;
      await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 90 }));
      clock.ms = enabledAt + 90 * DAY - 20 * 60_000 - 1;
      await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }));
      clock.ms += 2;
      await expect(kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({
        name: "ConflictException",
      });
    });

    it("needs an enabled key", async () => {
      const key = await createKey();
      await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
      for (const command of [
        new RotateKeyOnDemandCommand({ KeyId: key.KeyId }),
        new EnableKeyRotationCommand({ KeyId: key.KeyId }),
        new DisableKeyRotationCommand({ KeyId: key.KeyId }),
      ]) {
        await expect(kms.send(command as RotateKeyOnDemandCommand)).rejects.toMatchObject({
          name: "DisabledException",
          message: `${key.Arn} is disabled.`,
        });
      }
      // Reading the status is allowed in any state but PendingImport.
      expect((await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }))).KeyRotationEnabled).toBe(false);
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
      await expect(kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({
        name: "KMSInvalidStateException",
        message: `${key.Arn} is pending deletion.`,
      });
      expect(await rotations(key.KeyId!)).toEqual([]);
    });
  });

  describe("who may rotate", () => {
    it("refuses every rotation operation on a key with imported (EXTERNAL) material", async () => {
      const key = await createKey({ Origin: "EXTERNAL" });
      const refusal = { name: "UnsupportedOperationException", message: `${key.Arn} origin is EXTERNAL which is not valid for this operation.` };
      await expect(kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId }))).rejects.toMatchObject(refusal);
      await expect(kms.send(new DisableKeyRotationCommand({ KeyId: key.KeyId }))).rejects.toMatchObject(refusal);
      await expect(kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }))).rejects.toMatchObject(refusal);
      // RotateKeyOnDemand answers with the key's state instead: it can rotate imported material now.
      await expect(kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({
        name: "KMSInvalidStateException",
        message: `${key.Arn} is pending import.`,
      });
      // ListKeyRotations lists imported material (spec/kms/import.spec.ts); there is none yet.
      expect((await kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId }))).Rotations).toEqual([]);
    });

    it("keeps AWS managed keys rotating every year, and nobody can change that", async () => {
      const managed = (await kms.send(new DescribeKeyCommand({ KeyId: "alias/aws/secretsmanager" }))).KeyMetadata!;
      expect(await kms.send(new GetKeyRotationStatusCommand({ KeyId: managed.KeyId }))).toMatchObject({
        KeyRotationEnabled: true,
        RotationPeriodInDays: 365,
        NextRotationDate: new Date(managed.CreationDate!.getTime() + 365 * DAY),
      });
      for (const command of [
        new EnableKeyRotationCommand({ KeyId: managed.KeyId, RotationPeriodInDays: 90 }),
        new DisableKeyRotationCommand({ KeyId: managed.KeyId }),
        new RotateKeyOnDemandCommand({ KeyId: managed.KeyId }),
      ]) {
        await expect(kms.send(command as RotateKeyOnDemandCommand)).rejects.toMatchObject({ name: "AccessDeniedException" });
      }
      clock.ms += 365 * DAY;
      const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: "alias/aws/secretsmanager", KeySpec: "AES_256" }));
      expect(dataKey.KeyMaterialId).not.toBe(managed.CurrentKeyMaterialId);
      expect((await rotations(managed.KeyId!)).map((entry) => entry.RotationType)).toEqual(["AUTOMATIC"]);
    });

    it("takes a key id or key ARN, not an alias", async () => {
      for (const command of [
        new EnableKeyRotationCommand({ KeyId: "alias/aws/secretsmanager" }),
        new GetKeyRotationStatusCommand({ KeyId: "alias/aws/secretsmanager" }),
        new RotateKeyOnDemandCommand({ KeyId: "alias/aws/secretsmanager" }),
        new ListKeyRotationsCommand({ KeyId: "alias/aws/secretsmanager" }),
      ]) {
        await expect(kms.send(command as RotateKeyOnDemandCommand)).rejects.toMatchObject({
          name: "InvalidArnException",
          message: "Key Aliases are not supported for this operation.",
        });
      }
    });
  });
});

describe("serialization", () => {
  it("sends dates as epoch seconds and leaves out what does not apply", async () => {
    const key = await createKey();
    const call = async (operation: string, body: object) => {
      const response = await rawRequest(server, { target: `TrentService.${operation}`, body: JSON.stringify(body) });
      expect(response.status).toBe(200);
      return JSON.parse(response.text) as Record<string, unknown>;
    };
    expect(await call("GetKeyRotationStatus", { KeyId: key.KeyId })).toEqual({ KeyId: key.KeyId, KeyRotationEnabled: false });
    expect(await call("EnableKeyRotation", { KeyId: key.KeyId, RotationPeriodInDays: 90 })).toEqual({});
    expect(await call("GetKeyRotationStatus", { KeyId: key.KeyId })).toEqual({
      KeyId: key.KeyId,
      KeyRotationEnabled: true,
      RotationPeriodInDays: 90,
      NextRotationDate: (clock.ms + 90 * DAY) / 1000,
    });
    expect(await call("RotateKeyOnDemand", { KeyId: key.KeyId })).toEqual({ KeyId: key.Arn });
    const listed = await call("ListKeyRotations", { KeyId: key.KeyId });
    expect(listed).toEqual({
      Rotations: [
        { KeyId: key.KeyId, KeyMaterialId: expect.stringMatching(/^[0-9a-f]{64}$/), KeyMaterialState: "CURRENT", RotationDate: clock.ms / 1000, RotationType: "ON_DEMAND" },
      ],
      Truncated: false,
    });
    expect(await call("DisableKeyRotation", { KeyId: key.KeyId })).toEqual({});
  });
});

describe("validation", () => {
  it("holds RotationPeriodInDays to 90–2560 and IncludeKeyMaterial to its enum", async () => {
    const key = await createKey();
    for (const days of [89, 2561]) {
      const response = await rawRequest(server, {
        target: "TrentService.EnableKeyRotation",
        body: JSON.stringify({ KeyId: key.KeyId, RotationPeriodInDays: days }),
      });
      expect(response.status).toBe(400);
      expect(JSON.parse(response.text)).toMatchObject({
        __type: "ValidationException",
        message: expect.stringContaining(`Value '${days}' at 'rotationPeriodInDays' failed to satisfy constraint`),
      });
    }
    const badEnum = await rawRequest(server, {
      target: "TrentService.ListKeyRotations",
      body: JSON.stringify({ KeyId: key.KeyId, IncludeKeyMaterial: "SOME" }),
    });
    expect(badEnum.status).toBe(400);
    expect(JSON.parse(badEnum.text)).toMatchObject({ __type: "ValidationException" });
  });
});
