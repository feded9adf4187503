/** Tests run TypeScript through swc (type checking is `npm run typecheck`, part of `npm test`). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/spec"],
  testMatch: ["**/*.spec.ts"],
  transform: {
    "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022", parser: { syntax: "typescript" } } }],
    // @noble is ESM-only, and specs check the key store against it directly: jest's CommonJS registry cannot
    // load ESM, so swc turns those files into CommonJS as it does the specs. (src/ loads @noble only in workers.)
    // jose (a dev dependency: JWTs signed through KMS) is ESM-only too.
    "/node_modules/(@noble|jose)/.+\\.js$": ["@swc/jest", { jsc: { target: "es2022", parser: { syntax: "ecmascript" } }, module: { type: "commonjs" } }],
  },
  transformIgnorePatterns: ["/node_modules/(?!@noble/|jose/)"],
  testTimeout: 30000,
};
