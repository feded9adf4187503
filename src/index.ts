// The package's programmatic entry: start secretslite in-process (tests, dev stacks).
export { startSecretslite, type RunningSecretslite, type StartOptions } from "./main";
export { parseConfig, defaults, type Config } from "./config";
export { start, DEFAULT_REGION, type Emulator, type EmulatorCredentials, type EmulatorOptions } from "./start";
