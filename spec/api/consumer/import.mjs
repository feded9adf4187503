// An ES module consumer of the installed package: two instances at once, the shared token directory
// watched in TMPDIR as they stop; the process must then exit by itself.
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { start } from "secretslite";

const tokenDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith("secretslite-")).length;
const health = async (emulator) => (await fetch(`${emulator.endpoint}/_secretslite/health`)).status;

const [first, second] = await Promise.all([
  start({ port: 0, inMemory: true, logLevel: "warn" }),
  start({ port: 0, inMemory: true, logLevel: "warn" }),
]);
const report = { start: typeof start, region: first.region, whileBoth: tokenDirs(), health: [await health(first), await health(second)] };
await first.stop();
report.afterFirstStop = tokenDirs();
report.secondHealthAfterFirstStop = await health(second);
await second.stop();
report.afterBothStop = tokenDirs();
process.stdout.write(JSON.stringify(report));
