// DeleteSecret and RestoreSecret: recovery windows, what a scheduled secret refuses, and the purge when the window ends.
// The purge at start and forced deletes, with the sealed value leaving LevelDB's files: spec/secretsmanager/at-rest-deletion.spec.ts.
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import request from "supertest";
import { rawRequest, startTestServer, type TestServer } from "../support/server";
import { restarts } from "../support/restarts";
import { membersOf, outputMembers } from "./model";
import { keysOfKind, patchSecret } from "./stored-records";

const clock = { time: Date.parse("2026-06-01T09:00:00Z"), now: () => new Date(clock.time) };
const DAY = 24 * 3600 * 1000;

let server: TestServer;
let sm: SecretsManagerClient;

beforeAll(async () => {
  server = await startTestServer({ clock });
  sm = server.secretsManager();
});
afterAll(() => server.close());

const { whileStopped } = restarts(
  () => server,
  () => ({ clock }),
  (next: TestServer) => {
    server = next;
    sm = next.secretsManager();
  },
);

let counter = 0;
const uniqueName = (base = "deletion/spec") => `${base}-${++counter}`;

const markedForDeletion = {
  name: "InvalidRequestException",
  message: "You can't perform this operation on the secret because it was marked for deletion.",
};

describe("validation", () => {
  it("takes a recovery window of 7 to 30 days, not with ForceDeleteWithoutRecovery", async () => {
    const name = uniqueName();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: "v" }));
    for (const days of [6, 31]) {
      await expect(sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: days }))).rejects.toMatchObject({
        name: "InvalidParameterException",
        message: "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
      });
    }
    // The range is checked before the conflict (moto#6469 quotes AWS answering 0 days with force so).
    await expect(sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 0, ForceDeleteWithoutRecovery: true }))).rejects.toMatchObject({
      message: "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
    });
    await expect(sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true }))).rejects.toMatchObject({
      name: "InvalidParameterException",
      message: "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
    });
    expect((await sm.send(new DescribeSecretCommand({ SecretId: name }))).DeletedDate).toBeUndefined();
  });
});

