// Starts one in-memory secretslite before Vitest creates its test workers, and stops it after the run.
import { start, type Emulator } from "secretslite";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    secretslite: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  }
}

let emulator: Emulator | undefined;

export async function setup({ provide }: TestProject): Promise<void> {
  emulator = await start({ port: 0, inMemory: true, logLevel: "warn" });
  const { endpoint, region, credentials } = emulator;
  // Tests run in other workers, which see none of this module's variables: provide() hands them plain data.
  provide("secretslite", { endpoint, region, credentials });
}

export async function teardown(): Promise<void> {
  await emulator?.stop();
}
