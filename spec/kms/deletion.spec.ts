// ScheduleKeyDeletion, CancelKeyDeletion and destruction: the window, the states, the schedule. The key's material
// leaving LevelDB's files, and destruction at start: spec/kms/at-rest-deletion.spec.ts.
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GetKeyRotationStatusCommand,
  ListKeysCommand,
  ScheduleKeyDeletionCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import request from "supertest";
import { GLOBAL, kindRange } from "../../src/storage/keys";
import type { StoredValue } from "../../src/storage/store";
import { readStore } from "../support/kms";
import { TestClock } from "../support/clock";
import { ACCOUNT, rawRequest, REGION, startTestServer, type TestServer } from "../support/server";

const DAY = 86_400_000;
const START = Date.UTC(2031, 0, 1, 12);

const scheduleEntries = (dataDir: string): Promise<StoredValue[]> =>
  readStore(dataDir, async (store) => {
    const entries: StoredValue[] = [];
    for await (const [, entry] of store.range<StoredValue>(kindRange(GLOBAL, "kms", "kms-schedule"))) entries.push(entry);
    return entries;
  });

describe("behaviour", () => {
  let clock: TestClock;
  let server: TestServer;
  let kms: KMSClient;

  beforeEach(async () => {
    clock = new TestClock(START);
    server = await startTestServer({ clock });
    kms = server.kms();
  });
  afterEach(() => server.close());

  const createKey = async () => (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;

  it("schedules deletion 30 days out by default and shows it in DescribeKey", async () => {
    const key = await createKey();
    const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId }));
    expect(scheduled).toMatchObject({
      KeyId: key.Arn,
      DeletionDate: new Date(clock.ms + 30 * DAY),
      KeyState: "PendingDeletion",
      PendingWindowInDays: 30,
    });
    const described = (await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!;
    expect(described).toMatchObject({ KeyState: "PendingDeletion", Enabled: false, DeletionDate: new Date(clock.ms + 30 * DAY) });
    // Only multi-Region primaries waiting for their replicas show a window instead of a date.
    expect(described.PendingDeletionWindowInDays).toBeUndefined();
    // Listed until it is destroyed.
    expect((await kms.send(new ListKeysCommand({}))).Keys).toContainEqual({ KeyId: key.KeyId, KeyArn: key.Arn });
  });

  it("takes a 7 to 30 day window, by key id or key ARN only", async () => {
    const key = await createKey();
    const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.Arn, PendingWindowInDays: 7 }));
    expect(scheduled.DeletionDate).toEqual(new Date(clock.ms + 7 * DAY));
    expect(scheduled.PendingWindowInDays).toBe(7);
    const other = await createKey();
    for (const days of [6, 31]) {
      await expect(kms.send(new ScheduleKeyDeletionCommand({ KeyId: other.KeyId, PendingWindowInDays: days }))).rejects.toMatchObject({
        name: "ValidationException",
        message: "PendingWindowInDays must be between 7 and 30",
      });
    }
    await kms.send(new CreateAliasCommand({ AliasName: "alias/to-delete", TargetKeyId: other.KeyId }));
    await expect(kms.send(new ScheduleKeyDeletionCommand({ KeyId: "alias/to-delete" }))).rejects.toMatchObject({
      name: "InvalidArnException",
      message: "Key Aliases are not supported for this operation.",
    });
    const missing = "11111111-2222-3333-4444-555555555555";
    await expect(kms.send(new CancelKeyDeletionCommand({ KeyId: missing }))).rejects.toMatchObject({
      name: "NotFoundException",
      message: `Key 'arn:aws:kms:${REGION}:${ACCOUNT}:key/${missing}' does not exist`,
    });
  });

  it("refuses a key already pending deletion, and cancelling a key that is not", async () => {
    const key = await createKey();
    await expect(kms.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({
      name: "KMSInvalidStateException",
      message: `${key.Arn} is not pending deletion.`,
    });
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    await expect(kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({
      name: "KMSInvalidStateException",
      message: `${key.Arn} is pending deletion.`,
      $metadata: { httpStatusCode: 400 },
    });
    await expect(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("x") }))).rejects.toMatchObject({
      name: "KMSInvalidStateException",
      message: `${key.Arn} is pending deletion.`,
    });
  });

  it("cancels into Disabled, with rotation as it was", async () => {
    const key = await createKey();
    await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId }));
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("kept") }));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    expect((await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }))).KeyRotationEnabled).toBe(false);

    clock.ms += 6 * DAY;
    expect(await kms.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }))).toMatchObject({ KeyId: key.Arn });
    const described = (await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!;
    expect(described).toMatchObject({ KeyState: "Disabled", Enabled: false });
    expect(described.DeletionDate).toBeUndefined();
    expect((await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }))).KeyRotationEnabled).toBe(true);
    await expect(kms.send(new DecryptCommand({ CiphertextBlob }))).rejects.toMatchObject({ name: "DisabledException" });

    // Past the old deletion date nothing happens: the cancellation removed it from the schedule.
    clock.ms += 2 * DAY;
    await kms.send(new EnableKeyCommand({ KeyId: key.KeyId }));
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString()).toBe("kept");
  });

  it("does not let anyone delete an AWS managed key", async () => {
    const managed = (await kms.send(new DescribeKeyCommand({ KeyId: "alias/aws/secretsmanager" }))).KeyMetadata!;
    await expect(kms.send(new ScheduleKeyDeletionCommand({ KeyId: managed.KeyId }))).rejects.toMatchObject({
      name: "AccessDeniedException",
      message: expect.stringContaining(`is not authorized to perform: kms:ScheduleKeyDeletion on resource: ${managed.Arn}`),
    });
  });

  it("lets reset wipe the schedule with everything else", async () => {
    const key = await createKey();
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    await kms.send(new EnableKeyRotationCommand({ KeyId: (await createKey()).KeyId }));
    expect((await request(server.url).post("/_secretslite/reset")).status).toBe(200);
    // Past every due date, the server still answers and finds nothing to do.
    clock.ms += 400 * DAY;
    expect((await kms.send(new ListKeysCommand({}))).Keys).toEqual([]);
    await server.stop();
    expect(await scheduleEntries(server.dataDir)).toEqual([]);
    server = await startTestServer({ clock, dataDir: server.dataDir });
  });
});

describe("serialization", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it("sends DeletionDate as epoch seconds and every ScheduleKeyDeletion member", async () => {
    const created = await rawRequest(server, { target: "TrentService.CreateKey", body: "{}" });
    const keyId = (JSON.parse(created.text) as { KeyMetadata: { KeyId: string; Arn: string } }).KeyMetadata;
    const response = await rawRequest(server, {
      target: "TrentService.ScheduleKeyDeletion",
      body: JSON.stringify({ KeyId: keyId.KeyId, PendingWindowInDays: 7 }),
    });
    expect(response.status).toBe(200);
    const body = JSON.parse(response.text) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["DeletionDate", "KeyId", "KeyState", "PendingWindowInDays"]);
    expect(typeof body["DeletionDate"]).toBe("number");
    expect(body).toMatchObject({ KeyId: keyId.Arn, KeyState: "PendingDeletion", PendingWindowInDays: 7 });
    const cancelled = await rawRequest(server, { target: "TrentService.CancelKeyDeletion", body: JSON.stringify({ KeyId: keyId.KeyId }) });
    expect(JSON.parse(cancelled.text)).toEqual({ KeyId: keyId.Arn });
  });
});
