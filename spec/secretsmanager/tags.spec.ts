// TagResource and UntagResource: merge and removal, AWS's limits and reserved keys, and the secrets they refuse.
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type SecretsManagerClient,
  type Tag,
} from "@aws-sdk/client-secrets-manager";
import type { Scope } from "../../src/services/scope";
import { createSecret } from "../../src/services/secretsmanager/create-secret";
import { tagResource } from "../../src/services/secretsmanager/tag-resource";
import { untagResource } from "../../src/services/secretsmanager/untag-resource";
import { secretsContext } from "../support/secrets-context";
import { rawRequest, startTestServer, type TestServer } from "../support/server";

const clock = {
  time: Date.parse("2026-04-01T08:00:00Z"),
  now(): Date {
    clock.time += 1000;
    return new Date(clock.time);
  },
};

let server: TestServer;
let sm: SecretsManagerClient;
beforeAll(async () => {
  server = await startTestServer({ clock });
  sm = server.secretsManager();
});
afterAll(() => server.close());

let counter = 0;
async function secretWith(tags: Tag[] = []): Promise<string> {
  const name = `tagged/${++counter}`;
  await sm.send(new CreateSecretCommand({ Name: name, SecretString: "v", Tags: tags.length === 0 ? undefined : tags }));
  return name;
}
const tagsOf = async (name: string) => (await sm.send(new DescribeSecretCommand({ SecretId: name }))).Tags ?? [];
const many = (count: number, prefix = "k"): Tag[] => Array.from({ length: count }, (_, i) => ({ Key: `${prefix}${i}`, Value: `v${i}` }));

describe("validation", () => {
  const raw = async (target: string, body: unknown) => {
    const res = await rawRequest(server, { target: `secretsmanager.${target}`, body: JSON.stringify(body) });
    return JSON.parse(res.text) as { __type: string; message: string };
  };

  it("holds keys to 1–128 and values to 0–256 characters and requires Tags and TagKeys, as the model does", async () => {
    const name = await secretWith();
    const longKey = await raw("TagResource", { SecretId: name, Tags: [{ Key: "k".repeat(129), Value: "v" }] });
    expect(longKey.__type).toBe("ValidationException");
    expect(longKey.message).toContain("at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128");
    const longValue = await raw("TagResource", { SecretId: name, Tags: [{ Key: "k", Value: "v".repeat(257) }] });
    expect(longValue.message).toContain("at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256");
    expect((await raw("TagResource", { SecretId: name, Tags: [{ Key: "", Value: "v" }] })).message).toContain(
      "at 'tags.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
    expect((await raw("TagResource", { SecretId: name })).message).toBe(
      "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null",
    );
    expect((await raw("UntagResource", { SecretId: name })).message).toBe(
      "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
    );
    // Edge values of the model's bounds are taken.
    await sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: "k".repeat(128), Value: "v".repeat(256) }, { Key: "empty", Value: "" }] }));
    expect(await tagsOf(name)).toEqual([
      { Key: "k".repeat(128), Value: "v".repeat(256) },
      { Key: "empty", Value: "" },
    ]);
  });
});

