// The console's pages at scale (issue 14: "each page answering in under 100 ms with 10,000 secrets"): a server seeded
// with many secrets and some KMS keys, then each page loaded one at a time N times (median and p95 of the time to the
// last byte), beside the same loop against the bench's bare node:http server: the floor of one GET over loopback here.
"use strict";
const http = require("node:http");

/** One GET to its last byte: its status, body and time in ms. */
function get(server, path, cookie) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request({ host: server.host, port: server.port, method: "GET", path, headers: cookie === undefined ? {} : { Cookie: cookie } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString(), ms });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** `loads` sequential GETs of one path after `warm` unmeasured ones; a page that does not answer 200 stops the bench. */
async function timePage(server, path, cookie, loads, warm = 3) {
  for (let i = 0; i < warm; i++) await get(server, path, cookie);
  const times = [];
  for (let i = 0; i < loads; i++) {
    const answer = await get(server, path, cookie);
    if (server.name !== "bare node:http" && answer.status !== 200) throw new Error(`${path}: ${answer.status} ${answer.body.slice(0, 300)}`);
    times.push(answer.ms);
  }
  times.sort((a, b) => a - b);
  return { median: percentile(times, 50), p95: percentile(times, 95), max: times[times.length - 1] };
}

/**
 * Seeds `server` (default mode: no login needed) with `secrets` secrets in its default account and region (all but one
 * without a value: no KMS work to seed) and `keys` KMS keys (ten with an alias), then times each page.
 * `bench` carries the bench's own helpers (call, signed, templated, load, token, fmt).
 */
async function consolePages(server, bare, bench, { secrets, keys, loads }) {
  const { call, signed, templated, load, token, fmt } = bench;
  const sm = (operation, input) => call(server, signed(server, `secretsmanager.${operation}`, input));
  const seededAt = Date.now();
  // One secret with a value, versions and staging labels: the secret page shows what a real one has.
  const shown = await sm("CreateSecret", { Name: "bench/console/shown", SecretString: "s".repeat(64), Tags: [{ Key: "team", Value: "bench" }], ClientRequestToken: token("console-shown") });
  for (let i = 0; i < 3; i++) await sm("PutSecretValue", { SecretId: shown.ARN, SecretString: `v${i}`, ClientRequestToken: token(`console-shown-${i}`) });
  const seed = templated(server, "secretsmanager.CreateSecret", JSON.stringify({ Name: "bench/console/@NNNNNN@", Description: "seeded", ClientRequestToken: token("console-@NNNNNN@") }));
  await load(server, seed, 32, { amount: secrets - 1 });
  let firstKey;
  for (let i = 0; i < keys; i++) {
    const made = await call(server, signed(server, "TrentService.CreateKey", { Description: `console bench ${i}` }));
    firstKey ??= made.KeyMetadata.KeyId;
    if (i < 10) await call(server, signed(server, "TrentService.CreateAlias", { AliasName: `alias/console-${i}`, TargetKeyId: made.KeyMetadata.KeyId }));
  }
  const seedSeconds = (Date.now() - seededAt) / 1000;
  // A page deep in the list: the NextToken after 50 pages of 100, taken from the API itself.
  let deep;
  let deepName;
  for (let i = 0; i < 51; i++) {
    const page = await sm("ListSecrets", { MaxResults: 100, ...(deep === undefined ? {} : { NextToken: deep }) });
    if (i === 50) deepName = page.SecretList[0].Name;
    else deep = page.NextToken;
  }
  // A first visit makes the session cookie (default mode signs it in at once).
  const first = await get(server, "/_secretslite/ui/overview");
  const cookie = String(first.headers["set-cookie"] ?? "").split(";")[0];
  const q = (params) => new URLSearchParams(params).toString();
  // Each page with a text its answer must hold, so a page answering an error in its frame is not timed as a page.
  const pages = [
    ["overview", "/_secretslite/ui/overview", `>${secrets}<`],
    ["secrets, first page", "/_secretslite/ui/secrets", "100 secrets on this page"],
    ["secrets, page 51 (NextToken)", `/_secretslite/ui/secrets?${q({ next: deep })}`, deepName],
    ["secrets, name filter (one match)", `/_secretslite/ui/secrets?${q({ name: deepName })}`, "1 secret on this page"],
    // Matching no secret: ListSecrets reads every one of them to say so, the worst case of a filter.
    ["secrets, tag-key filter, no match", `/_secretslite/ui/secrets?${q({ "tag-key": "absent" })}`, "No secrets match."],
    ["secrets, sorted by name desc", `/_secretslite/ui/secrets?${q({ "sort-by": "name", sort: "desc" })}`, "bench/console/shown"],
    ["secrets, sorted by created asc", `/_secretslite/ui/secrets?${q({ "sort-by": "created-date", sort: "asc" })}`, "bench/console/shown"],
    ["secret page", `/_secretslite/ui/secret?${q({ id: shown.ARN })}`, "AWSPREVIOUS"],
    ["keys", "/_secretslite/ui/keys", "alias/console-0"],
    ["key page", `/_secretslite/ui/key?${q({ id: firstKey })}`, "alias/console-0"],
    ["calls", "/_secretslite/ui/calls", "ListSecrets"],
  ];
  const floor = await timePage(bare, "/", undefined, loads);
  const rows = [];
  for (const [name, path, expected] of pages) {
    const shownPage = await get(server, path, cookie);
    if (shownPage.status !== 200 || !shownPage.body.includes(expected)) throw new Error(`${name} (${path}): ${shownPage.status}, no "${expected}" in ${shownPage.body.slice(0, 2000)}`);
    const t = await timePage(server, path, cookie, loads);
    const row = { page: name, "median ms": fmt(t.median), "p95 ms": fmt(t.p95), "max ms": fmt(t.max), "bare median ms": fmt(floor.median), "bare p95 ms": fmt(floor.p95), "under 100 ms (p95)": t.p95 < 100 ? "yes" : "NO" };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  console.log(
    `Console pages with ${secrets.toLocaleString("en")} secrets and ${keys} KMS keys (seeded in ${seedSeconds.toFixed(1)} s), ${loads} sequential loads each after 3 warm-ups, ` +
      "time to the last byte; bare = one GET of the bare node:http server, the same loop:",
  );
  console.table(rows);
  return rows;
}

module.exports = { consolePages };
