// `--store postgres://…`: servers on one PostgreSQL database serve the same records, keep them across restarts, share one
// root key (a node with another token is refused), take the password from a file, and ride out a PostgreSQL restart.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CreateKeyCommand, DecryptCommand, DisableKeyCommand, EncryptCommand } from "@aws-sdk/client-kms";
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { errorOf } from "../support/errors";
import { sharedPostgres, startPostgres, type PostgresCluster } from "../support/postgres";
import { startTestServer, type TestServer } from "../support/server";

const BIN = path.join(__dirname, "..", "..", "bin", "secretslite.js");

describe("--store postgres://…", () => {
  let postgres: PostgresCluster;
  const servers: TestServer[] = [];
  const start = async (store: string, options: { dataDir?: string } = {}): Promise<TestServer> => {
    const server = await startTestServer({ store, ...options });
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    postgres = await sharedPostgres();
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close().catch(() => undefined);
  });
  afterAll(async () => {
    await postgres.stop();
  });

  it("keeps secrets and keys in PostgreSQL: a restarted node, or another node, reads them", async () => {
    const store = await postgres.createDatabase();
    const first = await start(store);
    const key = await first.kms().send(new CreateKeyCommand({}));
    const sealed = await first.kms().send(new EncryptCommand({ KeyId: key.KeyMetadata!.KeyId!, Plaintext: Buffer.from("kept") }));
    await first.secretsManager().send(new CreateSecretCommand({ Name: "team/db", SecretString: "s3cret" }));
    await first.stop();

    // Another node: its own (empty) data dir, the same token and database.
    const second = await start(store);
    expect((await second.secretsManager().send(new GetSecretValueCommand({ SecretId: "team/db" }))).SecretString).toBe("s3cret");
    const opened = await second.kms().send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob! }));
    expect(Buffer.from(opened.Plaintext!).toString()).toBe("kept");
    const health = (await (await fetch(`${second.url}/_secretslite/health`)).json()) as { storage: string; leader?: boolean };
    expect(health.storage).toBe("open");
    // The only node: it holds the cluster's leadership (timed work), and health says so.
    expect(health.leader).toBe(true);
  });

  it("serves two nodes at once: a change on one is seen by the next request on the other", async () => {
    const store = await postgres.createDatabase();
    const [a, b] = [await start(store), await start(store)];
    const key = await a.kms().send(new CreateKeyCommand({}));
    const keyId = key.KeyMetadata!.KeyId!;
    // b reads the key once, so a node that cached it would keep using it after a's change.
    await b.kms().send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("x") }));
    await a.kms().send(new DisableKeyCommand({ KeyId: keyId }));
    expect(await errorOf(b.kms().send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("x") })))).toMatchObject({ name: "DisabledException" });

    await b.secretsManager().send(new CreateSecretCommand({ Name: "shared", SecretString: "v1" }));
    await a.secretsManager().send(new PutSecretValueCommand({ SecretId: "shared", SecretString: "v2" }));
    expect((await b.secretsManager().send(new GetSecretValueCommand({ SecretId: "shared" }))).SecretString).toBe("v2");
    expect(await errorOf(a.secretsManager().send(new CreateSecretCommand({ Name: "shared", SecretString: "again" })))).toMatchObject({
      name: "ResourceExistsException",
    });
  });

  it("seeds once when nodes start together: one key material, every secret readable on every node", async () => {
    const store = await postgres.createDatabase();
    const dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-spec-cluster-seed-"));
    try {
      const seed = path.join(dir, "seed.yaml");
      // A fixed key id with material from the token: nodes seeding at once would each make their own material.
      writeFileSync(
        seed,
        [
          "kms:",
          "  keys:",
          "    - keyId: 6f1e2d3c-4b5a-4987-8a6b-5c4d3e2f1a00",
          "      aliases: [alias/seeded]",
          "secretsmanager:",
          "  secrets:",
          ...Array.from({ length: 5 }, (_, n) => [`    - name: app/secret-${n}`, `      kmsKeyId: alias/seeded`, `      secretString: value-${n}`]).flat(),
        ].join("\n"),
      );
      const nodes = await Promise.all([0, 1, 2].map(() => startTestServer({ store, flags: ["--seed", seed] })));
      servers.push(...nodes);
      const sealed = await nodes[0]!.kms().send(new EncryptCommand({ KeyId: "alias/seeded", Plaintext: Buffer.from("one material") }));
      for (const node of nodes) {
        const opened = await node.kms().send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob! }));
        expect(Buffer.from(opened.Plaintext!).toString()).toBe("one material");
        for (let n = 0; n < 5; n++) {
          expect((await node.secretsManager().send(new GetSecretValueCommand({ SecretId: `app/secret-${n}` }))).SecretString).toBe(`value-${n}`);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a node whose root key is not the cluster's (the root-key canary)", async () => {
    const store = await postgres.createDatabase();
    // The first node (the suite's token) makes the canary.
    const first = await start(store);
    await first.secretsManager().send(new CreateSecretCommand({ Name: "guarded", SecretString: "x" }));
    // A node with a token of its own: secretslite makes a fresh one (another root key) in its empty data dir.
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "secretslite-spec-other-token-"));
    try {
      const { code, stderr } = await run(["--port", "0", "--data-dir", dataDir, "--store", store, "--log-level", "error"]);
      expect(code).toBe(1);
      expect(stderr).toContain("this node's root key does not match the cluster's");
      expect(stderr).toContain("secretslite token clone");
      // The refused node wrote nothing: the first node still reads its secret.
      expect((await first.secretsManager().send(new GetSecretValueCommand({ SecretId: "guarded" }))).SecretString).toBe("x");
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("takes the password from --store-password-file, never from the URL", async () => {
    const own = await startPostgres();
    const dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-spec-pgpass-"));
    try {
      await own.sql("CREATE ROLE node LOGIN PASSWORD 'right horse battery'");
      await own.sql("CREATE DATABASE cluster OWNER node");
      await own.enforcePassword("node");
      const store = own.url("cluster").replace("postgres@", "node@");
      const passwordFile = path.join(dir, "pgpassword");
      writeFileSync(passwordFile, "right horse battery\n", { mode: 0o600 });
      const server = await startTestServer({ store, flags: ["--store-password-file", passwordFile] });
      servers.push(server);
      await server.secretsManager().send(new CreateSecretCommand({ Name: "with-password", SecretString: "x" }));

      writeFileSync(passwordFile, "wrong\n", { mode: 0o600 });
      await expect(startTestServer({ store, flags: ["--store-password-file", passwordFile] })).rejects.toThrow(/cannot open the PostgreSQL store .*password authentication failed/);
      const inUrl = await run(["--port", "0", "--in-memory", "--store", store.replace("node@", "node:pw@")]);
      expect(inUrl.code).not.toBe(0);
      expect(inUrl.stderr).toContain("--store must not hold the password");
    } finally {
      await own.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers the service's fault error while PostgreSQL is down, reports it in health, and recovers without a restart", async () => {
    const own = await startPostgres();
    try {
      const server = await start(await own.createDatabase());
      const secrets = server.secretsManager();
      await secrets.send(new CreateSecretCommand({ Name: "survives", SecretString: "before" }));
      await own.halt();
      const failed = await secrets.send(new GetSecretValueCommand({ SecretId: "survives" })).catch((error: { name: string; $metadata: { httpStatusCode?: number } }) => error);
      expect(failed).toMatchObject({ name: "InternalServiceError", $metadata: { httpStatusCode: 500 } });
      expect(await errorOf(server.kms().send(new CreateKeyCommand({})))).toMatchObject({ name: "KMSInternalException" });
      const down = await fetch(`${server.url}/_secretslite/health`);
      expect(down.status).toBe(503);
      expect(((await down.json()) as { storage: string }).storage).toMatch(/^degraded: /);

      await own.start();
      // Requests succeed as soon as PostgreSQL answers; health turns ready once the store's probe has seen it.
      await waitFor(async () => (await fetch(`${server.url}/_secretslite/health`)).status === 200);
      expect((await secrets.send(new GetSecretValueCommand({ SecretId: "survives" }))).SecretString).toBe("before");
      await secrets.send(new PutSecretValueCommand({ SecretId: "survives", SecretString: "after" }));
      expect((await secrets.send(new GetSecretValueCommand({ SecretId: "survives" }))).SecretString).toBe("after");
    } finally {
      await own.stop();
    }
  });
});

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await check()) return;
    await new Promise((wake) => setTimeout(wake, 50));
  }
  throw new Error("condition not reached in 10 s");
}

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => {
      // A node that started after all: stop it, the test will fail on its exit code.
      if (chunk.toString().includes("listening on")) child.kill("SIGTERM");
    });
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stderr }));
  });
}
