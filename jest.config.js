/**
 * Tests run TypeScript through swc (type checking is `npm run typecheck`, part of `npm test`).
 *
 * Two projects, one run: `npm test` (and plain `npx jest`) runs both; `npm run test:unit` only the first.
 * - unit: specs that start no server (no listening socket at all), spawn no process and open no SoftHSM token:
 *   pure logic over src/ functions, node:crypto and in-process stores. Seconds, not minutes.
 * - e2e: everything else: the SDK clients against a started server, the CLI, the token, the package, the docs' examples.
 * The unit specs are named here rather than renamed (`*.unit.spec.ts`): src/ and docs/ cite spec paths, and the
 * spec directories are edited on several branches at once. A spec missing from the list runs as e2e, which only
 * makes it slower to reach, never skipped.
 */
const UNIT_SPECS = [
  "spec/cli/config.spec.ts",
  "spec/crypto/public-key-operations.spec.ts",
  "spec/docs/links.spec.ts",
  "spec/iam/evaluate.spec.ts",
  "spec/iam/policy.spec.ts",
  "spec/iam/public.spec.ts",
  "spec/kms/key-metadata.spec.ts",
  "spec/kms/key-specs.spec.ts",
  "spec/kms/key-usability.spec.ts",
  "spec/protocol/validate.spec.ts",
  "spec/storage/store.contract.spec.ts",
  "spec/storage/write-guard.spec.ts",
];

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const unitPathPatterns = UNIT_SPECS.map((file) => `<rootDir>/${escape(file)}$`);

const shared = {
  rootDir: __dirname,
  testEnvironment: "node",
  roots: ["<rootDir>/spec"],
  transform: {
    "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022", parser: { syntax: "typescript" } } }],
    // @noble is ESM-only, and specs check the key store against it directly: jest's CommonJS registry cannot
    // load ESM, so swc turns those files into CommonJS as it does the specs. (src/ loads @noble only in workers.)
    // jose (a dev dependency: JWTs signed through KMS) is ESM-only too.
    "/node_modules/(@noble|jose)/.+\\.js$": ["@swc/jest", { jsc: { target: "es2022", parser: { syntax: "ecmascript" } }, module: { type: "commonjs" } }],
  },
  transformIgnorePatterns: ["/node_modules/(?!@noble/|jose/)"],
};

module.exports = {
  testTimeout: 30000,
  projects: [
    { ...shared, displayName: "unit", testMatch: UNIT_SPECS.map((file) => `<rootDir>/${file}`) },
    {
      ...shared,
      displayName: "e2e",
      // One throwaway PostgreSQL cluster per run for the PostgreSQL store's specs (spec/support/postgres.ts).
      globalSetup: "<rootDir>/spec/support/postgres-global-setup.js",
      globalTeardown: "<rootDir>/spec/support/postgres-global-teardown.js",
      testMatch: ["**/*.spec.ts"],
      testPathIgnorePatterns: ["/node_modules/", ...unitPathPatterns],
    },
  ],
};
