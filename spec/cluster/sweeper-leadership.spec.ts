// The Sweeper's gate: its timer runs the work only while the node leads, and soon after it starts leading;
// explicit runs happen on any node.
import { Sweeper } from "../../src/services/sweeper";
import { until } from "../support/cluster";

describe("a Sweeper on a node that does not lead", () => {
  const sweepers: Sweeper[] = [];
  afterEach(async () => {
    for (const sweeper of sweepers.splice(0)) await sweeper.close();
  });

  const sweeper = (leads: () => boolean, intervalMs: number): { sweeper: Sweeper; runs: () => number } => {
    let runs = 0;
    const made = new Sweeper(
      async () => {
        runs++;
      },
      intervalMs,
      (error) => {
        throw error;
      },
      leads,
    );
    sweepers.push(made);
    return { sweeper: made, runs: () => runs };
  };

  it("runs nothing at start or on its timer until the node leads, then runs the work without waiting an interval", async () => {
    let leading = false;
    // An interval far longer than the test: a run can only come from the takeover path.
    const { sweeper: follower, runs } = sweeper(() => leading, 3_600_000);
    await follower.start();
    expect(runs()).toBe(0);
    // Explicit runs (a reset's replica sweep, a lookup's sweep of due keys) are not gated.
    await follower.run();
    expect(runs()).toBe(1);
    // Several ticks (one a second) pass while following: still no timer run.
    await new Promise((wake) => setTimeout(wake, 2_200));
    expect(runs()).toBe(1);
    leading = true;
    await until(async () => runs() === 2, "a run once the node leads");
  });

  it("runs at start and on its timer on a node that leads", async () => {
    const { sweeper: leader, runs } = sweeper(() => true, 100);
    await leader.start();
    expect(runs()).toBe(1);
    await until(async () => runs() >= 3, "timer runs");
  });
});
