// ListSecrets: wire form, validation, filters, orders, pagination, and reads bounded by the indexes at scale.
import { readFileSync } from "node:fs";
import path from "node:path";
import { CreateKeyCommand } from "@aws-sdk/client-kms";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  paginateListSecrets,
  TagResourceCommand,
  type Filter,
  type ListSecretsCommandInput,
  type SecretListEntry,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import type { Scope } from "../../src/services/scope";
import type { KmsDomain } from "../../src/services/kms/domain";
import type { SecretsRequestContext } from "../../src/services/secretsmanager/context";
import { createSecret } from "../../src/services/secretsmanager/create-secret";
import { createSecretsDomain, type SecretsDomain } from "../../src/services/secretsmanager/domain";
import { listSecrets, SECRET_LIST_ENTRY_MEMBERS } from "../../src/services/secretsmanager/list-secrets";
import { SCAN_BUDGET } from "../../src/services/secretsmanager/secret-listing";
import { indexRange, SORT_KEYS } from "../../src/services/secretsmanager/secret-index";
import { openMemoryStore } from "../../src/storage/level-store";
import type { RangeOptions, Store, StoredValue } from "../../src/storage/store";
import { rawRequest, startTestServer, type TestServer } from "../support/server";

const DAY = 24 * 3600 * 1000;
/** Every request is a second later than the one before, so creation and change dates never tie. */
const clock = {
  time: Date.parse("2026-03-01T10:00:00Z"),
  now(): Date {
    clock.time += 1000;
    return new Date(clock.time);
  },
};

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ clock });
});
afterAll(() => server.close());

// ListSecrets sees the whole account and region: each test works in a region of its own.
let regions = 0;
const freshRegion = (): string => `list-${++regions}-1`;
const client = (region: string): SecretsManagerClient => server.secretsManager({ region });

const names = (list: readonly SecretListEntry[] | undefined): string[] => (list ?? []).map((entry) => entry.Name ?? "");

async function listNames(sm: SecretsManagerClient, input: ListSecretsCommandInput = {}): Promise<string[]> {
  const all: string[] = [];
  for await (const page of paginateListSecrets({ client: sm }, input)) all.push(...names(page.SecretList));
  return all;
}

async function create(sm: SecretsManagerClient, name: string, extra: Partial<ConstructorParameters<typeof CreateSecretCommand>[0]> = {}) {
  return sm.send(new CreateSecretCommand({ Name: name, SecretString: `value of ${name}`, ...extra }));
}

describe("serialization", () => {
  it("sends entries with dates as epoch seconds, the version map, and no KmsKeyId under the default key", async () => {
    const region = freshRegion();
    const created = await create(client(region), "wire/one");
    const res = await rawRequest(server, { target: "secretsmanager.ListSecrets", body: "{}", region });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text) as { SecretList: Array<Record<string, unknown>>; NextToken?: string };
    expect(body.NextToken).toBeUndefined();
    expect(body.SecretList).toHaveLength(1);
    const entry = body.SecretList[0]!;
    expect(entry).toMatchObject({ ARN: created.ARN, Name: "wire/one", SecretVersionsToStages: { [created.VersionId!]: ["AWSCURRENT"] } });
    expect(typeof entry["CreatedDate"]).toBe("number");
    expect(typeof entry["LastChangedDate"]).toBe("number");
    expect(entry["CreatedDate"]).toBe(Math.floor(entry["CreatedDate"] as number));
    expect(entry).not.toHaveProperty("KmsKeyId");
    expect(entry).not.toHaveProperty("DeletedDate");
    for (const member of Object.keys(entry)) expect(SECRET_LIST_ENTRY_MEMBERS).toContain(member);
  });
});

