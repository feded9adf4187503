// The console at the scale issue 14 names (10,000 secrets): the overview's per-partition counts (src/main.ts
// countPartitions, which reads only the key and secret ranges of each partition) agree with the API and stay current,
// and the secrets and keys lists' pages, followed link by link, cover every object once. Correctness only: how fast the
// pages answer is measured by `npm run bench -- --console`, never asserted here.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { CreateKeyCommand, ListKeysCommand, ScheduleKeyDeletionCommand } from "@aws-sdk/client-kms";
import { CreateSecretCommand, DeleteSecretCommand, ListSecretsCommand } from "@aws-sdk/client-secrets-manager";
import request from "supertest";
import { temporaryDirs } from "../support/files";
import { startTestServer, type TestServer } from "../support/server";

const newDir = temporaryDirs("secretslite-console-scale-");
const UI = "/_secretslite/ui";

/** The three partitions the seed fills, 10,000 secrets in all, and the KMS keys each holds. */
const PARTITIONS = [
  { account: "000000000000", region: "us-east-1", secrets: 5_000, keys: 3 },
  { account: "000000000000", region: "eu-west-1", secrets: 3_000, keys: 0 },
  { account: "111122223333", region: "us-east-1", secrets: 2_000, keys: 2 },
] as const;

const secretName = (partition: number, i: number): string => `scale/p${partition}/${String(i).padStart(5, "0")}`;
/** Fixed key ids, as the seed wants them: a UUID per partition and index. */
const keyId = (partition: number, i: number): string => `5ca1e000-0000-4000-8000-${String(partition * 100 + i).padStart(12, "0")}`;

/** The overview's "Accounts and regions in use" table: account/region → the counts it links to. */
function overviewCounts(text: string): Map<string, { kmsKeys: number; secrets: number }> {
  const table = /<table class="partitions">[\s\S]*?<\/table>/.exec(text)?.[0] ?? "";
  const rows = new Map<string, { kmsKeys: number; secrets: number }>();
  const row = /<td>(\d{12})<\/td><td>([a-z0-9-]+)<\/td>\s*<td class="number"><a [^>]*>(\d+)<\/a><\/td>\s*<td class="number"><a [^>]*>(\d+)<\/a><\/td>/g;
  for (const match of table.matchAll(row)) rows.set(`${match[1]}/${match[2]}`, { kmsKeys: Number(match[3]), secrets: Number(match[4]) });
  return rows;
}

/** A page's `rel="next"` link as a path to GET (the markup escapes `&`), or undefined on the last page. */
const nextLink = (text: string): string | undefined => /<a href="([^"]+)" rel="next">/.exec(text)?.[1]?.replaceAll("&amp;", "&");

/** Every page of a console list from `first`, following its Next links: what `pick` finds on each page, in order. */
async function walk(server: TestServer, first: string, pick: (text: string) => string[]): Promise<{ items: string[]; pages: number }> {
  const items: string[] = [];
  let pages = 0;
  for (let link: string | undefined = first; link !== undefined; pages++) {
    const answer = await request(server.url).get(link);
    expect(answer.status).toBe(200);
    items.push(...pick(answer.text));
    link = nextLink(answer.text);
  }
  return { items, pages };
}

