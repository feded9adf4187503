// Disk full through the wire: writes refused with each service's fault, reads answering, health degraded, recovery,
// and on a real full tmpfs (root only) no acknowledged write lost across a restart.
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GetKeyLastUsageCommand,
  KMSClient,
  ListAliasesCommand,
} from "@aws-sdk/client-kms";
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import request from "supertest";
import { parseConfig } from "../../src/config";
import { startSecretslite, type RunningSecretslite } from "../../src/main";
import { FaultyStore } from "../support/faulty-store";
import { credentials, REGION } from "../support/server";
import { testSoftHsm } from "../support/softhsm";

interface Started {
  readonly running: RunningSecretslite;
  readonly sm: SecretsManagerClient;
  readonly kms: KMSClient;
  stop(): Promise<void>;
}

/** A server on `dataDir` with this worker's token; `faulty` (if given) sits under the write guard. */
async function start(dataDir: string, faulty?: (store: FaultyStore) => void): Promise<Started> {
  const token = await testSoftHsm();
  const config = parseConfig(["--port", "0", "--data-dir", dataDir, "--token-label", token.tokenLabel, `--pin=${token.pin}`, "--log-level", "error"], {});
  if (config === undefined) throw new Error("unreachable: no --help given");
  const running = await startSecretslite(config, {
    wrapStoreBackend: faulty === undefined ? undefined : (backend) => {
      const wrapped = new FaultyStore(backend);
      faulty(wrapped);
      return wrapped;
    },
  });
  const clientConfig = { endpoint: running.url, region: REGION, credentials, maxAttempts: 1 };
  const sm = new SecretsManagerClient(clientConfig);
  const kms = new KMSClient(clientConfig);
  return {
    running,
    sm,
    kms,
    stop: async () => {
      sm.destroy();
      kms.destroy();
      await running.close();
    },
  };
}

/** What a failed SDK call carried: the error shape, its HTTP status and message. */
async function failure(call: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string }> {
  const error = (await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  )) as { name: string; message: string; $metadata?: { httpStatusCode?: number } } | undefined;
  if (error === undefined) throw new Error("the call succeeded; a refusal was expected");
  return { name: error.name, status: error.$metadata?.httpStatusCode, message: error.message };
}

const health = async (url: string) => {
  const response = await request(url).get("/_secretslite/health");
  return { status: response.status, body: response.body as { status: string; storage: string } };
};

async function waitForReady(url: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const { status } = await health(url);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error("the server did not turn ready again after space was freed");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("a store that refuses writes (fault-injecting backend)", () => {
  let dataDir: string;
  let server: Started;
  let faulty: FaultyStore;

  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "secretslite-disk-full-"));
    server = await start(dataDir, (store) => (faulty = store));
  });
  afterEach(async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers writes with InternalServiceError and KMSInternalException (500), reads with 200, and health 503 degraded", async () => {
    const { sm, kms, running } = server;
    await sm.send(new CreateSecretCommand({ Name: "app/db", SecretString: "s3cret" }));
    await sm.send(new CreateSecretCommand({ Name: "app/api", SecretString: "t0ken" }));
    const key = await kms.send(new CreateKeyCommand({}));
    const keyId = key.KeyMetadata?.KeyId ?? "";
    const sealed = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("plain") }));
    faulty.failWrites();

    const smWrite = await failure(sm.send(new PutSecretValueCommand({ SecretId: "app/db", SecretString: "new" })));
    expect(smWrite).toMatchObject({ name: "InternalServiceError", status: 500 });
    expect(smWrite.message).toMatch(/No space left on device/);
    const refused = await failure(sm.send(new CreateSecretCommand({ Name: "app/other", SecretString: "x" })));
    expect(refused).toMatchObject({ name: "InternalServiceError", status: 500 });
    expect(refused.message).toMatch(/read-only since a write failed/);
    const kmsWrite = await failure(kms.send(new CreateKeyCommand({})));
    expect(kmsWrite).toMatchObject({ name: "KMSInternalException", status: 500 });
    expect(kmsWrite.message).toMatch(/read-only since a write failed/);

    // The first read of the day writes LastAccessedDate: refused, and the read answers all the same.
    const value = await sm.send(new GetSecretValueCommand({ SecretId: "app/db" }));
    expect(value.SecretString).toBe("s3cret");
    const batch = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ["app/db", "app/api"] }));
    expect(batch.SecretValues?.map((entry) => entry.SecretString).sort()).toEqual(["s3cret", "t0ken"]);
    expect(batch.Errors).toEqual([]);
    const opened = await kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }));
    expect(Buffer.from(opened.Plaintext ?? []).toString()).toBe("plain");

    const degraded = await health(running.url);
    expect(degraded.status).toBe(503);
    expect(degraded.body.status).toBe("degraded");
    expect(degraded.body.storage).toMatch(/^degraded: write failed: IO error: .*No space left on device/);
    expect(faulty.count("reopen")).toBe(0);

    faulty.heal();
    await waitForReady(running.url);
    expect(faulty.count("reopen")).toBe(1);
    await sm.send(new PutSecretValueCommand({ SecretId: "app/db", SecretString: "new" }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "app/db" }))).SecretString).toBe("new");
    await kms.send(new CreateKeyCommand({}));
    // Usage recorded while writes were refused was kept and is reported.
    const lastUsage = await kms.send(new GetKeyLastUsageCommand({ KeyId: keyId }));
    expect(lastUsage.KeyLastUsage?.Operation).toBe("Decrypt");
  });
});

