// docs/docker.md and its examples, which need Docker and so cannot run here: linted against the Dockerfile and
// the CLI (the Testcontainers example is examples/testcontainers, run by spec/docs/testcontainers.spec.ts).
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { parseConfig, usage } from "../../src/config";
import { execForm, parseDockerfile } from "./dockerfile";
import { composeSchemaErrors, type ComposeFile } from "../support/compose-schema";

const ROOT = path.join(__dirname, "..", "..");
const EXAMPLES = path.join(ROOT, "docs", "examples");
const COMPOSE_FILE = path.join(EXAMPLES, "docker-compose.yml");
const guide = readFileSync(path.join(ROOT, "docs", "docker.md"), "utf8");

const dockerfile = parseDockerfile(readFileSync(path.join(ROOT, "Dockerfile"), "utf8"));
const runtime = dockerfile.stages[dockerfile.stages.length - 1]!;
const imageHealthcheck = execForm(runtime.instructions.find((i) => i.keyword === "HEALTHCHECK")!.rest.replace(/^CMD\s+/, ""));
const exposedPort = runtime.instructions.find((i) => i.keyword === "EXPOSE")!.rest.split(/[\s/]/)[0]!;

const knownVariable = (name: string): boolean => usage.includes(` ${name}`);

describe("docs/examples/docker-compose.yml", () => {
  const compose = parseYaml(readFileSync(COMPOSE_FILE, "utf8")) as ComposeFile;
  const secretslite = compose.services.secretslite!;
  const app = compose.services.app!;

  it("builds the image from this checkout and publishes the exposed port", () => {
    expect(existsSync(path.join(path.dirname(COMPOSE_FILE), secretslite.build!, "Dockerfile"))).toBe(true);
    expect(path.resolve(path.dirname(COMPOSE_FILE), secretslite.build!)).toBe(path.resolve(ROOT));
    // On the host's loopback only: it accepts any credentials, so other machines must not reach it.
    expect(secretslite.ports).toEqual([`127.0.0.1:${exposedPort}:${exposedPort}`]);
  });

  it("is a valid Compose file by the compose-spec JSON schema", () => {
    expect(composeSchemaErrors(compose)).toEqual([]);
    // The schema does catch mistakes: a misspelt service key.
    expect(composeSchemaErrors({ services: { secretslite: { ...secretslite, port: secretslite.ports } } })).not.toEqual([]);
  });

  it("passes --allowed-hosts with the service name the app calls it by, in flags the CLI accepts", () => {
    const config = parseConfig(secretslite.command ?? [], {});
    const calledAs = new URL(app.environment!.AWS_ENDPOINT_URL!).hostname;
    expect(Object.keys(compose.services)).toContain(calledAs);
    expect(config?.allowedHosts).toContain(calledAs);
  });

  it("keeps /data in a named volume it declares", () => {
    const mount = secretslite.volumes!.find((volume) => volume.endsWith(":/data"));
    expect(mount).toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(mount!.split(":")[0]);
  });

  it("checks health with the image's own check, which dockerfile.spec.ts runs against a live server", () => {
    expect(secretslite.healthcheck!.test).toEqual(["CMD", ...imageHealthcheck!]);
    for (const name of Object.keys(secretslite.environment ?? {})) expect([name, knownVariable(name)]).toEqual([name, true]);
  });

  it("starts the app once secretslite is healthy and points it there with AWS_ENDPOINT_URL", () => {
    expect(app.depends_on?.secretslite?.condition).toBe("service_healthy");
    // Inside the compose network the service name is the host and the container port is the port.
    expect(app.environment?.AWS_ENDPOINT_URL).toBe(`http://secretslite:${exposedPort}`);
  });
});

describe("docs/docker.md", () => {
  it("shows the example files exactly as they are in docs/examples", () => {
    expect(guide).toContain("```yaml\n" + readFileSync(COMPOSE_FILE, "utf8") + "```");
  });

  it("names only environment variables the CLI reads", () => {
    const names = [...new Set(guide.match(/\bSECRETSLITE_[A-Z_]+/g))];
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect([name, knownVariable(name)]).toEqual([name, true]);
  });

  it("runs the image with the exposed port, /data as the volume, and flags the CLI accepts", () => {
    const commands = [...guide.matchAll(/^docker run (?:.*\\\n)*.*$/gm)].map((m) => m[0].replace(/\\\n/g, " "));
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      const words = command.split(/\s+/);
      const image = words.indexOf("secretslite:local");
      expect([command, image]).toEqual([command, expect.any(Number)]);
      expect(image).toBeGreaterThan(0);
      const publish = words[words.indexOf("-p") + 1] ?? "";
      expect([command, publish.endsWith(`:${exposedPort}`)]).toEqual([command, true]);
      // Only a throwaway container may leave its state in an anonymous volume.
      const mountsData = words.some((word, i) => words[i - 1] === "-v" && i < image && /:\/data$/.test(word));
      expect([command, mountsData || words.slice(image + 1).includes("--in-memory")]).toEqual([command, true]);
      expect(() => parseConfig(words.slice(image + 1), {})).not.toThrow();
    }
  });
});
