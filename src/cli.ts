// The `secretslite` command: parse the config, start, print the one ready line, close cleanly on signals.
import { ConfigError, parseConfig, usage } from "./config";
import { startSecretslite } from "./main";

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  let config;
  try {
    config = parseConfig(argv, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`secretslite: ${error.message}\n\n${usage}`);
    process.exitCode = 2;
    return;
  }
  if (config === undefined) {
    process.stdout.write(usage);
    return;
  }
  let running;
  try {
    running = await startSecretslite(config);
  } catch (error) {
    process.stderr.write(`secretslite: could not start: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`secretslite listening on ${running.url}\n`);
  // After the ready line, which scripts wait for as the first line; clients need this file to trust the server.
  if (running.tlsCertificate !== undefined) {
    process.stdout.write(`secretslite certificate ${running.tlsCertificate} (self-signed for localhost, 127.0.0.1 and ::1: clients trust it as their CA bundle)\n`);
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
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
