// jest globalTeardown (e2e project): stops the run's PostgreSQL cluster and removes its directory.
const { SHARED_ENV, stopShared } = require("./postgres");

module.exports = async function teardown() {
  const description = process.env[SHARED_ENV];
  if (description === undefined || description === "") return;
  delete process.env[SHARED_ENV];
  await stopShared(description);
};
