// Nothing secret at rest: no secret value or data key in the data dir or token, no backing key after reset.
import { randomBytes } from "node:crypto";
import path from "node:path";
import { EncryptCommand, CreateKeyCommand, GenerateDataKeyCommand } from "@aws-sdk/client-kms";
import { CreateSecretCommand, GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { recordKey } from "../../src/storage/keys";
import { openLevelStore } from "../../src/storage/level-store";
import request from "supertest";
import { filesContaining } from "../support/files";
import { ACCOUNT, REGION, startTestServer, type TestServer } from "../support/server";
import type { KmsKeyRecord } from "../../src/services/kms/key-record";

/** Every form a secret could take in a file: raw bytes, base64, hex. */
const forms = (bytes: Buffer): Buffer[] => [bytes, Buffer.from(bytes.toString("base64")), Buffer.from(bytes.toString("hex"))];

const findAnywhere = (dirs: string[], bytes: Buffer): string[] =>
  dirs.flatMap((dir) => forms(bytes).flatMap((form) => filesContaining(dir, form)));

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(() => server.close());

describe("behaviour", () => {
  it("writes no plaintext secret value or data key to the data dir or the token", async () => {
    const sm = server.secretsManager();
    const kms = server.kms();
    const secretString = "s3cr3t-" + randomBytes(24).toString("hex");
    const secretBinary = randomBytes(48);
    await sm.send(new CreateSecretCommand({ Name: "at-rest/string", SecretString: secretString }));
    await sm.send(new CreateSecretCommand({ Name: "at-rest/binary", SecretBinary: secretBinary }));
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: "AES_256" }));
    const plaintext = randomBytes(40);
    await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext }));
    // Reading back proves the values were really stored, not merely absent.
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "at-rest/string" }))).SecretString).toBe(secretString);
    const dataDir = server.dataDir;
    await server.stop();

    const dirs = [dataDir, server.tokenDir];
    // The search does find what is stored in the clear, such as a secret's name.
    expect(findAnywhere([dataDir], Buffer.from("at-rest/string"))).not.toEqual([]);
    expect(findAnywhere(dirs, Buffer.from(secretString))).toEqual([]);
    expect(findAnywhere(dirs, secretBinary)).toEqual([]);
    expect(findAnywhere(dirs, Buffer.from(dataKey.Plaintext!))).toEqual([]);
    expect(findAnywhere(dirs, plaintext)).toEqual([]);
    server = await startTestServer({ dataDir });
  });

  it("leaves none of a key's wrapped backing key in the data files after reset", async () => {
    const kms = server.kms();
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const dataDir = server.dataDir;
    await server.stop();

    // Opened as the server opens it: another LevelDB configuration would rewrite the tables on open.
    const store = await openLevelStore(path.join(dataDir, "db"));
    const record = await store.get<KmsKeyRecord>(recordKey({ account: ACCOUNT, region: REGION }, "kms", "kms-key", key.KeyId!));
    await store.close();
    const wrapped = record === undefined ? undefined : Buffer.from(record.backingKeys[0]!.wrapped, "base64");
    expect(wrapped).toHaveLength(40);
    expect(findAnywhere([dataDir], wrapped!)).not.toEqual([]);

    server = await startTestServer({ dataDir });
    expect((await request(server.url).post("/_secretslite/reset")).status).toBe(200);
    expect(findAnywhere([dataDir], wrapped!)).toEqual([]);
  });
});
