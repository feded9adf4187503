// Process logs through pino: one JSON line per event on stderr, levelled; never given secret values or key material.
import pino from "pino";
import type { LogLevel } from "./config";

export interface Logger {
  error(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  enabled(level: LogLevel): boolean;
}

/** `write` receives each line, newline included (tests capture logs with it); stderr otherwise. */
export function createLogger(level: LogLevel, write?: (line: string) => void): Logger {
  // Synchronous writes to stderr: a few lines a second at most outside debug, and none lost when the process exits.
  const destination = write === undefined ? pino.destination({ fd: 2, sync: true }) : { write };
  const log = pino(
    {
      level,
      // pid and hostname say nothing to someone running one local emulator.
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // The fields callers put errors under; pino only knows `err` by default, and an Error stringifies to {}.
      serializers: { cause: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    destination,
  );
  const at =
    (levelName: LogLevel) =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (fields === undefined) log[levelName](message);
      else log[levelName](fields, message);
    };
  return {
    error: at("error"),
    warn: at("warn"),
    info: at("info"),
    debug: at("debug"),
    enabled: (levelName) => log.isLevelEnabled(levelName),
  };
}
