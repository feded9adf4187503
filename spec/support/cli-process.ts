// Runs a secretslite executable (the repo's bin or an installed one) as a child process, as users and images do.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

export interface RunningCli {
  readonly child: ChildProcess;
  /** From the ready line. */
  readonly url: string;
  readonly exit: Promise<number | null>;
  stderr(): string;
  /** SIGTERM by pid; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** A started executable before anything is known of its output: stderr collected, exit watched. */
export interface SpawnedCli {
  readonly child: ChildProcess;
  readonly exit: Promise<number | null>;
  stderr(): string;
}

/** What startCli and startCliLines share: the spawn in a bare environment, stderr collected, the exit watched. */
function spawnCli(executable: string, args: readonly string[], env: NodeJS.ProcessEnv): SpawnedCli {
  const command = executable.endsWith(".js") ? process.execPath : executable;
  const argv = executable.endsWith(".js") ? [executable, ...args] : [...args];
  const child = spawn(command, argv, {
    // The node running the tests first on PATH, so a `#!/usr/bin/env node` bin runs on it too.
    env: { PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}`, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exit, stderr: () => stderr };
}

/**
 * Starts `executable` (a JS file run with this node, or a bin with a shebang) and resolves at its ready line.
 * The environment is only PATH, HOME and `env`: nothing from the test process (SOFTHSM2_CONF above all).
 */
export function startCli(executable: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<RunningCli> {
  const { child, exit, stderr } = spawnCli(executable, args, env);
  let stdout = "";
  const stop = (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, "SIGTERM");
    return exit;
  };
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf("\n");
      if (newline === -1) return;
      const line = stdout.slice(0, newline);
      const match = /^secretslite listening on (https?:\/\/\S+)$/.exec(line);
      if (match === null) {
        void stop();
        reject(new Error(`unexpected first line: ${line}`));
      } else resolve({ child, url: match[1]!, exit, stderr, stop });
    });
    child.once("error", reject);
    void exit.then((code) => reject(new Error(`exited with ${code} before its ready line: ${stderr()}`)));
  });
}

export interface CliLines extends SpawnedCli {
  /** The first `count` lines of stdout, without their newlines. */
  readonly lines: string[];
}

/**
 * Starts `executable` as startCli does and resolves once its first `count` stdout lines are complete, for what it
 * prints after the ready line; rejects if it exits first. Stopping it is the caller's (child.kill).
 */
export function startCliLines(executable: string, args: readonly string[], count: number, env: NodeJS.ProcessEnv = {}): Promise<CliLines> {
  const spawned = spawnCli(executable, args, env);
  let stdout = "";
  return new Promise((resolve, reject) => {
    spawned.child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const parts = stdout.split("\n");
      // The last part is the line still being written: `count` complete lines need `count` newlines.
      if (parts.length > count) resolve({ ...spawned, lines: parts.slice(0, count) });
    });
    spawned.child.once("error", reject);
    void spawned.exit.then((code) => reject(new Error(`exited with ${code} before ${count} lines: ${spawned.stderr()}`)));
  });
}

/** Polls the health route until it answers 200, as a container health check or a test harness would. */
export async function waitForHealthy(cli: RunningCli): Promise<{ status: string; version: string }> {
  let exited = false;
  void cli.exit.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`exited before it was healthy: ${cli.stderr()}`);
    try {
      const response = await fetch(`${cli.url}/_secretslite/health`);
      const body = (await response.json()) as { status: string; version: string };
      if (response.status === 200) return body;
    } catch {
      // Not answering yet.
    }
    await new Promise((wake) => setTimeout(wake, 100));
  }
}
