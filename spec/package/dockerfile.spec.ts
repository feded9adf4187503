// The Dockerfile and .dockerignore, checked without a Docker engine: stages, COPY sources, user, volume,
// environment, health check and entry point; the parts that can run here (health check, bin) do run.
// Runs the built CLI (dist/), which `npm test` builds first.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import ts from "typescript";
import { usage } from "../../src/config";
import { startTestServer } from "../support/server";
import { startCli, waitForHealthy } from "../support/cli-process";
import {
  copyOperands,
  dockerignore,
  envPairs,
  execForm,
  originOf,
  parseDockerfile,
  stageReferenced,
  workdirs,
  type Instruction,
  type Stage,
} from "./dockerfile";

const ROOT = path.join(__dirname, "..", "..");
const file = parseDockerfile(readFileSync(path.join(ROOT, "Dockerfile"), "utf8"));
const ignored = dockerignore(readFileSync(path.join(ROOT, ".dockerignore"), "utf8"));
const manifest = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  bin: Record<string, string>;
  scripts: Record<string, string>;
};
const runtime = file.stages[file.stages.length - 1]!;

const instructions = (stage: Stage, keyword: string): Instruction[] => stage.instructions.filter((i) => i.keyword === keyword);
const indexOf = (stage: Stage, instruction: Instruction): number => stage.instructions.indexOf(instruction);

/** Debian packages a stage's RUN lines install with apt-get. */
function aptPackages(stage: Stage): string[] {
  return instructions(stage, "RUN").flatMap((run) =>
    [...run.rest.matchAll(/apt-get install((?:\s+(?!&&)\S+)+)/g)].flatMap((m) => m[1]!.trim().split(/\s+/).filter((w) => !w.startsWith("-"))),
  );
}

function imageEnv(stage: Stage): Map<string, string> {
  return new Map(instructions(stage, "ENV").flatMap((env) => envPairs(env.rest)));
}

// The TypeScript build's output directory, as `npm run build` (tsc -p <config>) writes it.
const buildConfigFile = /\btsc -p (\S+)/.exec(manifest.scripts.build ?? "")?.[1];
const buildConfig = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, buildConfigFile ?? "tsconfig.json"), {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
    throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
  },
});
const outDir = path.relative(ROOT, buildConfig!.options.outDir!);

/** What RUN lines make that no COPY brings in: the installed packages and the build's output. */
function produced(_stage: Stage, imagePath: string, workdir: string, run: Instruction): boolean {
  const relative = path.posix.relative(workdir, imagePath);
  if (/^node_modules(\/|$)/.test(relative)) return /\bnpm (ci|install)\b/.test(run.rest);
  if (relative === outDir || relative.startsWith(`${outDir}/`)) return /\bnpm run build\b/.test(run.rest);
  return false;
}
const origin = (stage: Stage, imagePath: string) => originOf(file, stage, imagePath, ROOT, produced);

