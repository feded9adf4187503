// Restarting a spec's server on its own data dir, and looking at its files while it is stopped.
import { startTestServer, type TestServer, type TestServerOptions } from "./server";

export interface Restarts {
  /** Starts the server again on its data dir (and store) with `options`; `onStart` gets the new one. */
  restart(): Promise<void>;
  /** Runs `look` on the stopped server's files, then starts it again on them (even when `look` fails). */
  whileStopped<T>(look: () => Promise<T>): Promise<T>;
}

export function restarts(current: () => TestServer, options: () => TestServerOptions, onStart: (server: TestServer) => void): Restarts {
  const restart = async (): Promise<void> => onStart(await startTestServer({ ...options(), dataDir: current().dataDir }));
  return {
    restart,
    async whileStopped(look) {
      await current().stop();
      try {
        return await look();
      } finally {
        await restart();
      }
    },
  };
}
