// `--workers 3` under SIGKILL at random instants of start-up: the token is made once and kept, and every acknowledged
// write reads back. A few kills here; scripts/reliability/workers-kill-loop.sh runs many with the same checks.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { sharedPostgres, type PostgresCluster } from "../support/postgres";

interface Tally {
  readonly kills: number;
  readonly killedBeforeReady: number;
  readonly killedDuringWrites: number;
  readonly checks: number;
  readonly acknowledged: number;
  readonly failures: readonly string[];
}
interface WorkersKill {
  killLoop(options: { dataDir: string; storeUrl: string; kills: number; maxDelayMs?: number }): Promise<Tally>;
  firstStarts(options: { newDataDir: () => string; newStoreUrl: () => Promise<string>; count: number; maxDelayMs?: number }): Promise<Tally>;
}

// Plain JS shared with the long script, so the suite and the script run the same checks.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const workersKill = require("../../scripts/reliability/workers-kill") as WorkersKill;

describe("--workers 3 under a kill loop", () => {
  let postgres: PostgresCluster;
  const dirs: string[] = [];
  const newDataDir = (): string => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-spec-workers-kill-"));
    dirs.push(dir);
    return dir;
  };
  beforeAll(async () => {
    postgres = await sharedPostgres();
  });
  afterAll(async () => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await postgres.stop();
  });

  it("first starts on a fresh data dir killed at random instants: the next start makes or opens one token, its root key the canary's", async () => {
    const tally = await workersKill.firstStarts({ newDataDir, newStoreUrl: () => postgres.createDatabase(), count: 2 });
    expect(tally.failures).toEqual([]);
    expect(tally.checks).toBe(2);
  }, 240_000);

  it("starts and writes killed at random instants: the same token every time, every acknowledged write read back", async () => {
    // Long enough windows that some kills land after the ready line, during writes.
    const tally = await workersKill.killLoop({ dataDir: newDataDir(), storeUrl: await postgres.createDatabase(), kills: 3, maxDelayMs: 3000 });
    expect(tally.failures).toEqual([]);
    expect(tally.kills).toBe(3);
    expect(tally.checks).toBe(3);
  }, 240_000);
});