describe("validation", () => {
  const raw = async (body: unknown): Promise<{ status: number; type: string; message: string }> => {
    const res = await rawRequest(server, { target: "secretsmanager.ListSecrets", body: JSON.stringify(body) });
    const parsed = JSON.parse(res.text) as { __type: string; message: string };
    return { status: res.status, type: parsed.__type, message: parsed.message };
  };

  it("refuses more than 10 values in a filter, MaxResults outside 1–100, an unknown key and a value off the pattern", async () => {
    const values = Array.from({ length: 11 }, (_, i) => `v${i}`);
    expect(await raw({ Filters: [{ Key: "name", Values: values }] })).toEqual({
      status: 400,
      type: "ValidationException",
      message: `1 validation error detected: Value '[${values.join(", ")}]' at 'filters.1.member.values' failed to satisfy constraint: Member must have length less than or equal to 10`,
    });
    for (const maxResults of [0, 101]) {
      const res = await raw({ MaxResults: maxResults });
      expect(res.type).toBe("ValidationException");
      expect(res.message).toContain(`Value '${maxResults}' at 'maxResults' failed to satisfy constraint`);
    }
    const badKey = await raw({ Filters: [{ Key: "size", Values: ["x"] }] });
    expect(badKey.type).toBe("ValidationException");
    expect(badKey.message).toContain("at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set");
    expect((await raw({ Filters: [{ Key: "name", Values: ["a*b"] }] })).type).toBe("ValidationException");
    expect((await raw({ Filters: Array.from({ length: 11 }, () => ({ Key: "name", Values: ["a"] })) })).message).toContain(
      "at 'filters' failed to satisfy constraint: Member must have length less than or equal to 10",
    );
    expect((await raw({ SortBy: "size" })).message).toContain("at 'sortBy' failed to satisfy constraint");
    expect((await raw({ SortOrder: "up" })).message).toContain("at 'sortOrder' failed to satisfy constraint");
  });

  it("refuses a filter without Key or Values with InvalidParameterException", async () => {
    const sm = client(freshRegion());
    await expect(sm.send(new ListSecretsCommand({ Filters: [{ Values: ["a"] } as Filter] }))).rejects.toMatchObject({
      name: "InvalidParameterException",
      message: "Invalid filter key",
    });
    await expect(sm.send(new ListSecretsCommand({ Filters: [{ Key: "description" }] }))).rejects.toMatchObject({
      name: "InvalidParameterException",
      message: "Invalid filter values for key: description",
    });
  });

  it("refuses a NextToken it did not issue, or one issued for another listing", async () => {
    const sm = client(freshRegion());
    for (const name of ["t/a", "t/b", "t/c"]) await create(sm, name);
    for (const token of ["garbage", Buffer.from('{"q":"x","p":"t/a"}').toString("base64url"), "e30"]) {
      await expect(sm.send(new ListSecretsCommand({ NextToken: token }))).rejects.toMatchObject({
        name: "InvalidNextTokenException",
        message: "The NextToken value is invalid.",
        $metadata: { httpStatusCode: 400 },
      });
    }
    const first = await sm.send(new ListSecretsCommand({ MaxResults: 1, SortBy: "name" }));
    expect(first.NextToken).toBeDefined();
    await expect(sm.send(new ListSecretsCommand({ MaxResults: 1, SortBy: "name", SortOrder: "desc", NextToken: first.NextToken }))).rejects.toMatchObject({
      name: "InvalidNextTokenException",
    });
    await expect(
      sm.send(new ListSecretsCommand({ MaxResults: 1, SortBy: "name", Filters: [{ Key: "name", Values: ["t/"] }], NextToken: first.NextToken })),
    ).rejects.toMatchObject({ name: "InvalidNextTokenException" });
    const second = await sm.send(new ListSecretsCommand({ MaxResults: 1, SortBy: "name", NextToken: first.NextToken }));
    expect(names(second.SecretList)).toEqual(["t/b"]);
  });
});

