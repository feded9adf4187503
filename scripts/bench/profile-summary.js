#!/usr/bin/env node
// Summarises a V8 .cpuprofile (what `npm run bench -- --profile` writes to .bench/): self time by function and
// by where the function lives (node internals, secretslite's dist/, dependencies, native/GC), so the cost of
// one request beyond bare node:http shows up by name.
// Usage: node scripts/bench/profile-summary.js .bench/CPU....cpuprofile [--top 40] [--inclusive]
"use strict";
const { readFileSync } = require("node:fs");
const { parseArgs } = require("node:util");

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "40" }, inclusive: { type: "boolean", default: false } },
});
if (positionals.length !== 1) {
  console.error("usage: profile-summary.js FILE.cpuprofile [--top N] [--inclusive]");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(positionals[0], "utf8"));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
// Each sample names the node on top of the stack; timeDeltas give the time that sample stands for.
const selfTime = new Map();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0;
  selfTime.set(profile.samples[i], (selfTime.get(profile.samples[i]) ?? 0) + dt);
  total += dt;
}
const parents = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);

function where(frame) {
  const url = frame.url ?? "";
  if (url === "") return frame.functionName.startsWith("(") ? frame.functionName : "native";
  if (url.startsWith("node:")) return "node internals";
  const dist = /\/dist\/(.*)$/.exec(url);
  if (dist) return `secretslite ${dist[1].split("/").slice(0, -1).join("/") || "."}`;
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return `dep ${dep[1]}`;
  return url;
}
const label = (frame) => `${frame.functionName || "(anonymous)"} ${(frame.url ?? "").replace(/^.*\/(dist|node_modules)\//, "$1/")}:${frame.lineNumber + 1}`;

const byFunction = new Map();
const byPlace = new Map();
for (const [id, time] of selfTime) {
  const frame = nodes.get(id).callFrame;
  const key = label(frame);
  byFunction.set(key, (byFunction.get(key) ?? 0) + time);
  byPlace.set(where(frame), (byPlace.get(where(frame)) ?? 0) + time);
}
// Percentages are of busy time: the server idles while the bench loads the other servers.
let idle = 0;
for (const [id, time] of selfTime) if (nodes.get(id).callFrame.functionName === "(idle)") idle += time;
const busy = total - idle;
const pct = (t) => `${((100 * t) / busy).toFixed(1)}%`;
const top = Number(values.top);
console.log(`${positionals[0]}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy; percentages are of busy time`);
console.log("\nself time by place:");
for (const [place, time] of [...byPlace].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(time).padStart(7)}  ${place}`);
console.log("\nself time by function:");
for (const [fn, time] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(time).padStart(7)}  ${fn}`);
if (values.inclusive) {
  // Inclusive time: a function counts once per sample even when it recurses.
  const inclusive = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const seen = new Set();
    for (let id = profile.samples[i]; id !== undefined; id = parents.get(id)) {
      const key = label(nodes.get(id).callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
    }
  }
  console.log("\ninclusive time by function:");
  for (const [fn, time] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(time).padStart(7)}  ${fn}`);
}
