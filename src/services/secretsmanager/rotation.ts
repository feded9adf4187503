// Rotation: the driver that takes a rotation function through its four steps, with AWS's retries, and the schedule that starts due rotations.
import { randomUUID } from "node:crypto";
import type { Logger } from "../../logger";
import type { Store } from "../../storage/store";
import type { Clock } from "../clock";
import type { Scope } from "../scope";
import { forEachDue, Sweeper } from "../sweeper";
import type { Secrets } from "./domain";
import { dueBound, dueIndexRange, entryScope, type SecretDueEntry } from "./due-index";
import { dueAt } from "./rotation-schedule";
import { nextRotationDate, nextWindowStart, storedSchedule } from "./rotation-rules";
import { RotationAttempts, type RotationAttempt } from "./rotation-attempts";
import { INVOKE_TIMEOUT_MS, RotationStepError, type RotationFunctions, type RotationStep } from "./rotation-functions";
import { AWSCURRENT, AWSPENDING, versionWithStage, type SecretRecord } from "./secret";

// The rotation driver and the replicas are built in main.ts (they need the clock, the logger, the server's URL and
// KMS) and added to the domain it hands to requests. Declared here, optional, until domain.ts's SecretsDomain lists
// them itself; the operations that need them answer InternalServiceError when they are missing.

const ALL_STEPS: readonly RotationStep[] = ["createSecret", "setSecret", "testSecret", "finishSecret"];
/** The error an attempt shows when the run stopped before its end (not an error of the function's). */
const STOPPED = "stopped: rotation was cancelled, the secret deleted, or its AWSPENDING version moved on";

/**
 * "If any rotation step fails, Secrets Manager retries the entire rotation process multiple times"
 * (rotate-secrets_lambda.html), from createSecret with the same ClientRequestToken, which the templates make
 * idempotent. AWS gives no count or spacing: three attempts, the retries after these pauses.
 */
const RETRY_PAUSES_MS: readonly number[] = [250, 1000];
/** How often the schedule is read: windows are hours long, and a test clock's jump shows within a second. */
const SWEEP_INTERVAL_MS = 1000;
/** The longest a run can take: four function steps, each cut at the longest invoke (rotation-functions.ts). */
const RUN_LIMIT_MS = 4 * INVOKE_TIMEOUT_MS;

export interface RotationJob {
  readonly scope: Scope;
  readonly name: string;
  readonly arn: string;
  readonly token: string;
  readonly lambdaArn: string;
  /** RotateImmediately=false: only testSecret runs, and the AWSPENDING version it tested is removed after. */
  readonly testOnly: boolean;
}

/**
 * A valueless version labelled AWSPENDING for `token`, as RotateSecret makes before the function's createSecret
 * puts a value in it; AWSPENDING leaves whichever version had it (AWSCURRENT's, after a finished rotation).
 */
export function attachPending(secret: SecretRecord, token: string, nowMs: number): SecretRecord {
  const versions: Record<string, SecretRecord["versions"][string]> = {};
  for (const [versionId, summary] of Object.entries(secret.versions)) {
    versions[versionId] = summary.stages.includes(AWSPENDING) ? { ...summary, stages: summary.stages.filter((s) => s !== AWSPENDING) } : summary;
  }
  const existing = versions[token];
  versions[token] =
    existing === undefined
      ? { stages: [AWSPENDING], createdAt: nowMs, lastAccessedDay: undefined, kmsKeyArns: [] }
      : { ...existing, stages: [...existing.stages, AWSPENDING] };
  return { ...secret, versions, lastChangedAt: nowMs };
}

/** The version a rotation left in AWSPENDING without making it current: it blocks new rotations until cleared. */
export function unfinishedPending(secret: SecretRecord): string | undefined {
  const pending = versionWithStage(secret, AWSPENDING);
  return pending !== undefined && pending !== versionWithStage(secret, AWSCURRENT) ? pending : undefined;
}

// --- The schedule index ---------------------------------------------------------------------------------------

type ScheduleEntry = SecretDueEntry;


