// Starts one in-memory secretslite and hands it to the tests through the environment, which the test
// workers, created after this runs, inherit. Every AWS SDK v3 client then finds it without options.
const { start } = require("secretslite");

module.exports = async function globalSetup() {
  const emulator = await start({ port: 0, inMemory: true, logLevel: "warn" });
  // globalSetup and globalTeardown run in the same process and global scope; the tests do not.
  globalThis.__SECRETSLITE__ = emulator;
  process.env.AWS_ENDPOINT_URL = emulator.endpoint;
  process.env.AWS_REGION = emulator.region;
  process.env.AWS_ACCESS_KEY_ID = emulator.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = emulator.credentials.secretAccessKey;
};
