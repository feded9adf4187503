#!/usr/bin/env node
// The project's benchmark: hot-path throughput and latency of a built secretslite against a bare
// node:http JSON echo server measured in the same run, over loopback, with pre-signed SigV4 requests.
// A third server, the token floor (bare plus one SoftHSM2 call per request), shows what any token-backed
// server can reach here. Each server runs in its own child process. The load comes from wrk when it is on PATH
// (a C event loop: it leaves the cores to the server), else from autocannon in this Node process; each row
// names the generator that produced it. moto_server, when on PATH, runs the same operations for comparison.
// Usage: npm run bench [-- --seconds 5 --profile --scale --sync --console --stores --operations PutSecretValue,CreateSecret]
//   --generator wrk|autocannon forces one generator; --compare also runs the two generators side by side: bare
//   node:http and secretslite under each, back to back, and what each generator lets the server reach.
//   Each row also shows each server's CPU µs per request (Linux /proc); scripts/bench/profile-summary.js reads
//   what --profile writes.
//   --stores runs only the store-scaling section (scripts/bench/stores.js): GetSecretValue and Encrypt at c=32 on one
//   node on LevelDB, one on PostgreSQL (a throwaway cluster) and --workers 2 on PostgreSQL, with each process's CPU
//   per request and the machine's load; the full run includes it ("store scaling" in --operations names it).
//   --console runs only the console section: each console page (overview, secrets list pages, a secret, keys, a key,
//   calls) with --console-secrets secrets (default 10,000) and 50 KMS keys, --console-loads sequential loads each
//   (default 30), median and p95 beside the bare node:http floor; the full run ends with it ("console pages" in
//   --operations names it).
//   --scale also compares GetSecretValue with 1,000 and with 100,000 stored secrets (takes a few minutes).
//   --sync also runs the write operations (CreateKey, CreateSecret, PutSecretValue) on two servers, --sync never
//   and --sync always (fsync before each acknowledged write), alternately, and prints what the fsync costs.
//   --operations runs only the operations named (comma-separated; "GetSecretValue under load" names the p99 comparison
//   of GetSecretValue alone and while RSA-4096 keys are being made, which runs after the table otherwise).
//   Three modes: default, --verify-signatures, and --enforce-auth with a five-statement policy set (three statements
//   in the caller's identity policy, two in the secret's resource policy). After the table, "GetSecretValue
//   (enforce-auth, 5 statements)" is measured against "GetSecretValue (verify-signatures)" on two servers run
//   alternately, and the overhead printed (target: at most 10 %).
"use strict";
const { spawn } = require("node:child_process");
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require("node:fs");
const http = require("node:http");
const os = require("node:os");
const path = require("node:path");
const { parseArgs } = require("node:util");
const autocannon = require("autocannon");
const aws4 = require("aws4");
const { findWrk, runWrk } = require("./bench/wrk");
const { findMoto, startMoto } = require("./bench/moto");
const { consolePages } = require("./bench/console");
const { storeScaling } = require("./bench/stores");

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    // Writes a V8 CPU profile of the secretslite server to .bench/ (chrome://inspect, speedscope).
    profile: { type: "boolean", default: false },
    scale: { type: "boolean", default: false },
    sync: { type: "boolean", default: false },
    operations: { type: "string" },
    generator: { type: "string" },
    compare: { type: "boolean", default: false },
    console: { type: "boolean", default: false },
    stores: { type: "boolean", default: false },
    "console-secrets": { type: "string", default: "10000" },
    "console-loads": { type: "string", default: "30" },
  },
});
const WRK = findWrk();
if (values.generator !== undefined && !["wrk", "autocannon"].includes(values.generator)) throw new Error("--generator takes wrk or autocannon");
if (values.generator === "wrk" && WRK === undefined) throw new Error("--generator wrk: wrk is not on PATH (Debian: apt-get install wrk)");
if (values.compare && WRK === undefined) throw new Error("--compare needs wrk on PATH (Debian: apt-get install wrk)");
/** The generator used unless a row needs the other (see generatorFor). */
const GENERATOR = values.generator ?? (WRK === undefined ? "autocannon" : "wrk");
const MOTO = findMoto();
const ONLY = values.operations === undefined ? undefined : new Set(values.operations.split(",").map((name) => name.trim()));
/** The operations that write on every call: what --sync compares. */
const WRITES = new Set(["CreateKey", "CreateSecret", "PutSecretValue"]);
const SECONDS = Number(values.seconds);
const CONCURRENCIES = [1, 32];
const credentials = { accessKeyId: "AKIDBENCHMARK", secretAccessKey: "benchmark-secret" };
const REGION = "us-east-1";
/** --enforce-auth's caller: the principals file wants AWS-shaped key ids (16+ upper-case letters and digits). */
const ENFORCE_ACCOUNT = "111122223333";
const ENFORCE_USER_ARN = `arn:aws:iam::${ENFORCE_ACCOUNT}:user/bench`;
const enforceCredentials = { accessKeyId: "AKIABENCHMARK0000001", secretAccessKey: "benchmark-secret" };

