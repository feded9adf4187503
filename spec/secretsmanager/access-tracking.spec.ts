// Reads do not write, except LastAccessedDate: at most one write per secret and version per UTC day.
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
} from "@aws-sdk/client-secrets-manager";
import { recordKey } from "../../src/storage/keys";
import type { SecretRecord } from "../../src/services/secretsmanager/secret";
import { ACCOUNT, openServerStore, REGION, startTestServer, storeWrites } from "../support/server";

/** A clock the test moves by hand. */
const clock = { time: Date.parse("2026-03-01T10:00:00Z"), now: () => new Date(clock.time) };
const HOUR = 3600 * 1000;

// A store whose storeWrites (LevelDB's log bytes, PostgreSQL's newest row version) does not grow saw no write.

async function storedSecret(dataDir: string, name: string): Promise<SecretRecord> {
  const store = await openServerStore(dataDir);
  try {
    const secret = await store.get<SecretRecord>(recordKey({ account: ACCOUNT, region: REGION }, "secretsmanager", "secret", name));
    if (secret === undefined) throw new Error(`no secret ${name}`);
    return secret;
  } finally {
    await store.close();
  }
}

describe("behaviour", () => {
  it("records the day of the last read once per day, on the secret and the version", async () => {
    const server = await startTestServer({ clock });
    const sm = server.secretsManager();
    const created = await sm.send(new CreateSecretCommand({ Name: "tracked", SecretString: "v" }));

    const beforeFirstRead = await storeWrites(server.dataDir);
    await sm.send(new GetSecretValueCommand({ SecretId: "tracked" }));
    const afterFirstRead = await storeWrites(server.dataDir);
    expect(afterFirstRead).toBeGreaterThan(beforeFirstRead);

    clock.time += 6 * HOUR;
    for (let i = 0; i < 5; i++) await sm.send(new GetSecretValueCommand({ SecretId: "tracked" }));
    expect(await storeWrites(server.dataDir)).toBe(afterFirstRead);

    clock.time += 24 * HOUR;
    await sm.send(new GetSecretValueCommand({ SecretId: "tracked" }));
    expect(await storeWrites(server.dataDir)).toBeGreaterThan(afterFirstRead);

    await server.stop();
    const stored = await storedSecret(server.dataDir, "tracked");
    expect(stored.lastAccessedDay).toBe(Date.parse("2026-03-02T00:00:00Z"));
    expect(stored.versions[created.VersionId!]!.lastAccessedDay).toBe(Date.parse("2026-03-02T00:00:00Z"));
    await server.close();
  });

  it("shows each version's last read day in ListSecretVersionIds and the secret's in DescribeSecret, which write nothing", async () => {
    const server = await startTestServer({ clock });
    const sm = server.secretsManager();
    const first = await sm.send(new CreateSecretCommand({ Name: "tracked/versions", SecretString: "a" }));
    const second = await sm.send(new PutSecretValueCommand({ SecretId: "tracked/versions", SecretString: "b", VersionStages: ["OTHER"] }));
    const never = await sm.send(new PutSecretValueCommand({ SecretId: "tracked/versions", SecretString: "c", VersionStages: ["UNREAD"] }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: "tracked/versions" }))).LastAccessedDate).toBeUndefined();

    await sm.send(new GetSecretValueCommand({ SecretId: "tracked/versions" }));
    clock.time += 24 * HOUR;
    await sm.send(new GetSecretValueCommand({ SecretId: "tracked/versions", VersionStage: "OTHER" }));

    const logged = await storeWrites(server.dataDir);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: "tracked/versions" }));
    const listed = await sm.send(new ListSecretVersionIdsCommand({ SecretId: "tracked/versions" }));
    expect(await storeWrites(server.dataDir)).toBe(logged);

    const day = (ms: number): Date => new Date(Date.UTC(new Date(ms).getUTCFullYear(), new Date(ms).getUTCMonth(), new Date(ms).getUTCDate()));
    expect(described.LastAccessedDate).toEqual(day(clock.time));
    const lastRead = Object.fromEntries((listed.Versions ?? []).map((version) => [version.VersionId, version.LastAccessedDate]));
    expect(lastRead).toEqual({
      [first.VersionId!]: day(clock.time - 24 * HOUR),
      [second.VersionId!]: day(clock.time),
      [never.VersionId!]: undefined,
    });
    await server.close();
  });
});