function filesUnder(contextPath: string): string[] {
  const full = path.join(ROOT, contextPath);
  if (!statSync(full).isDirectory()) return [contextPath];
  return readdirSync(full, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)));
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe("Dockerfile", () => {
  const copies = file.stages.flatMap((stage) =>
    [...instructions(stage, "COPY"), ...instructions(stage, "ADD")].map((instruction) => ({ stage, instruction })),
  );
  const buildStage = (() => {
    const from = copies.find(({ stage, instruction }) => stage === runtime && instruction.flags.from !== undefined);
    return from === undefined ? undefined : stageReferenced(file, from.instruction.flags.from!, runtime.index);
  })();

  it("is multi-stage: compilers for pkcs11js in the build stage, a slim Debian runtime on Node 20 or newer without them", () => {
    expect(file.stages.length).toBeGreaterThanOrEqual(2);
    expect(buildStage).toBeDefined();
    const base = /^node:(\d+)-bookworm-slim$/.exec(runtime.base);
    expect(base).not.toBeNull();
    expect(Number(base![1])).toBeGreaterThanOrEqual(20);
    // The native addons built in one stage must load in the other: same Node ABI, same glibc.
    expect(buildStage!.base).toBe(runtime.base);
    expect(aptPackages(buildStage!)).toEqual(expect.arrayContaining(["python3", "make", "g++"]));
    expect(aptPackages(runtime)).toEqual(expect.arrayContaining(["softhsm2", "openssl"]));
    expect(aptPackages(runtime)).not.toEqual(expect.arrayContaining(["g++"]));
  });

  it("runs on a Node the suite is tested on: 20, or the current Node of scripts/test-current-node.sh", () => {
    const current = /NODE_CURRENT:-(\d+)\./.exec(readFileSync(path.join(ROOT, "scripts", "test-current-node.sh"), "utf8"))?.[1];
    expect(current).toBeDefined();
    const major = /^node:(\d+)-/.exec(runtime.base)?.[1];
    expect(["20", current]).toContain(major);
  });

  it("copies only sources that exist in the build context and that .dockerignore lets through", () => {
    const contextCopies = copies.filter(({ instruction }) => instruction.flags.from === undefined);
    expect(contextCopies.length).toBeGreaterThan(0);
    for (const { instruction } of contextCopies) {
      for (const source of copyOperands(instruction.rest).sources) {
        const where = `line ${instruction.line}: ${source}`;
        expect([where, path.posix.normalize(source).startsWith("..")]).toEqual([where, false]);
        expect([where, existsSync(path.join(ROOT, source))]).toEqual([where, true]);
        const left = filesUnder(source).filter((contextFile) => ignored(contextFile));
        expect([where, left]).toEqual([where, []]);
      }
    }
  });

  it("copies --from only earlier stages, and only paths those stages make", () => {
    const stageCopies = copies.filter(({ instruction }) => instruction.flags.from !== undefined);
    expect(stageCopies.length).toBeGreaterThan(0);
    for (const { stage, instruction } of stageCopies) {
      const where = `line ${instruction.line}`;
      const from = stageReferenced(file, instruction.flags.from!, stage.index);
      expect([where, from?.name ?? from?.index]).toEqual([where, expect.anything()]);
      for (const source of copyOperands(instruction.rest).sources) {
        expect([where, source, origin(from!, path.posix.resolve("/", source))]).toEqual([where, source, expect.anything()]);
      }
    }
  });

  it("gives the build stage every file `npm install` and `npm run build` read", () => {
    const dirs = workdirs(buildStage!);
    const run = instructions(buildStage!, "RUN").find((r) => /\bnpm run build\b/.test(r.rest))!;
    const workdir = dirs[indexOf(buildStage!, run)]!;
    const config = path.relative(ROOT, buildConfig!.options.configFilePath as string);
    const needed = ["package.json", "package-lock.json", config, ...(buildConfig!.fileNames.map((f) => path.relative(ROOT, f)))];
    // tsconfig.build.json extends tsconfig.json: the base must be there too.
    const extended = ts.readConfigFile(path.join(ROOT, config), ts.sys.readFile).config as { extends?: string };
    if (extended.extends !== undefined) needed.push(path.normalize(extended.extends));
    for (const contextFile of needed) {
      expect([contextFile, origin(buildStage!, path.posix.join(workdir, contextFile))]).toEqual([
        contextFile,
        { kind: "context", contextPath: contextFile },
      ]);
    }
  });

  it("runs as a non-root user that owns the /data volume", () => {
    const users = instructions(runtime, "USER");
    const user = users[users.length - 1]?.rest.split(":")[0];
    expect(user).toBeDefined();
    expect(["root", "0"]).not.toContain(user);
    // `node` (uid 1000) comes with the official Node images; any other user must be created here.
    const created = instructions(runtime, "RUN").some((r) => new RegExp(`\\b(useradd|adduser)\\b.*\\b${user}\\b`).test(r.rest));
    expect(user === "node" || created).toBe(true);
    const volume = instructions(runtime, "VOLUME")[0]!;
    expect(execForm(volume.rest) ?? volume.rest.split(/\s+/)).toContain("/data");
    // Docker discards what a later instruction changes under a declared volume: the chown must come first.
    const chown = instructions(runtime, "RUN").find((r) => new RegExp(`\\bchown\\s+(-R\\s+)?${user}(:\\S+)?\\s+/data\\b`).test(r.rest));
    expect(chown).toBeDefined();
    expect(indexOf(runtime, chown!)).toBeLessThan(indexOf(runtime, volume));
    expect(indexOf(runtime, users[users.length - 1]!)).toBeLessThan(indexOf(runtime, instructions(runtime, "ENTRYPOINT")[0]!));
  });

  it("listens on every interface on the exposed port 4566 and keeps LevelDB and the token under /data", () => {
    const env = imageEnv(runtime);
    expect(env.get("SECRETSLITE_HOST")).toBe("0.0.0.0");
    expect(env.get("SECRETSLITE_PORT")).toBe("4566");
    expect(env.get("SECRETSLITE_DATA_DIR")).toBe("/data");
    expect(env.get("SOFTHSM2_CONF")).toMatch(/^\/data\//);
    expect(instructions(runtime, "EXPOSE").flatMap((e) => e.rest.split(/\s+/))).toEqual(expect.arrayContaining([expect.stringMatching(/^4566(\/tcp)?$/)]));
    // Every SECRETSLITE_* variable the image sets is one the CLI reads.
    for (const name of env.keys()) if (name.startsWith("SECRETSLITE_")) expect([name, usage.includes(` ${name}`)]).toEqual([name, true]);
  });

  it("runs the package's bin with node in exec form, so node itself gets docker stop's SIGTERM", () => {
    const entrypoint = instructions(runtime, "ENTRYPOINT");
    expect(entrypoint).toHaveLength(1);
    const cmd = instructions(runtime, "CMD").map((c) => execForm(c.rest));
    const argv = [...(execForm(entrypoint[0]!.rest) ?? []), ...(cmd[cmd.length - 1] ?? [])];
    expect(argv[0]).toBe("node");
    const workdir = workdirs(runtime)[indexOf(runtime, entrypoint[0]!)]!;
    const script = path.posix.resolve(workdir, argv[1]!);
    expect(origin(runtime, script)).toEqual({ kind: "context", contextPath: path.posix.normalize(manifest.bin.secretslite!) });
    expect(existsSync(path.join(ROOT, manifest.bin.secretslite!))).toBe(true);
    // What the bin loads at start is in the image too: the compiled CLI, package.json (the version
    // health reports), and the native PKCS#11 binding.
    const binSource = readFileSync(path.join(ROOT, manifest.bin.secretslite!), "utf8");
    const required = [...binSource.matchAll(/require\("(\.[^"]+)"\)/g)].map((m) => path.posix.resolve(path.posix.dirname(script), m[1]!));
    expect(required.length).toBeGreaterThan(0);
    const appRoot = path.posix.dirname(path.posix.dirname(script));
    for (const needed of [...required, `${appRoot}/package.json`, `${appRoot}/node_modules/pkcs11js`]) {
      expect([needed, origin(runtime, needed)]).toEqual([needed, expect.anything()]);
    }
  });

  describe("HEALTHCHECK", () => {
    const healthcheck = instructions(runtime, "HEALTHCHECK");
    const argv = execForm(healthcheck[0]?.rest.replace(/^CMD\s+/, "") ?? "");
    const script = argv?.[2] ?? "";
    const runCheck = (port: number): Promise<number> =>
      new Promise((resolve) => {
        // The image's environment: SECRETSLITE_PORT names the port the check asks.
        execFile(process.execPath, ["-e", script], { env: { SECRETSLITE_PORT: String(port) }, timeout: 20_000 }, (error) =>
          resolve(error === null ? 0 : typeof error.code === "number" ? error.code : -1),
        );
      });

    it("is `node -e` against the health route, in exec form", () => {
      expect(healthcheck).toHaveLength(1);
      expect(healthcheck[0]!.rest).toMatch(/^CMD\s+\[/);
      expect(argv?.slice(0, 2)).toEqual(["node", "-e"]);
      expect(argv).toHaveLength(3);
      expect(script).toMatch(/\/_secretslite\/health(?![\w-])/);
    });

    it("passes against a ready server and fails once nothing listens", async () => {
      const server = await startTestServer();
      try {
        expect(await runCheck(server.port)).toBe(0);
      } finally {
        await server.close();
      }
      expect(await runCheck(server.port)).toBe(1);
    });
  });

  it("names in SOFTHSM2_CONF the SoftHSM2 config secretslite writes in its data dir", async () => {
    const env = imageEnv(runtime);
    const imageDataDir = env.get("SECRETSLITE_DATA_DIR")!;
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "secretslite-image-"));
    tempDirs.push(dataDir);
    // The image's environment re-rooted at a temp dir, on loopback and a free port.
    const softhsmConf = path.join(dataDir, path.posix.relative(imageDataDir, env.get("SOFTHSM2_CONF")!));
    const cli = await startCli(path.join(ROOT, manifest.bin.secretslite!), [], {
      ...Object.fromEntries(env),
      SECRETSLITE_HOST: "127.0.0.1",
      SECRETSLITE_PORT: "0",
      SECRETSLITE_DATA_DIR: dataDir,
      SOFTHSM2_CONF: softhsmConf,
    });
    try {
      expect((await waitForHealthy(cli)).status).toBe("ready");
      expect(existsSync(softhsmConf)).toBe(true);
      // What `docker exec <container> softhsm2-util --show-slots` shows with the image's variable.
      const slots = execFileSync("softhsm2-util", ["--show-slots"], { env: { PATH: process.env.PATH, SOFTHSM2_CONF: softhsmConf } }).toString();
      expect(slots).toMatch(/Label:\s+secretslite\s*$/m);
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });
});

describe(".dockerignore", () => {
  it("keeps node_modules, dist, data (the token and its PIN) and .git out of the build context", () => {
    for (const contextPath of ["node_modules", "node_modules/level/package.json", "dist/cli.js", "data", "data/token/pin", ".git/HEAD", "spec/kms/cli.spec.ts"]) {
      expect([contextPath, ignored(contextPath)]).toEqual([contextPath, true]);
    }
    for (const contextPath of ["package.json", "src/main.ts", "bin/secretslite.js"]) {
      expect([contextPath, ignored(contextPath)]).toEqual([contextPath, false]);
    }
  });
});
