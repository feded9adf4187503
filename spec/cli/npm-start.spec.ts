// `npm start` and scripts/setup.sh as a user meets them: a start after no change does not rebuild, `npm start &`
// then `kill $!` stops the server, and a user who cannot install SoftHSM2 is told what to do instead.
// Runs in a copy of the checkout (node_modules shared through a symlink, timestamps kept), so builds there never
// rewrite the dist/ other specs run.
import { execFile, execFileSync } from "node:child_process";
import { cpSync, mkdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { findSoftHsmModule, SOFTHSM_MODULE_PATHS } from "../../src/crypto/softhsm-bootstrap";
import { temporaryDirs } from "../support/files";

const ROOT = path.join(__dirname, "..", "..");
const tempDir = temporaryDirs("secretslite-npm-start-");

// npm passes its own settings to scripts as npm_* variables; the nested npm must see only the user's config.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));

/** Runs a bash script; resolves with its exit code and output, whatever the code. */
function bash(script: string, cwd: string, env: NodeJS.ProcessEnv = cleanEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("bash", ["-c", script], { cwd, env, timeout: 180_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr });
    });
  });
}

/** A checkout with the build's inputs and outputs as they are, dist/ included, timestamps preserved. */
function copyCheckout(): string {
  const copy = path.join(tempDir(), "checkout");
  mkdirSync(copy);
  for (const entry of ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "src", "bin", "scripts", "dist"]) {
    cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true, preserveTimestamps: true });
  }
  // setup.sh installs only when the lock is newer than node_modules/.package-lock.json: with both timestamps kept
  // it installs nothing (it must not: node_modules is the checkout's own).
  symlinkSync(path.join(ROOT, "node_modules"), path.join(copy, "node_modules"));
  // The checkout's own dist/ may be older than its src/ (an edit not yet built): the copy starts built, so the first
  // test sees the state a user has after one `npm start`.
  execFileSync("node", [path.join(copy, "scripts", "build.js")], { cwd: copy, stdio: "ignore" });
  return copy;
}

/**
 * What a user types: `npm start … &`, waits for the ready line, `kill $!`, and waits for npm. Prints the URL,
 * then whether a connection to it is still answered after npm has gone (up to 10 s for the server to close).
 */
const START_AND_KILL = `
set -u
log="$(mktemp)"
npm start -- --port 0 --in-memory --log-level error >"$log" 2>&1 &
for _ in $(seq 1 600); do grep -q 'listening on' "$log" && break; kill -0 $! 2>/dev/null || break; sleep 0.1; done
url="$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1)"
cat "$log" >&2
kill $!
wait $! 2>/dev/null
echo "url $url"
port="\${url##*:}"
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "port freed"; exit 0; }; sleep 0.1; done
echo "port still open"
`;

describe("npm start", () => {
  let copy: string;
  beforeAll(() => {
    copy = copyCheckout();
  });

  it("does not rebuild when dist/ is newer than src/, and `kill $!` of `npm start &` stops the server", async () => {
    const built = statSync(path.join(copy, "dist", "cli.js")).mtimeMs;
    const run = await bash(START_AND_KILL, copy);
    expect(run.stdout).toMatch(/^url http:\/\/127\.0\.0\.1:\d+$/m);
    expect(run.stderr).toContain("secretslite listening on");
    expect(run.stderr).not.toContain("building dist/");
    expect(statSync(path.join(copy, "dist", "cli.js")).mtimeMs).toBe(built);
    expect(run.stdout).toContain("port freed");
  }, 60_000);

  it("rebuilds once a source is newer than dist/, then not again", async () => {
    const built = statSync(path.join(copy, "dist", "cli.js")).mtimeMs;
    // An edit now: newer than the build, older than the next one.
    const now = new Date();
    utimesSync(path.join(copy, "src", "cli.ts"), now, now);
    expect(now.getTime()).toBeGreaterThan(built);
    const first = await bash(START_AND_KILL, copy);
    expect(first.stderr).toContain("building dist/");
    expect(first.stdout).toContain("port freed");
    const rebuilt = statSync(path.join(copy, "dist", "cli.js")).mtimeMs;
    expect(rebuilt).toBeGreaterThan(built);

    const second = await bash(START_AND_KILL, copy);
    expect(second.stderr).not.toContain("building dist/");
    expect(second.stderr).toContain("secretslite listening on");
    expect(statSync(path.join(copy, "dist", "cli.js")).mtimeMs).toBe(rebuilt);
  }, 180_000);
});

