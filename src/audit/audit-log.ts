// The --audit-log file: one JSON line per event, appended through a buffered writer off the request path.
import { openSync } from "node:fs";
import pino from "pino";

export class AuditLog {
  private closing: Promise<void> | undefined;

  private constructor(private readonly stream: ReturnType<typeof pino.destination>) {}

  /** Opens (or creates, mode 0600) for appending; synchronous, so a path that cannot be written stops the start. */
  static open(file: string, onError: (error: Error) => void): AuditLog {
    const fd = openSync(file, "a", 0o600);
    // Asynchronous writes coalesce while one is in flight: a request only queues its line.
    const log = new AuditLog(pino.destination({ fd, sync: false }));
    // A full disk must not take the server down: say so once and stop auditing.
    log.stream.on("error", (error: Error) => {
      if (log.failed) return;
      log.failed = true;
      onError(error);
    });
    return log;
  }

  private failed = false;

  write(event: object): void {
    if (this.closing !== undefined || this.failed) return;
    this.stream.write(JSON.stringify(event) + "\n");
  }

  /** Writes what is queued and closes the file. */
  close(): Promise<void> {
    if (this.failed) return Promise.resolve();
    this.closing ??= new Promise<void>((resolve, reject) => {
      this.stream.once("close", () => resolve());
      this.stream.once("error", reject);
      this.stream.end();
    });
    return this.closing;
  }
}
