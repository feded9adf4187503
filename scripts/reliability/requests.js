#!/usr/bin/env node
// Issue 9 §5, the requests AWS answers differently: identical calls sent twice at once (an SDK retry racing its
// original), before and after a restart; JSON bodies that are not UTF-8; strict-mode signatures that leave
// X-Amz-Target out. Usage: node scripts/reliability/requests.js [pairs per round (50)] [rounds (20)].
// Needs dist/ (npm run build; SECRETSLITE_DIST names another build) and SoftHSM2. Prints one line per case.
"use strict";
const { randomInt } = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.join(__dirname, "..", "..");
const DIST = process.env.SECRETSLITE_DIST ?? path.join(ROOT, "dist");
const sdk = require(path.join(ROOT, "node_modules", "@aws-sdk", "client-secrets-manager"));
const aws4 = require(path.join(ROOT, "node_modules", "aws4"));
const { credentials, startCli, stopCli: stop } = require("./common");

/** bin/secretslite.js for the build in DIST. */
const LAUNCHER = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "secretslite-launcher-")), "secretslite.js");
fs.writeFileSync(LAUNCHER, `require(${JSON.stringify(path.join(DIST, "cli.js"))}).main().catch((e) => { console.error(e); process.exit(1); });\n`);
process.on("exit", () => fs.rmSync(path.dirname(LAUNCHER), { recursive: true, force: true }));

/** Starts the CLI from DIST; resolves { url, child } at the ready line, rejects if it exits first (nothing to measure then). */
async function start(dataDir, flags = []) {
  const running = await startCli(LAUNCHER, ["--port", "0", "--data-dir", dataDir, "--log-level", "error", ...flags]);
  if (running.url === undefined) throw new Error(`secretslite exited (${running.code ?? running.signal}): ${running.stderr()}`);
  return running;
}
const client = (url) => new sdk.SecretsManagerClient({ endpoint: url, region: "us-east-1", credentials, maxAttempts: 1 });
const token = (label, n) => `${label}-${String(n).padStart(35 - label.length, "0")}`;

/** Sends `call` twice at once per pair; counts pairs answered alike (both succeed, same ARN and VersionId) and not. */
async function pairs(count, call) {
  const figures = { pairs: 0, alike: 0, failed: 0, differed: 0 };
  const answers = await Promise.all(
    Array.from({ length: count }, (_, n) => Promise.all([0, 1].map(() => call(n).then((ok) => ok, (error) => ({ error: error.name })))))
  );
  for (const [a, b] of answers) {
    figures.pairs++;
    if (a.error !== undefined || b.error !== undefined) figures.failed++;
    else if (a.ARN !== b.ARN || a.VersionId !== b.VersionId) figures.differed++;
    else figures.alike++;
  }
  return figures;
}
const add = (total, figures) => { for (const key of Object.keys(figures)) total[key] = (total[key] ?? 0) + figures[key]; };
const line = (name, f) => console.log(`${name}: pairs ${f.pairs}, both answered alike ${f.alike}, one refused ${f.failed}, answers differed ${f.differed}`);

/** A raw POST; `headers` already signed. */
function post(url, headers, body) {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: target.hostname, port: target.port, method: "POST", path: "/", headers: { ...headers, "Content-Length": body.length } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString() || "{}") }));
    });
    req.on("error", reject);
    req.end(body);
  });
}
const sign = (url, target, body, ignore = []) =>
  aws4.sign(
    {
      host: new URL(url).host, method: "POST", path: "/", service: "secretsmanager", region: "us-east-1", body,
      headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target },
      extraHeadersToIgnore: Object.fromEntries(ignore.map((name) => [name, true])),
    },
    credentials,
  ).headers;

