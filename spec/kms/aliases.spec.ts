// KMS CreateAlias, UpdateAlias, DeleteAlias and ListAliases: naming rules, predefined AWS aliases, key states, paging.
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  type KMSClient,
  ListAliasesCommand,
  type ListAliasesCommandInput,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
  type AliasListEntry,
} from "@aws-sdk/client-kms";
import type { Clock } from "../../src/services/clock";
import { assertSameKeyType } from "../../src/services/kms/aliases";
import { ACCOUNT, rawRequest, REGION, startTestServer, type TestServer } from "../support/server";

let server: TestServer;
let kms: KMSClient;
let nowMs = Date.UTC(2026, 0, 15, 12, 0, 0);
const clock: Clock = { now: () => new Date(nowMs) };

beforeAll(async () => {
  server = await startTestServer({ clock });
  kms = server.kms();
});
afterAll(() => server.close());

const arn = (region: string, aliasName: string, account = ACCOUNT): string => `arn:aws:kms:${region}:${account}:${aliasName}`;

const newKey = async (client: KMSClient = kms) => (await client.send(new CreateKeyCommand({}))).KeyMetadata!;

let counter = 0;
const uniqueAlias = (): string => `alias/spec-${process.pid}-${++counter}`;

async function allAliases(client: KMSClient, input: ListAliasesCommandInput = {}): Promise<AliasListEntry[]> {
  const out: AliasListEntry[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(new ListAliasesCommand({ ...input, Marker: marker }));
    out.push(...page.Aliases!);
    marker = page.NextMarker;
    expect(page.Truncated).toBe(marker !== undefined);
  } while (marker !== undefined);
  return out;
}

const PREDEFINED = [
  "alias/aws/acm",
  "alias/aws/dynamodb",
  "alias/aws/ebs",
  "alias/aws/elasticfilesystem",
  "alias/aws/es",
  "alias/aws/glue",
  "alias/aws/kinesisvideo",
  "alias/aws/lambda",
  "alias/aws/rds",
  "alias/aws/redshift",
  "alias/aws/s3",
  "alias/aws/secretsmanager",
  "alias/aws/ssm",
  "alias/aws/xray",
];

const raw = async (operation: string, body: unknown): Promise<{ status: number; type: unknown; message: unknown }> => {
  const response = await rawRequest(server, { target: `TrentService.${operation}`, body: JSON.stringify(body) });
  const parsed = JSON.parse(response.text) as Record<string, unknown>;
  return { status: response.status, type: parsed["__type"], message: parsed["message"] };
};

const PREFIX_MESSAGE =
  'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html';

describe("validation", () => {
  it("requires the alias/ prefix on every alias operation, with KMS's own text", async () => {
    const key = await newKey();
    for (const [operation, body] of [
      ["CreateAlias", { AliasName: "my-key", TargetKeyId: key.KeyId }],
      ["UpdateAlias", { AliasName: "my-key", TargetKeyId: key.KeyId }],
      ["DeleteAlias", { AliasName: "my-key" }],
    ] as const) {
      expect(await raw(operation, body)).toEqual({ status: 400, type: "ValidationException", message: PREFIX_MESSAGE });
    }
  });

  it("checks the model's pattern and required members before the prefix", async () => {
    expect(await raw("CreateAlias", { AliasName: "alias/a!b" })).toEqual({
      status: 400,
      type: "ValidationException",
      message:
        "2 validation errors detected: Value 'alias/a!b' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$; Value null at 'targetKeyId' failed to satisfy constraint: Member must not be null",
    });
    expect(await raw("DeleteAlias", { AliasName: "x".repeat(257) })).toMatchObject({
      type: "ValidationException",
      message: expect.stringContaining("at 'aliasName' failed to satisfy constraint: Member must have length less than or equal to 256"),
    });
  });

  it("limits ListAliases' Limit to 1–100", async () => {
    expect(await raw("ListAliases", { Limit: 101 })).toEqual({
      status: 400,
      type: "ValidationException",
      message: "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100",
    });
    expect(await raw("ListAliases", { Limit: 0 })).toMatchObject({ type: "ValidationException" });
  });
});