describe("behaviour", () => {
  it("lists every SecretListEntry member the model has, as DescribeSecret shows them", async () => {
    const model = JSON.parse(readFileSync(path.join(__dirname, "../../../shared/aws-models/secretsmanager/service-2.json"), "utf8")) as {
      shapes: Record<string, { members: Record<string, unknown> }>;
    };
    expect([...SECRET_LIST_ENTRY_MEMBERS].sort()).toEqual(Object.keys(model.shapes["SecretListEntry"]!.members).sort());

    const region = freshRegion();
    const sm = client(region);
    const key = (await server.kms({ region }).send(new CreateKeyCommand({}))).KeyMetadata!;
    const full = await create(sm, "members/full", {
      Description: "All the members",
      KmsKeyId: key.Arn,
      Tags: [
        { Key: "team", Value: "core" },
        { Key: "env", Value: "" },
      ],
    });
    await sm.send(new GetSecretValueCommand({ SecretId: full.ARN }));
    const readOn = new Date(clock.time);
    await sm.send(new CreateSecretCommand({ Name: "members/empty" }));

    const list = (await sm.send(new ListSecretsCommand({ SortBy: "name" }))).SecretList ?? [];
    expect(names(list)).toEqual(["members/empty", "members/full"]);
    const [empty, entry] = list as [SecretListEntry, SecretListEntry];
    expect(entry).toMatchObject({
      ARN: full.ARN,
      Name: "members/full",
      Description: "All the members",
      Tags: [
        { Key: "team", Value: "core" },
        { Key: "env", Value: "" },
      ],
      SecretVersionsToStages: { [full.VersionId!]: ["AWSCURRENT"] },
    });
    expect(entry.KmsKeyId).toBeDefined();
    expect(entry.LastAccessedDate).toEqual(new Date(Date.UTC(readOn.getUTCFullYear(), readOn.getUTCMonth(), readOn.getUTCDate())));
    expect(entry.CreatedDate).toBeInstanceOf(Date);
    expect(empty.SecretVersionsToStages).toBeUndefined();
    expect(empty.KmsKeyId).toBeUndefined();
    expect(empty.Tags).toBeUndefined();

    const described = await sm.send(new DescribeSecretCommand({ SecretId: full.ARN }));
    for (const member of SECRET_LIST_ENTRY_MEMBERS) {
      if (member === "SecretVersionsToStages") expect(entry[member]).toEqual(described.VersionIdsToStages);
      else expect(entry[member]).toEqual(described[member]);
    }
  });

  it("filters by name prefix, case-sensitive, values OR'd, with ! negation", async () => {
    const sm = client(freshRegion());
    for (const name of ["DatabaseSecret", "databaseSecret", "MyData", "Database/prod", "other"]) await create(sm, name);
    expect(await listNames(sm, { Filters: [{ Key: "name", Values: ["Data"] }] })).toEqual(["DatabaseSecret", "Database/prod"]);
    expect(await listNames(sm, { Filters: [{ Key: "name", Values: ["Data", "oth"] }] })).toEqual(["DatabaseSecret", "Database/prod", "other"]);
    expect(await listNames(sm, { Filters: [{ Key: "name", Values: ["!Data"] }] })).toEqual(["databaseSecret", "MyData", "other"]);
    expect(await listNames(sm, { Filters: [{ Key: "name", Values: ["Database/"] }], SortBy: "name", SortOrder: "desc" })).toEqual(["Database/prod"]);
    expect(await listNames(sm, { Filters: [{ Key: "name", Values: ["nothing"] }] })).toEqual([]);
  });

  it("filters by description words, not case-sensitive, each word starting a word of the description", async () => {
    const sm = client(freshRegion());
    await create(sm, "d1", { Description: "Conducts an AWS SecretsManager rotation" });
    await create(sm, "d2", { Description: "my basic description" });
    await create(sm, "d3", { Description: "Description of my secret" });
    await create(sm, "d4");
    const byDescription = (...values: string[]) => listNames(sm, { Filters: [{ Key: "description", Values: values }] });
    expect(await byDescription("conducts")).toEqual(["d1"]);
    expect(await byDescription("CONDUCTS an AWS Sec")).toEqual(["d1"]);
    expect(await byDescription("rot")).toEqual(["d1"]);
    expect(await byDescription("ducts")).toEqual([]);
    expect(await byDescription("My Description")).toEqual(["d2", "d3"]);
    expect(await byDescription("!my")).toEqual(["d1", "d4"]);
  });

  it("ORs a negated value with the others of its filter, each word of it a word prefix", async () => {
    const sm = client(freshRegion());
    await create(sm, "foo", { Description: "one two" });
    await create(sm, "bar", { Description: "one and two" });
    await create(sm, "baz", { Description: "one" });
    await create(sm, "qux", { Description: "two" });
    await create(sm, "none", { Description: "unrelated" });
    const byDescription = (...values: string[]) => listNames(sm, { Filters: [{ Key: "description", Values: values }] });
    expect(await byDescription("one two")).toEqual(["foo", "bar"]);
    expect(await byDescription("one", "!two")).toEqual(["foo", "bar", "baz", "none"]);
    expect(await byDescription("!o")).toEqual(["qux", "none"]);
    expect(await byDescription("!one two")).toEqual(["baz", "qux", "none"]);
  });

  it("filters by tag key and tag value prefix, case-sensitive, and ANDs filters", async () => {
    const sm = client(freshRegion());
    await create(sm, "t1", { Tags: [{ Key: "Production", Value: "right" }] });
    await create(sm, "t2", { Tags: [{ Key: "Prod1", Value: "wrong" }] });
    await create(sm, "t3", { Tags: [{ Key: "prod", Value: "right" }] });
    await create(sm, "t4", { Tags: [{ Key: "1 Prod", Value: "Rightful" }] });
    await create(sm, "t5");
    expect(await listNames(sm, { Filters: [{ Key: "tag-key", Values: ["Prod"] }] })).toEqual(["t1", "t2"]);
    expect(await listNames(sm, { Filters: [{ Key: "tag-value", Values: ["right"] }] })).toEqual(["t1", "t3"]);
    expect(await listNames(sm, { Filters: [{ Key: "tag-key", Values: ["Prod"] }, { Key: "tag-value", Values: ["right"] }] })).toEqual(["t1"]);
    // A negated tag key keeps the secrets that have no such key, untagged ones included.
    expect(await listNames(sm, { Filters: [{ Key: "tag-key", Values: ["!Prod"] }] })).toEqual(["t3", "t4", "t5"]);
  });

  it("filters by 'all': words of the value in the name, description, tag keys or tag values, not case-sensitive", async () => {
    const sm = client(freshRegion());
    await create(sm, "credsDatabase-892");
    await create(sm, "a1", { Description: "The DATABASE of orders" });
    await create(sm, "a2", { Tags: [{ Key: "owner", Value: "creds-team" }] });
    await create(sm, "a3", { Tags: [{ Key: "Secret_Kind", Value: "x" }] });
    await create(sm, "a4", { Description: "unrelated" });
    const all = (value: string) => listNames(sm, { Filters: [{ Key: "all", Values: [value] }] });
    expect(await all("database")).toEqual(["credsDatabase-892", "a1"]);
    expect(await all("CREDS")).toEqual(["credsDatabase-892", "a2"]);
    expect(await all("892")).toEqual(["credsDatabase-892"]);
    expect(await all("kind")).toEqual(["a3"]);
    expect(await all("!database")).toEqual(["a2", "a3", "a4"]);
  });

  it("filters by 'all' with every word of a value, each a word prefix, found in one field", async () => {
    const sm = client(freshRegion());
    await create(sm, "credsDatabase-892");
    await create(sm, "orders/reader", { Description: "Database credentials for the orders service" });
    await create(sm, "w3", { Tags: [{ Key: "owner", Value: "creds-team" }] });
    await create(sm, "w4", { Tags: [{ Key: "Secret_Kind", Value: "x" }] });
    await create(sm, "w5", { Description: "the database" });
    const all = (...values: string[]) => listNames(sm, { Filters: [{ Key: "all", Values: values }] });
    // Both words, in any order and case, each the start of a word: credsDatabase-892 is creds, Database, 892.
    expect(await all("creds database")).toEqual(["credsDatabase-892"]);
    expect(await all("DATA cre")).toEqual(["credsDatabase-892", "orders/reader"]);
    expect(await all("892 Creds")).toEqual(["credsDatabase-892"]);
    // Words are split at punctuation the same way in the value: these are each "creds" and "team".
    for (const value of ["creds-team", "creds_team", "creds.team", "creds/team", "creds:team", "creds@team", "creds+team", "creds=team", "CredsTeam"]) {
      expect(await all(value)).toEqual(["w3"]);
    }
    // One word missing is no match (the words were OR'd before): "my" is nowhere in w4.
    expect(await all("My_Secret")).toEqual([]);
    expect(await all("secret kind")).toEqual(["w4"]);
    // A word must start a word, not sit inside one.
    expect(await all("base creds")).toEqual([]);
    // All words in the same field: "owner" is w3's tag key, "creds" its tag value.
    expect(await all("owner creds")).toEqual([]);
    expect(await all("orders service")).toEqual(["orders/reader"]);
    // Values of one filter are OR'd; each value ANDs its own words.
    expect(await all("secret kind", "the database")).toEqual(["orders/reader", "w4", "w5"]);
    // Negation keeps the secrets where no field has every word of the value.
    expect(await all("!the database")).toEqual(["credsDatabase-892", "w3", "w4"]);
  });

  it("splits upper-case runs and punctuation as AWS does (moto's AWS-verified test_with_all_filter_special_characters)", async () => {
    const sm = client(freshRegion());
    const names = ["prod/AppBeta/u1", "prod_AppBeta_u1", "prod+AppBeta+u1", "prod=AppBeta=u1", "prod.AppBeta.u1", "prod@AppBeta@u1", "prod-AppBeta-u1"];
    for (const name of [...names, "uat/COMPANY/u1", "uat/COMPANYthings/u1"]) await create(sm, name);
    const all = (value: string) => listNames(sm, { Filters: [{ Key: "all", Values: [value] }] });
    expect(await all("AppBeta")).toEqual(names);
    expect(await all("Beta")).toEqual(names);
    // A value of punctuation alone has no word, and finds nothing.
    expect(await all("+")).toEqual([]);
    expect(await all("company")).toEqual(["uat/COMPANY/u1"]);
    // COMPANYthings is the words COMPAN and Ythings: "things", "N" and "pany" start none of them.
    expect(await all("things")).toEqual([]);
    expect(await all("Ythings")).toEqual(["uat/COMPANYthings/u1"]);
    expect(await all("N")).toEqual([]);
    expect(await all("pany")).toEqual([]);
  });

  it("sorts by creation (oldest first by default), name, last change and last access, either way", async () => {
    const region = freshRegion();
    const sm = client(region);
    for (const name of ["b", "c", "a"]) await create(sm, name);
    expect(await listNames(sm)).toEqual(["b", "c", "a"]);
    expect(await listNames(sm, { SortOrder: "desc" })).toEqual(["a", "c", "b"]);
    expect(await listNames(sm, { SortBy: "name" })).toEqual(["a", "b", "c"]);
    expect(await listNames(sm, { SortBy: "name", SortOrder: "desc" })).toEqual(["c", "b", "a"]);

    await sm.send(new TagResourceCommand({ SecretId: "b", Tags: [{ Key: "k", Value: "v" }] }));
    expect(await listNames(sm, { SortBy: "last-changed-date" })).toEqual(["c", "a", "b"]);
    expect(await listNames(sm, { SortBy: "last-changed-date", SortOrder: "desc" })).toEqual(["b", "a", "c"]);

    await sm.send(new GetSecretValueCommand({ SecretId: "c" }));
    clock.time += DAY;
    await sm.send(new GetSecretValueCommand({ SecretId: "a" }));
    // Never read sorts as the oldest access.
    expect(await listNames(sm, { SortBy: "last-accessed-date" })).toEqual(["b", "c", "a"]);
    expect(await listNames(sm, { SortBy: "last-accessed-date", SortOrder: "desc" })).toEqual(["a", "c", "b"]);
  });

  it("leaves out secrets scheduled for deletion unless IncludePlannedDeletion", async () => {
    const sm = client(freshRegion());
    for (const name of ["keep", "drop"]) await create(sm, name);
    await sm.send(new DeleteSecretCommand({ SecretId: "drop", RecoveryWindowInDays: 7 }));
    expect(await listNames(sm)).toEqual(["keep"]);
    expect(await listNames(sm, { SortBy: "name", Filters: [{ Key: "name", Values: ["dr"] }] })).toEqual([]);
    const all = (await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true }))).SecretList ?? [];
    expect(names(all)).toEqual(["keep", "drop"]);
    expect(all[1]?.DeletedDate).toBeInstanceOf(Date);
    expect(await listNames(sm, { IncludePlannedDeletion: true, SortBy: "name", Filters: [{ Key: "name", Values: ["dr"] }] })).toEqual(["drop"]);
    await sm.send(new DeleteSecretCommand({ SecretId: "drop", ForceDeleteWithoutRecovery: true }));
    expect(await listNames(sm, { IncludePlannedDeletion: true })).toEqual(["keep"]);
  });

  it("pages with MaxResults and stable tokens: later changes neither repeat nor skip what remains", async () => {
    const sm = client(freshRegion());
    for (const name of ["p1", "p2", "p3", "p4", "p5", "p6", "p7"]) await create(sm, name);
    const first = await sm.send(new ListSecretsCommand({ MaxResults: 3 }));
    expect(names(first.SecretList)).toEqual(["p1", "p2", "p3"]);
    expect(first.NextToken).toEqual(expect.any(String));

    // After the first page: one secret created (it sorts last) and one of the next page deleted.
    await create(sm, "p8");
    await sm.send(new DeleteSecretCommand({ SecretId: "p5", ForceDeleteWithoutRecovery: true }));
    const second = await sm.send(new ListSecretsCommand({ MaxResults: 3, NextToken: first.NextToken }));
    expect(names(second.SecretList)).toEqual(["p4", "p6", "p7"]);
    const third = await sm.send(new ListSecretsCommand({ MaxResults: 3, NextToken: second.NextToken }));
    expect(names(third.SecretList)).toEqual(["p8"]);
    expect(third.NextToken).toBeUndefined();
    // The same token again gives the same page.
    expect(names((await sm.send(new ListSecretsCommand({ MaxResults: 3, NextToken: second.NextToken }))).SecretList)).toEqual(["p8"]);

    // In name order a secret created before the token's position does not appear on later pages.
    const byName = await sm.send(new ListSecretsCommand({ MaxResults: 2, SortBy: "name" }));
    expect(names(byName.SecretList)).toEqual(["p1", "p2"]);
    await create(sm, "p0");
    expect(await listNames(sm, { SortBy: "name", MaxResults: 2, NextToken: byName.NextToken })).toEqual(["p3", "p4", "p6", "p7", "p8"]);
  });

  it("pages a name-filtered listing in a date order", async () => {
    const sm = client(freshRegion());
    for (const name of ["app/b", "web/x", "app/a", "app/c", "api/z", "web/y"]) await create(sm, name);
    const filters = [{ Key: "name" as const, Values: ["app/", "web/"] }];
    expect(await listNames(sm, { Filters: filters, MaxResults: 2 })).toEqual(["app/b", "web/x", "app/a", "app/c", "web/y"]);
    expect(await listNames(sm, { Filters: filters, MaxResults: 2, SortOrder: "desc" })).toEqual(["web/y", "app/c", "app/a", "web/x", "app/b"]);
    expect(await listNames(sm, { Filters: filters, MaxResults: 2, SortBy: "name", SortOrder: "desc" })).toEqual(["web/y", "web/x", "app/c", "app/b", "app/a"]);
  });
});