describe("behaviour", () => {
  it("schedules deletion 30 days out by default, or after the window asked for", async () => {
    const name = uniqueName();
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: "v" }));
    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: name }));
    expect(membersOf(deleted)).toEqual(outputMembers("DeleteSecret"));
    expect(deleted).toMatchObject({ ARN: created.ARN, Name: name, DeletionDate: new Date(clock.time + 30 * DAY) });
    expect((await sm.send(new DescribeSecretCommand({ SecretId: name }))).DeletedDate).toEqual(new Date(clock.time));

    const other = uniqueName();
    await sm.send(new CreateSecretCommand({ Name: other, SecretString: "v" }));
    const week = await sm.send(new DeleteSecretCommand({ SecretId: other, RecoveryWindowInDays: 7 }));
    expect(week.DeletionDate).toEqual(new Date(clock.time + 7 * DAY));
  });

  it("refuses reads and changes of a scheduled secret, but describes, lists and restores it", async () => {
    const name = uniqueName();
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: "kept" }));
    await sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));

    const refused: Array<[string, () => Promise<unknown>]> = [
      ["GetSecretValue", () => sm.send(new GetSecretValueCommand({ SecretId: name }))],
      ["PutSecretValue", () => sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "x" }))],
      ["UpdateSecret", () => sm.send(new UpdateSecretCommand({ SecretId: name, Description: "x" }))],
      ["UpdateSecretVersionStage", () => sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: "L", MoveToVersionId: created.VersionId }))],
      ["DeleteSecret", () => sm.send(new DeleteSecretCommand({ SecretId: name }))],
    ];
    for (const [operation, call] of refused) {
      await expect(call().catch((error: { name: string; message: string }) => ({ operation, name: error.name, message: error.message }))).resolves.toEqual({
        operation,
        ...markedForDeletion,
      });
    }
    await expect(sm.send(new CreateSecretCommand({ Name: name, SecretString: "new" }))).rejects.toMatchObject({
      name: "InvalidRequestException",
      message: "You can't create this secret because a secret with this name is already scheduled for deletion.",
    });
    expect((await sm.send(new ListSecretVersionIdsCommand({ SecretId: name }))).Versions).toHaveLength(1);

    const restored = await sm.send(new RestoreSecretCommand({ SecretId: created.ARN }));
    expect(membersOf(restored)).toEqual(outputMembers("RestoreSecret"));
    expect(restored).toMatchObject({ ARN: created.ARN, Name: name });
    expect((await sm.send(new DescribeSecretCommand({ SecretId: name }))).DeletedDate).toBeUndefined();
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe("kept");
    // Restoring a secret that is not scheduled changes nothing.
    expect(await sm.send(new RestoreSecretCommand({ SecretId: name }))).toMatchObject({ ARN: created.ARN, Name: name });
    await expect(sm.send(new RestoreSecretCommand({ SecretId: "no/such/secret" }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
  });

  it("forgets a secret once its window ends, and frees its name at that moment", async () => {
    const name = uniqueName();
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: "old" }));
    await sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));

    clock.time += 7 * DAY - 1;
    expect((await sm.send(new DescribeSecretCommand({ SecretId: name }))).ARN).toBe(created.ARN);
    clock.time += 1;
    await expect(sm.send(new DescribeSecretCommand({ SecretId: created.ARN }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await expect(sm.send(new RestoreSecretCommand({ SecretId: name }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });

    const again = await sm.send(new CreateSecretCommand({ Name: name, SecretString: "new" }));
    expect(again.ARN).not.toBe(created.ARN);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe("new");
    await expect(sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: created.VersionId }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });

  it("answers a forced delete of a missing secret without ResourceNotFoundException, and a plain one with it", async () => {
    const forced = await sm.send(new DeleteSecretCommand({ SecretId: "never/existed", ForceDeleteWithoutRecovery: true }));
    // AWS does not reveal whether the secret existed: the answer has a Name, an ARN and a date, as for a real deletion.
    expect(forced).toMatchObject({ Name: "never/existed", DeletionDate: new Date(clock.time) });
    expect(forced.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:never\/existed-[A-Za-z0-9]{6}$/);
    const givenArn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:gone/too-AbCdEf";
    expect((await sm.send(new DeleteSecretCommand({ SecretId: givenArn, ForceDeleteWithoutRecovery: true }))).ARN).toBe(givenArn);
    await expect(sm.send(new DeleteSecretCommand({ SecretId: "never/existed" }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
      message: "Secrets Manager can't find the specified secret.",
    });
  });

  it("refuses to delete a secret that still has replicas", async () => {
    const name = uniqueName();
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: "v" }));
    await whileStopped(() =>
      patchSecret(server.dataDir, name, (secret) => ({
        ...secret,
        primaryRegion: secret.arn.split(":")[3],
        replicas: ["eu-west-2", "us-west-1"].map((region) => ({ region, kmsKeyId: undefined, status: "InSync" as const, statusMessage: undefined, lastAccessedDay: undefined })),
      })),
    );
    for (const force of [false, true]) {
      await expect(sm.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: force }))).rejects.toMatchObject({
        name: "InvalidParameterException",
        message: `You can't delete secret ${created.ARN} that still has replica regions [eu-west-2, us-west-1].`,
      });
    }
    expect((await sm.send(new DescribeSecretCommand({ SecretId: name }))).DeletedDate).toBeUndefined();
  });

  it("keeps its schedule with the rest of the state: reset wipes it", async () => {
    const name = uniqueName();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: "v" }));
    await sm.send(new DeleteSecretCommand({ SecretId: name }));
    expect((await request(server.url).post("/_secretslite/reset")).status).toBe(200);
    await whileStopped(async () => expect(await keysOfKind(server.dataDir, "secret-schedule", true)).toEqual([]));
  });
});

describe("serialization", () => {
  it("sends DeletionDate as epoch seconds", async () => {
    const name = uniqueName();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: "v" }));
    const response = await rawRequest(server, { target: "secretsmanager.DeleteSecret", body: JSON.stringify({ SecretId: name, RecoveryWindowInDays: 10 }) });
    expect(response.status).toBe(200);
    expect((JSON.parse(response.text) as { DeletionDate: unknown }).DeletionDate).toBe((clock.time + 10 * DAY) / 1000);
  });
});