describe("behaviour", () => {
  it("creates an alias that every key-taking operation resolves, listed with all five members", async () => {
    const key = await newKey();
    const name = uniqueAlias();
    nowMs += 1000;
    const createdAt = nowMs;
    await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: key.KeyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: name }))).KeyMetadata!.KeyId).toBe(key.KeyId);
    const encrypted = await kms.send(new EncryptCommand({ KeyId: arn(REGION, name), Plaintext: Buffer.from("x") }));
    expect(encrypted.KeyId).toBe(key.Arn);
    const entry = (await allAliases(kms)).find((alias) => alias.AliasName === name);
    expect(entry).toEqual({
      AliasName: name,
      AliasArn: arn(REGION, name),
      TargetKeyId: key.KeyId,
      CreationDate: new Date(createdAt),
      LastUpdatedDate: new Date(createdAt),
    });
  });

  it("takes a key ARN as TargetKeyId and stores the key id", async () => {
    const key = await newKey();
    const name = uniqueAlias();
    await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: key.Arn }));
    const listed = (await kms.send(new ListAliasesCommand({ KeyId: key.Arn }))).Aliases!;
    expect(listed.map((alias) => [alias.AliasName, alias.TargetKeyId])).toEqual([[name, key.KeyId]]);
  });

  it("refuses an alias as TargetKeyId, by name or ARN", async () => {
    const key = await newKey();
    const name = uniqueAlias();
    await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: key.KeyId }));
    for (const target of [name, arn(REGION, name)]) {
      await expect(kms.send(new CreateAliasCommand({ AliasName: uniqueAlias(), TargetKeyId: target }))).rejects.toMatchObject({
        name: "ValidationException",
        message: "Aliases must refer to keys. Not aliases",
      });
      await expect(kms.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: target }))).rejects.toMatchObject({
        name: "ValidationException",
        message: "Aliases must refer to keys. Not aliases",
      });
    }
  });

  it("answers AlreadyExistsException, naming the alias by ARN, for a name in use", async () => {
    const [a, b] = [await newKey(), await newKey()];
    const name = uniqueAlias();
    await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: a.KeyId }));
    await expect(kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: b.KeyId }))).rejects.toMatchObject({
      name: "AlreadyExistsException",
      message: `An alias with the name ${arn(REGION, name)} already exists`,
      $metadata: { httpStatusCode: 400 },
    });
    expect((await kms.send(new DescribeKeyCommand({ KeyId: name }))).KeyMetadata!.KeyId).toBe(a.KeyId);
  });

  it("lets two concurrent CreateAlias calls for one name make one alias", async () => {
    const [a, b] = [await newKey(), await newKey()];
    const name = uniqueAlias();
    const results = await Promise.allSettled([
      kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: a.KeyId })),
      kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: b.KeyId })),
    ]);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    expect(results.filter((result) => result.status === "rejected").map((result) => (result as PromiseRejectedResult).reason.name)).toEqual([
      "AlreadyExistsException",
    ]);
  });

  it("reserves alias/aws/ for AWS: a bare NotAuthorizedException on create, update and delete", async () => {
    const key = await newKey();
    for (const name of ["alias/aws/ebs", "alias/aws/my-own", "alias/aws/secretsmanager"]) {
      await expect(kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: key.KeyId }))).rejects.toMatchObject({
        name: "NotAuthorizedException",
        $metadata: { httpStatusCode: 400 },
      });
    }
    // On the wire the body has no message at all (the SDK then shows "UnknownError").
    expect(await raw("CreateAlias", { AliasName: "alias/aws/rds", TargetKeyId: key.KeyId })).toEqual({
      status: 400,
      type: "NotAuthorizedException",
      message: undefined,
    });
    await kms.send(new DescribeKeyCommand({ KeyId: "alias/aws/s3" }));
    await expect(kms.send(new UpdateAliasCommand({ AliasName: "alias/aws/s3", TargetKeyId: key.KeyId }))).rejects.toMatchObject({
      name: "NotAuthorizedException",
    });
    await expect(kms.send(new DeleteAliasCommand({ AliasName: "alias/aws/s3" }))).rejects.toMatchObject({ name: "NotAuthorizedException" });
    const s3 = (await kms.send(new ListAliasesCommand({ Limit: 100 }))).Aliases!.find((alias) => alias.AliasName === "alias/aws/s3")!;
    expect(s3.TargetKeyId).not.toBe(key.KeyId);
    expect(s3.TargetKeyId).toBeDefined();
  });

  it("refuses ':' in a new alias name although the model's pattern allows it", async () => {
    const key = await newKey();
    await expect(kms.send(new CreateAliasCommand({ AliasName: "alias/a:b", TargetKeyId: key.KeyId }))).rejects.toMatchObject({
      name: "ValidationException",
      message: "alias/a:b contains invalid characters for an alias",
    });
  });

  it("does not let an alias point at an AWS managed key", async () => {
    const managed = (await kms.send(new DescribeKeyCommand({ KeyId: "alias/aws/secretsmanager" }))).KeyMetadata!;
    const message = (operation: string) =>
      `User: arn:aws:iam::${ACCOUNT}:root is not authorized to perform: kms:${operation} on resource: ${managed.Arn} because no resource-based policy allows the kms:${operation} action`;
    await expect(kms.send(new CreateAliasCommand({ AliasName: uniqueAlias(), TargetKeyId: managed.KeyId }))).rejects.toMatchObject({
      name: "AccessDeniedException",
      message: message("CreateAlias"),
    });
    const name = uniqueAlias();
    await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: (await newKey()).KeyId }));
    await expect(kms.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: managed.Arn }))).rejects.toMatchObject({
      name: "AccessDeniedException",
      message: message("UpdateAlias"),
    });
  });

  it("says which key does not exist", async () => {
    const missing = "11111111-2222-3333-4444-555555555555";
    await expect(kms.send(new CreateAliasCommand({ AliasName: uniqueAlias(), TargetKeyId: missing }))).rejects.toMatchObject({
      name: "NotFoundException",
      message: `Key 'arn:aws:kms:${REGION}:${ACCOUNT}:key/${missing}' does not exist`,
    });
  });

  it("follows the key-state table: disabled and pending-import keys take aliases, pending-deletion ones do not", async () => {
    const disabled = await newKey();
    await kms.send(new DisableKeyCommand({ KeyId: disabled.KeyId }));
    await kms.send(new CreateAliasCommand({ AliasName: uniqueAlias(), TargetKeyId: disabled.KeyId }));
    const external = (await kms.send(new CreateKeyCommand({ Origin: "EXTERNAL" }))).KeyMetadata!;
    await kms.send(new CreateAliasCommand({ AliasName: uniqueAlias(), TargetKeyId: external.KeyId }));

    const doomed = await newKey();
    const name = uniqueAlias();
    await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: doomed.KeyId }));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: doomed.KeyId, PendingWindowInDays: 7 }));
    await expect(kms.send(new CreateAliasCommand({ AliasName: uniqueAlias(), TargetKeyId: doomed.KeyId }))).rejects.toMatchObject({
      name: "KMSInvalidStateException",
      message: `${doomed.Arn} is pending deletion.`,
    });
    // Moving an alias away from a key pending deletion works; moving one onto it does not.
    const other = await newKey();
    await kms.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: other.KeyId }));
    await expect(kms.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: doomed.KeyId }))).rejects.toMatchObject({
      name: "KMSInvalidStateException",
      message: `${doomed.Arn} is pending deletion.`,
    });
    // DeleteAlias works in every key state.
    const onDoomed = uniqueAlias();
    await kms.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: other.KeyId }));
    await kms.send(new CreateAliasCommand({ AliasName: onDoomed, TargetKeyId: other.KeyId }));
    await kms.send(new DeleteAliasCommand({ AliasName: onDoomed }));
  });

  it("repoints an alias with UpdateAlias, keeping its CreationDate and moving LastUpdatedDate", async () => {
    const [a, b] = [await newKey(), await newKey()];
    const name = uniqueAlias();
    nowMs += 1000;
    const createdAt = nowMs;
    await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: a.KeyId }));
    nowMs += 60_000;
    await kms.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: b.Arn }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: name }))).KeyMetadata!.KeyId).toBe(b.KeyId);
    expect((await kms.send(new ListAliasesCommand({ KeyId: a.KeyId }))).Aliases).toEqual([]);
    expect((await kms.send(new ListAliasesCommand({ KeyId: b.KeyId }))).Aliases).toEqual([
      {
        AliasName: name,
        AliasArn: arn(REGION, name),
        TargetKeyId: b.KeyId,
        CreationDate: new Date(createdAt),
        LastUpdatedDate: new Date(nowMs),
      },
    ]);
  });

  it("answers NotFoundException for UpdateAlias and DeleteAlias of an alias that does not exist", async () => {
    const key = await newKey();
    const name = uniqueAlias();
    const notFound = { name: "NotFoundException", message: `Alias ${arn(REGION, name)} is not found.` };
    await expect(kms.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: key.KeyId }))).rejects.toMatchObject(notFound);
    await expect(kms.send(new DeleteAliasCommand({ AliasName: name }))).rejects.toMatchObject(notFound);
  });

  it("deletes an alias without touching its key", async () => {
    const key = await newKey();
    const name = uniqueAlias();
    await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: key.KeyId }));
    await kms.send(new DeleteAliasCommand({ AliasName: name }));
    await expect(kms.send(new DescribeKeyCommand({ KeyId: name }))).rejects.toMatchObject({ name: "NotFoundException" });
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.KeyState).toBe("Enabled");
    await expect(kms.send(new DeleteAliasCommand({ AliasName: name }))).rejects.toMatchObject({ name: "NotFoundException" });
    // The name is free again.
    await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: key.KeyId }));
  });

  it("lists the predefined AWS aliases of a fresh account and region without TargetKeyId or dates until their key exists", async () => {
    const fresh = server.kms({ region: "eu-north-1", accessKeyId: "210987654321" });
    const before = await allAliases(fresh);
    expect(before).toEqual(PREDEFINED.map((name) => ({ AliasName: name, AliasArn: arn("eu-north-1", name, "210987654321") })));

    const ebs = (await fresh.send(new DescribeKeyCommand({ KeyId: "alias/aws/ebs" }))).KeyMetadata!;
    expect(ebs).toMatchObject({ KeyManager: "AWS", Description: "Default key that protects my EBS volumes when no other key is defined" });
    const after = await allAliases(fresh);
    expect(after).toHaveLength(PREDEFINED.length);
    expect(after.find((alias) => alias.AliasName === "alias/aws/ebs")).toEqual({
      AliasName: "alias/aws/ebs",
      AliasArn: arn("eu-north-1", "alias/aws/ebs", "210987654321"),
      TargetKeyId: ebs.KeyId,
      CreationDate: ebs.CreationDate,
      LastUpdatedDate: ebs.CreationDate,
    });
    // Filtered by key, only aliases of that key are shown: no predefined alias without one.
    expect((await fresh.send(new ListAliasesCommand({ KeyId: ebs.Arn }))).Aliases!.map((alias) => alias.AliasName)).toEqual(["alias/aws/ebs"]);
  });

  it("keeps aliases apart by region and account", async () => {
    const key = await newKey();
    const name = uniqueAlias();
    await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: key.KeyId }));
    for (const client of [server.kms({ region: "sa-east-1" }), server.kms({ accessKeyId: "123123123123" })]) {
      expect((await allAliases(client)).map((alias) => alias.AliasName)).not.toContain(name);
      await expect(client.send(new DeleteAliasCommand({ AliasName: name }))).rejects.toMatchObject({ name: "NotFoundException" });
    }
    // The same name is free in another region.
    const elsewhere = server.kms({ region: "sa-east-1" });
    await elsewhere.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: (await newKey(elsewhere)).KeyId }));
  });

  it("filters by KeyId given as key id or key ARN only", async () => {
    const key = await newKey();
    const names = [uniqueAlias(), uniqueAlias()];
    for (const name of names) await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: key.KeyId }));
    for (const id of [key.KeyId!, key.Arn!]) {
      expect((await kms.send(new ListAliasesCommand({ KeyId: id }))).Aliases!.map((alias) => alias.AliasName)).toEqual(names.sort());
    }
    await expect(kms.send(new ListAliasesCommand({ KeyId: names[0] }))).rejects.toMatchObject({
      name: "InvalidArnException",
      message: "Key Aliases are not supported for this operation.",
    });
    const missing = "11111111-2222-3333-4444-555555555555";
    await expect(kms.send(new ListAliasesCommand({ KeyId: missing }))).rejects.toMatchObject({ name: "NotFoundException" });
  });

  it("pages with Limit (50 by default), NextMarker and Truncated, and refuses a marker it did not issue", async () => {
    const client = server.kms({ region: "ap-northeast-2" });
    const key = await newKey(client);
    for (let i = 0; i < 40; i++) {
      await client.send(new CreateAliasCommand({ AliasName: `alias/page-${String(i).padStart(2, "0")}`, TargetKeyId: key.KeyId }));
    }
    const total = 40 + PREDEFINED.length;
    const first = await client.send(new ListAliasesCommand({}));
    expect(first.Aliases).toHaveLength(50);
    expect(first.Truncated).toBe(true);
    const second = await client.send(new ListAliasesCommand({ Marker: first.NextMarker }));
    expect(second.Aliases).toHaveLength(total - 50);
    expect(second).toMatchObject({ Truncated: false });
    expect(second.NextMarker).toBeUndefined();

    const everything = [...first.Aliases!, ...second.Aliases!].map((alias) => alias.AliasName!);
    expect(everything).toEqual([...everything].sort());
    expect(new Set(everything).size).toBe(total);
    const byThree = await allAliases(client, { Limit: 3 });
    expect(byThree.map((alias) => alias.AliasName)).toEqual(everything);

    await expect(client.send(new ListAliasesCommand({ Marker: "not-a-marker" }))).rejects.toMatchObject({
      name: "InvalidMarkerException",
    });
  });
});

describe("UpdateAlias key-type rule", () => {
  // Only symmetric keys can be created so far, so the rule is exercised on records directly.
  const record = (keySpec: string, keyUsage: string) =>
    ({ keySpec, keyUsage, arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555` }) as never;

  it("allows a key of the same type and key usage", () => {
    expect(() => assertSameKeyType(record("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"), record("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"))).not.toThrow();
    // "both asymmetric": RSA and ECC keys count as one type.
    expect(() => assertSameKeyType(record("RSA_2048", "SIGN_VERIFY"), record("ECC_NIST_P256", "SIGN_VERIFY"))).not.toThrow();
  });

  it("refuses another type or another key usage with a ValidationException", () => {
    for (const [from, to] of [
      [record("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"), record("HMAC_256", "GENERATE_VERIFY_MAC")],
      [record("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"), record("RSA_2048", "ENCRYPT_DECRYPT")],
      [record("RSA_2048", "ENCRYPT_DECRYPT"), record("RSA_2048", "SIGN_VERIFY")],
    ] as const) {
      expect(() => assertSameKeyType(from, to)).toThrow(expect.objectContaining({ code: "ValidationException" }));
    }
  });
});
