// Where SoftHSM looks for its configuration: SOFTHSM2_CONF in the real process environment, read at C_Initialize.

import { isMainThread } from "node:worker_threads";

/**
 * SoftHSM reads SOFTHSM2_CONF with getenv() once, at C_Initialize, from the real process environment.
 * Jest runs each test file with its own `process` whose env is a plain copy, so writing there would
 * never reach SoftHSM. Buffer comes from the host realm, so its Function constructor evaluates in the
 * host's global scope, where `process` is the real one; in plain Node this is simply `process`.
 */
export const hostProcess = (Buffer.constructor as FunctionConstructor)("return process")() as NodeJS.Process;

/** Points SoftHSM at `softhsmConfigPath` (or its default when undefined) for the next C_Initialize in this process. */
export function setSoftHsmConfigEnvironment(softhsmConfigPath: string | undefined): void {
  // A worker thread's process.env is its own copy whatever we do, and C_Initialize is per process anyway.
  if (!isMainThread) {
    throw new Error(
      "secretslite's own SoftHSM token must be opened on the main thread: SoftHSM reads SOFTHSM2_CONF from the " +
        "process environment, which a worker thread cannot set (start secretslite in a global setup, or use a " +
        "test runner pool of processes rather than threads)",
    );
  }
  for (const env of new Set([hostProcess.env, process.env])) {
    if (softhsmConfigPath === undefined) delete env.SOFTHSM2_CONF;
    else env.SOFTHSM2_CONF = softhsmConfigPath;
  }
}

/** The SOFTHSM2_CONF that SoftHSM will read (see setSoftHsmConfigEnvironment). */
export function softHsmConfigEnvironment(): string | undefined {
  return hostProcess.env.SOFTHSM2_CONF;
}