/** Rotation settled after a successful run at `nowMs`: LastRotatedDate, and the next window counted from it. */
function rotated(secret: SecretRecord, nowMs: number): SecretRecord {
  const rotation = secret.rotation;
  if (rotation === undefined) return secret;
  const schedule = storedSchedule(rotation.rules);
  return {
    ...secret,
    rotation: { ...rotation, lastRotatedAt: nowMs, nextRotationAt: schedule === undefined ? undefined : nextRotationDate(schedule, nowMs) },
  };
}

const jobKey = (scope: Scope, name: string): string => `${scope.account}:${scope.region}:${name}`;

// --- The driver -----------------------------------------------------------------------------------------------

export interface RotationsOptions {
  readonly store: Store;
  readonly secrets: Secrets;
  readonly functions: RotationFunctions;
  readonly clock: Clock;
  readonly logger: Logger | undefined;
}

/**
 * Runs rotations in the background, one at a time per secret, and starts scheduled ones when their window opens.
 * A run re-reads the secret before every step and stops when rotation was cancelled, the secret deleted, or its
 * AWSPENDING version moved on.
 */
export class Rotations {
  private readonly running = new Map<string, { readonly controller: AbortController; readonly done: Promise<void> }>();
  /** Scheduled rotations that used up their attempts wait for the next window (as AWS, they are not retried at once). */
  private readonly retryAfter = new Map<string, number>();
  private readonly sweeper: Sweeper;
  private readonly attempts: RotationAttempts;

  constructor(private readonly options: RotationsOptions) {
    this.attempts = new RotationAttempts(options.store, options.clock);
    this.sweeper = new Sweeper(() => this.startDue(this.options.clock.now().getTime()), SWEEP_INTERVAL_MS, (error) =>
      this.options.logger?.error("rotation schedule sweep failed", { cause: error }),
      () => this.options.store.leads(),
    );
  }

  private get closed(): boolean {
    return this.sweeper.closed;
  }

  get functions(): RotationFunctions {
    return this.options.functions;
  }

  /** Once the server answers (functions call back into it): rotations that fell due while it was down, then the timer. */
  async start(endpointUrl: string): Promise<void> {
    this.options.functions.setEndpointUrl(endpointUrl);
    await this.sweeper.start();
  }

  /**
   * Starts a run for a version RotateSecret has just labelled AWSPENDING. A run still going for the secret (one
   * cancelled, or whose version was relabelled, finishing its current step) is told to stop, and this one waits for it.
   */
  begin(job: RotationJob): void {
    const key = jobKey(job.scope, job.name);
    this.retryAfter.delete(key);
    const previous = this.running.get(key);
    previous?.controller.abort();
    this.launch(job, false, previous?.done);
  }

  private launch(job: RotationJob, scheduled: boolean, after?: Promise<void>): void {
    const key = jobKey(job.scope, job.name);
    if (this.closed) return;
    const controller = new AbortController();
    const done: Promise<void> = (after ?? Promise.resolve())
      .then(() => this.drive(job, controller.signal, scheduled))
      .catch((error: unknown) => this.options.logger?.error("rotation run failed", { secret: job.arn, cause: error }))
      .finally(() => {
        if (this.running.get(key)?.done === done) this.running.delete(key);
      });
    this.running.set(key, { controller, done });
  }

  /**
   * A secret's last rotation attempts, newest first (none for another secret once made under the same name). One still
   * marked running that no driver runs any more is shown as interrupted: on a store of this process alone, one this
   * process does not run now (its driver died with an earlier process); on a shared store, where another node may be
   * running it, one older than four steps at the longest invoke time.
   */
  async lastAttempts(scope: Scope, name: string, arn: string): Promise<readonly RotationAttempt[]> {
    const attempts = await this.attempts.list(scope, name, arn);
    const nowMs = this.options.clock.now().getTime();
    const runningHere = this.running.has(jobKey(scope, name));
    const newestRunning = attempts.find((attempt) => attempt.outcome === "running");
    const alive = (attempt: RotationAttempt): boolean =>
      this.options.store.shared ? nowMs - attempt.startedAt < RUN_LIMIT_MS : runningHere && attempt === newestRunning;
    return attempts.map((attempt) => (attempt.outcome !== "running" || alive(attempt) ? attempt : { ...attempt, outcome: "interrupted" }));
  }

  /** Everything due by the clock's now; runs never overlap a sweep in progress. */
  sweep(): Promise<void> {
    return this.sweeper.run();
  }

