// examples/cluster (PostgreSQL, two nodes, nginx), which needs Docker and so cannot run here: validated against the
// compose-spec schema and linted against the Dockerfile, the CLI's flags and the token clone command.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { commandUsage } from "../../src/cli";
import { parseConfig, usage } from "../../src/config";
import { envPairs, execForm, parseDockerfile } from "../package/dockerfile";
import { composeSchemaErrors, type ComposeFile as Compose, type ComposeService as Service } from "../support/compose-schema";

const ROOT = path.join(__dirname, "..", "..");
const EXAMPLE = path.join(ROOT, "examples", "cluster");
const composeText = readFileSync(path.join(EXAMPLE, "compose.yaml"), "utf8");
const nginxConf = readFileSync(path.join(EXAMPLE, "nginx.conf"), "utf8");
const guide = readFileSync(path.join(EXAMPLE, "README.md"), "utf8");

const dockerfile = parseDockerfile(readFileSync(path.join(ROOT, "Dockerfile"), "utf8"));
const runtime = dockerfile.stages[dockerfile.stages.length - 1]!;
const imageHealthcheck = execForm(runtime.instructions.find((i) => i.keyword === "HEALTHCHECK")!.rest.replace(/^CMD\s+/, ""))!;
const imageEnv = new Map(runtime.instructions.filter((i) => i.keyword === "ENV").flatMap((i) => envPairs(i.rest)));
const imagePort = imageEnv.get("SECRETSLITE_PORT")!;
const imageDataDir = imageEnv.get("SECRETSLITE_DATA_DIR")!;

const compose = parseYaml(composeText) as Compose;
const service = (name: string): Service => {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`examples/cluster/compose.yaml has no service ${name}`);
  return found;
};
/** The services that run secretslite as a server: the image's entrypoint with server flags. */
const nodes = Object.entries(compose.services).filter(([, s]) => s.image === "secretslite:local" && s.command?.[0] !== "token");
const postgres = service("postgres");
const balancer = service("balancer");
const tokenClone = service("token-clone");
/** `volume:/target` → { volume, target } for a service's named-volume mounts. */
const mounts = (s: Service) => (s.volumes ?? []).map((spec) => ({ volume: spec.split(":")[0]!, target: spec.split(":")[1]! }));
const dataVolume = (s: Service): string | undefined => mounts(s).find((m) => m.target === imageDataDir)?.volume;

// The flags below exist only once the PostgreSQL store is in src/config.ts; until then the rest of each node's
// command line is still parsed, so a renamed flag among them fails here.
const STORE_FLAGS = ["--store", "--store-password-file"];
const storeFlagsKnown = STORE_FLAGS.every((flag) => usage.includes(`${flag} `));
const withoutStoreFlags = (args: readonly string[]): string[] => args.filter((arg, i) => !STORE_FLAGS.includes(arg) && !STORE_FLAGS.includes(args[i - 1] ?? ""));
const flagValue = (args: readonly string[], flag: string): string | undefined => {
  const at = args.indexOf(flag);
  return at === -1 ? undefined : args[at + 1];
};

