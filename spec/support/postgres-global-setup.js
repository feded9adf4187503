// jest globalSetup (e2e project): one throwaway PostgreSQL cluster for the whole run, described to the workers in
// an environment variable (spec/support/postgres.ts sharedPostgres); initdb costs seconds, once rather than per file.
// Without PostgreSQL's binaries nothing starts here: the specs that need it then fail saying how to install it.
const { describeCluster, postgresBin, SHARED_ENV, startPostgres } = require("./postgres");

module.exports = async function setup() {
  try {
    postgresBin("initdb");
  } catch {
    return;
  }
  const cluster = await startPostgres();
  process.env[SHARED_ENV] = describeCluster(cluster);
};