  /** Stops the timer, cancels runs in progress (their function calls are aborted) and waits for them. */
  async close(): Promise<void> {
    const closing = this.sweeper.close();
    for (const { controller } of this.running.values()) controller.abort();
    await Promise.all([...this.running.values()].map((run) => run.done));
    await closing;
  }

  private startDue(nowMs: number): Promise<void> {
    return forEachDue<ScheduleEntry>(
      this.options.store,
      dueIndexRange("secret-rotation-schedule"),
      dueBound("secret-rotation-schedule", nowMs),
      (key, entry) => this.startDueEntry(key, entry, nowMs),
      () => this.closed,
    );
  }

  private async startDueEntry(key: string, entry: ScheduleEntry, nowMs: number): Promise<void> {
    const scope = entryScope(entry);
    const secret = await this.options.secrets.find(scope, entry.name);
    if (secret === undefined || secret.arn !== entry.arn || dueAt(secret) !== entry.due) {
      // Left behind by a change the record no longer shows (the batch that changed it wrote the new entry).
      await this.options.store.batch([{ type: "del", key }]);
      return;
    }
    const runKey = jobKey(scope, secret.name);
    // A secret scheduled for deletion keeps its entry: RestoreSecret brings the rotation back with it.
    if (secret.deletedAt !== undefined || this.running.has(runKey) || (this.retryAfter.get(runKey) ?? 0) > nowMs) return;
    try {
      await this.startScheduled(scope, secret, nowMs);
    } catch (error) {
      // One secret changed under the sweep (purged, say) must not hold up the others due.
      this.options.logger?.warn("starting a scheduled rotation failed", { secret: secret.arn, cause: error });
    }
  }

  private async startScheduled(scope: Scope, secret: SecretRecord, nowMs: number): Promise<void> {
    const lambdaArn = secret.rotation?.lambdaArn;
    if (lambdaArn === undefined) return;
    // "A previous rotation isn't complete. That rotation will be reattempted": a stuck AWSPENDING is retried as is.
    let token = unfinishedPending(secret);
    if (token === undefined) {
      const fresh = randomUUID();
      const updated = await this.options.secrets.update(scope, secret.name, (current) =>
        current.arn !== secret.arn || unfinishedPending(current) !== undefined ? { secret: current } : { secret: attachPending(current, fresh, nowMs) },
      );
      token = unfinishedPending(updated);
      if (token === undefined) return;
    }
    this.launch({ scope, name: secret.name, arn: secret.arn, token, lambdaArn, testOnly: false }, true);
  }

