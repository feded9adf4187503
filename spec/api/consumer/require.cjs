// A CommonJS consumer of the installed package: start, reset, stop, report; it must then exit by itself.
const { start } = require("secretslite");

(async () => {
  const emulator = await start({ port: 0, inMemory: true, logLevel: "warn" });
  const health = await fetch(`${emulator.endpoint}/_secretslite/health`);
  await emulator.reset();
  await emulator.stop();
  const { endpoint, region, credentials } = emulator;
  process.stdout.write(JSON.stringify({ start: typeof start, endpoint, region, credentials, health: health.status }));
})();