async function main() {
  const count = Number(process.argv[2] ?? 50);
  const rounds = Number(process.argv[3] ?? 20);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "secretslite-requests-"));
  const dataDir = path.join(work, "data");
  let running = await start(dataDir);
  let failures = 0;
  try {
    // 1. Identical calls sent twice at once.
    let sm = client(running.url);
    const created = {};
    const put = {};
    for (let round = 0; round < rounds; round++) {
      add(created, await pairs(count, (n) => sm.send(new sdk.CreateSecretCommand({ Name: `r${round}/s${n}`, SecretString: `v${n}`, ClientRequestToken: token(`c${round}`, n) }))));
      add(put, await pairs(count, (n) => sm.send(new sdk.PutSecretValueCommand({ SecretId: `r${round}/s0`, SecretString: `p${n}`, ClientRequestToken: token(`p${round}`, n) }))));
    }
    line("CreateSecret sent twice at once", created);
    line("PutSecretValue sent twice at once (one secret per round)", put);
    sm.destroy();

    // 2. After a restart: the same calls again, once more twice at once; each must answer with the version it made.
    await stop(running);
    running = await start(dataDir);
    sm = client(running.url);
    const retried = {};
    for (let round = 0; round < rounds; round++) {
      add(retried, await pairs(count, (n) =>
        sm.send(new sdk.PutSecretValueCommand({ SecretId: `r${round}/s0`, SecretString: `p${n}`, ClientRequestToken: token(`p${round}`, n) })).then((answer) => {
          if (answer.VersionId !== token(`p${round}`, n)) throw Object.assign(new Error("another version"), { name: "WrongVersion" });
          return answer;
        }),
      ));
    }
    line("PutSecretValue retried after a restart, twice at once", retried);
    sm.destroy();
    failures += created.pairs - created.alike + put.pairs - put.alike + retried.pairs - retried.alike;

    // 3. Bodies that are not UTF-8: each must be refused, nothing stored.
    const utf8 = { sent: 0, refused: 0, stored: 0, other: 0 };
    for (let i = 0; i < count * rounds; i++) {
      const bad = Buffer.from([0x80 + randomInt(0x80)]); // a lone continuation or lead byte: never UTF-8 on its own
      const body = Buffer.concat([Buffer.from(`{"Name":"utf8/${i}","ClientRequestToken":"${token("u", i)}","SecretString":"a`), bad, Buffer.from('b"}')]);
      const answer = await post(running.url, sign(running.url, "secretsmanager.CreateSecret", body), body);
      utf8.sent++;
      if (answer.status === 400 && answer.body.__type === "SerializationException") utf8.refused++;
      else if (answer.status === 200) utf8.stored++;
      else utf8.other++;
    }
    console.log(`JSON bodies with a byte that is not UTF-8: sent ${utf8.sent}, refused ${utf8.refused}, stored ${utf8.stored}, other answers ${utf8.other}`);
    failures += utf8.sent - utf8.refused;
    await stop(running);

    // 4. Strict mode: a signature over host and x-amz-date only, sent with another X-Amz-Target.
    const file = path.join(work, "credentials");
    fs.writeFileSync(file, `[default]\naws_access_key_id = ${credentials.accessKeyId}\naws_secret_access_key = ${credentials.secretAccessKey}\n`);
    running = await start(dataDir, ["--verify-signatures", "--credentials-file", file]);
    const replay = { sent: 0, refused: 0, accepted: 0 };
    for (let i = 0; i < count; i++) {
      const body = Buffer.from(JSON.stringify({ SecretId: `r0/s${i}`, ForceDeleteWithoutRecovery: true }));
      const headers = sign(running.url, "secretsmanager.DescribeSecret", body, ["content-type", "content-length", "x-amz-target"]);
      const answer = await post(running.url, { ...headers, "X-Amz-Target": "secretsmanager.DeleteSecret", "Content-Type": "application/json" }, body);
      replay.sent++;
      if (answer.status === 400 && answer.body.__type === "InvalidSignatureException") replay.refused++;
      else replay.accepted++;
    }
    console.log(`strict mode, signed over host;x-amz-date and sent as another operation: sent ${replay.sent}, refused ${replay.refused}, accepted ${replay.accepted}`);
    failures += replay.accepted;
  } finally {
    await stop(running);
    fs.rmSync(work, { recursive: true, force: true });
  }
  process.exitCode = failures > 0 ? 1 : 0;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