  private async drive(job: RotationJob, signal: AbortSignal, scheduled: boolean): Promise<void> {
    const { logger } = this.options;
    const rotationToken = randomUUID();
    if (job.testOnly) {
      if (await this.stillWanted(job)) {
        const recorded = await this.recordStart(job, scheduled, 1);
        try {
          await this.invoke(job, "testSecret", rotationToken, signal);
          await this.recordEnd(job, recorded, "succeeded");
        } catch (error) {
          logger?.warn("rotation testSecret failed", { secret: job.arn, cause: error });
          await this.recordEnd(job, recorded, "failed", "testSecret", error);
        }
      }
      try {
        await this.removeTestedVersion(job);
      } catch (error) {
        // The secret went (deleted for good) while the test ran: nothing is left to clean.
        logger?.debug("rotation test clean-up skipped", { secret: job.arn, cause: error });
      }
      return;
    }
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted || !(await this.stillWanted(job))) return;
      const recorded = await this.recordStart(job, scheduled, attempt);
      let current: RotationStep = ALL_STEPS[0] ?? "createSecret";
      try {
        for (const step of ALL_STEPS) {
          current = step;
          if (signal.aborted || !(await this.stillWanted(job))) {
            await this.recordEnd(job, recorded, "failed", step, new Error(STOPPED));
            return;
          }
          await this.invoke(job, step, rotationToken, signal);
        }
        if (await this.settle(job)) {
          await this.recordEnd(job, recorded, "succeeded");
          return;
        }
        throw new RotationStepError(`finishSecret returned, but version ${job.token} is not AWSCURRENT`);
      } catch (error) {
        await this.recordEnd(job, recorded, "failed", current, signal.aborted ? new Error(STOPPED) : error);
        if (signal.aborted) return;
        const pause = RETRY_PAUSES_MS[attempt - 1];
        logger?.warn("rotation attempt failed", { secret: job.arn, token: job.token, attempt, cause: error });
        if (pause === undefined) {
          // Left for the user to see: AWSPENDING stays on the version, NextRotationDate where it was.
          if (scheduled) this.retryAfterNextWindow(job);
          return;
        }
        if (!(await sleep(pause, signal))) return;
      }
    }
  }

  /** The attempt's record; a store that refuses the write must not stop the rotation itself (undefined: not recorded). */
  private async recordStart(job: RotationJob, scheduled: boolean, attempt: number): Promise<string | undefined> {
    try {
      return await this.attempts.start(job.scope, job.name, job.arn, { versionId: job.token, scheduled, attempt, testOnly: job.testOnly });
    } catch (error) {
      this.options.logger?.warn("recording a rotation attempt failed", { secret: job.arn, cause: error });
      return undefined;
    }
  }

  private async recordEnd(job: RotationJob, id: string | undefined, outcome: "succeeded" | "failed", step?: RotationStep, error?: unknown): Promise<void> {
    if (id === undefined) return;
    const failure = outcome === "failed" ? { step, error: error instanceof Error ? error.message : String(error) } : undefined;
    try {
      await this.attempts.finish(job.scope, job.name, job.arn, id, outcome, failure);
    } catch (cause) {
      this.options.logger?.warn("recording a rotation attempt's outcome failed", { secret: job.arn, cause });
    }
  }

  private async invoke(job: RotationJob, step: RotationStep, rotationToken: string, signal: AbortSignal): Promise<void> {
    await this.options.functions.invoke(
      job.lambdaArn,
      { Step: step, SecretId: job.arn, ClientRequestToken: job.token, RotationToken: rotationToken },
      job.scope,
      signal,
    );
  }

  /** Whether the run should go on: same secret, not deleted, rotation on, its version still pending (or already current). */
  private async stillWanted(job: RotationJob): Promise<boolean> {
    const secret = await this.options.secrets.find(job.scope, job.name);
    if (secret === undefined || secret.arn !== job.arn || secret.deletedAt !== undefined || secret.rotation?.enabled !== true) return false;
    const stages = secret.versions[job.token]?.stages ?? [];
    return stages.includes(AWSPENDING) || stages.includes(AWSCURRENT);
  }

  /** Records a finished rotation; false when the function did not make the version current. */
  private async settle(job: RotationJob): Promise<boolean> {
    const nowMs = this.options.clock.now().getTime();
    let finished = false;
    await this.options.secrets.update(job.scope, job.name, (current) => {
      finished = current.arn === job.arn && (current.versions[job.token]?.stages.includes(AWSCURRENT) ?? false);
      if (!finished) return { secret: current };
      const secret = rotated(current, nowMs);
      return { secret };
    });
    return finished;
  }

  /** After RotateImmediately=false's test: "This test creates an AWSPENDING version of the secret and then removes it." */
  private async removeTestedVersion(job: RotationJob): Promise<void> {
    await this.options.secrets.update(job.scope, job.name, (current) => {
      const summary = current.versions[job.token];
      if (current.arn !== job.arn || summary === undefined || !summary.stages.includes(AWSPENDING) || summary.stages.includes(AWSCURRENT)) {
        return { secret: current };
      }
      const versions = { ...current.versions };
      const stages = summary.stages.filter((stage) => stage !== AWSPENDING);
      // The placeholder never got a value (kmsKeyArns empty): nothing is left of it to keep.
      if (stages.length === 0 && summary.kmsKeyArns.length === 0) delete versions[job.token];
      else versions[job.token] = { ...summary, stages };
      return { secret: { ...current, versions } };
    });
  }

  private retryAfterNextWindow(job: RotationJob): void {
    const nowMs = this.options.clock.now().getTime();
    this.options.secrets.find(job.scope, job.name).then(
      (secret) => {
        const schedule = storedSchedule(secret?.rotation?.rules);
        if (schedule !== undefined) this.retryAfter.set(jobKey(job.scope, job.name), nextWindowStart(schedule, nowMs));
      },
      () => undefined,
    );
  }
}

/** Resolves true after `ms`, or false at once when the run is aborted. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
