// Vitest with one secretslite for the whole run (Vitest 3 or newer; not run by this repository's suite).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["./global-setup.ts"],
  },
});
