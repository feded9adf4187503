// A clock the test moves by hand: servers read it for every request and every schedule sweep.
import type { Clock } from "../../src/services/clock";

export class TestClock implements Clock {
  constructor(public ms: number) {}
  now(): Date {
    return new Date(this.ms);
  }
}
