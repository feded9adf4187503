// Jest with one secretslite for the whole run: started before the test workers, stopped after them.
/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  testEnvironment: "node",
  globalSetup: "<rootDir>/global-setup.js",
  globalTeardown: "<rootDir>/global-teardown.js",
  testMatch: ["<rootDir>/**/*.test.js"],
};
