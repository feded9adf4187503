// The npm package as users get it: `npm pack`, `npm install <tarball>` into a fresh project, then its bin and require().
// Packs the built dist/, which `npm test` builds first; npm install compiles pkcs11js, so this takes a while.
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { credentials } from "../support/server";
import { startCli, waitForHealthy } from "../support/cli-process";

const ROOT = path.join(__dirname, "..", "..");
const INSTALL_TIMEOUT_MS = 300_000;

interface Manifest {
  name: string;
  version: string;
  main?: string;
  types?: string;
  exports?: unknown;
  bin: Record<string, string>;
  scripts: Record<string, string>;
  files?: string[];
  engines?: Record<string, string>;
  private?: boolean;
}
const manifest = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as Manifest;

// npm passes its own settings to scripts as npm_* variables; the nested npm must see only the user's config.
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = npmEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new Error(`${command} ${args.join(" ")} failed: ${error.message}\n${stderr}`));
    });
  });
}

let workDir: string;
let project: string;
let packed: string[];

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), "secretslite-pack-"));
  // --ignore-scripts: prepack would rebuild dist/ in the checkout while other jest workers run the CLI from it.
  const report = JSON.parse(await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", workDir], ROOT)) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  const tarball = path.join(workDir, report[0]!.filename);
  packed = report[0]!.files.map((entry) => entry.path);
  project = path.join(workDir, "project");
  mkdirSync(project);
  writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "secretslite-pack-probe", private: true }));
  await run("npm", ["install", "--no-audit", "--no-fund", tarball], project);
}, INSTALL_TIMEOUT_MS);

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe("npm pack", () => {
  it("packs package.json, README, LICENSE, CHANGELOG, bin and dist, and no sources, specs, scripts, fixtures or local state", () => {
    expect(packed).toEqual(
      expect.arrayContaining(["package.json", "README.md", "LICENSE", "CHANGELOG.md", manifest.bin.secretslite!, "dist/cli.js", "dist/index.js", "dist/index.d.ts", "dist/console/assets/console.js", "dist/console/assets/console.css"]),
    );
    const strays = packed.filter((file) => !/^(package\.json|README\.md|LICENSE|CHANGELOG\.md|bin\/[^/]+|dist\/.+)$/.test(file));
    expect(strays).toEqual([]);
  });

  it("is ready to publish: files, engines, types, and prepare building dist/ for git installs", () => {
    expect(manifest.files).toEqual(expect.arrayContaining(["bin", "dist", "README.md", "LICENSE", "CHANGELOG.md"]));
    expect(manifest.engines?.node).toBe(">=20");
    expect(manifest.types).toBe("dist/index.d.ts");
    expect(packed).toContain(manifest.types);
    // npm runs prepare, not prepack, when it installs a git dependency (spec/package/git-install.spec.ts does one).
    expect(manifest.scripts.prepare).toMatch(/\bscripts\/build\.js\b/);
    expect(manifest.private).toBeUndefined();
    // The CHANGELOG has an entry for the version being packed.
    expect(readFileSync(path.join(ROOT, "CHANGELOG.md"), "utf8")).toContain(`## [${manifest.version}] - `);
  });

  it("holds every file the package's entry points and relative requires name", () => {
    const has = (file: string): boolean => packed.includes(path.posix.normalize(file));
    const entryPoints = [manifest.main, manifest.types, ...Object.values(manifest.bin), ...exportTargets(manifest.exports)]
      .filter((file): file is string => file !== undefined && file !== "./package.json");
    for (const entry of entryPoints) expect([entry, has(entry)]).toEqual([entry, true]);
    // A module left out of "files" fails only when that code path runs: check every relative require.
    for (const file of packed.filter((f) => f.endsWith(".js"))) {
      const source = readFileSync(path.join(ROOT, file), "utf8");
      for (const [, target] of source.matchAll(/require\("(\.{1,2}\/[^"]*)"\)/g)) {
        const resolved = path.posix.join(path.posix.dirname(file), target!);
        const found = [resolved, `${resolved}.js`, `${resolved}.json`, `${resolved}/index.js`].some(has);
        expect([file, target, found]).toEqual([file, target, true]);
      }
    }
  });

  it("rebuilds dist/ from scratch when packing (prepack), so no stale module of a deleted source ships", async () => {
    // In a copy of the checkout (sharing node_modules), so the build does not rewrite the dist/ other specs run.
    const copy = path.join(workDir, "checkout");
    mkdirSync(copy);
    for (const entry of ["package.json", "tsconfig.json", "tsconfig.build.json", "src", "bin", "scripts", "README.md", "LICENSE", "CHANGELOG.md"]) {
      cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
    }
    symlinkSync(path.join(ROOT, "node_modules"), path.join(copy, "node_modules"));
    mkdirSync(path.join(copy, "dist"));
    writeFileSync(path.join(copy, "dist", "removed-long-ago.js"), "module.exports = 1;\n");
    const report = JSON.parse(await run("npm", ["pack", "--dry-run", "--json"], copy)) as Array<{ files: Array<{ path: string }> }>;
    const files = report[0]!.files.map((entry) => entry.path);
    expect(files).toEqual(expect.arrayContaining(["dist/cli.js", "dist/index.js", "dist/index.d.ts"]));
    expect(files).not.toContain("dist/removed-long-ago.js");
  }, INSTALL_TIMEOUT_MS);
});