/**
 * The five-statement policy set of the enforce-auth mode: the caller's identity policy (three statements, one of
 * them a Deny whose conditions are evaluated on every request, as AWS's aws:SourceIp example pairs them with
 * aws:ViaAWSService) and the bench secret's resource policy (two statements). Every hot operation stays allowed.
 */
const ENFORCE_IDENTITY_POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "ReadBenchSecrets",
      Effect: "Allow",
      Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
      Resource: `arn:aws:secretsmanager:${REGION}:${ENFORCE_ACCOUNT}:secret:bench/*`,
      Condition: { StringEquals: { "aws:RequestedRegion": REGION } },
    },
    { Sid: "UseServices", Effect: "Allow", Action: ["secretsmanager:*", "kms:*"], Resource: "*" },
    {
      Sid: "DenyOutsideLoopback",
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      Condition: { NotIpAddress: { "aws:SourceIp": "127.0.0.0/8" }, Bool: { "aws:ViaAWSService": "false" } },
    },
  ],
};
const ENFORCE_SECRET_POLICY = {
  Version: "2012-10-17",
  Statement: [
    { Sid: "BenchUserReadsCurrent", Effect: "Allow", Principal: { AWS: ENFORCE_USER_ARN }, Action: "secretsmanager:GetSecretValue", Resource: "*", Condition: { StringEquals: { "secretsmanager:VersionStage": "AWSCURRENT" } } },
    { Sid: "NoDeletion", Effect: "Deny", Principal: "*", Action: "secretsmanager:DeleteSecret", Resource: "*" },
  ],
};

/** A bare node:http server that reads a JSON body and answers JSON: the ceiling for any JSON-1.1 server here. */
const BARE_SERVER = `
const http = require("node:http");
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = JSON.stringify({ echo: JSON.parse(Buffer.concat(chunks).toString() || "{}") });
    res.writeHead(200, { "Content-Type": "application/x-amz-json-1.1", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(0, "127.0.0.1", () => console.log("listening on http://127.0.0.1:" + server.address().port));
`;

/**
 * The token floor: the bare server plus exactly one SoftHSM2 AES-GCM call per request, the least any
 * server must do whose keys are only usable inside the token. Its figures bound what secretslite can reach
 * on this machine; it takes the token's settings from the environment the bench gives it.
 */
const TOKEN_FLOOR_SERVER = `
const http = require("node:http");
const pkcs11js = require(process.env.BENCH_PKCS11JS);
const lib = new pkcs11js.PKCS11();
lib.load(process.env.BENCH_PKCS11_MODULE);
lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
// PKCS#11 pads labels with blanks; some initialisers pad with NULs: strip both.
const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.replace(/[\0 ]+$/, "") === process.env.BENCH_TOKEN_LABEL);
const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
lib.C_Login(session, pkcs11js.CKU_USER, process.env.BENCH_PIN);
const key = lib.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
  { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
  { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
  { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
  { type: pkcs11js.CKA_ENCRYPT, value: true },
  { type: pkcs11js.CKA_TOKEN, value: false },
]);
const iv = Buffer.alloc(12, 7);
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const input = JSON.parse(Buffer.concat(chunks).toString() || "{}");
    const plaintext = Buffer.alloc(32, 1);
    lib.C_EncryptInit(session, { mechanism: pkcs11js.CKM_AES_GCM, parameter: { type: pkcs11js.CK_PARAMS_AES_GCM, iv, aad: Buffer.from(req.headers["x-amz-target"] || ""), tagBits: 128 } }, key);
    const sealed = lib.C_Encrypt(session, plaintext, Buffer.allocUnsafe(plaintext.length + 16));
    const body = JSON.stringify({ echo: input, sealed: sealed.toString("base64") });
    res.writeHead(200, { "Content-Type": "application/x-amz-json-1.1", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(0, "127.0.0.1", () => console.log("listening on http://127.0.0.1:" + server.address().port));
`;

