// moto_server (the Python AWS mock) as a reference point: the bench runs the same operations against it when
// it is on PATH. It listens on a port picked here (it has no "port 0"), and answers once its app is loaded.
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const http = require("node:http");
const { freePort } = require("./ports");

/** moto_server's path when it is on PATH, else undefined. */
function findMoto() {
  try {
    return execFileSync("sh", ["-c", "command -v moto_server"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Answers true once anything answers HTTP on the port. */
const answers = (port) =>
  new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/moto-api/" }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on("error", () => resolve(false));
  });

/** Starts moto_server on 127.0.0.1 and waits (up to 60 s) for it to answer. */
async function startMoto(executable) {
  const port = await freePort();
  // Its request log goes nowhere: one line per request would cost the terminal more than the bench measures.
  const child = spawn(executable, ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "ignore"] });
  let exited;
  child.once("exit", (code) => (exited = code));
  for (let waited = 0; waited < 60_000; waited += 250) {
    if (exited !== undefined) throw new Error(`moto_server exited with ${exited}`);
    if (await answers(port)) return { name: "moto_server", child, host: "127.0.0.1", port };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  child.kill("SIGTERM");
  throw new Error("moto_server did not answer within 60 s");
}

module.exports = { findMoto, startMoto };
