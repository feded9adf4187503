// ClientRequestToken idempotency: a call sent twice at once (an SDK retry racing its original) answers twice as one call, also after a restart.
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  UpdateSecretCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { rmSync } from "node:fs";
import { startTestServer, type TestServer } from "../support/server";

/** The repro sent 50 pairs; 1 to 32 of them failed before the fix. */
const PAIRS = 50;

let server: TestServer;
let sm: SecretsManagerClient;

beforeAll(async () => {
  server = await startTestServer();
  sm = server.secretsManager();
});
afterAll(() => server.close());

const token = (label: string, n: number): string => `${label}-${String(n).padStart(36 - label.length - 1, "0")}`;

/** Both answers of each pair, settled: a rejection is kept as its error name, so every failure is reported at once. */
async function sentTwice<T>(pairs: number, call: (n: number) => Promise<T>): Promise<Array<[T | string, T | string]>> {
  const settle = (promise: Promise<T>): Promise<T | string> => promise.catch((error: Error) => `${error.name}: ${error.message}`);
  return Promise.all(Array.from({ length: pairs }, (_, n) => Promise.all([settle(call(n)), settle(call(n))])));
}

describe("behaviour", () => {
  it(`answers ${PAIRS} CreateSecret calls sent twice at once with one secret each, both with its ARN and VersionId`, async () => {
    const pairs = await sentTwice(PAIRS, (n) =>
      sm.send(new CreateSecretCommand({ Name: `idempotent/create-${n}`, SecretString: `value ${n}`, ClientRequestToken: token("create", n) })),
    );
    const failures = pairs.flat().filter((answer) => typeof answer === "string");
    expect(failures).toEqual([]);
    for (const [n, [first, second]] of pairs.entries()) {
      if (typeof first === "string" || typeof second === "string") continue;
      expect(first.VersionId).toBe(token("create", n));
      expect({ ARN: second.ARN, Name: second.Name, VersionId: second.VersionId }).toEqual({ ARN: first.ARN, Name: first.Name, VersionId: first.VersionId });
    }
    const stored = await sm.send(new GetSecretValueCommand({ SecretId: "idempotent/create-7" }));
    expect(stored).toMatchObject({ SecretString: "value 7", VersionId: token("create", 7), VersionStages: ["AWSCURRENT"] });
  });

  it(`answers ${PAIRS} PutSecretValue calls sent twice at once with one version each, both with its VersionId and labels`, async () => {
    const name = "idempotent/put";
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: "v0", ClientRequestToken: token("put", 999) }));
    // Every pair on the one secret at once, so each call also races every other pair's for the secret's lock.
    const pairs = await sentTwice(PAIRS, (n) =>
      sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: `value ${n}`, ClientRequestToken: token("put", n), VersionStages: [`stage-${n}`] })),
    );
    expect(pairs.flat().filter((answer) => typeof answer === "string")).toEqual([]);
    for (const [n, [first, second]] of pairs.entries()) {
      if (typeof first === "string" || typeof second === "string") continue;
      expect(first).toMatchObject({ VersionId: token("put", n), VersionStages: [`stage-${n}`] });
      expect({ ARN: second.ARN, VersionId: second.VersionId, VersionStages: second.VersionStages }).toEqual({
        ARN: first.ARN,
        VersionId: first.VersionId,
        VersionStages: first.VersionStages,
      });
    }
    const listed = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true, MaxResults: 100 }));
    expect(listed.Versions).toHaveLength(PAIRS + 1);
    const read = await sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: token("put", 21) }));
    expect(read.SecretString).toBe("value 21");
  });

  it("answers UpdateSecret calls with a value sent twice at once with one version each", async () => {
    const names = Array.from({ length: 10 }, (_, n) => `idempotent/update-${n}`);
    for (const [n, name] of names.entries()) {
      await sm.send(new CreateSecretCommand({ Name: name, SecretString: "v0", ClientRequestToken: token("update0", n) }));
    }
    const pairs = await sentTwice(names.length, (n) =>
      sm.send(new UpdateSecretCommand({ SecretId: names[n], SecretString: "v1", Description: "d1", ClientRequestToken: token("update1", n) })),
    );
    expect(pairs.flat().filter((answer) => typeof answer === "string")).toEqual([]);
    for (const [n, [first, second]] of pairs.entries()) {
      if (typeof first === "string" || typeof second === "string") continue;
      expect([first.VersionId, second.VersionId]).toEqual([token("update1", n), token("update1", n)]);
    }
    const listed = await sm.send(new ListSecretVersionIdsCommand({ SecretId: names[3], IncludeDeprecated: true }));
    expect(listed.Versions).toHaveLength(2);
  });

  it("still refuses the token with another value, sent at once or after, and stores only the first value", async () => {
    const name = "idempotent/conflict";
    const [a, b] = await Promise.allSettled([
      sm.send(new CreateSecretCommand({ Name: name, SecretString: "one", ClientRequestToken: token("conflict", 1) })),
      sm.send(new CreateSecretCommand({ Name: name, SecretString: "two", ClientRequestToken: token("conflict", 1) })),
    ]);
    const outcomes = [a, b].map((result) => result.status);
    expect(outcomes.sort()).toEqual(["fulfilled", "rejected"]);
    const refused = [a, b].find((result) => result.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ name: "ResourceExistsException" });
    expect((refused.reason as Error).message).toMatch(new RegExp(`^You can't use ClientRequestToken ${token("conflict", 1)} because that value is already in use for a version of secret arn:`));
    const stored = (await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
    expect(["one", "two"]).toContain(stored);

    const puts = await Promise.allSettled([
      sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "three", ClientRequestToken: token("conflict", 2) })),
      sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: "four", ClientRequestToken: token("conflict", 2) })),
    ]);
    expect(puts.map((result) => result.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect((puts.find((result) => result.status === "rejected") as PromiseRejectedResult).reason).toMatchObject({ name: "ResourceExistsException" });
    const listed = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }));
    expect(listed.Versions).toHaveLength(2);
  });
});

