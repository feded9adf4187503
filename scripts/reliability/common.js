// What the reliability scripts beside this file share: starting a secretslite launcher and waiting for its ready
// line, stopping it, and the credentials their SDK clients sign with (the server does not check them by default).
"use strict";
const { spawn } = require("node:child_process");

const credentials = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };

/**
 * Starts `launcher` (bin/secretslite.js or one made for another build) with this node and `args`. Resolves
 * { url, child, stderr() } at the ready line, or { code, signal, stderr() } (no url) when it exits first: a start
 * that fails is what some scripts measure, so it is an answer, not an error.
 */
function startCli(launcher, args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [launcher, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      // Up to the newline, so a URL split across two chunks is never taken half-read.
      const match = /listening on (\S+)\n/.exec(stdout);
      if (match) resolve({ url: match[1], child, stderr: () => stderr });
    });
    child.once("exit", (code, signal) => resolve({ code, signal, stderr: () => stderr }));
  });
}

const exited = (child) => child.exitCode !== null || child.signalCode !== null;

/** SIGTERM, resolved once the process has exited (at once if it already had). */
const stopCli = (running) =>
  new Promise((resolve) => {
    if (exited(running.child)) return resolve();
    running.child.once("exit", resolve);
    running.child.kill("SIGTERM");
  });

module.exports = { credentials, exited, startCli, stopCli };
