// The built package as a consumer installs it: require() from CommonJS, import from ES modules, and its types.
// Needs dist/ (`npm run build`, which `npm test` runs first).
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const ROOT = path.resolve(__dirname, "../..");
const run = promisify(execFile);

let scratch: string;
let consumer: string;
let consumerTmp: string;

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), "secretslite-api-consumer-"));
  consumer = path.join(scratch, "app");
  // The consumer's own TMPDIR shows exactly which temporary token directories its instances leave.
  consumerTmp = path.join(scratch, "tmp");
  mkdirSync(path.join(consumer, "node_modules"), { recursive: true });
  mkdirSync(consumerTmp);
  // What `npm install` of a local path makes: node_modules/secretslite pointing at the package root.
  symlinkSync(ROOT, path.join(consumer, "node_modules", "secretslite"), "dir");
  for (const script of ["require.cjs", "import.mjs", "thread.mjs"]) copyFileSync(path.join(__dirname, "consumer", script), path.join(consumer, script));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs a consumer script to its natural end: a handle left open by stop() would make it time out. */
const runConsumer = async (script: string): Promise<Record<string, unknown>> => {
  const { stdout } = await run(process.execPath, [script], {
    cwd: consumer,
    env: { ...process.env, TMPDIR: consumerTmp },
    timeout: 20_000,
  });
  return JSON.parse(stdout) as Record<string, unknown>;
};

describe("behaviour", () => {
  it("require('secretslite') gives start(), whose instance serves, resets, stops and lets the process exit", async () => {
    expect(await runConsumer("require.cjs")).toEqual({
      start: "function",
      endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      health: 200,
    });
  });

  it("import { start } from 'secretslite' works from an ES module; two instances share one token directory, removed with the last", async () => {
    expect(await runConsumer("import.mjs")).toEqual({
      start: "function",
      region: "us-east-1",
      whileBoth: 1,
      health: [200, 200],
      afterFirstStop: 1,
      secondHealthAfterFirstStop: 200,
      afterBothStop: 0,
    });
  });

  it("refuses an in-memory start on a worker thread with a message saying why, and leaves no token behind", async () => {
    expect(await runConsumer("thread.mjs")).toEqual({ message: expect.stringMatching(/must be opened on the main thread: SoftHSM reads SOFTHSM2_CONF/) });
    expect(readdirSync(consumerTmp)).toEqual([]);
  });

  it("ships declarations that type-check from ES module and CommonJS TypeScript (nodenext)", async () => {
    writeFileSync(
      path.join(consumer, "check.mts"),
      [
        'import { start, type Emulator, type EmulatorOptions } from "secretslite";',
        'const options: EmulatorOptions = { port: 0, inMemory: true, region: "eu-west-1", logLevel: "warn", flags: ["--no-cors"] };',
        "const emulator: Emulator = await start(options);",
        "const endpoint: string = emulator.endpoint;",
        "const { accessKeyId, secretAccessKey } = emulator.credentials;",
        "await emulator.reset();",
        "await emulator.stop();",
        "export const used = [endpoint, accessKeyId, secretAccessKey];",
        "// @ts-expect-error a misspelt option is a type error",
        "await start({ inMemroy: true });",
        "",
      ].join("\n"),
    );
    writeFileSync(
      path.join(consumer, "check.cts"),
      [
        'import secretslite = require("secretslite");',
        "export const pending: Promise<secretslite.Emulator> = secretslite.start({ port: 0, inMemory: true });",
        "",
      ].join("\n"),
    );
    writeFileSync(
      path.join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ["node"],
          typeRoots: [path.join(ROOT, "node_modules", "@types")],
        },
        files: ["check.mts", "check.cts"],
      }),
    );
    const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
    await expect(run(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: consumer, timeout: 60_000 })).resolves.toMatchObject({ stdout: "" });
  }, 60_000);
});