describe("after a restart", () => {
  it("answers a retried CreateSecret and PutSecretValue with the same ARN and VersionId, and refuses another value", async () => {
    const first = await startTestServer();
    let stopped = false;
    let again: TestServer | undefined;
    try {
      const before = first.secretsManager();
      const created = await before.send(new CreateSecretCommand({ Name: "idempotent/restart", SecretString: "a", ClientRequestToken: token("restart", 1) }));
      const put = await before.send(new PutSecretValueCommand({ SecretId: "idempotent/restart", SecretString: "b", ClientRequestToken: token("restart", 2) }));
      await first.stop();
      stopped = true;

      again = await startTestServer({ dataDir: first.dataDir });
      const after = again.secretsManager();
      const retriedCreate = await after.send(new CreateSecretCommand({ Name: "idempotent/restart", SecretString: "a", ClientRequestToken: token("restart", 1) }));
      expect({ ARN: retriedCreate.ARN, VersionId: retriedCreate.VersionId }).toEqual({ ARN: created.ARN, VersionId: token("restart", 1) });
      const retriedPut = await after.send(new PutSecretValueCommand({ SecretId: "idempotent/restart", SecretString: "b", ClientRequestToken: token("restart", 2) }));
      expect({ ARN: retriedPut.ARN, VersionId: retriedPut.VersionId, VersionStages: retriedPut.VersionStages }).toEqual({
        ARN: put.ARN,
        VersionId: token("restart", 2),
        VersionStages: ["AWSCURRENT"],
      });
      // Sent twice at once after the restart too.
      const pair = await Promise.all([0, 1].map(() =>
        after.send(new PutSecretValueCommand({ SecretId: "idempotent/restart", SecretString: "c", ClientRequestToken: token("restart", 3) })),
      ));
      expect(pair.map((answer) => answer.VersionId)).toEqual([token("restart", 3), token("restart", 3)]);
      await expect(
        after.send(new PutSecretValueCommand({ SecretId: "idempotent/restart", SecretString: "not b", ClientRequestToken: token("restart", 2) })),
      ).rejects.toMatchObject({ name: "ResourceExistsException" });
      await expect(
        after.send(new CreateSecretCommand({ Name: "idempotent/restart", SecretString: "not a", ClientRequestToken: token("restart", 1) })),
      ).rejects.toMatchObject({ name: "ResourceExistsException" });
      const listed = await after.send(new ListSecretVersionIdsCommand({ SecretId: "idempotent/restart", IncludeDeprecated: true }));
      expect(listed.Versions).toHaveLength(3);
    } finally {
      // close() removes the data dir the two servers shared.
      if (again !== undefined) await again.close();
      else if (stopped) rmSync(first.dataDir, { recursive: true, force: true });
      else await first.close();
    }
  });
});