const isRoot = process.getuid?.() === 0;

describe("a full tmpfs (needs root: mounts a 2 MiB tmpfs)", () => {
  it("needs root: mounts a tmpfs, fills it, refuses writes, recovers, and loses nothing acknowledged across a restart", async () => {
    if (!isRoot) {
      throw new Error("NOT RUN: this test needs root to mount a tmpfs (CI runs as root); run the suite as root to run it.");
    }
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "secretslite-tmpfs-"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", dataDir]);
    let server: Started | undefined;
    try {
      server = await start(dataDir);
      const filler = path.join(dataDir, "filler");
      const acknowledged = new Map<string, string>();
      for (let i = 0; i < 5; i++) {
        const name = `before/${i}`;
        await server.sm.send(new CreateSecretCommand({ Name: name, SecretString: `value-${i}` }));
        acknowledged.set(name, `value-${i}`);
      }

      fill(filler);
      // The log's last page may still take a few records: write until the disk says no.
      let refusal: { name: string; status: number | undefined; message: string } | undefined;
      for (let i = 0; i < 200 && refusal === undefined; i++) {
        const name = `filling/${i}`;
        const value = `v${i}-`.padEnd(1_000, "x");
        try {
          await server.sm.send(new CreateSecretCommand({ Name: name, SecretString: value }));
          acknowledged.set(name, value);
        } catch (error) {
          refusal = await failure(Promise.reject(error));
        }
      }
      expect(refusal).toMatchObject({ name: "InternalServiceError", status: 500 });
      expect(refusal?.message).toMatch(/No space left on device/);
      expect(await failure(server.kms.send(new CreateKeyCommand({})))).toMatchObject({ name: "KMSInternalException", status: 500 });
      const degraded = await health(server.running.url);
      expect(degraded.status).toBe(503);
      expect(degraded.body.storage).toMatch(/^degraded: write failed: .*No space left on device/);
      for (const [name, value] of acknowledged) {
        expect((await server.sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe(value);
      }

      rmSync(filler);
      await waitForReady(server.running.url);
      const keyIds: string[] = [];
      for (let i = 0; i < 50; i++) {
        const name = `after/${i}`;
        await server.sm.send(new CreateSecretCommand({ Name: name, SecretString: `after-${i}` }));
        acknowledged.set(name, `after-${i}`);
      }
      for (let i = 0; i < 10; i++) {
        const key = await server.kms.send(new CreateKeyCommand({ Description: `after ${i}` }));
        keyIds.push(key.KeyMetadata?.KeyId ?? "");
        await server.kms.send(new CreateAliasCommand({ AliasName: `alias/after-${i}`, TargetKeyId: key.KeyMetadata?.KeyId }));
      }

      await server.stop();
      server = await start(dataDir);
      for (const [name, value] of acknowledged) {
        expect((await server.sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe(value);
      }
      for (const keyId of keyIds) {
        expect((await server.kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.Description).toMatch(/^after \d$/);
      }
      const aliases = await server.kms.send(new ListAliasesCommand({ Limit: 100 }));
      const names = (aliases.Aliases ?? []).map((alias) => alias.AliasName).filter((name) => name?.startsWith("alias/after-"));
      expect(names).toHaveLength(10);
    } finally {
      await server?.stop();
      execFileSync("umount", [dataDir]);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

/** Writes zeros to `file` until the file system is full. */
function fill(file: string): void {
  const fd = openSync(file, "w");
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
    // The last bytes that fit.
    for (let size = 32 * 1024; size >= 1; size = Math.floor(size / 2)) {
      try {
        for (;;) writeSync(fd, chunk.subarray(0, size));
      } catch {
        // smaller next
      }
    }
  } finally {
    closeSync(fd);
  }
}