describe("examples/cluster/compose.yaml", () => {
  it("is a valid Compose file by the compose-spec JSON schema, which does catch mistakes", () => {
    expect(composeSchemaErrors(compose)).toEqual([]);
    // Negative controls: a misspelt service key, and a healthcheck with an unknown member.
    expect(composeSchemaErrors({ ...compose, services: { ...compose.services, balancer: { ...balancer, port: balancer.ports } } })).not.toEqual([]);
    expect(composeSchemaErrors({ ...compose, services: { postgres: { ...postgres, healthcheck: { tests: ["CMD", "true"] } } } })).not.toEqual([]);
  });

  it("runs PostgreSQL from the official image, its password from a secret file, its data in a named volume", () => {
    expect(postgres.image).toMatch(/^postgres:\d+/);
    expect(postgres.environment?.POSTGRES_PASSWORD).toBeUndefined();
    expect(postgres.environment?.POSTGRES_PASSWORD_FILE).toBe("/run/secrets/pgpassword");
    expect(postgres.secrets).toEqual(["pgpassword"]);
    expect(compose.secrets?.pgpassword?.file).toBe("./secrets/pgpassword");
    // The secret file is made by the user, never committed.
    expect(readFileSync(path.join(EXAMPLE, ".gitignore"), "utf8").split("\n")).toContain("secrets/");
    const data = mounts(postgres).find((m) => m.target === "/var/lib/postgresql/data");
    expect(Object.keys(compose.volumes ?? {})).toContain(data?.volume);
    expect(postgres.healthcheck?.test.slice(0, 2)).toEqual(["CMD", "pg_isready"]);
  });

  it("runs two secretslite nodes built from this checkout, each on its own data volume, once PostgreSQL is healthy", () => {
    expect(nodes.map(([name]) => name)).toEqual(["node-a", "node-b"]);
    for (const [name, node] of nodes) {
      expect([name, path.resolve(EXAMPLE, node.build ?? "")]).toEqual([name, ROOT]);
      expect(existsSync(path.join(ROOT, "Dockerfile"))).toBe(true);
      expect([name, node.depends_on?.postgres?.condition]).toEqual([name, "service_healthy"]);
      expect([name, Object.keys(compose.volumes ?? {}).includes(dataVolume(node) ?? "")]).toEqual([name, true]);
      // Published by the balancer only.
      expect([name, node.ports]).toEqual([name, undefined]);
      // The image's own health check (GET /_secretslite/health), which spec/package/dockerfile.spec.ts runs against a live server.
      expect([name, node.healthcheck?.test]).toEqual([name, ["CMD", ...imageHealthcheck]]);
      expect(imageHealthcheck.join(" ")).toContain("/_secretslite/health");
    }
    expect(new Set(nodes.map(([, node]) => dataVolume(node))).size).toBe(nodes.length);
    // node-a's first start makes the token; node-b must never start first and make the cluster's root key its own.
    expect(service("node-b").depends_on?.["node-a"]?.condition).toBe("service_healthy");
  });

  it("starts each node with flags the CLI accepts: every interface, the balancer's name allowed, the store in PostgreSQL", () => {
    for (const [name, node] of nodes) {
      const args = node.command ?? [];
      expect([name, node.command]).toEqual([name, service("node-a").command]);
      const config = parseConfig(storeFlagsKnown ? args : withoutStoreFlags(args), {});
      expect(config).toBeDefined();
      expect(config!.host).toBe("0.0.0.0");
      expect(config!.allowedHosts).toEqual(["balancer"]);
      expect(Object.keys(compose.services)).toContain("balancer");

      const url = new URL(flagValue(args, "--store") ?? "");
      expect(url.protocol).toBe("postgres:");
      expect(url.password).toBe("");
      expect(url.hostname).toBe("postgres");
      expect(url.port).toBe("5432");
      expect(url.username).toBe(postgres.environment?.POSTGRES_USER);
      expect(url.pathname).toBe(`/${postgres.environment?.POSTGRES_DB}`);
      // The password file is the compose secret the node is given, mounted where compose mounts secrets.
      expect(flagValue(args, "--store-password-file")).toBe("/run/secrets/pgpassword");
      expect(node.secrets).toEqual(["pgpassword"]);
      // No password anywhere else a `docker inspect` or `ps` shows.
      expect(Object.keys(node.environment ?? {}).filter((variable) => /PASSWORD|PGPASS/i.test(variable))).toEqual([]);
      if (storeFlagsKnown) {
        const store = (config as unknown as { store: { kind: string; url: string; passwordFile?: string } }).store;
        expect(store.kind).toBe("postgres");
        expect(new URL(store.url).hostname).toBe("postgres");
        expect(store.passwordFile).toBe("/run/secrets/pgpassword");
      }
    }
  });

  it("provisions node-b once with `secretslite token clone` from node-a's data volume into node-b's", () => {
    expect(tokenClone.profiles).toEqual(["provision"]);
    expect(path.resolve(EXAMPLE, tokenClone.build ?? "")).toBe(ROOT);
    expect(tokenClone.image).toBe("secretslite:local");
    const args = tokenClone.command ?? [];
    expect(args.slice(0, 2)).toEqual(["token", "clone"]);
    expect(commandUsage).toContain("secretslite token clone DIR [--data-dir DATA]");
    const [dir, ...flags] = args.slice(2);
    // DIR is where node-b's data volume is mounted, DATA where node-a's is.
    const mounted = new Map(mounts(tokenClone).map((m) => [m.target, m.volume]));
    expect(mounted.get(dir!)).toBe(dataVolume(service("node-b")));
    const config = parseConfig(flags, {});
    expect(mounted.get(config!.dataDir)).toBe(dataVolume(service("node-a")));
    // DIR is the image's /data: a new volume there belongs to the image's user, who can write the clone.
    expect(dir).toBe(imageDataDir);
    expect(tokenClone.depends_on?.["node-a"]?.condition).toBe("service_healthy");
  });

  it("puts nginx round-robin over exactly the nodes, on one port published on loopback, passing the client's Host", () => {
    expect(balancer.image).toMatch(/^nginx:/);
    expect(mounts(balancer)).toContainEqual({ volume: "./nginx.conf", target: "/etc/nginx/nginx.conf" });
    const upstream = /upstream\s+(\S+)\s*\{([^}]*)\}/.exec(nginxConf);
    expect(upstream).not.toBeNull();
    const servers = [...upstream![2]!.matchAll(/^\s*server\s+([^\s;]+)/gm)].map((m) => m[1]);
    expect(servers).toEqual(nodes.map(([name]) => `${name}:${imagePort}`));
    // No `least_conn`, `hash`, `ip_hash`, …: round-robin is nginx's default.
    expect(upstream![2]).not.toMatch(/^\s*(least_conn|ip_hash|hash|random)\b/m);
    expect(nginxConf).toContain(`proxy_pass http://${upstream![1]};`);
    const listen = /^\s*listen\s+(\d+);/m.exec(nginxConf)?.[1];
    expect(balancer.ports).toEqual([`127.0.0.1:${imagePort}:${listen}`]);
    // SigV4 signs Host, and --allowed-hosts checks it: nginx must not replace it with the upstream's name.
    expect(nginxConf).toMatch(/^\s*proxy_set_header Host \$http_host;/m);
    for (const [name] of nodes) expect([name, balancer.depends_on?.[name]?.condition]).toEqual([name, "service_healthy"]);
    expect(balancer.healthcheck?.test.join(" ")).toContain(`http://127.0.0.1:${listen}/_secretslite/health`);
  });
});

describe("examples/cluster/README.md", () => {
  it("runs the provisioning steps in order, with services and the secret file the compose file has", () => {
    const shell = [...guide.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).join("\n");
    const lines = shell.split("\n");
    const steps = ["docker compose up -d --wait postgres node-a", "docker compose run --rm token-clone", "docker compose up -d --wait"];
    const at = steps.map((step) => lines.indexOf(step));
    expect(at.every((index) => index >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(shell).toContain(`> ${compose.secrets!.pgpassword!.file!.replace(/^\.\//, "")}`);
    for (const [, services] of shell.matchAll(/docker compose (?:up -d --wait|run --rm|rm --stop --force|logs) ([\w -]+)$/gm)) {
      for (const name of services!.trim().split(/\s+/)) expect([name, name in compose.services]).toEqual([name, true]);
    }
    // The volume name it removes is the one compose makes: <project name>_<volume>, the project named after the directory.
    const project = path.basename(EXAMPLE);
    expect(shell).toContain(`docker volume rm ${project}_${dataVolume(service("node-b"))}`);
  });
});
