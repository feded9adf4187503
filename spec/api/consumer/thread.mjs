// start() on a worker thread: SoftHSM's configuration cannot be set from there, and it must say so.
import { Worker } from "node:worker_threads";

const worker = new Worker(
  `const { start } = require("secretslite");
   start({ port: 0, inMemory: true }).then(
     (emulator) => emulator.stop().then(() => require("node:worker_threads").parentPort.postMessage("started")),
     (error) => require("node:worker_threads").parentPort.postMessage(error.message),
   );`,
  { eval: true },
);
worker.once("message", (message) => process.stdout.write(JSON.stringify({ message })));
