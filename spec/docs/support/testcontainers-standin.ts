// A stand-in for the parts of `testcontainers` that examples/testcontainers uses, for a machine without Docker: the
// "container" is this checkout's CLI, given the container's command as flags (as the image's ENTRYPOINT is) and its
// environment, on a free port that plays the mapped port. The wait strategy is polled as Testcontainers polls it.
// It lets the suite run the example's own code (client settings per account, resets, stop) against a real server.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const BIN = path.join(__dirname, "..", "..", "..", "bin", "secretslite.js");

class HttpWaitStrategy {
  statusCode = 200;
  constructor(
    readonly path: string,
    readonly port: number,
  ) {}
  forStatusCode(statusCode: number): this {
    this.statusCode = statusCode;
    return this;
  }
}

export const Wait = {
  forHttp: (route: string, port: number): HttpWaitStrategy => new HttpWaitStrategy(route, port),
};

export class StartedTestContainer {
  constructor(
    private readonly child: ChildProcess,
    private readonly exposedPort: number,
    private readonly hostPort: number,
  ) {}
  getHost(): string {
    return "127.0.0.1";
  }
  getMappedPort(port: number): number {
    if (port !== this.exposedPort) throw new Error(`port ${port} is not exposed`);
    return this.hostPort;
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    process.kill(this.child.pid!, "SIGTERM");
    await exited;
  }
}

export class GenericContainer {
  private command: string[] = [];
  private environment: Record<string, string> = {};
  private exposedPort: number | undefined;
  private wait: HttpWaitStrategy | undefined;
  private timeout = 60_000;

  constructor(readonly image: string) {}
  withCommand(command: string[]): this {
    this.command = command;
    return this;
  }
  withEnvironment(environment: Record<string, string>): this {
    this.environment = { ...this.environment, ...environment };
    return this;
  }
  withExposedPorts(port: number): this {
    this.exposedPort = port;
    return this;
  }
  withWaitStrategy(wait: HttpWaitStrategy): this {
    this.wait = wait;
    return this;
  }
  withStartupTimeout(timeout: number): this {
    this.timeout = timeout;
    return this;
  }

  async start(): Promise<StartedTestContainer> {
    if (this.exposedPort === undefined || this.wait === undefined) throw new Error("the example exposes a port and waits on it");
    if (this.wait.port !== this.exposedPort) throw new Error(`the wait strategy polls port ${this.wait.port}, not the exposed ${this.exposedPort}`);
    const child = spawn(process.execPath, [BIN, ...this.command, "--port", "0", "--log-level", "warn"], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, ...this.environment },
      stdio: ["ignore", "pipe", "inherit"],
    });
    // Only the port is read from the ready line; readiness is the wait strategy's to decide, as in Docker.
    const hostPort = await new Promise<number>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening on https?:\/\/[^:]+:(\d+)/.exec(out);
        if (match !== null) resolve(Number(match[1]));
      });
      child.once("exit", (code) => reject(new Error(`exited with ${code}`)));
    });
    const deadline = Date.now() + this.timeout;
    for (;;) {
      const status = await fetch(`http://127.0.0.1:${hostPort}${this.wait.path}`).then(
        (response) => response.status,
        () => 0,
      );
      if (status === this.wait.statusCode) break;
      if (Date.now() > deadline) throw new Error(`${this.wait.path} answered ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return new StartedTestContainer(child, this.exposedPort, hostPort);
  }
}