describe("behaviour", () => {
  it("adds tags, overwrites the value of a key already there in place, and moves LastChangedDate", async () => {
    const name = await secretWith([
      { Key: "team", Value: "core" },
      { Key: "env", Value: "dev" },
    ]);
    const before = (await sm.send(new DescribeSecretCommand({ SecretId: name }))).LastChangedDate!;
    const out = await sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: "env", Value: "prod" }, { Key: "cost", Value: "42" }] }));
    expect(out.$metadata.httpStatusCode).toBe(200);
    const after = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    expect(after.Tags).toEqual([
      { Key: "team", Value: "core" },
      { Key: "env", Value: "prod" },
      { Key: "cost", Value: "42" },
    ]);
    expect(after.LastChangedDate!.getTime()).toBeGreaterThan(before.getTime());
  });

  it("keeps the last value of a key given twice in one request, and treats keys case-sensitively", async () => {
    const name = await secretWith();
    await sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: "a", Value: "1" }, { Key: "A", Value: "2" }, { Key: "a", Value: "3" }] }));
    expect(await tagsOf(name)).toEqual([
      { Key: "a", Value: "3" },
      { Key: "A", Value: "2" },
    ]);
  });

  it("refuses aws: keys in any case, adding or removing, and changes nothing", async () => {
    const name = await secretWith([{ Key: "keep", Value: "1" }]);
    for (const key of ["aws:cloudformation:stack-name", "AWS:x", "Aws:y"]) {
      await expect(sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: "ok", Value: "1" }, { Key: key, Value: "v" }] }))).rejects.toMatchObject({
        name: "InvalidParameterException",
        message: `You can't modify system tags. Tag key: '${key}'.`,
      });
      await expect(sm.send(new UntagResourceCommand({ SecretId: name, TagKeys: ["keep", key] }))).rejects.toMatchObject({
        name: "InvalidParameterException",
        message: `You can't modify system tags. Tag key: '${key}'.`,
      });
    }
    // A value may start with aws:, and "awsx:" is an ordinary key.
    await sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: "awsx:k", Value: "aws:v" }] }));
    expect(await tagsOf(name)).toEqual([
      { Key: "keep", Value: "1" },
      { Key: "awsx:k", Value: "aws:v" },
    ]);
  });

  it("allows 50 tags a secret and refuses the 51st, counting what is overwritten once", async () => {
    const name = await secretWith(many(49));
    await sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: "k0", Value: "new" }, { Key: "fifty", Value: "50" }] }));
    expect(await tagsOf(name)).toHaveLength(50);
    await expect(sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: "fifty-one", Value: "51" }] }))).rejects.toMatchObject({
      name: "InvalidParameterException",
      message: "A secret can't have more than 50 tags.",
    });
    await expect(sm.send(new TagResourceCommand({ SecretId: await secretWith(), Tags: many(51) }))).rejects.toMatchObject({
      name: "InvalidParameterException",
    });
    expect((await tagsOf(name)).find((tag) => tag.Key === "k0")).toEqual({ Key: "k0", Value: "new" });
  });

  it("removes tags by key, ignoring keys the secret does not have", async () => {
    const name = await secretWith(many(4));
    await sm.send(new UntagResourceCommand({ SecretId: name, TagKeys: ["k1", "k3", "absent", "K0"] }));
    expect(await tagsOf(name)).toEqual([
      { Key: "k0", Value: "v0" },
      { Key: "k2", Value: "v2" },
    ]);
    await sm.send(new UntagResourceCommand({ SecretId: name, TagKeys: ["k0", "k2"] }));
    // AWS shows a secret whose tags were all removed with an empty list, and a never-tagged one without Tags.
    const raw = async (secretId: string) =>
      JSON.parse((await rawRequest(server, { target: "secretsmanager.DescribeSecret", body: JSON.stringify({ SecretId: secretId }) })).text);
    expect((await sm.send(new DescribeSecretCommand({ SecretId: name }))).Tags).toEqual([]);
    expect((await raw(name)).Tags).toEqual([]);
    await sm.send(new UntagResourceCommand({ SecretId: name, TagKeys: [] }));
    expect((await raw(name)).Tags).toEqual([]);
    await sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: "again", Value: "1" }] }));
    expect(await tagsOf(name)).toEqual([{ Key: "again", Value: "1" }]);

    const untagged = await secretWith();
    expect(await raw(untagged)).not.toHaveProperty("Tags");
    await sm.send(new UntagResourceCommand({ SecretId: untagged, TagKeys: ["absent"] }));
    expect(await raw(untagged)).not.toHaveProperty("Tags");
  });

  it("refuses a secret scheduled for deletion and one that does not exist", async () => {
    const name = await secretWith([{ Key: "k", Value: "v" }]);
    const arn = (await sm.send(new DescribeSecretCommand({ SecretId: name }))).ARN!;
    await sm.send(new DeleteSecretCommand({ SecretId: name }));
    for (const command of [
      new TagResourceCommand({ SecretId: arn, Tags: [{ Key: "x", Value: "y" }] }),
      new UntagResourceCommand({ SecretId: name, TagKeys: ["k"] }),
    ]) {
      await expect(sm.send(command as TagResourceCommand)).rejects.toMatchObject({
        name: "InvalidRequestException",
        message: "You can't perform this operation on the secret because it was marked for deletion.",
      });
    }
    expect(await tagsOf(name)).toEqual([{ Key: "k", Value: "v" }]);
    await expect(sm.send(new TagResourceCommand({ SecretId: "no/such", Tags: [{ Key: "x", Value: "y" }] }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
      message: "Secrets Manager can't find the specified secret.",
    });
    await expect(sm.send(new UntagResourceCommand({ SecretId: "no/such", TagKeys: ["x"] }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });

  it("refuses to tag a replica outside its primary's region", async () => {
    const scope: Scope = { account: "000000000000", region: "eu-west-1", partition: "aws" };
    const { store, domain, context } = await secretsContext(scope);
    const ctx = context();
    await createSecret({ Name: "copy" }, ctx);
    await domain.secrets.update(scope, "copy", (current) => ({ secret: { ...current, primaryRegion: "us-east-1" } }));
    const refusal = {
      name: "InvalidParameterException",
      message: "Operation not permitted on a replica secret. Call must be made in primary secret's region.",
    };
    await expect(tagResource({ SecretId: "copy", Tags: [{ Key: "k", Value: "v" }] }, ctx)).rejects.toMatchObject(refusal);
    await expect(untagResource({ SecretId: "copy", TagKeys: ["k"] }, ctx)).rejects.toMatchObject(refusal);
    await store.close();
  });
});
