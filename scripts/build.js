#!/usr/bin/env node
// `npm run build` (tsc) when dist/ is missing or older than what it is built from; `--clean` removes dist/ and
// always builds (prepack: no module of a deleted source ships). One definition of "stale" for prepare, setup and start.
"use strict";
const { execFileSync } = require("node:child_process");
const { cpSync, existsSync, readdirSync, rmSync, statSync } = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "..");
const output = path.join(root, "dist", "cli.js");
const inputs = ["src", "tsconfig.json", "tsconfig.build.json"].map((name) => path.join(root, name));

/**
 * The newest modification time among the files under `file`. Directories' own times are left out: copies and
 * checkouts set them freely, and a deleted source only leaves an unused module in dist/ (prepack builds clean).
 */
function newest(file) {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (stat === undefined) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(file).reduce((latest, name) => Math.max(latest, newest(path.join(file, name))), 0);
}

/** The console's stylesheet and script are served from the package: tsc copies no .css/.js, so they are copied here. */
function copyAssets() {
  cpSync(path.join(root, "src", "console", "assets"), path.join(root, "dist", "console", "assets"), { recursive: true });
}

const clean = process.argv.includes("--clean");
if (clean) rmSync(path.join(root, "dist"), { recursive: true, force: true });
// tsc rewrites every output on each build, dist/cli.js included, so its time is the time of the last build.
const stale = !existsSync(output) || inputs.some((input) => newest(input) > statSync(output).mtimeMs);
if (!stale) {
  if (process.argv.includes("--verbose")) process.stderr.write("secretslite: dist/ is up to date, not building\n");
  copyAssets();
  process.exit(0);
}
process.stderr.write(`secretslite: building dist/${clean ? " from scratch" : ""}\n`);
execFileSync(process.execPath, [require.resolve("typescript/bin/tsc", { paths: [root] }), "-p", path.join(root, "tsconfig.build.json")], {
  cwd: root,
  stdio: "inherit",
});
copyAssets();