const secretNamesOn = (text: string): string[] => [...text.matchAll(/<td><a href="[^"]*">(scale\/p\d\/\d{5})<\/a>/g)].map((match) => match[1]!);

describe("console with 10,000 secrets in three partitions", () => {
  let server: TestServer;

  beforeAll(async () => {
    const seedFile = path.join(newDir(), "scale-seed.json");
    const secrets = PARTITIONS.flatMap((p, index) => Array.from({ length: p.secrets }, (_, i) => ({ name: secretName(index, i), account: p.account, region: p.region })));
    const keys = PARTITIONS.flatMap((p, index) => Array.from({ length: p.keys }, (_, i) => ({ keyId: keyId(index, i), account: p.account, region: p.region })));
    writeFileSync(seedFile, JSON.stringify({ kms: { keys }, secretsmanager: { secrets } }));
    server = await startTestServer({ flags: ["--seed", seedFile] });
  }, 300_000);
  afterAll(() => server.close());

  it("counts each partition's keys and secrets on the overview as the API lists them, and stays current", async () => {
    const before = overviewCounts((await request(server.url).get(`${UI}/overview`)).text);
    expect([...before.entries()].sort()).toEqual(
      PARTITIONS.map((p) => [`${p.account}/${p.region}`, { kmsKeys: p.keys, secrets: p.secrets }] as const).sort(),
    );
    // The API agrees: ListSecrets in one partition, page by page.
    let listed = 0;
    let token: string | undefined;
    do {
      const page = await server.secretsManager({ region: "eu-west-1" }).send(new ListSecretsCommand({ MaxResults: 100, NextToken: token }));
      listed += page.SecretList?.length ?? 0;
      token = page.NextToken;
    } while (token !== undefined);
    expect(listed).toBe(3_000);

    // A new partition (a key whose deletion is scheduled leaves a GLOBAL schedule record: not a partition) and one
    // more secret in a seeded one: the next load counts them, nothing is cached.
    const kms = server.kms({ region: "ap-south-1" });
    const made = await kms.send(new CreateKeyCommand({}));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: made.KeyMetadata!.KeyId!, PendingWindowInDays: 7 }));
    await server.secretsManager({ region: "eu-west-1" }).send(new CreateSecretCommand({ Name: "scale/extra", SecretString: "v" }));
    const after = overviewCounts((await request(server.url).get(`${UI}/overview`)).text);
    expect(after.get("000000000000/ap-south-1")).toEqual({ kmsKeys: 1, secrets: 0 });
    // The first value stored in eu-west-1 made that region's AWS managed key aws/secretsmanager: ListKeys lists it, and
    // so does the overview (a key pending deletion is listed too, as in ap-south-1).
    const managed = await server.kms({ region: "eu-west-1" }).send(new ListKeysCommand({}));
    expect(managed.Keys).toHaveLength(1);
    expect(after.get("000000000000/eu-west-1")).toEqual({ kmsKeys: 1, secrets: 3_001 });
    expect(after.get("000000000000/us-east-1")).toEqual({ kmsKeys: 3, secrets: 5_000 });
    expect(after.get("111122223333/us-east-1")).toEqual({ kmsKeys: 2, secrets: 2_000 });
    expect(after.size).toBe(4);
    await server.secretsManager({ region: "eu-west-1" }).send(new DeleteSecretCommand({ SecretId: "scale/extra", ForceDeleteWithoutRecovery: true }));
    expect(overviewCounts((await request(server.url).get(`${UI}/overview`)).text).get("000000000000/eu-west-1")).toEqual({ kmsKeys: 1, secrets: 3_000 });
  }, 120_000);

  it("pages through all 2,000 secrets of another account, 100 a page, each once and only that partition's", async () => {
    const { items, pages } = await walk(server, `${UI}/secrets?account=111122223333&region=us-east-1`, secretNamesOn);
    expect(pages).toBe(20);
    expect(items).toHaveLength(2_000);
    expect(new Set(items)).toEqual(new Set(Array.from({ length: 2_000 }, (_, i) => secretName(2, i))));
  }, 120_000);

  it("pages a sorted, filtered listing to its end: the name filter's 1,000 matches in descending name order", async () => {
    // scale/p0/01000 to scale/p0/01999 share the prefix "scale/p0/01" (ListSecrets' name filter is a prefix match).
    const { items } = await walk(server, `${UI}/secrets?name=${encodeURIComponent("scale/p0/01")}&sort-by=name&sort=desc&max=100`, secretNamesOn);
    expect(items).toEqual(Array.from({ length: 1_000 }, (_, i) => secretName(0, 1_999 - i)));
  }, 120_000);

  it("pages through the keys list two at a time and finds every seeded key once", async () => {
    const keyIds = (text: string): string[] => [...text.matchAll(/>(5ca1e000-0000-4000-8000-\d{12})</g)].map((match) => match[1]!);
    const { items, pages } = await walk(server, `${UI}/keys?max=2`, (text) => [...new Set(keyIds(text))]);
    expect(pages).toBe(2);
    expect(items.sort()).toEqual([keyId(0, 0), keyId(0, 1), keyId(0, 2)]);
  }, 60_000);
});
