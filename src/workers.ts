// `--workers N`: the primary forks N processes (node:cluster) that serve one port, restarts any that dies, and stops them together.
import cluster, { type Worker } from "node:cluster";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import type { Config } from "./config";
import { createLogger, type Logger } from "./logger";
import { startSecretslite, type RunningSecretslite } from "./main";
import { ensureSelfSignedCertificate } from "./tls/self-signed";

/**
 * The admin token the primary makes and every worker accepts: with --verify-signatures the admin routes need it on
 * whichever worker the round-robin picks, and the console derives its session key from it (src/console/session.ts).
 * Passed in the environment, which only this user (and root) can read, never in argv, which `ps` shows everyone.
 */
export const WORKER_ADMIN_TOKEN_ENV = "SECRETSLITE_WORKER_ADMIN_TOKEN";

/** What a worker tells the primary: it serves (and where), or its start failed (and why). */
type WorkerMessage =
  | { readonly kind: "ready"; readonly url: string; readonly tlsCertificate: string | undefined }
  | { readonly kind: "failed"; readonly message: string };

/** A dead worker is restarted after this, doubled at each death in a row up to MAX_BACKOFF_MS: a crash loop does not spin. */
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 10_000;
/** A worker that served this long before dying starts the back-off afresh: its death was not part of a crash loop. */
const STABLE_MS = 30_000;
/** How long a stop waits for workers to close (store, token) before killing them. */
const STOP_GRACE_MS = 30_000;

/** The hook src/cli.ts hands over to when config.workers > 1: the primary's supervision, or a worker's start. */
export async function runWorkers(config: Config): Promise<void> {
  if (cluster.isPrimary) await runPrimary(config);
  else await runWorker(config);
}

async function runPrimary(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  const adminToken = randomBytes(32).toString("base64url");
  // Made once, here, before any worker exists: N workers making it at once would each write a key pair, and the
  // clients of the one port would see certificates change under them. Each worker then finds and reuses it.
  if (config.tls?.selfSigned === true) {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    try {
      const made = await ensureSelfSignedCertificate(config.dataDir, logger);
      logger.info(made.created ? "TLS: made a self-signed certificate for localhost, for every worker" : "TLS: the workers use the self-signed certificate made earlier", { certFile: made.certFile });
    } catch (error) {
      process.stderr.write(`secretslite: could not start: ${(error as Error).message}\n`);
      process.exit(1);
    }
  }

  const supervisor = new Supervisor(config.workers, adminToken, logger);
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`secretslite: ${signal}, closing ${config.workers} workers\n`);
    supervisor.stop().then((clean) => process.exit(clean ? 0 : 1));
  };
  // Before the start: a signal while the workers open the token stops them cleanly too (each finishes its start, then
  // closes), rather than leaving them to notice their primary is gone.
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  let ready: { url: string; tlsCertificate: string | undefined };
  try {
    ready = await supervisor.start();
  } catch (error) {
    if (stopping) return;
    await supervisor.stop();
    process.stderr.write(`secretslite: could not start: ${(error as Error).message}\n`);
    process.exit(1);
  }
  if (stopping) return;

  // The same lines, in the same order, as one process prints (src/cli.ts): scripts wait for the first.
  process.stdout.write(`secretslite listening on ${ready.url}\n`);
  if (ready.tlsCertificate !== undefined) {
    process.stdout.write(`secretslite certificate ${ready.tlsCertificate} (self-signed for localhost, 127.0.0.1 and ::1: clients trust it as their CA bundle)\n`);
  }
  process.stdout.write(`secretslite admin token ${adminToken}\n`);
  logger.info(`secretslite serves ${ready.url} with ${config.workers} workers`, { workers: supervisor.pids() });
}

