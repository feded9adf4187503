// A loopback port free now, for servers that must be told a port (moto_server, PostgreSQL): they cannot report one they picked.
"use strict";
const net = require("node:net");

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

module.exports = { freePort };
