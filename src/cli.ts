// The `secretslite` command: parse the config, start, print the one ready line, close cleanly on signals.
import path from "node:path";
import { ConfigError, defaults, parseConfig, usage } from "./config";
import { packageVersion, startSecretslite } from "./main";
import { cloneToken, TokenCloneError } from "./crypto/token-clone";
import { backupDataDir } from "./storage/backup";
import { DataDirError } from "./storage/data-dir-check";
import { repairDataDir } from "./storage/repair";
import { runWorkers } from "./workers";
import { xksProxyCommand, xksProxyUsage } from "./xks/command";

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  if (argv[0] === "repair" || argv[0] === "backup") {
    process.exitCode = await dataDirCommand(argv[0], argv.slice(1));
    return;
  }
  if (argv[0] === "token") {
    process.exitCode = await tokenCommand(argv.slice(1));
    return;
  }
  if (argv[0] === "xks-proxy") {
    process.exitCode = await xksProxyCommand(argv.slice(1), process.env);
    return;
  }
  if (argv.includes("--version") && !argv.includes("--help")) {
    process.stdout.write(`secretslite ${packageVersion()}\n`);
    return;
  }
  let config;
  try {
    config = parseConfig(argv, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // One line and where to look, not the 40 lines of --help that would push the mistake off the screen.
    process.stderr.write(`secretslite: ${error.message}; secretslite --help lists the options\n`);
    process.exitCode = 2;
    return;
  }
  if (config === undefined) {
    process.stdout.write(`${usage}\n${commandUsage}\n${xksProxyUsage}`);
    return;
  }
  // Files this process creates, LevelDB's from native code included, are for its user alone (the data dir's
  // modes: src/storage/private-dir.ts). Safe here: this process is secretslite's own.
  process.umask(0o077);
  if (config.workers > 1) {
    // The primary forks and supervises; each worker runs this same command line into src/workers.ts, which starts it.
    await runWorkers(config);
    return;
  }
  let running;
  try {
    running = await startSecretslite(config);
  } catch (error) {
    process.stderr.write(`secretslite: could not start: ${(error as Error).message}\n`);
    // Exit now rather than when the loop drains: a start that failed half-way may hold a module or a timer, and a
    // CLI that hangs after saying it could not start looks to a supervisor like one that started. (stderr is
    // synchronous for files and pipes on Linux, so the message is out.)
    process.exit(1);
  }
  const stop = (signal: NodeJS.Signals): void => {
    process.stderr.write(`secretslite: ${signal}, closing\n`);
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`secretslite: close failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  // Before the lines below: a script may signal as soon as it reads the ready line, and must get a clean close.
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);

  process.stdout.write(`secretslite listening on ${running.url}\n`);
  // After the ready line, which scripts wait for as the first line; clients need this file to trust the server.
  if (running.tlsCertificate !== undefined) {
    process.stdout.write(`secretslite certificate ${running.tlsCertificate} (self-signed for localhost, 127.0.0.1 and ::1: clients trust it as their CA bundle)\n`);
  }
  // For the admin routes, which need it with --verify-signatures (also in <data dir>/run.json while it runs).
  process.stdout.write(`secretslite admin token ${running.adminToken}\n`);
}

export const commandUsage = `Usage: secretslite repair [--data-dir DIR]
       secretslite backup DIR [--data-dir DATA]
       secretslite token clone DIR [--data-dir DATA]

  repair   copies DIR/db aside (db.damaged-TIME), keeps what checksums vouch for, runs LevelDB's repair,
           and lists what it could not recover; exit code 1 if anything was lost. Stop the server first.
  backup   writes a consistent copy of the data dir (one LevelDB snapshot and the token's files) into the new
           or empty DIR, which then starts as a data dir: secretslite --data-dir DIR. Asks the running server
           (found by DATA/run.json) to write it, or opens DATA itself when no server runs.
  token clone
           copies the token of DATA (the root key, its PIN file included) into DIR/token, DIR new or empty, so
           that another node sharing DATA's store starts on it with the same root key:
           secretslite --data-dir DIR --store postgres://… (a --token-label token is not secretslite's to copy:
           give each node that token's PKCS#11 library and label). Safe while a server runs on DATA.
  --data-dir (or SECRETSLITE_DATA_DIR) as for the server (${defaults.dataDir}).
`;

/** `secretslite repair` and `secretslite backup DIR`: the exit code (0 done, 1 failed or data lost, 2 usage). */
async function dataDirCommand(command: "repair" | "backup", args: readonly string[]): Promise<number> {
  const positionals = args.filter((arg, i) => !arg.startsWith("-") && args[i - 1] !== "--data-dir");
  let config;
  try {
    if (args.includes("--help")) {
      process.stdout.write(commandUsage);
      return 0;
    }
    if (positionals.length !== (command === "backup" ? 1 : 0)) throw new ConfigError(command === "backup" ? "backup takes one DIR" : "repair takes no arguments but --data-dir");
    const flags = args.filter((arg) => !positionals.includes(arg));
    if (flags.some((arg, i) => arg.startsWith("-") && arg !== "--data-dir" && !arg.startsWith("--data-dir=") && flags[i - 1] !== "--data-dir")) {
      throw new ConfigError(`${command} takes only --data-dir`);
    }
    config = parseConfig(flags, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`secretslite ${command}: ${error.message}\n\n${commandUsage}`);
    return 2;
  }
  if (config === undefined) return 0;
  process.umask(0o077);
  try {
    if (command === "repair") {
      const report = await repairDataDir(config.dataDir);
      for (const line of report.lines) process.stdout.write(`secretslite repair: ${line}\n`);
      return report.lost ? 1 : 0;
    }
    const tokenHome = config.pkcs11.tokenLabel === undefined ? path.join(config.dataDir, "token") : undefined;
    const result = await backupDataDir(config.dataDir, tokenHome, positionals[0]!);
    process.stdout.write(
      `secretslite backup: ${result.records} records${tokenHome === undefined ? "" : " and the token"} of ${config.dataDir} written to ${result.dir}` +
        ` (${result.via === "server" ? "by the running server" : "directly"}); it starts as a data dir: secretslite --data-dir ${result.dir}\n`,
    );
    return 0;
  } catch (error) {
    const message = error instanceof DataDirError ? error.message : (error as Error).message;
    process.stderr.write(`secretslite ${command}: ${message}\n`);
    return 1;
  }
}

/** `secretslite token clone DIR`: the exit code (0 done, 1 refused or failed, 2 usage), as for backup. */
async function tokenCommand(args: readonly string[]): Promise<number> {
  const usageError = (message: string): number => {
    process.stderr.write(`secretslite token: ${message}\n\n${commandUsage}`);
    return 2;
  };
  if (args.includes("--help")) {
    process.stdout.write(commandUsage);
    return 0;
  }
  if (args[0] !== "clone") return usageError(args[0] === undefined ? "give a subcommand: token clone DIR" : `unknown subcommand '${args[0]}': token clone DIR`);
  const rest = args.slice(1);
  // The user's own token (--token-label) lives in their HSM, outside any data dir; refused before parsing, which
  // would otherwise ask for its PIN, and a PIN has no business on this command line.
  if (rest.some((arg) => arg === "--token-label" || arg.startsWith("--token-label=")) || process.env.SECRETSLITE_TOKEN_LABEL !== undefined) {
    process.stderr.write(
      "secretslite token clone: a --token-label token is the user's own HSM token, not ours to copy; " +
        "give each node that token's PKCS#11 library (--pkcs11-module) and label (--token-label)\n",
    );
    return 1;
  }
  const positionals = rest.filter((arg, i) => !arg.startsWith("-") && rest[i - 1] !== "--data-dir");
  if (positionals.length !== 1) return usageError("token clone takes one DIR");
  const flags = rest.filter((arg) => !positionals.includes(arg));
  if (flags.some((arg, i) => arg.startsWith("-") && arg !== "--data-dir" && !arg.startsWith("--data-dir=") && flags[i - 1] !== "--data-dir")) {
    return usageError("token clone takes only --data-dir");
  }
  let config;
  try {
    config = parseConfig(flags, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return usageError(error.message);
  }
  if (config === undefined) return 0;
  process.umask(0o077);
  try {
    const result = await cloneToken(config.dataDir, positionals[0]!);
    process.stdout.write(
      `secretslite token clone: the token of ${config.dataDir} copied to ${path.join(result.dir, "token")}: ${result.files.join(", ")}\n` +
        `secretslite token clone: ${result.dir} holds the token's PIN file: keep it for the node's user alone (0700), move it to the node, ` +
        `and start it there on the cluster's store: secretslite --data-dir ${result.dir} --store postgres://USER@HOST:PORT/DB\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`secretslite token clone: ${error instanceof TokenCloneError ? error.message : (error as Error).message}\n`);
    return 1;
  }
}
