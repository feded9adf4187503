#!/usr/bin/env node
// Issue 9 §4 as measured: what a web page (foreign origin, DNS rebinding), the data dir's file modes and a flood of
// slow and idle sockets can do to a running secretslite. Usage: node scripts/reliability/web.js [sockets (1350)]
// Needs dist/ (npm run build) and SoftHSM2. Runs the built CLI on loopback with its defaults; prints one line per check.
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const http = require("node:http");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.join(__dirname, "..", "..");
const BIN = path.join(ROOT, "bin", "secretslite.js");
const { SecretsManagerClient, CreateSecretCommand, GetSecretValueCommand, ListSecretsCommand } = require(path.join(ROOT, "node_modules", "@aws-sdk", "client-secrets-manager"));
const credentials = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const SOCKETS = Number(process.argv[2] ?? 1350);

function start(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "--port", "0", "--log-level", "error", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const url = /listening on (\S+)/.exec(stdout)?.[1];
      const token = /admin token (\S+)/.exec(stdout)?.[1];
      if (url && token) resolve({ url, port: Number(new URL(url).port), token, child, stderr: () => stderr });
    });
    child.once("exit", (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
  });
}

const stop = (server) =>
  new Promise((resolve) => {
    server.child.removeAllListeners("exit");
    server.child.once("exit", resolve);
    server.child.kill("SIGTERM");
  });

function raw(port, method, requestPath, headers = {}) {
  return new Promise((resolve) => {
    const req = http.request({ host: "127.0.0.1", port, method, path: requestPath, headers, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", (error) => resolve(`error ${error.code}`));
    req.end();
  });
}

const client = (url) => new SecretsManagerClient({ endpoint: url, region: "us-east-1", credentials, maxAttempts: 1 });

async function pages(dataDir) {
  const server = await start(["--data-dir", dataDir]);
  try {
    const sm = client(server.url);
    await sm.send(new CreateSecretCommand({ Name: "web/kept", SecretString: "kept" }));
    const spellings = ["/_secretslite/reset", "/_SECRETSLITE/reset", "/_secretslite/reset/", "//_secretslite/reset", "/_secretslite/./reset", "/_secretslite%2Freset", `http://127.0.0.1:${server.port}/_secretslite/reset`];
    const answers = [];
    for (const spelling of spellings) answers.push(`${spelling} ${await raw(server.port, "POST", spelling, { Origin: "http://evil.example", "Content-Type": "text/plain" })}`);
    const kept = (await sm.send(new GetSecretValueCommand({ SecretId: "web/kept" }))).SecretString === "kept";
    console.log(`foreign page, reset in ${spellings.length} spellings: ${answers.join(", ")}; data kept: ${kept}`);

    const rebound = [];
    for (const host of ["evil.example:4566", "127.0.0.1.nip.io", "secretslite"]) {
      rebound.push(`${host} ${await raw(server.port, "POST", "/", { Host: host, "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.ListSecrets" })}`);
    }
    const served = [];
    for (const host of ["localhost:4566", "127.0.0.1", "[::1]:4566", "10.0.0.7"]) served.push(`${host} ${await raw(server.port, "GET", "/_secretslite/health", { Host: host })}`);
    console.log(`DNS rebinding: refused ${rebound.join(", ")}; served ${served.join(", ")}`);
    sm.destroy();
  } finally {
    await stop(server);
  }
  const loose = [];
  let count = 0;
  const walk = (entry) => {
    const stats = fs.lstatSync(entry);
    count++;
    const mode = stats.mode & 0o777;
    if (mode !== (stats.isDirectory() ? 0o700 : 0o600)) loose.push(`${path.relative(dataDir, entry) || "."} ${mode.toString(8)}`);
    if (stats.isDirectory()) for (const name of fs.readdirSync(entry)) walk(path.join(entry, name));
  };
  walk(dataDir);
  console.log(`data dir modes after a start and writes: ${count} entries, ${loose.length} not 0700/0600${loose.length ? `: ${loose.slice(0, 10).join(", ")}` : ""}`);
}

function connect(port, kind, started) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    const held = { kind, socket, opened: Date.now(), closedAfter: undefined, received: "" };
    socket.on("data", (chunk) => (held.received += chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => (held.closedAfter = Date.now() - held.opened));
    socket.once("connect", () => {
      if (kind === "slowloris") {
        socket.write("GET /_secretslite/health HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write("X-A: b\r\n")), 1000);
      } else if (kind === "slow body") {
        socket.write("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 100000\r\n\r\n");
        const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write(" ")), 1000);
      }
      resolve(held);
    });
    socket.once("error", () => resolve(held));
    void started;
  });
}

async function latencies(sm, calls) {
  const times = [];
  let failed = 0;
  for (let i = 0; i < calls; i++) {
    const begun = performance.now();
    try {
      await sm.send(new ListSecretsCommand({ MaxResults: 5 }));
      times.push(performance.now() - begun);
    } catch {
      failed++;
    }
  }
  times.sort((a, b) => a - b);
  const at = (p) => (times.length ? times[Math.ceil((p / 100) * times.length) - 1].toFixed(1) : "-");
  return `p50 ${at(50)} ms, p95 ${at(95)} ms, ${failed} of ${calls} failed`;
}

async function flood() {
  const server = await start(["--in-memory"]);
  const started = Date.now();
  const held = [];
  try {
    const warm = client(server.url);
    console.log(`SDK calls, idle server: ${await latencies(warm, 200)}`);
    const kinds = ["idle", "slowloris", "slow body"];
    for (let i = 0; i < SOCKETS; i++) held.push(await connect(server.port, kinds[i % 3], started));
    await new Promise((wake) => setTimeout(wake, 500));
    const refused = held.filter((h) => h.closedAfter !== undefined && h.closedAfter < 500 && h.received === "").length;
    console.log(`${SOCKETS} slow sockets (idle, slowloris, slow body): ${SOCKETS - refused} held, ${refused} closed at once by the cap`);
    console.log(`SDK calls on a connection opened before the flood: ${await latencies(warm, 200)}`);
    const fresh = client(server.url);
    console.log(`SDK calls on new connections while the cap is full: ${await latencies(fresh, 20)}`);
    fresh.destroy();
    const until = Date.now() + 75_000;
    while (Date.now() < until && held.some((h) => h.closedAfter === undefined)) await new Promise((wake) => setTimeout(wake, 250));
    for (const kind of kinds) {
      const mine = held.filter((h) => h.kind === kind && h.received !== "");
      const longest = Math.max(0, ...mine.map((h) => h.closedAfter ?? Infinity));
      const statuses = [...new Set(mine.map((h) => h.received.split("\r\n", 1)[0]))].join(" / ");
      console.log(`${kind}: ${mine.length} held, longest ${(longest / 1000).toFixed(1)} s, answered ${statuses || "-"}`);
    }
    const later = client(server.url);
    console.log(`SDK calls on new connections once they are gone: ${await latencies(later, 200)}`);
    later.destroy();
    warm.destroy();
  } finally {
    for (const h of held) h.socket.destroy();
    await stop(server);
  }
}

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "secretslite-web-"));
  try {
    await pages(path.join(dir, "data"));
    await flood();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
