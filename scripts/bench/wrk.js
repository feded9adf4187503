// wrk as the bench's load generator: a C event loop that leaves the two cores here to the server far more than
// autocannon (a Node process) does. wrk sends a body with headers only through a Lua script, so each run gets a
// script written to a temporary directory; its done() hook prints the figures as one JSON line, which is read
// instead of wrk's human-readable summary.
"use strict";
const { execFile, execFileSync } = require("node:child_process");
const { mkdtempSync, rmSync, writeFileSync } = require("node:fs");
const os = require("node:os");
const path = require("node:path");

/** wrk's path when it is on PATH, else undefined. */
function findWrk() {
  try {
    return execFileSync("sh", ["-c", "command -v wrk"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** A Lua string literal holding exactly `text`'s UTF-8 bytes (Lua 5.1 has no \u escapes: bytes go as \ddd). */
function luaString(text) {
  let out = '"';
  for (const byte of Buffer.from(text, "utf8")) {
    const printable = byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c;
    out += printable ? String.fromCharCode(byte) : `\\${String(byte).padStart(3, "0")}`;
  }
  return `${out}"`;
}

const RESULT = "BENCH_WRK_RESULT ";

/**
 * The Lua script for one run. A fixed request is set once (wrk.method/body/headers); a templated one makes each
 * body from a counter (`first`, then one up per request: one wrk thread, so no two requests share it), filling
 * `@NNNNNN@` with the counter on 8 digits and `@T@` with the counter modulo `targets` on 3.
 */
function luaScript(request, first) {
  const lines = ['wrk.method = "POST"', 'wrk.path = "/"'];
  for (const [name, value] of Object.entries(request.headers)) lines.push(`wrk.headers[${luaString(name)}] = ${luaString(String(value))}`);
  if (request.template === undefined) {
    lines.push(`wrk.body = ${luaString(request.body)}`);
  } else {
    lines.push(
      `local template = ${luaString(request.template)}`,
      `local counter = ${first}`,
      "request = function()",
      '  local body = template:gsub("@NNNNNN@", string.format("%08d", counter))',
      `  body = body:gsub("@T@", string.format("%03d", counter % ${request.targets ?? 1}))`,
      "  counter = counter + 1",
      "  return wrk.format(nil, nil, nil, body)",
      "end",
    );
  }
  lines.push(
    "done = function(summary, latency, requests)",
    "  local e = summary.errors",
    `  io.write(string.format('${RESULT}{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\\n',`,
    "    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(99)))",
    "end",
  );
  return `${lines.join("\n")}\n`;
}

/**
 * Runs wrk for `seconds` with `connections` connections on one thread (one thread drives tens of thousands of
 * requests a second over loopback; a second would only take a core from the server). Answers with status ≥ 400
 * and socket errors fail the run; timeouts (over 10 s) too.
 */
function runWrk(wrk, server, request, connections, seconds, first = 0) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-wrk-"));
  const script = path.join(dir, "request.lua");
  writeFileSync(script, luaScript(request, first));
  const args = ["-t1", `-c${connections}`, `-d${seconds}s`, "--timeout", "10s", "--latency", "-s", script, `http://${server.host}:${server.port}/`];
  return new Promise((resolve, reject) => {
    execFile(wrk, args, { encoding: "utf8", maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      if (error) return reject(new Error(`wrk failed: ${error.message}\n${stderr}`));
      const line = stdout.split("\n").find((l) => l.startsWith(RESULT));
      if (line === undefined) return reject(new Error(`wrk printed no result:\n${stdout}${stderr}`));
      const r = JSON.parse(line.slice(RESULT.length));
      const failures = r.connect + r.read + r.write + r.status + r.timeout;
      if (failures > 0) {
        return reject(new Error(`${server.name}: wrk saw ${r.status} non-2xx/3xx answers, ${r.timeout} timeouts, ${r.connect + r.read + r.write} socket errors`));
      }
      resolve({ rps: r.requests / (r.duration_us / 1e6), p50: r.p50_us / 1000, p99: r.p99_us / 1000, requests: r.requests });
    });
  });
}

module.exports = { findWrk, runWrk, luaScript };
