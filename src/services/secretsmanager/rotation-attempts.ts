// The last rotation attempts of each secret (start, end, outcome, the step that failed and its error), kept in the
// store beside the secret so every node on one store sees the same history; the console's secret page shows them.
import { randomUUID } from "node:crypto";
import { lockName, recordKey } from "../../storage/keys";
import type { Store } from "../../storage/store";
import type { Clock } from "../clock";
import type { Scope } from "../scope";
import type { RotationStep } from "./rotation-functions";

/** AWS keeps no such list (its console points at the function's logs): five is enough to see a retry pattern. */
export const ATTEMPTS_KEPT = 5;

/** "interrupted": recorded as running, but no driver runs it any more (its process stopped or was killed mid-run). */
export type RotationOutcome = "running" | "succeeded" | "failed" | "interrupted";

export interface RotationAttempt {
  readonly id: string;
  /** The version being rotated: the ClientRequestToken the function is called with. */
  readonly versionId: string;
  /** Started by the schedule rather than by RotateSecret. */
  readonly scheduled: boolean;
  /** RotateImmediately=false: only testSecret ran, and nothing was made current. */
  readonly testOnly: boolean;
  /** 1 for a run's first try, then its retries (AWS retries the whole rotation from createSecret). */
  readonly attempt: number;
  readonly startedAt: number;
  readonly endedAt?: number;
  readonly outcome: RotationOutcome;
  /** The step that was running when the attempt failed; absent when all four returned. */
  readonly failedStep?: RotationStep;
  readonly error?: string;
}

type AttemptsRecord = {
  readonly v: 1;
  /** The secret these attempts belong to: a secret made again under the same name has another ARN, and sees none of them. */
  readonly arn: string;
  /** Newest first, at most ATTEMPTS_KEPT. */
  readonly attempts: readonly RotationAttempt[];
};

export const attemptsKey = (scope: Scope, name: string): string => recordKey(scope, "secretsmanager", "secret-rotation-attempts", name);

/** The longest error kept: a function's stderr tail is already cut, this bounds what a URL target may answer. */
const ERROR_CHARS = 2000;

export class RotationAttempts {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Records an attempt as running and answers its id, for `finish`. */
  async start(scope: Scope, name: string, arn: string, fields: Pick<RotationAttempt, "versionId" | "scheduled" | "attempt" | "testOnly">): Promise<string> {
    const id = randomUUID();
    const attempt: RotationAttempt = { id, ...fields, startedAt: this.clock.now().getTime(), outcome: "running" };
    await this.change(scope, name, arn, (attempts) => [attempt, ...attempts]);
    return id;
  }

  /** Settles a running attempt; one pushed out by five newer ones is left out. */
  async finish(scope: Scope, name: string, arn: string, id: string, outcome: "succeeded" | "failed", failure?: { step: RotationStep | undefined; error: string }): Promise<void> {
    const endedAt = this.clock.now().getTime();
    await this.change(scope, name, arn, (attempts) =>
      attempts.map((attempt) =>
        attempt.id !== id
          ? attempt
          : {
              ...attempt,
              endedAt,
              outcome,
              ...(failure?.step === undefined ? {} : { failedStep: failure.step }),
              ...(failure === undefined ? {} : { error: failure.error.slice(0, ERROR_CHARS) }),
            },
      ),
    );
  }

  /** The secret's last attempts, newest first. */
  async list(scope: Scope, name: string, arn: string): Promise<readonly RotationAttempt[]> {
    const record = await this.store.get<AttemptsRecord>(attemptsKey(scope, name));
    return record === undefined || record.arn !== arn ? [] : record.attempts;
  }

  private async change(scope: Scope, name: string, arn: string, edit: (attempts: readonly RotationAttempt[]) => readonly RotationAttempt[]): Promise<void> {
    const key = attemptsKey(scope, name);
    await this.store.withLock(lockName(scope, "secretsmanager", "secret-rotation-attempts", name), async () => {
      const record = await this.store.get<AttemptsRecord>(key);
      const attempts = edit(record === undefined || record.arn !== arn ? [] : record.attempts).slice(0, ATTEMPTS_KEPT);
      const value: AttemptsRecord = { v: 1, arn, attempts };
      await this.store.batch([{ type: "put", key, value }]);
    });
  }
}
