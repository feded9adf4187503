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

/**
 * Starts `executable` (a JS file run with this node, or a bin with a shebang) and resolves at its ready line.
 * The environment is only PATH, HOME and `env`: nothing from the test process (SOFTHSM2_CONF above all).
 */
export function startCli(executable: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<RunningCli> {
  const command = executable.endsWith(".js") ? process.execPath : executable;
  const argv = executable.endsWith(".js") ? [executable, ...args] : [...args];
  const child = spawn(command, argv, {
    // The node running the tests first on PATH, so a `#!/usr/bin/env node` bin runs on it too.
    env: { PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}`, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
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
      } else resolve({ child, url: match[1]!, exit, stderr: () => stderr, stop });
    });
    child.once("error", reject);
    void exit.then((code) => reject(new Error(`exited with ${code} before its ready line: ${stderr}`)));
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