function startProcess(args, name, env = process.env) {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"], env });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = /listening on http:\/\/([\d.]+):(\d+)/.exec(out);
      if (match) resolve({ name, child, host: match[1], port: Number(match[2]) });
    });
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code}`)));
  });
}

async function stopProcess(server) {
  server.child.kill("SIGTERM");
  await new Promise((resolve) => server.child.once("exit", resolve));
}

async function startSecretslite(dataDir, extraArgs) {
  const nodeFlags = values.profile ? ["--cpu-prof", "--cpu-prof-dir=.bench"] : [];
  const args = [...nodeFlags, path.join(__dirname, "..", "bin", "secretslite.js"), "--port", "0", "--data-dir", dataDir, "--log-level", "error", ...extraArgs];
  const server = await startProcess(args, "secretslite");
  // A server that checks signatures needs each templated body signed on its own: only autocannon can.
  server.verifiesSignatures = extraArgs.includes("--verify-signatures") || extraArgs.includes("--enforce-auth");
  if (extraArgs.includes("--enforce-auth")) server.credentials = enforceCredentials;
  return server;
}

/**
 * A request signed once: without --verify-signatures any signature passes, with it the 5-minute window covers the run.
 * `body` is an object, or JSON text already made (a template's body).
 */
function signed(server, target, body) {
  const payload = typeof body === "string" ? body : JSON.stringify(body);
  const request = aws4.sign(
    {
      host: `${server.host}:${server.port}`,
      method: "POST",
      path: "/",
      service: target.startsWith("TrentService.") ? "kms" : "secretsmanager",
      region: REGION,
      headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target },
      body: payload,
    },
    server.credentials ?? credentials,
  );
  const headers = { ...request.headers };
  delete headers.Host;
  delete headers["Content-Length"];
  return { method: "POST", path: "/", headers, body: payload, target };
}

function call(server, request) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: server.host, port: server.port, method: "POST", path: "/", headers: request.headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode !== 200) reject(new Error(`${res.statusCode} ${text}`));
        else resolve(JSON.parse(text));
      });
    });
    req.on("error", reject);
    req.end(request.body);
  });
}

/**
 * A templated request (writes: unique names and ClientRequestTokens) sends a new body per call, made from its
 * `template` JSON text and a counter: `@NNNNNN@` becomes the counter on 8 digits, `@T@` the counter modulo
 * `targets` on 3. The counter only grows over the whole bench, so no two runs send the same name or token
 * (a repeated token would measure an idempotent retry, not a write).
 */
let nextFresh = 0;
const freshBody = (request, n) =>
  request.template.replaceAll("@NNNNNN@", pad(n)).replaceAll("@T@", String(n % (request.targets ?? 1)).padStart(3, "0"));
function templated(server, target, template, targets) {
  return { ...signed(server, target, template.replaceAll("@NNNNNN@", pad(0)).replaceAll("@T@", "000")), template, targets };
}

/**
 * Which generator drives a row: GENERATOR, except that a templated request against a server checking signatures
 * needs each body signed (wrk's Lua cannot compute SigV4), so autocannon drives that row.
 */
const generatorFor = (server, request) => (request.template !== undefined && server.verifiesSignatures ? "autocannon" : GENERATOR);

/**
 * The CPU time (user + system, in µs) a server process has used so far, from /proc (Linux); undefined elsewhere.
 * Its growth over a run divided by the requests served is the server's CPU cost per request: unlike req/s, it does
 * not change with how much of the machine the load generator and anything else running take.
 */
const TICK_US = 1e6 / 100; // USER_HZ: 100 on every Linux the bench runs on (getconf CLK_TCK).
function cpuMicros(server) {
  try {
    // A --workers server's processes are summed: the primary and its workers (scripts/bench/stores.js sets pids).
    let total = 0;
    for (const pid of server.pids?.() ?? [server.child.pid]) {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // Fields after the command (which may hold spaces), from the closing parenthesis: utime and stime are 14 and 15.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += (Number(fields[11]) + Number(fields[12])) * TICK_US;
    }
    return total;
  } catch {
    return undefined;
  }
}

/**
 * Loads one server with one request for SECONDS (or `amount` requests: autocannon only) with the generator given.
 * `cpu` is the server's CPU µs per request over the run (undefined off Linux).
 */
async function load(server, request, connections, options = {}) {
  const generator = options.amount !== undefined ? "autocannon" : (options.generator ?? generatorFor(server, request));
  const cpuBefore = cpuMicros(server);
  let result;
  if (generator === "wrk") {
    const first = nextFresh;
    result = await runWrk(WRK, server, request, connections, SECONDS, first);
    // Requests still in flight when wrk stopped used counters too: skip past them.
    nextFresh = first + result.requests + 4 * connections + 100;
  } else {
    result = await loadAutocannon(server, request, connections, options);
  }
  const cpuAfter = cpuMicros(server);
  const cpu = cpuBefore === undefined || cpuAfter === undefined || result.requests === 0 ? undefined : (cpuAfter - cpuBefore) / result.requests;
  return { ...result, generator, cpu };
}

/** Runs autocannon against one request; a templated one is signed again per call so strict mode accepts it. */
async function loadAutocannon(server, request, connections, options) {
  const requests = [
    request.template === undefined
      ? request
      : {
          ...request,
          // Keep autocannon's own fields (host, port): only the body and its signature change.
          setupRequest: (reqData) => {
            const next = signed(server, request.target, freshBody(request, nextFresh++));
            return { ...reqData, headers: next.headers, body: next.body };
          },
        },
  ];
  let firstFailure;
  requests[0] = {
    ...requests[0],
    onResponse: (status, body) => {
      if (status !== 200 && firstFailure === undefined) firstFailure = `${status} ${body}`;
    },
  };
  const result = await autocannon({
    url: `http://${server.host}:${server.port}`,
    connections,
    ...(options.amount === undefined ? { duration: SECONDS } : { amount: options.amount }),
    requests,
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${server.name}: ${result.non2xx} non-2xx answers and ${result.errors} errors; first: ${firstFailure}`);
  }
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, requests: result.requests.total };
}

/** The requests each hot operation sends, against a key and ciphertext made on that server. */
async function hotRequests(server) {
  const key = await call(server, signed(server, "TrentService.CreateKey", {}));
  const keyId = key.KeyMetadata.KeyId;
  const encrypted = await call(server, signed(server, "TrentService.Encrypt", { KeyId: keyId, Plaintext: Buffer.alloc(32, 1).toString("base64") }));
  await call(server, signed(server, "secretsmanager.CreateSecret", { Name: "bench/secret", SecretString: "s".repeat(256), ClientRequestToken: "bench-token-000000000000000000000000" }));
  if (server.credentials === enforceCredentials) {
    await call(server, signed(server, "secretsmanager.PutResourcePolicy", { SecretId: "bench/secret", ResourcePolicy: JSON.stringify(ENFORCE_SECRET_POLICY) }));
  }
  // PutSecretValue spreads over many secrets, as real traffic does, so no one secret piles up versions.
  const putTargets = 200;
  for (let i = 0; i < putTargets; i++) {
    await call(server, signed(server, "secretsmanager.CreateSecret", { Name: putTarget(i), ClientRequestToken: token(`put-${i}`) }));
  }
  const run = Date.now().toString(36);
  // Every templated body has the same length (fixed-width fields): autocannon keeps the first Content-Length it computes.
  const put = templated(
    server,
    "secretsmanager.PutSecretValue",
    JSON.stringify({ SecretId: "bench/put-@T@", SecretString: "v".repeat(256), ClientRequestToken: token(`${run}-p-@NNNNNN@`) }),
    putTargets,
  );
  // CreateKey has no idempotency token, but a fresh signature per call keeps strict mode's replay window honest.
  const createKey = templated(server, "TrentService.CreateKey", JSON.stringify({ Description: "bench" }));
  const create = templated(
    server,
    "secretsmanager.CreateSecret",
    JSON.stringify({ Name: `bench/new-${run}-@NNNNNN@`, SecretString: "v".repeat(256), ClientRequestToken: token(`${run}-c-@NNNNNN@`) }),
  );
  // Signing and MAC keys, made in the token; Verify checks against the stored public key in Node.
  const keyOf = async (KeySpec, KeyUsage) =>
    (await call(server, signed(server, "TrentService.CreateKey", { KeySpec, KeyUsage }))).KeyMetadata.KeyId;
  const ecKey = await keyOf("ECC_NIST_P256", "SIGN_VERIFY");
  const rsaKey = await keyOf("RSA_2048", "SIGN_VERIFY");
  const macKey = await keyOf("HMAC_256", "GENERATE_VERIFY_MAC");
  const message = Buffer.alloc(32, 3).toString("base64");
  const ecSign = signed(server, "TrentService.Sign", { KeyId: ecKey, Message: message, SigningAlgorithm: "ECDSA_SHA_256" });
  const { Signature } = await call(server, ecSign);
  return [
    ["Encrypt", signed(server, "TrentService.Encrypt", { KeyId: keyId, Plaintext: Buffer.alloc(32, 2).toString("base64") })],
    ["Decrypt", signed(server, "TrentService.Decrypt", { CiphertextBlob: encrypted.CiphertextBlob })],
    ["GenerateDataKey", signed(server, "TrentService.GenerateDataKey", { KeyId: keyId, KeySpec: "AES_256" })],
    ["GetSecretValue", signed(server, "secretsmanager.GetSecretValue", { SecretId: "bench/secret" })],
    ["PutSecretValue", put],
    ["CreateSecret", create],
    ["CreateKey", createKey],
    ["Sign ECDSA P-256", ecSign],
    ["Sign RSA-2048 PSS", signed(server, "TrentService.Sign", { KeyId: rsaKey, Message: message, SigningAlgorithm: "RSASSA_PSS_SHA_256" })],
    ["Verify ECDSA P-256", signed(server, "TrentService.Verify", { KeyId: ecKey, Message: message, Signature, SigningAlgorithm: "ECDSA_SHA_256" })],
    ["GenerateMac", signed(server, "TrentService.GenerateMac", { KeyId: macKey, Message: message, MacAlgorithm: "HMAC_SHA_256" })],
  ].filter(([operation]) => ONLY === undefined || ONLY.has(operation));
}

const pad = (n) => String(n).padStart(8, "0");
const putTarget = (i) => `bench/put-${String(i).padStart(3, "0")}`;

/** A ClientRequestToken (32–64 characters) made from a label. */
const token = (label) => `tok-${label}`.padEnd(32, "0").slice(0, 64);

/** GetSecretValue at c=32 once `total` secrets are stored (all but one without a value: no KMS work to seed). */
async function atScale(work, total) {
  const server = await startSecretslite(path.join(work, `scale-${total}`), []);
  try {
    await call(server, signed(server, "secretsmanager.CreateSecret", { Name: "bench/secret", SecretString: "s".repeat(256), ClientRequestToken: token("scale") }));
    const seed = templated(server, "secretsmanager.CreateSecret", JSON.stringify({ Name: "bench/seed/@NNNNNN@", ClientRequestToken: token("seed-@NNNNNN@") }));
    await load(server, seed, 32, { amount: total - 1 });
    const get = signed(server, "secretsmanager.GetSecretValue", { SecretId: "bench/secret" });
    for (let i = 0; i < 500; i++) await call(server, get);
    return await load(server, get, 32);
  } finally {
    await stopProcess(server);
  }
}

/**
 * --sync: the write operations against two servers at once, one per setting, run alternately (never, always,
 * never, always) so a machine whose load drifts during the run weighs on both alike.
 */
async function syncCost(work) {
  const never = await startSecretslite(path.join(work, "sync-never"), ["--sync", "never"]);
  const always = await startSecretslite(path.join(work, "sync-always"), ["--sync", "always"]);
  const syncRows = [];
  try {
    const neverRequests = new Map(await hotRequests(never));
    const alwaysRequests = new Map(await hotRequests(always));
    for (const [operation, neverRequest] of neverRequests) {
      if (!WRITES.has(operation)) continue;
      for (const c of CONCURRENCIES) {
        const runs = { never: [], always: [] };
        for (let i = 0; i < 2; i++) {
          runs.never.push(await load(never, neverRequest, c));
          runs.always.push(await load(always, alwaysRequests.get(operation), c));
        }
        const mean = (list, field) => list.reduce((sum, run) => sum + run[field], 0) / list.length;
        const row = {
          operation,
          c,
          "never req/s": Math.round(mean(runs.never, "rps")),
          "always req/s": Math.round(mean(runs.always, "rps")),
          "always × never": (mean(runs.always, "rps") / mean(runs.never, "rps")).toFixed(2),
          "never p50 ms": fmt(mean(runs.never, "p50")),
          "always p50 ms": fmt(mean(runs.always, "p50")),
          "never p99 ms": fmt(mean(runs.never, "p99")),
          "always p99 ms": fmt(mean(runs.always, "p99")),
        };
        syncRows.push(row);
        console.log(JSON.stringify(row));
      }
    }
  } finally {
    await stopProcess(never);
    await stopProcess(always);
  }
  console.log("fsync cost: --sync always (fsync before each acknowledged write) against --sync never, mean of 2 alternating runs each:");
  console.table(syncRows);
}

/**
 * GetSecretValue at c=32 alone, then while RSA-4096 CreateKey calls (about 2 s each in the token) run back to back
 * on two connections: slow token work must not hold up other requests (the target is a p99 at most 2× the quiet one).
 */
async function underKeyGenerationLoad(work) {
  const server = await startSecretslite(path.join(work, "under-load"), []);
  try {
    await call(server, signed(server, "secretsmanager.CreateSecret", { Name: "bench/secret", SecretString: "s".repeat(256), ClientRequestToken: token("load") }));
    const get = signed(server, "secretsmanager.GetSecretValue", { SecretId: "bench/secret" });
    for (let i = 0; i < 500; i++) await call(server, get);
    const quiet = await load(server, get, 32);
    let running = true;
    let keysMade = 0;
    const generator = async () => {
      while (running) {
        await call(server, signed(server, "TrentService.CreateKey", { KeySpec: "RSA_4096", KeyUsage: "SIGN_VERIFY" }));
        keysMade++;
      }
    };
    const generators = [generator(), generator()];
    // Let both generations start before measuring.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const loaded = await load(server, get, 32);
    running = false;
    await Promise.all(generators);
    const row = {
      "GetSecretValue c=32": "",
      "quiet req/s": Math.round(quiet.rps),
      "quiet p99 ms": fmt(quiet.p99),
      "under load req/s": Math.round(loaded.rps),
      "under load p99 ms": fmt(loaded.p99),
      "p99 ×": (loaded.p99 / Math.max(quiet.p99, 1)).toFixed(2),
      "RSA-4096 keys made": keysMade,
    };
    // autocannon measures latency in whole milliseconds: the 1 ms floor keeps a 0 ms quiet p99 from dividing by zero.
    console.log(`GetSecretValue while RSA-4096 CreateKey runs on 2 connections (${loaded.generator}; p99 × is against max(quiet p99, 1 ms)):`);
    console.table([row]);
  } finally {
    await stopProcess(server);
  }
}

/**
 * --compare: bare node:http and secretslite (default mode) under autocannon and under wrk, one after
 * the other for each row, so both generators see the same machine. The generator that costs the machine less
 * leaves the server more of the two cores: a higher × bare, and higher figures for both servers.
 */
async function compareGenerators(work, bare) {
  const server = await startSecretslite(path.join(work, "compare-generators"), []);
  const compareRows = [];
  try {
    for (const [operation, request] of await hotRequests(server)) {
      if (request.template === undefined) for (let i = 0; i < 200; i++) await call(server, request);
      for (const c of CONCURRENCIES) {
        const figures = {};
        for (const generator of ["autocannon", "wrk"]) {
          figures[generator] = { bare: await load(bare, request, c, { generator }), server: await load(server, request, c, { generator }) };
        }
        const { autocannon: a, wrk: w } = figures;
        const row = {
          operation,
          c,
          "autocannon bare": Math.round(a.bare.rps),
          "wrk bare": Math.round(w.bare.rps),
          "autocannon secretslite": Math.round(a.server.rps),
          "wrk secretslite": Math.round(w.server.rps),
          "autocannon × bare": (a.server.rps / a.bare.rps).toFixed(2),
          "wrk × bare": (w.server.rps / w.bare.rps).toFixed(2),
          "autocannon p99": fmt(a.server.p99),
          "wrk p99": fmt(w.server.p99),
          // The server's own CPU per request should not depend on the generator: if it does, the run was disturbed.
          "autocannon cpu µs": fmtCpu(a.server.cpu),
          "wrk cpu µs": fmtCpu(w.server.cpu),
        };
        compareRows.push(row);
        console.log(JSON.stringify(row));
      }
    }
  } finally {
    await stopProcess(server);
  }
  console.log("Load generators side by side (req/s; secretslite default mode; each pair measured back to back):");
  console.table(compareRows);
}

/**
 * What --enforce-auth costs GetSecretValue: "GetSecretValue (enforce-auth, 5 statements)" against "GetSecretValue
 * (verify-signatures)" (the mode it implies), two servers run alternately, three runs each per concurrency, so
 * drift in the machine's load weighs on both alike. The overhead is given on req/s and on the server's CPU µs per
 * request (Linux); the CPU figure does not move with what else the machine runs. Target: at most 10 %.
 */
async function enforceCost(work, credentialsFile, principalsFile) {
  const verify = await startSecretslite(path.join(work, "cost-verify"), ["--verify-signatures", "--credentials-file", credentialsFile]);
  const enforce = await startSecretslite(path.join(work, "cost-enforce"), ["--enforce-auth", "--principals", principalsFile]);
  const costRows = [];
  try {
    const requests = new Map();
    for (const server of [verify, enforce]) {
      await call(server, signed(server, "secretsmanager.CreateSecret", { Name: "bench/secret", SecretString: "s".repeat(256), ClientRequestToken: token("cost") }));
      if (server === enforce) await call(server, signed(server, "secretsmanager.PutResourcePolicy", { SecretId: "bench/secret", ResourcePolicy: JSON.stringify(ENFORCE_SECRET_POLICY) }));
      const get = signed(server, "secretsmanager.GetSecretValue", { SecretId: "bench/secret" });
      for (let i = 0; i < 500; i++) await call(server, get);
      requests.set(server, get);
    }
    for (const c of CONCURRENCIES) {
      const runs = { verify: [], enforce: [] };
      for (let i = 0; i < 3; i++) {
        runs.verify.push(await load(verify, requests.get(verify), c));
        runs.enforce.push(await load(enforce, requests.get(enforce), c));
      }
      const mean = (list, field) => (list.some((run) => run[field] === undefined) ? undefined : list.reduce((sum, run) => sum + run[field], 0) / list.length);
      const percent = (a, b) => (a === undefined || b === undefined ? "-" : `${(((a - b) / b) * 100).toFixed(1)} %`);
      for (const [name, list] of [["GetSecretValue (verify-signatures)", runs.verify], ["GetSecretValue (enforce-auth, 5 statements)", runs.enforce]]) {
        costRows.push({ operation: name, c, generator: list[0].generator, "req/s": Math.round(mean(list, "rps")), "p50 ms": fmt(mean(list, "p50")), "p99 ms": fmt(mean(list, "p99")), "cpu µs": fmtCpu(mean(list, "cpu")) });
      }
      const row = {
        operation: "enforce-auth overhead",
        c,
        generator: "",
        // Time per request: verify req/s ÷ enforce req/s − 1.
        "req/s": percent(mean(runs.verify, "rps"), mean(runs.enforce, "rps")),
        "p50 ms": percent(mean(runs.enforce, "p50"), mean(runs.verify, "p50")),
        "p99 ms": percent(mean(runs.enforce, "p99"), mean(runs.verify, "p99")),
        "cpu µs": percent(mean(runs.enforce, "cpu"), mean(runs.verify, "cpu")),
      };
      costRows.push(row);
      console.log(JSON.stringify(row));
    }
  } finally {
    await stopProcess(verify);
    await stopProcess(enforce);
  }
  console.log("--enforce-auth with a five-statement policy set against --verify-signatures, GetSecretValue, mean of 3 alternating runs (target: overhead at most 10 %):");
  console.table(costRows);
}

const fmtCpu = (us) => (us === undefined ? "-" : Math.round(us));
const fmt = (n) => (n < 10 ? n.toFixed(2) : Math.round(n).toString());

/** The console section: its own server, seeded at scale, each page timed beside the bare server (scripts/bench/console.js). */
async function consoleSection(work, bare) {
  const server = await startSecretslite(path.join(work, "console"), []);
  try {
    await consolePages(server, bare, { call, signed, templated, load, token, fmt }, {
      secrets: Number(values["console-secrets"]),
      keys: 50,
      loads: Number(values["console-loads"]),
    });
  } finally {
    await stopProcess(server);
  }
}

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), "secretslite-bench-"));
  const credentialsFile = path.join(work, "credentials");
  writeFileSync(credentialsFile, `[bench]\naws_access_key_id = ${credentials.accessKeyId}\naws_secret_access_key = ${credentials.secretAccessKey}\n`);
  const principalsFile = path.join(work, "principals.json");
  writeFileSync(principalsFile, JSON.stringify({ principals: [{ ...enforceCredentials, arn: ENFORCE_USER_ARN, policies: [ENFORCE_IDENTITY_POLICY] }] }));
  const bareScript = path.join(work, "bare.js");
  writeFileSync(bareScript, BARE_SERVER);
  console.log(`secretslite bench: ${SECONDS}s per run, node ${process.version}, ${os.cpus().length} cores; c = concurrent connections`);

  const bare = await startProcess([bareScript], "bare node:http");
  if (values.console) {
    try {
      await consoleSection(work, bare);
    } finally {
      await stopProcess(bare);
      rmSync(work, { recursive: true, force: true });
    }
    return;
  }
  const floorScript = path.join(work, "token-floor.js");
  writeFileSync(floorScript, TOKEN_FLOOR_SERVER);
  const { ensureSoftHsmToken } = require("../dist/crypto/softhsm-bootstrap");
  const floorToken = await ensureSoftHsmToken(path.join(work, "floor-token"));
  const floor = await startProcess([floorScript], "token floor", {
    ...process.env,
    SOFTHSM2_CONF: floorToken.softhsmConfigPath,
    BENCH_PKCS11JS: require.resolve("pkcs11js"),
    BENCH_PKCS11_MODULE: floorToken.modulePath,
    BENCH_TOKEN_LABEL: floorToken.tokenLabel,
    BENCH_PIN: floorToken.pin,
  });
  const rows = [];
  let moto;
  const scaling = () => storeScaling(work, { startSecretslite, stopProcess, signed, call, load, bare, floor, fmt, fmtCpu });
  if (values.stores) {
    try {
      await scaling();
    } finally {
      await stopProcess(bare);
      await stopProcess(floor);
      rmSync(work, { recursive: true, force: true });
    }
    return;
  }
  try {
    // moto_server gets the same operations, with its own key, ciphertext and secrets made through its API.
    let motoRequests = new Map();
    if (MOTO === undefined) {
      console.log("moto_server not on PATH: skipped");
    } else {
      moto = await startMoto(MOTO);
      motoRequests = new Map(await hotRequests(moto));
      for (const [operation, request] of motoRequests) {
        if (request.template !== undefined) continue;
        try {
          for (let i = 0; i < 50; i++) await call(moto, request);
        } catch (error) {
          console.log(`moto_server cannot serve ${operation} (${String(error.message).slice(0, 120)}): no moto figure for it`);
          motoRequests.delete(operation);
        }
      }
    }
    // The same body sizes as the real requests, so the bare figures are a fair ceiling. Keyed by generator too:
    // a ratio only compares figures one generator produced.
    const bareRequests = new Map();
    const floorRequests = new Map();
    const motoFigures = new Map();
    for (const mode of [
      { name: "default", args: [] },
      { name: "verify-signatures", args: ["--verify-signatures", "--credentials-file", credentialsFile] },
      { name: "enforce-auth", args: ["--enforce-auth", "--principals", principalsFile] },
    ]) {
      const server = await startSecretslite(path.join(work, mode.name), mode.args);
      try {
        const requests = await hotRequests(server);
        for (const [operation, request] of requests) {
          // Warm the JIT and the token's handle cache (writes warm up inside their own runs).
          if (request.template === undefined) for (let i = 0; i < 200; i++) await call(server, request);
          for (const c of CONCURRENCIES) {
            const generator = generatorFor(server, request);
            const bareKey = `${operation}/${c}/${generator}`;
            if (!bareRequests.has(bareKey)) bareRequests.set(bareKey, await load(bare, request, c, { generator }));
            const ceiling = bareRequests.get(bareKey);
            if (!floorRequests.has(bareKey)) floorRequests.set(bareKey, await load(floor, request, c, { generator }));
            const tokenFloor = floorRequests.get(bareKey);
            // moto checks no signature: it is compared with the default mode only.
            const motoRequest = mode.name === "default" ? motoRequests.get(operation) : undefined;
            if (motoRequest !== undefined && !motoFigures.has(bareKey)) motoFigures.set(bareKey, await load(moto, motoRequest, c, { generator }));
            const motoFigure = motoRequest === undefined ? undefined : motoFigures.get(bareKey);
            const measured = await load(server, request, c);
            const row = {
              mode: mode.name,
              operation,
              c,
              generator,
              "req/s": Math.round(measured.rps),
              "p50 ms": fmt(measured.p50),
              "p99 ms": fmt(measured.p99),
              "bare req/s": Math.round(ceiling.rps),
              "bare p99": fmt(ceiling.p99),
              "× bare": (measured.rps / ceiling.rps).toFixed(2),
              "floor req/s": Math.round(tokenFloor.rps),
              "floor p99": fmt(tokenFloor.p99),
              "floor × bare": (tokenFloor.rps / ceiling.rps).toFixed(2),
              // CPU µs per request, of each server process: what it costs whatever share of the cores it gets.
              "cpu µs": fmtCpu(measured.cpu),
              "bare cpu µs": fmtCpu(ceiling.cpu),
              "floor cpu µs": fmtCpu(tokenFloor.cpu),
              ...(moto === undefined
                ? {}
                : {
                    "moto req/s": motoFigure === undefined ? "-" : Math.round(motoFigure.rps),
                    "moto p99": motoFigure === undefined ? "-" : fmt(motoFigure.p99),
                    "× moto": motoFigure === undefined ? "-" : (measured.rps / motoFigure.rps).toFixed(2),
                  }),
            };
            rows.push(row);
            console.log(JSON.stringify(row));
          }
        }
      } finally {
        await stopProcess(server);
      }
    }
    if (moto !== undefined) {
      await stopProcess(moto);
      moto = undefined;
    }
    if (values.compare) await compareGenerators(work, bare);
    if (ONLY === undefined || ONLY.has("GetSecretValue")) await enforceCost(work, credentialsFile, principalsFile);
    if (ONLY === undefined || ONLY.has("GetSecretValue under load")) await underKeyGenerationLoad(work);
    if (values.scale) {
      const small = await atScale(work, 1_000);
      const large = await atScale(work, 100_000);
      const scaleRows = [
        { secrets: 1_000, "GetSecretValue req/s": Math.round(small.rps), "p50 ms": fmt(small.p50), "p99 ms": fmt(small.p99) },
        { secrets: 100_000, "GetSecretValue req/s": Math.round(large.rps), "p50 ms": fmt(large.p50), "p99 ms": fmt(large.p99) },
      ];
      console.table(scaleRows);
      console.log(`100,000 / 1,000 secrets: ${(large.rps / small.rps).toFixed(2)}× the throughput`);
    }
    if (values.sync) await syncCost(work);
    if (ONLY === undefined || ONLY.has("store scaling")) await scaling();
    if (ONLY === undefined || ONLY.has("console pages")) await consoleSection(work, bare);
  } finally {
    if (moto !== undefined) await stopProcess(moto);
    await stopProcess(bare);
    await stopProcess(floor);
    rmSync(work, { recursive: true, force: true });
  }
  console.log(
    `Each row's figures (secretslite, bare, floor${MOTO === undefined ? "" : ", moto"}) come from the generator it names` +
      (MOTO === undefined ? "; moto_server not on PATH: skipped." : "; × moto = secretslite req/s ÷ moto_server req/s."),
  );
  console.table(rows);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