/** The primary's book of workers: slots 0..N-1, each holding its current process, restarted with back-off. */
class Supervisor {
  private readonly slots: (Worker | undefined)[];
  private readonly deathsInRow: number[];
  private readonly startedAt: number[];
  private stopping = false;
  /** Until every first worker is ready, a failure ends the start instead of being restarted. */
  private starting = true;
  private onFailure: ((error: Error) => void) | undefined;
  private onReady: ((slot: number, message: Extract<WorkerMessage, { kind: "ready" }>) => void) | undefined;
  private readonly restartTimers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly count: number,
    private readonly adminToken: string,
    private readonly logger: Logger,
  ) {
    this.slots = new Array<Worker | undefined>(count).fill(undefined);
    this.deathsInRow = new Array<number>(count).fill(0);
    this.startedAt = new Array<number>(count).fill(0);
  }

  /** Forks every worker; resolves once all are ready, with the one URL they share (port 0 included: cluster hands all workers the same port). */
  start(): Promise<{ url: string; tlsCertificate: string | undefined }> {
    return new Promise((resolve, reject) => {
      const ready = new Map<number, Extract<WorkerMessage, { kind: "ready" }>>();
      this.onFailure = (error) => {
        this.starting = false;
        reject(error);
      };
      this.onReady = (slot, message) => {
        ready.set(slot, message);
        if (ready.size < this.count) return;
        this.starting = false;
        const urls = new Set([...ready.values()].map((entry) => entry.url));
        if (urls.size !== 1) {
          reject(new Error(`the workers listen on different addresses: ${[...urls].join(", ")}`));
          return;
        }
        const first = ready.get(0)!;
        resolve({ url: first.url, tlsCertificate: first.tlsCertificate });
      };
      for (let slot = 0; slot < this.count; slot++) this.fork(slot);
    });
  }

  pids(): number[] {
    return this.slots.flatMap((worker) => (worker?.process.pid === undefined ? [] : [worker.process.pid]));
  }

  private fork(slot: number): void {
    const worker = cluster.fork({ [WORKER_ADMIN_TOKEN_ENV]: this.adminToken });
    this.slots[slot] = worker;
    this.startedAt[slot] = Date.now();
    let failure: string | undefined;
    worker.on("message", (message: WorkerMessage) => {
      if (message.kind === "failed") {
        failure = message.message;
      } else if (message.kind === "ready") {
        if (!this.starting && !this.stopping) this.logger.info("worker restarted and ready", { slot, pid: worker.process.pid });
        this.onReady?.(slot, message);
      }
    });
    worker.on("exit", (code, signal) => {
      if (this.slots[slot] === worker) this.slots[slot] = undefined;
      if (this.stopping) return;
      if (this.starting) {
        // A start that fails on one worker fails on all of them (same config, same store, same token): the whole start
        // stops with its message, exit 1, as one process's would. A worker killed by a signal during start (an OOM
        // kill, a kill loop) says nothing about the config, so it is restarted like one that died later.
        if (failure !== undefined || signal === null) {
          this.onFailure?.(new Error(failure ?? `a worker exited with code ${code} while starting`));
          return;
        }
      }
      const lived = Date.now() - this.startedAt[slot]!;
      if (lived >= STABLE_MS) this.deathsInRow[slot] = 0;
      const delay = Math.min(FIRST_BACKOFF_MS * 2 ** this.deathsInRow[slot]!, MAX_BACKOFF_MS);
      this.deathsInRow[slot]! += 1;
      this.logger.warn(`a worker ${failure === undefined ? "died" : "could not start"}: restarting it in ${delay} ms`, {
        slot,
        pid: worker.process.pid,
        code,
        signal,
        ...(failure === undefined ? {} : { error: failure }),
      });
      const timer = setTimeout(() => {
        this.restartTimers.delete(timer);
        if (!this.stopping) this.fork(slot);
      }, delay);
      this.restartTimers.add(timer);
    });
  }

  /** SIGTERM to every worker (each closes its listener, store and token); true when all of them closed cleanly. */
  async stop(): Promise<boolean> {
    this.stopping = true;
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    const live = this.slots.filter((worker): worker is Worker => worker !== undefined && worker.process.exitCode === null && worker.process.signalCode === null);
    const exits = live.map(
      (worker) =>
        new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => {
            this.logger.error("a worker did not close in time: killing it", { pid: worker.process.pid });
            worker.process.kill("SIGKILL");
          }, STOP_GRACE_MS);
          worker.once("exit", (code, signal) => {
            clearTimeout(timer);
            // Killed by our SIGTERM itself: a worker so early in its start that it had no handler yet, with nothing open.
            const clean = code === 0 || signal === "SIGTERM";
            if (!clean) this.logger.error("a worker did not close cleanly", { pid: worker.process.pid, code, signal });
            resolve(clean);
          });
          worker.process.kill("SIGTERM");
        }),
    );
    return (await Promise.all(exits)).every(Boolean);
  }
}

async function runWorker(config: Config): Promise<void> {
  const adminToken = process.env[WORKER_ADMIN_TOKEN_ENV];
  // Not left where rotation commands and other children would inherit it.
  delete process.env[WORKER_ADMIN_TOKEN_ENV];
  const send = (message: WorkerMessage): Promise<void> => new Promise((resolve) => process.send!(message, undefined, {}, () => resolve()));
  if (adminToken === undefined || adminToken === "") {
    await send({ kind: "failed", message: `a worker needs ${WORKER_ADMIN_TOKEN_ENV} from its primary` });
    process.exit(1);
  }
  let running: RunningSecretslite | undefined;
  let closing = false;
  const close = (why: string): void => {
    if (closing) return;
    closing = true;
    // During the start: closed once it is done (below), so the token and store are never left half-opened by a stop.
    if (running === undefined) return;
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`secretslite worker ${process.pid}: close after ${why} failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => close("SIGINT"));
  process.once("SIGTERM", () => close("SIGTERM"));
  // The primary is gone (killed -9, say): this worker no longer gets connections, so it closes rather than linger.
  process.once("disconnect", () => close("the primary went away"));
  try {
    running = await startSecretslite(config, { adminToken });
  } catch (error) {
    await send({ kind: "failed", message: (error as Error).message });
    process.exit(1);
  }
  if (closing) {
    closing = false;
    close("a signal during start");
    return;
  }
  await send({ kind: "ready", url: running.url, tlsCertificate: running.tlsCertificate });
}