// --- at scale, through the operation with a store that counts what it reads -----------------------------------

interface Counts {
  gets: number;
  entries: number;
}

/** The store with every get and every range entry counted. */
function counting(store: Store): { store: Store; counts: Counts } {
  const counts: Counts = { gets: 0, entries: 0 };
  const wrapped: Store = {
    kind: store.kind,
    shared: store.shared,
    leads: () => store.leads(),
    status: () => store.status(),
    get: <T extends StoredValue>(key: string) => {
      counts.gets++;
      return store.get<T>(key);
    },
    batch: (ops) => store.batch(ops),
    range: async function* <T extends StoredValue>(options: RangeOptions): AsyncIterable<[string, T]> {
      for await (const entry of store.range<T>(options)) {
        counts.entries++;
        yield entry;
      }
    },
    withLock: (resource, change) => store.withLock(resource, change),
    compact: (gte, lt) => store.compact(gte, lt),
    clear: () => store.clear(),
    close: () => store.close(),
  };
  return { store: wrapped, counts };
}

const SCOPE: Scope = { account: "000000000000", region: "us-east-1", partition: "aws" };
const SECRETS = 3000;

describe("scale", () => {
  let backing: Store;
  let store: Store;
  let counts: Counts;
  let domain: SecretsDomain;
  let time = Date.parse("2026-01-01T00:00:00Z");
  const ctx = (): SecretsRequestContext => ({ requestId: "spec", scope: SCOPE, now: new Date(time), kms: undefined as unknown as KmsDomain, secrets: domain });
  const list = async (input: ListSecretsCommandInput) => {
    counts.gets = 0;
    counts.entries = 0;
    return listSecrets(input, ctx());
  };

  beforeAll(async () => {
    backing = await openMemoryStore();
    ({ store, counts } = counting(backing));
    domain = createSecretsDomain(store, { now: () => new Date(time) });
    // Created without values, through the operation itself: no KMS is involved.
    for (let i = 0; i < SECRETS; i++) {
      time += 1000;
      await createSecret({ Name: `app-${String(i).padStart(4, "0")}`, Tags: i === 1234 ? [{ Key: "needle", Value: "x" }] : undefined }, ctx());
    }
  });
  afterAll(() => backing.close());

  it("reads one page's worth of index entries and secrets for a sorted page, in every order", async () => {
    for (const SortBy of SORT_KEYS) {
      for (const SortOrder of ["asc", "desc"] as const) {
        const first = await list({ MaxResults: 10, SortBy, SortOrder });
        expect(first.SecretList).toHaveLength(10);
        // One entry past the page tells whether a NextToken is due.
        expect(counts.entries).toBeLessThanOrEqual(11);
        expect(counts.gets).toBeLessThanOrEqual(10);
        const second = await list({ MaxResults: 10, SortBy, SortOrder, NextToken: first.NextToken });
        expect(second.SecretList).toHaveLength(10);
        expect(counts.entries).toBeLessThanOrEqual(11);
        expect(counts.gets).toBeLessThanOrEqual(10);
        expect(names(second.SecretList).some((name) => names(first.SecretList).includes(name))).toBe(false);
      }
    }
    expect(names((await list({ MaxResults: 3, SortOrder: "desc" })).SecretList)).toEqual(["app-2999", "app-2998", "app-2997"]);
  });

  it("reads only the named range for a name prefix filter, whatever the order", async () => {
    const filter = [{ Key: "name" as const, Values: ["app-12"] }];
    const byName = await list({ MaxResults: 10, SortBy: "name", Filters: filter });
    expect(names(byName.SecretList)).toEqual(Array.from({ length: 10 }, (_, i) => `app-120${i}`));
    expect(counts.entries).toBeLessThanOrEqual(11);
    expect(counts.gets).toBeLessThanOrEqual(10);

    const byDate = await list({ MaxResults: 10, SortBy: "created-date", SortOrder: "desc", Filters: filter });
    expect(names(byDate.SecretList)).toEqual(Array.from({ length: 10 }, (_, i) => `app-12${99 - i}`));
    // The 100 names under the prefix, sorted from their index entries; only the page's secrets are read.
    expect(counts.entries).toBeLessThanOrEqual(100);
    expect(counts.gets).toBeLessThanOrEqual(10);
  });

  it("bounds a page that must scan, answering with a NextToken even when nothing matched yet", async () => {
    const needle = [{ Key: "tag-key" as const, Values: ["needle"] }];
    const first = await list({ Filters: needle });
    expect(first.SecretList).toEqual([]);
    expect(first.NextToken).toBeDefined();
    expect(counts.entries).toBeLessThanOrEqual(SCAN_BUDGET + 1);
    expect(counts.gets).toBeLessThanOrEqual(SCAN_BUDGET);
    const second = await list({ Filters: needle, NextToken: first.NextToken });
    expect(names(second.SecretList)).toEqual(["app-1234"]);
    let token = second.NextToken;
    while (token !== undefined) {
      const page = await list({ Filters: needle, NextToken: token });
      expect(page.SecretList).toEqual([]);
      token = page.NextToken;
    }
  });

  it("keeps exactly one index entry per secret, order and set as secrets change", async () => {
    const countIndex = async (sortBy: (typeof SORT_KEYS)[number], set: "live" | "all") => {
      let n = 0;
      for await (const _ of backing.range(indexRange(SCOPE, sortBy, set))) n++;
      return n;
    };
    time += 1000;
    await domain.secrets.update(SCOPE, "app-0007", (current) => ({ secret: { ...current, lastChangedAt: time } }));
    time += 1000;
    await domain.secrets.update(SCOPE, "app-0008", (current) => ({
      secret: { ...current, deletedAt: time, deletionDueAt: time + 7 * DAY, lastChangedAt: time },
    }));
    for (const sortBy of SORT_KEYS) {
      expect(await countIndex(sortBy, "all")).toBe(SECRETS);
      expect(await countIndex(sortBy, "live")).toBe(SECRETS - 1);
    }
    const lastChanged = (IncludePlannedDeletion: boolean) =>
      list({ MaxResults: 1, SortBy: "last-changed-date", SortOrder: "desc", IncludePlannedDeletion }).then((page) => names(page.SecretList));
    expect(await lastChanged(false)).toEqual(["app-0007"]);
    expect(await lastChanged(true)).toEqual(["app-0008"]);
    await domain.secrets.purge(SCOPE, "app-0008", (await domain.secrets.find(SCOPE, "app-0008"))!.arn);
    for (const sortBy of SORT_KEYS) expect(await countIndex(sortBy, "all")).toBe(SECRETS - 1);
  });

  it("filters by owning service and primary region prefix", async () => {
    await domain.secrets.update(SCOPE, "app-0100", (current) => ({ secret: { ...current, owningService: "rds.amazonaws.com" } }));
    await domain.secrets.update(SCOPE, "app-0101", (current) => ({ secret: { ...current, primaryRegion: "us-east-1" } }));
    const owned = await list({ Filters: [{ Key: "owning-service", Values: ["rds"] }, { Key: "name", Values: ["app-01"] }] });
    expect(names(owned.SecretList)).toEqual(["app-0100"]);
    expect(owned.SecretList?.[0]?.OwningService).toBe("rds.amazonaws.com");
    const primary = await list({ Filters: [{ Key: "primary-region", Values: ["us-east"] }, { Key: "name", Values: ["app-01"] }] });
    expect(names(primary.SecretList)).toEqual(["app-0101"]);
    expect(primary.SecretList?.[0]?.PrimaryRegion).toBe("us-east-1");
    const caseSensitive = await list({ Filters: [{ Key: "owning-service", Values: ["RDS"] }, { Key: "name", Values: ["app-01"] }] });
    expect(caseSensitive.SecretList).toEqual([]);
  });
});
