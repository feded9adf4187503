// Secrets Manager sealed values leaving LevelDB's files: a version's sealed value searched for in the data dir while
// stored, and gone after the purge at start or a forced delete (compaction). LevelDB only, whatever
// SECRETSLITE_TEST_STORE says: on PostgreSQL these are rows whose dead versions autovacuum reclaims in its own time, so
// scripts/test.sh leaves this file out of the PostgreSQL job. The rest of deletion runs on both stores
// (spec/secretsmanager/deletion.spec.ts).
import { CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { filesContaining } from "../support/files";
import { startTestServer, type TestServer } from "../support/server";
import { restarts } from "../support/restarts";
import { keysOfKind, readSecret, readVersion } from "./stored-records";

const clock = { time: Date.parse("2026-06-01T09:00:00Z"), now: () => new Date(clock.time) };
const DAY = 24 * 3600 * 1000;

let server: TestServer;
let sm: SecretsManagerClient;

beforeAll(async () => {
  server = await startTestServer({ clock, store: "level" });
  sm = server.secretsManager();
});
afterAll(() => server.close());

const { restart, whileStopped } = restarts(
  () => server,
  () => ({ clock, store: "level" }),
  (next: TestServer) => {
    server = next;
    sm = next.secretsManager();
  },
);

let counter = 0;
const uniqueName = (base = "deletion/spec") => `${base}-${++counter}`;

/** A version's sealed value as the data files hold it (base64 in a JSON record): what must leave them on deletion. */
async function sealedBytes(name: string, versionId: string): Promise<Buffer> {
  const version = await readVersion(server.dataDir, name, versionId);
  if (version === undefined) throw new Error("no version");
  return Buffer.from(version.sealed, "utf8");
}

describe("behaviour", () => {
  it("purges at start what fell due while stopped: record, versions, index and schedule entries, and their bytes", async () => {
    const name = uniqueName("purged-at-start");
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: "sealed away" }));
    await sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    // One at a time: LevelDB lets one handle open the files.
    const indexed = async (): Promise<string[]> => {
      const keys: string[] = [];
      for (const kind of ["secret-by-name", "secret-by-created", "secret-by-changed", "secret-by-accessed"] as const) {
        keys.push(...(await keysOfKind(server.dataDir, kind)).filter((key) => key.includes(name)));
      }
      return keys;
    };
    const scheduled = async (): Promise<string[]> => (await keysOfKind(server.dataDir, "secret-schedule", true)).filter((key) => key.endsWith(`/${name}`));
    // The search finds the sealed value while it is stored, so its absence later means something.
    const sealed = await whileStopped(async () => {
      const bytes = await sealedBytes(name, created.VersionId!);
      expect(filesContaining(server.dataDir, bytes)).not.toEqual([]);
      expect(await scheduled()).toHaveLength(1);
      expect(await indexed()).not.toEqual([]);
      return bytes;
    });

    // Started again after the window ended: the purge happens before the first request.
    await server.stop();
    clock.time += 8 * DAY;
    await restart();
    await whileStopped(async () => {
      expect(await readSecret(server.dataDir, name)).toBeUndefined();
      expect(await readVersion(server.dataDir, name, created.VersionId!)).toBeUndefined();
      expect(await scheduled()).toEqual([]);
      expect(await indexed()).toEqual([]);
      expect(filesContaining(server.dataDir, sealed)).toEqual([]);
    });
  });

  it("deletes at once with ForceDeleteWithoutRecovery, scheduled or not, and compacts the sealed value away", async () => {
    const name = uniqueName();
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: "gone now" }));
    const sealed = await whileStopped(async () => {
      const bytes = await sealedBytes(name, created.VersionId!);
      expect(filesContaining(server.dataDir, bytes)).not.toEqual([]);
      return bytes;
    });
    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    expect(deleted).toMatchObject({ ARN: created.ARN, Name: name, DeletionDate: new Date(clock.time) });
    await expect(sm.send(new DescribeSecretCommand({ SecretId: name }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await whileStopped(async () => expect(filesContaining(server.dataDir, sealed)).toEqual([]));

    const scheduled = uniqueName();
    await sm.send(new CreateSecretCommand({ Name: scheduled, SecretString: "v" }));
    await sm.send(new DeleteSecretCommand({ SecretId: scheduled }));
    await sm.send(new DeleteSecretCommand({ SecretId: scheduled, ForceDeleteWithoutRecovery: true }));
    await expect(sm.send(new DescribeSecretCommand({ SecretId: scheduled }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    expect((await sm.send(new CreateSecretCommand({ Name: scheduled, SecretString: "reborn" }))).Name).toBe(scheduled);
  });
});