describe("installed from the tarball", () => {
  it("starts with its bin, serves the SDK, reports healthy, and exits cleanly on SIGTERM", async () => {
    const bin = path.join(project, "node_modules", ".bin", Object.keys(manifest.bin)[0]!);
    // The installed copy runs, not the checkout.
    expect(realpathSync(bin).startsWith(realpathSync(path.join(project, "node_modules", manifest.name)))).toBe(true);
    const cli = await startCli(bin, ["--port", "0", "--in-memory", "--log-level", "error"]);
    const client = new SecretsManagerClient({ endpoint: cli.url, region: "us-east-1", credentials, maxAttempts: 1 });
    try {
      const health = await waitForHealthy(cli);
      expect(health).toMatchObject({ status: "ready", version: manifest.version });
      await client.send(new CreateSecretCommand({ Name: "packed/db", SecretString: "from-the-tarball" }));
      const value = await client.send(new GetSecretValueCommand({ SecretId: "packed/db" }));
      expect(value.SecretString).toBe("from-the-tarball");
    } finally {
      client.destroy();
      expect(await cli.stop()).toBe(0);
    }
  });

  it("resolves from the project with require() and import(), exporting what the checkout's build exports", async () => {
    const probe = (expression: string, cwd: string, type: "commonjs" | "module"): Promise<{ resolved: string; exports: string[] }> =>
      run(process.execPath, ["--input-type", type, "-e", expression], cwd, { PATH: process.env.PATH }).then(
        (stdout) => JSON.parse(stdout) as { resolved: string; exports: string[] },
      );
    const cjs = await probe(
      `const m = require("${manifest.name}"); console.log(JSON.stringify({ resolved: require.resolve("${manifest.name}"), exports: Object.keys(m).sort() }))`,
      project,
      "commonjs",
    );
    const esm = await probe(
      // ESM lists a CommonJS module's non-enumerable __esModule marker as an export, and Node 23+ its whole
      // module.exports under that name too; require() shows neither.
      `const m = await import("${manifest.name}"); console.log(JSON.stringify({ resolved: import.meta.resolve("${manifest.name}"), exports: Object.keys(m).filter((k) => k !== "default" && k !== "__esModule" && k !== "module.exports").sort() }))`,
      project,
      "module",
    );
    const checkout = await probe(
      `console.log(JSON.stringify({ resolved: "", exports: Object.keys(require(${JSON.stringify(path.join(ROOT, manifest.main ?? "index.js"))})).sort() }))`,
      project,
      "commonjs",
    );
    expect(realpathSync(cjs.resolved).startsWith(realpathSync(path.join(project, "node_modules", manifest.name)))).toBe(true);
    expect(esm.resolved).toContain(`/node_modules/${manifest.name}/`);
    expect(checkout.exports.length).toBeGreaterThan(0);
    expect(cjs.exports).toEqual(checkout.exports);
    expect(esm.exports).toEqual(checkout.exports);
  });
});

/** Every file path named in an "exports" map, however nested its conditions. */
function exportTargets(exports: unknown): string[] {
  if (typeof exports === "string") return [exports];
  if (exports === null || typeof exports !== "object") return [];
  return Object.values(exports).flatMap(exportTargets);
}