describe("scripts/setup.sh without root and without sudo", () => {
  /**
   * A PATH holding only what setup.sh needs to reach its SoftHSM2 check, an `id` that answers uid 1000 (the
   * honest way to be someone else without changing user), and no sudo and no softhsm2-util.
   */
  function nonRootPath(): string {
    const bin = path.join(tempDir(), "bin");
    mkdirSync(bin);
    for (const tool of ["bash", "dirname", "cat", "apt-get"]) {
      const found = ["/usr/bin", "/bin"].map((dir) => path.join(dir, tool)).find((file) => statSync(file, { throwIfNoEntry: false }) !== undefined);
      if (found !== undefined) symlinkSync(found, path.join(bin, tool));
    }
    writeFileSync(path.join(bin, "id"), '#!/bin/bash\n[ "$1" = -u ] && echo 1000 || echo "uid=1000(user) gid=1000(user)"\n', { mode: 0o755 });
    return bin;
  }

  it("says how to install SoftHSM2 on Debian, Fedora and macOS, or use --pkcs11-module, and never calls sudo", async () => {
    const env = { HOME: process.env.HOME, PATH: nonRootPath() };
    const run = await bash(`bash ${path.join(ROOT, "scripts", "setup.sh")}`, ROOT, env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("missing softhsm2, and this user is not root and has no sudo");
    expect(run.stderr).toContain("apt-get install softhsm2");
    expect(run.stderr).toContain("dnf install softhsm");
    expect(run.stderr).toContain("brew install softhsm");
    expect(run.stderr).toContain("--pkcs11-module");
    expect(run.stderr).not.toMatch(/command not found/);
  });

  it("accepts a PKCS#11 library given with --pkcs11-module instead, and goes on to the npm packages", async () => {
    // With the module named, the SoftHSM2 check passes; the next step (npm) is not on this PATH, which shows it got there.
    const env = { HOME: process.env.HOME, PATH: nonRootPath() };
    const module = path.join(tempDir(), "libsomething-pkcs11.so");
    writeFileSync(module, "");
    const run = await bash(`bash ${path.join(ROOT, "scripts", "setup.sh")} --port 0 --pkcs11-module ${module}`, ROOT, env);
    expect(run.stderr).not.toContain("missing softhsm2");
    expect(run.stderr).toMatch(/node: command not found|npm: command not found/);
  });
});

describe("the server when SoftHSM2 is not where it looks", () => {
  it("takes the first SoftHSM2 library that exists, in the order Debian, multiarch, Fedora/RHEL, Homebrew", () => {
    const dir = tempDir();
    const candidates = ["debian", "fedora", "homebrew"].map((name) => path.join(dir, name, "libsofthsm2.so"));
    expect(findSoftHsmModule(candidates)).toBe(candidates[0]);
    mkdirSync(path.dirname(candidates[2]!));
    writeFileSync(candidates[2]!, "");
    expect(findSoftHsmModule(candidates)).toBe(candidates[2]);
    mkdirSync(path.dirname(candidates[1]!));
    writeFileSync(candidates[1]!, "");
    expect(findSoftHsmModule(candidates)).toBe(candidates[1]);
    for (const place of ["/usr/lib/softhsm/", "/usr/lib64/pkcs11/", "/opt/homebrew/lib/softhsm/", "/usr/local/lib/softhsm/"]) {
      expect(SOFTHSM_MODULE_PATHS).toContain(`${place}libsofthsm2.so`);
    }
  });

  it("says how to install it on each system, or which flag names another library", async () => {
    const run = await bash(`node bin/secretslite.js --port 0 --in-memory --pkcs11-module /nonexistent/libsofthsm2.so`, ROOT);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("The SoftHSM2 PKCS#11 module /nonexistent/libsofthsm2.so is missing");
    for (const hint of ["apt-get install softhsm2", "dnf install softhsm", "brew install softhsm", "--pkcs11-module", "/opt/homebrew/lib/softhsm/libsofthsm2.so"]) {
      expect([hint, run.stderr.includes(hint)]).toEqual([hint, true]);
    }
  });
});
