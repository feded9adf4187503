// The one source of "now" for services, schedules and sweeps; specs pass their own to move time.

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
