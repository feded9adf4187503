import path from "node:path";
import { closestOption, ConfigError, parseConfig, usage } from "../../src/config";

describe("parseConfig: issue-5 options", () => {
  it("reads --seed, --audit-log and the TLS flags as absolute paths, from flags or SECRETSLITE_* variables", () => {
    const fromFlags = parseConfig(
      ["--seed", "fixtures/seed.yaml", "--audit-log", "audit.jsonl", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-ca", "ca.pem", "--tls-groups", "X25519"],
      {},
    );
    expect(fromFlags?.seedFile).toBe(path.resolve("fixtures/seed.yaml"));
    expect(fromFlags?.auditLogFile).toBe(path.resolve("audit.jsonl"));
    expect(fromFlags?.tls).toEqual({
      certFile: path.resolve("c.pem"),
      keyFile: path.resolve("k.pem"),
      selfSigned: false,
      caFile: path.resolve("ca.pem"),
      groups: "X25519",
    });
    expect(fromFlags?.cors).toBe(true);

    const fromEnv = parseConfig([], { SECRETSLITE_SEED: "s.json", SECRETSLITE_TLS: "1", SECRETSLITE_NO_CORS: "true" });
    expect(fromEnv?.seedFile).toBe(path.resolve("s.json"));
    expect(fromEnv?.tls?.selfSigned).toBe(true);
    expect(fromEnv?.cors).toBe(false);
    expect(parseConfig(["--no-cors"], {})?.cors).toBe(false);
    expect(parseConfig([], {})?.tls).toBeUndefined();
  });

  it("refuses TLS flag combinations that cannot work", () => {
    expect(() => parseConfig(["--tls-cert", "c.pem"], {})).toThrow(new ConfigError("--tls-cert and --tls-key go together"));
    expect(() => parseConfig(["--tls", "--tls-cert", "c.pem", "--tls-key", "k.pem"], {})).toThrow(ConfigError);
    expect(() => parseConfig(["--tls-ca", "ca.pem"], {})).toThrow(/need HTTPS/);
  });
});

describe("parseConfig: issue-9 options", () => {
  it("reads --allowed-hosts as lowercase names from a comma-separated list, flag or SECRETSLITE_ALLOWED_HOSTS", () => {
    expect(parseConfig([], {})?.allowedHosts).toEqual([]);
    expect(parseConfig(["--allowed-hosts", "secretslite, Vault.Team.Example.,*.team.example"], {})?.allowedHosts).toEqual([
      "secretslite",
      "vault.team.example",
      "*.team.example",
    ]);
    expect(parseConfig([], { SECRETSLITE_ALLOWED_HOSTS: "*" })?.allowedHosts).toEqual(["*"]);
    expect(parseConfig(["--allowed-hosts", "a"], { SECRETSLITE_ALLOWED_HOSTS: "b" })?.allowedHosts).toEqual(["a"]);
  });

  it("refuses --allowed-hosts entries that a Host header's name never is", () => {
    for (const entry of ["http://secretslite", "secretslite:4566", "a b", "*team.example", "team.*", "-a.example"]) {
      expect(() => parseConfig([`--allowed-hosts=${entry}`], {})).toThrow(/--allowed-hosts takes host names/);
    }
  });

  it("reads --max-connections (512 by default) as a whole number from 1", () => {
    expect(parseConfig([], {})?.maxConnections).toBe(512);
    expect(parseConfig(["--max-connections", "64"], {})?.maxConnections).toBe(64);
    expect(parseConfig([], { SECRETSLITE_MAX_CONNECTIONS: "2000" })?.maxConnections).toBe(2000);
    expect(() => parseConfig(["--max-connections", "0"], {})).toThrow(/--max-connections must be a whole number from 1/);
  });

  it("reads --strict-hsm (off by default) from the flag or SECRETSLITE_STRICT_HSM, and --help lists both", () => {
    expect(parseConfig([], {})?.strictHsm).toBe(false);
    expect(parseConfig(["--strict-hsm"], {})?.strictHsm).toBe(true);
    expect(parseConfig([], { SECRETSLITE_STRICT_HSM: "1" })?.strictHsm).toBe(true);
    expect(parseConfig([], { SECRETSLITE_STRICT_HSM: "false" })?.strictHsm).toBe(false);
    expect(() => parseConfig([], { SECRETSLITE_STRICT_HSM: "maybe" })).toThrow(new ConfigError("SECRETSLITE_STRICT_HSM must be true or false, not 'maybe'"));
    expect(usage).toMatch(/^ {2}--strict-hsm +SECRETSLITE_STRICT_HSM=1 +refuse key specs whose private keys would be used outside the token/m);
  });

  it("reads --cloudhsm-clusters as an absolute path from the flag or SECRETSLITE_CLOUDHSM_CLUSTERS, and --help lists both", () => {
    expect(parseConfig([], {})?.cloudHsmClustersFile).toBeUndefined();
    expect(parseConfig(["--cloudhsm-clusters", "clusters.yaml"], {})?.cloudHsmClustersFile).toBe(path.resolve("clusters.yaml"));
    expect(parseConfig([], { SECRETSLITE_CLOUDHSM_CLUSTERS: "/etc/c.json" })?.cloudHsmClustersFile).toBe("/etc/c.json");
    expect(usage).toMatch(/^ {2}--cloudhsm-clusters FILE +SECRETSLITE_CLOUDHSM_CLUSTERS +YAML or JSON: CloudHSM cluster id/m);
  });

  it("reads --xks-proxies as an absolute path from the flag or SECRETSLITE_XKS_PROXIES, and --help lists both", () => {
    expect(parseConfig([], {})?.xksProxiesFile).toBeUndefined();
    expect(parseConfig(["--xks-proxies", "xks.yaml"], {})?.xksProxiesFile).toBe(path.resolve("xks.yaml"));
    expect(parseConfig([], { SECRETSLITE_XKS_PROXIES: "/etc/x.json" })?.xksProxiesFile).toBe("/etc/x.json");
    expect(usage).toMatch(/^ {2}--xks-proxies FILE +SECRETSLITE_XKS_PROXIES +YAML or JSON: XksProxyUriEndpoint host/m);
  });
});

describe("parseConfig: issue-15 options (PostgreSQL store, workers)", () => {
  it("reads --store as a postgres:// URL with its password file and pool size, from flags or SECRETSLITE_* variables", () => {
    expect(parseConfig([], {})!.store).toEqual({ kind: "level" });
    const config = parseConfig(["--store", "postgres://node@db.internal:5433/secretslite", "--store-password-file", "pw", "--store-pool-size", "4"], {})!;
    expect(config.store).toEqual({ kind: "postgres", url: "postgres://node@db.internal:5433/secretslite", passwordFile: path.resolve("pw"), poolSize: 4 });
    const fromEnv = parseConfig([], { SECRETSLITE_STORE: "postgresql://node@127.0.0.1/s", SECRETSLITE_WORKERS: "3" })!;
    expect(fromEnv.store).toMatchObject({ kind: "postgres", url: "postgresql://node@127.0.0.1/s", poolSize: 10 });
    expect(fromEnv.workers).toBe(3);
    expect(usage).toContain("SECRETSLITE_STORE ");
    expect(usage).toContain("SECRETSLITE_STORE_PASSWORD_FILE");
    expect(usage).toContain("SECRETSLITE_WORKERS");
  });

  it("refuses a password in the URL, other schemes, --in-memory with a store, and workers without PostgreSQL", () => {
    expect(() => parseConfig(["--store", "postgres://node:hunter2@db/s"], {})).toThrow(/must not hold the password/);
    expect(() => parseConfig([], { SECRETSLITE_STORE: "postgres://node@db/s?password=hunter2" })).toThrow(/must not hold the password/);
    expect(() => parseConfig(["--store", "mysql://node@db/s"], {})).toThrow(/must be a postgres:\/\/ URL/);
    expect(() => parseConfig(["--store", "not a url"], {})).toThrow(/must be a postgres:\/\/ URL/);
    expect(() => parseConfig(["--in-memory", "--store", "postgres://node@db/s"], {})).toThrow(/--in-memory keeps nothing/);
    expect(() => parseConfig(["--store-pool-size", "5"], {})).toThrow(/go with --store/);
    expect(() => parseConfig(["--workers", "2"], {})).toThrow(/--workers above 1 needs --store/);
    expect(() => parseConfig(["--workers", "0", "--store", "postgres://node@db/s"], {})).toThrow(/--workers must be a whole number from 1/);
  });
});

describe("closestOption", () => {
  it("suggests the option a typo, a missing dash or a prefix meant, and nothing for a word far from every option", () => {
    expect(closestOption("--prot")).toBe("--port");
    expect(closestOption("--datadir")).toBe("--data-dir");
    expect(closestOption("--log-levle")).toBe("--log-level");
    expect(closestOption("--pkcs11")).toBe("--pkcs11-module");
    expect(closestOption("--verify-signature")).toBe("--verify-signatures");
    expect(closestOption("--xyzzy")).toBeUndefined();
  });

  it("is what parseConfig's error for an unknown option names", () => {
    expect(() => parseConfig(["--alowed-hosts", "a"], {})).toThrow(new ConfigError("unknown option --alowed-hosts (did you mean --allowed-hosts?)"));
    expect(() => parseConfig(["serve"], {})).toThrow(new ConfigError("unexpected argument 'serve': options start with --"));
    expect(parseConfig(["--version"], {})).toBeUndefined();
  });
});
