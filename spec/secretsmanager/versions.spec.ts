// Versions and staging labels: PutSecretValue, UpdateSecretVersionStage, ListSecretVersionIds, GetSecretValue by id and label, retention.
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { startTestServer, type TestServer } from "../support/server";
import { membersOf, outputMembers } from "./model";
import { patchSecret, readVersion } from "./stored-records";

const clock = { time: Date.parse("2026-05-10T12:00:00Z"), now: () => new Date(clock.time) };
const HOUR = 3600 * 1000;

let server: TestServer;
let sm: SecretsManagerClient;

beforeAll(async () => {
  server = await startTestServer({ clock });
  sm = server.secretsManager();
});
afterAll(() => server.close());

let counter = 0;
const uniqueName = (base = "versions/spec") => `${base}-${++counter}`;
const token = (n: number): string => `version-token-${String(n).padStart(22, "0")}`;

/** Version id → labels as ListSecretVersionIds reports them, deprecated versions included (as []). */
async function labels(name: string): Promise<Record<string, string[]>> {
  const listed = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }));
  return Object.fromEntries((listed.Versions ?? []).map((version) => [version.VersionId!, version.VersionStages ?? []]));
}

describe("behaviour", () => {
  it("PutSecretValue makes the new version current and the old one previous; older ones are deprecated", async () => {
    const name = uniqueName();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: "v0", ClientRequestToken: token(0) }));
    const put1 = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "v1", ClientRequestToken: token(1) }));
    expect(membersOf(put1)).toEqual(outputMembers("PutSecretValue"));
    expect(put1).toMatchObject({ Name: name, VersionId: token(1), VersionStages: ["AWSCURRENT"] });
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretBinary: Buffer.from("v2"), ClientRequestToken: token(2) }));

    expect(await labels(name)).toEqual({ [token(0)]: [], [token(1)]: ["AWSPREVIOUS"], [token(2)]: ["AWSCURRENT"] });
    // A deprecated version is left out of DescribeSecret and of ListSecretVersionIds by default.
    expect((await sm.send(new DescribeSecretCommand({ SecretId: name }))).VersionIdsToStages).toEqual({
      [token(1)]: ["AWSPREVIOUS"],
      [token(2)]: ["AWSCURRENT"],
    });
    const listed = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    expect(listed.Versions?.map((version) => version.VersionId)).toEqual([token(1), token(2)]);
    // Still readable by id, without labels.
    const deprecated = await sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: token(0) }));
    expect(deprecated.SecretString).toBe("v0");
    expect(deprecated.VersionStages).toBeUndefined();
    expect(Buffer.from((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretBinary!).toString()).toBe("v2");
  });

  it("PutSecretValue with VersionStages moves only those labels, sorted as AWS lists them", async () => {
    const name = uniqueName();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: "S0", ClientRequestToken: token(10) }));
    const pending = await sm.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: "S1", VersionStages: ["one", "two", "three"], ClientRequestToken: token(11) }),
    );
    expect(pending.VersionStages).toEqual(["one", "three", "two"]);
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "S2", VersionStages: ["one", "two", "four"], ClientRequestToken: token(12) }));
    expect(await labels(name)).toEqual({ [token(10)]: ["AWSCURRENT"], [token(11)]: ["three"], [token(12)]: ["four", "one", "two"] });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe("S0");
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: "three" }))).SecretString).toBe("S1");
  });

  it("gives the first version AWSCURRENT whatever labels PutSecretValue asks for", async () => {
    const name = uniqueName();
    await sm.send(new CreateSecretCommand({ Name: name }));
    const first = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "first", VersionStages: ["AWSPENDING"], ClientRequestToken: token(20) }));
    expect(first.VersionStages).toEqual(["AWSCURRENT", "AWSPENDING"]);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe("first");
  });

  it("PutSecretValue is idempotent for the same token and value, and refuses the token with another value", async () => {
    const name = uniqueName();
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: "Hello", ClientRequestToken: token(30) }));
    const retried = await sm.send(new PutSecretValueCommand({ SecretId: created.ARN, SecretString: "Hello", ClientRequestToken: token(30) }));
    expect(retried).toMatchObject({ ARN: created.ARN, Name: name, VersionId: token(30), VersionStages: ["AWSCURRENT"] });
    await expect(sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "Hi", ClientRequestToken: token(30) }))).rejects.toMatchObject({
      name: "ResourceExistsException",
      message: `You can't use ClientRequestToken ${token(30)} because that value is already in use for a version of secret ${created.ARN}.`,
    });
    expect(await labels(name)).toEqual({ [token(30)]: ["AWSCURRENT"] });
  });

  it("PutSecretValue needs a value, and not two", async () => {
    const name = uniqueName();
    await sm.send(new CreateSecretCommand({ Name: name }));
    await expect(sm.send(new PutSecretValueCommand({ SecretId: name }))).rejects.toMatchObject({
      name: "InvalidRequestException",
      message: "You must provide either SecretString or SecretBinary.",
    });
    await expect(sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "a", SecretBinary: Buffer.from("b") }))).rejects.toMatchObject({
      name: "InvalidParameterException",
    });
    await expect(sm.send(new PutSecretValueCommand({ SecretId: "no/such/secret", SecretString: "a" }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
      message: "Secrets Manager can't find the specified secret.",
    });
  });

  it("moves labels as AWS does through a rotation-like cycle (LocalStack's AWS-recorded custom_stages_2)", async () => {
    const name = uniqueName();
    const [v1, v2, v3, v4] = [token(41), token(42), token(43), token(44)];
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: "S0", ClientRequestToken: v1 }));
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "S1", VersionStages: ["AWSCURRENT", "PUT0"], ClientRequestToken: v2 }));
    expect(await labels(name)).toEqual({ [v1]: ["AWSPREVIOUS"], [v2]: ["AWSCURRENT", "PUT0"] });
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "S2", VersionStages: ["AWSPENDING", "PUT1"], ClientRequestToken: v3 }));

    const moved = await sm.send(
      new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: "AWSCURRENT", MoveToVersionId: v3, RemoveFromVersionId: v2 }),
    );
    expect(membersOf(moved)).toEqual(outputMembers("UpdateSecretVersionStage"));
    expect(await labels(name)).toEqual({ [v1]: [], [v2]: ["AWSPREVIOUS", "PUT0"], [v3]: ["AWSCURRENT", "AWSPENDING", "PUT1"] });

    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "S3", VersionStages: ["AWSPENDING", "PUT2"], ClientRequestToken: v4 }));
    expect(await labels(name)).toEqual({ [v1]: [], [v2]: ["AWSPREVIOUS", "PUT0"], [v3]: ["AWSCURRENT", "PUT1"], [v4]: ["AWSPENDING", "PUT2"] });

    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: "AWSCURRENT", MoveToVersionId: v4, RemoveFromVersionId: v3 }));
    expect(await labels(name)).toEqual({ [v1]: [], [v2]: ["PUT0"], [v3]: ["AWSPREVIOUS", "PUT1"], [v4]: ["AWSCURRENT", "AWSPENDING", "PUT2"] });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe("S3");
  });

  it("PutSecretValue without VersionStages drops AWSPENDING from the current version it makes previous", async () => {
    const name = uniqueName();
    const [v1, v2, v3] = [token(51), token(52), token(53)];
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: "S0", ClientRequestToken: v1 }));
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "S1", VersionStages: ["AWSPENDING"], ClientRequestToken: v2 }));
    // A rotation function's finishSecret: AWSCURRENT onto the pending version, which keeps AWSPENDING.
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: "AWSCURRENT", MoveToVersionId: v2, RemoveFromVersionId: v1 }));
    expect(await labels(name)).toEqual({ [v1]: ["AWSPREVIOUS"], [v2]: ["AWSCURRENT", "AWSPENDING"] });

    const put = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "S2", ClientRequestToken: v3 }));
    expect(put.VersionStages).toEqual(["AWSCURRENT"]);
    expect(await labels(name)).toEqual({ [v1]: [], [v2]: ["AWSPREVIOUS"], [v3]: ["AWSCURRENT"] });
    expect((await sm.send(new DescribeSecretCommand({ SecretId: name }))).VersionIdsToStages).toEqual({ [v2]: ["AWSPREVIOUS"], [v3]: ["AWSCURRENT"] });
    await expect(sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: "AWSPENDING" }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });

  it("attaches, moves and removes a custom label; a version left without labels is deprecated", async () => {
    const name = uniqueName();
    const [a, b] = [token(51), token(52)];
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: "a", ClientRequestToken: a }));
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "b", VersionStages: ["MINE"], ClientRequestToken: b }));
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: "NEW", MoveToVersionId: a }));
    expect(await labels(name)).toEqual({ [a]: ["AWSCURRENT", "NEW"], [b]: ["MINE"] });
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: "MINE", RemoveFromVersionId: b }));
    expect(await labels(name)).toEqual({ [a]: ["AWSCURRENT", "NEW"], [b]: [] });
    expect((await sm.send(new ListSecretVersionIdsCommand({ SecretId: name }))).Versions?.map((v) => v.VersionId)).toEqual([a]);
    // A deprecated version can be labelled again.
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: "NEW", MoveToVersionId: b, RemoveFromVersionId: a }));
    expect(await labels(name)).toEqual({ [a]: ["AWSCURRENT"], [b]: ["NEW"] });
  });

  it("refuses label moves AWS refuses", async () => {
    const name = uniqueName();
    const [a, b] = [token(61), token(62)];
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: "a", ClientRequestToken: a }));
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "b", VersionStages: ["AWSPENDING"], ClientRequestToken: b }));
    const update = (input: { VersionStage: string; MoveToVersionId?: string; RemoveFromVersionId?: string }) =>
      sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, ...input }));

    await expect(update({ VersionStage: "AWSCURRENT", MoveToVersionId: b })).rejects.toMatchObject({
      name: "InvalidParameterException",
      message: `The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version ${a}, so you must explicitly reference that version in RemoveFromVersionId.`,
    });
    await expect(update({ VersionStage: "AWSCURRENT", MoveToVersionId: b, RemoveFromVersionId: b })).rejects.toMatchObject({
      name: "InvalidParameterException",
      message: "When you move staging label AWSCURRENT, if you specify RemoveFromVersionId, it must be set to the version that currently has the staging label AWSCURRENT.",
    });
    await expect(update({ VersionStage: "X", MoveToVersionId: token(69) })).rejects.toMatchObject({ name: "InvalidParameterException", message: `Not a valid version: ${token(69)}` });
    await expect(update({ VersionStage: "AWSPENDING", RemoveFromVersionId: a })).rejects.toMatchObject({
      name: "InvalidParameterException",
      message: `Version stage AWSPENDING not found in version ${a}`,
    });
    await expect(update({ VersionStage: "AWSCURRENT", RemoveFromVersionId: a })).rejects.toMatchObject({ name: "InvalidParameterException" });
    await expect(update({ VersionStage: "AWSPENDING" })).rejects.toMatchObject({ name: "InvalidParameterException" });
    expect(await labels(name)).toEqual({ [a]: ["AWSCURRENT"], [b]: ["AWSPENDING"] });
  });

  it("allows at most 20 labels on a version", async () => {
    const name = uniqueName();
    const stages = Array.from({ length: 20 }, (_, i) => `L${String(i).padStart(2, "0")}`);
    const put = await sm.send(new PutSecretValueCommand({ SecretId: (await sm.send(new CreateSecretCommand({ Name: name, SecretString: "a" }))).ARN, SecretString: "b", VersionStages: stages, ClientRequestToken: token(70) }));
    expect(put.VersionStages).toHaveLength(20);
    await expect(sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: "L20", MoveToVersionId: token(70) }))).rejects.toMatchObject({
      name: "LimitExceededException",
    });
    await expect(
      sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "c", VersionStages: [...stages, "L20"], ClientRequestToken: token(71) })),
    ).rejects.toMatchObject({ name: "ValidationException" });
  });

  it("GetSecretValue finds a version by id, by label, or both, and says which was not found", async () => {
    const name = uniqueName();
    const [a, b] = [token(81), token(82)];
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: "a", ClientRequestToken: a }));
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "b", ClientRequestToken: b }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: a }))).VersionStages).toEqual(["AWSPREVIOUS"]);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: "AWSPREVIOUS" }))).SecretString).toBe("a");
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: b, VersionStage: "AWSCURRENT" }))).SecretString).toBe("b");
    await expect(sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: a, VersionStage: "AWSCURRENT" }))).rejects.toMatchObject({
      name: "InvalidRequestException",
      message: "You provided a VersionStage that is not associated to the provided VersionId.",
    });
    await expect(sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: token(89) }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
      message: `Secrets Manager can't find the specified secret value for VersionId: ${token(89)}`,
    });
    await expect(sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: "AWSPENDING" }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
      message: "Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
    });
  });

  it("ListSecretVersionIds answers every member, oldest first, in pages", async () => {
    const name = uniqueName();
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: "0", ClientRequestToken: token(90) }));
    for (let i = 1; i <= 4; i++) {
      clock.time += 1000;
      await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: String(i), VersionStages: [`L${i}`], ClientRequestToken: token(90 + i) }));
    }
    await sm.send(new GetSecretValueCommand({ SecretId: name }));
    const ids: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name, MaxResults: 2, NextToken: nextToken }));
      pages++;
      expect(page).toMatchObject({ ARN: created.ARN, Name: name });
      if (page.NextToken !== undefined) expect(membersOf(page)).toEqual(outputMembers("ListSecretVersionIds"));
      ids.push(...(page.Versions ?? []).map((version) => version.VersionId!));
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    expect(pages).toBe(3);
    expect(ids).toEqual([90, 91, 92, 93, 94].map(token));

    const first = (await sm.send(new ListSecretVersionIdsCommand({ SecretId: name }))).Versions![0]!;
    expect(membersOf(first)).toEqual(outputMembers("", "SecretVersionsListEntry"));
    expect(first).toMatchObject({ VersionId: token(90), VersionStages: ["AWSCURRENT"], KmsKeyIds: ["DefaultEncryptionKey"] });
    // LastAccessedDate is a date: midnight UTC of the day of the read.
    expect(first.LastAccessedDate).toEqual(new Date("2026-05-10T00:00:00Z"));
    await expect(sm.send(new ListSecretVersionIdsCommand({ SecretId: name, NextToken: "bm90IGEgdG9rZW4=" }))).rejects.toMatchObject({
      name: "InvalidNextTokenException",
    });
  });

  it("gives RotateSecret's valueless AWSPENDING version its value when the rotation function puts it", async () => {
    const name = uniqueName();
    const current = token(120);
    const pending = token(121);
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: "old", ClientRequestToken: current }));
    // As RotateSecret leaves it before the function's createSecret step: a version id labelled AWSPENDING, no value.
    await server.stop();
    await patchSecret(server.dataDir, name, (secret) => ({
      ...secret,
      versions: { ...secret.versions, [pending]: { stages: ["AWSPENDING"], createdAt: clock.time, lastAccessedDay: undefined, kmsKeyArns: [] } },
    }));
    server = await startTestServer({ clock, dataDir: server.dataDir });
    sm = server.secretsManager();

    expect((await sm.send(new DescribeSecretCommand({ SecretId: name }))).VersionIdsToStages?.[pending]).toEqual(["AWSPENDING"]);
    await expect(sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: "AWSPENDING" }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
      message: "Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
    });
    await expect(sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: pending, VersionStage: "AWSPENDING" }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
      message: `Secrets Manager can't find the specified secret value for VersionId: ${pending}`,
    });
    const listed = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    expect(listed.Versions?.find((version) => version.VersionId === pending)?.KmsKeyIds).toBeUndefined();

    const put = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "new", VersionStages: ["AWSPENDING"], ClientRequestToken: pending }));
    expect(put).toMatchObject({ VersionId: pending, VersionStages: ["AWSPENDING"] });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: "AWSPENDING" }))).SecretString).toBe("new");
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe("old");
    // Now it has a value: the same token with another value is refused.
    await expect(sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "other", ClientRequestToken: pending }))).rejects.toMatchObject({
      name: "ResourceExistsException",
    });
  });

  it("keeps the 100 most recent versions and every version from the last 24 hours, and labelled ones always", async () => {
    const name = uniqueName();
    const ids = Array.from({ length: 103 }, (_, i) => token(1000 + i));
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: "v0", ClientRequestToken: ids[0] }));
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: "KEEP", MoveToVersionId: ids[0] }));
    for (let i = 1; i <= 101; i++) {
      await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: `v${i}`, ClientRequestToken: ids[i] }));
    }
    // 102 versions, 99 of them deprecated, all less than a day old: none removed.
    expect(Object.keys(await labels(name))).toHaveLength(102);

    clock.time += 25 * HOUR;
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "v102", ClientRequestToken: ids[102] }));
    // 103 versions; beyond the 100 most recent are v2, v1 and v0; v0 keeps its label, v1 and v2 go.
    const kept = await labels(name);
    expect(Object.keys(kept)).toHaveLength(101);
    expect(kept[ids[0]!]).toEqual(["KEEP"]);
    expect(kept[ids[1]!]).toBeUndefined();
    expect(kept[ids[2]!]).toBeUndefined();
    expect(kept[ids[3]!]).toEqual([]);
    await expect(sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: ids[1] }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: ids[3] }))).SecretString).toBe("v3");

    // The sealed values went with them, not only the labels.
    await server.stop();
    expect(await readVersion(server.dataDir, name, ids[1]!)).toBeUndefined();
    expect(await readVersion(server.dataDir, name, ids[3]!)).toBeDefined();
    server = await startTestServer({ clock, dataDir: server.dataDir });
    sm = server.secretsManager();
  });
});
