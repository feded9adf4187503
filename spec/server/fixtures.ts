// Helpers for the server specs: a throwaway PKI made with the openssl CLI, SDK v3 clients over HTTPS, CLI runs with a chosen env.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { KMSClient } from "@aws-sdk/client-kms";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { credentials, REGION } from "../support/server";

const EXTENSIONS = `[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
`;

export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** A client certificate from another CA, which mutual TLS must refuse. */
  readonly strangerCertFile: string;
  readonly strangerKeyFile: string;
  close(): void;
}

/** A CA with a server certificate for 127.0.0.1/localhost and a client certificate, plus a stranger CA's client certificate. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-spec-pki-"));
  const file = (name: string): string => path.join(dir, name);
  writeFileSync(file("ext.cnf"), EXTENSIONS);
  writeFileSync(file("req.cnf"), "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n");
  const openssl = (...args: string[]): void => {
    execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  };
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  const ca = (name: string): void => {
    openssl("req", "-new", "-config", "req.cnf", ...newKey, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    openssl("x509", "-req", "-in", `${name}.csr`, "-key", `${name}.key`, "-days", "2", "-extfile", "ext.cnf", "-extensions", "ca", "-out", `${name}.pem`);
  };
  const leaf = (name: string, cn: string, signer: string, extensions: "server" | "client"): void => {
    openssl("req", "-new", "-config", "req.cnf", ...newKey, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`);
    openssl("x509", "-req", "-in", `${name}.csr`, "-CA", `${signer}.pem`, "-CAkey", `${signer}.key`, "-CAcreateserial",
      "-days", "2", "-extfile", "ext.cnf", "-extensions", extensions, "-out", `${name}.pem`);
  };
  ca("ca");
  ca("stranger-ca");
  leaf("server", "localhost", "ca", "server");
  leaf("client", "test-client", "ca", "client");
  leaf("stranger", "stranger", "stranger-ca", "client");
  return {
    dir,
    caFile: file("ca.pem"),
    serverCertFile: file("server.pem"),
    serverKeyFile: file("server.key"),
    clientCertFile: file("client.pem"),
    clientKeyFile: file("client.key"),
    strangerCertFile: file("stranger.pem"),
    strangerKeyFile: file("stranger.key"),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** SDK v3 clients whose https agent trusts `agentOptions.ca` (and presents a client certificate when given one). */
export class HttpsClients {
  private readonly agent: https.Agent;
  private readonly clients: Array<{ destroy(): void }> = [];

  constructor(private readonly endpoint: string, agentOptions: https.AgentOptions) {
    this.agent = new https.Agent(agentOptions);
  }

  private config() {
    // The options form of NodeHttpHandler (@smithy/node-http-handler), which the client constructs itself.
    return { endpoint: this.endpoint, region: REGION, credentials, maxAttempts: 1, requestHandler: { httpsAgent: this.agent } };
  }

  secretsManager(): SecretsManagerClient {
    const client = new SecretsManagerClient(this.config());
    this.clients.push(client);
    return client;
  }

  kms(): KMSClient {
    const client = new KMSClient(this.config());
    this.clients.push(client);
    return client;
  }

  close(): void {
    for (const client of this.clients) client.destroy();
    this.agent.destroy();
  }
}

export interface ProcessResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command with exactly `env` (plus PATH and HOME): endpoint and CA-bundle variables are what these specs vary. */
export function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<ProcessResult> {
  return new Promise((resolve) => {
    execFile(command, args, { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr });
    });
  });
}

/** The environment every `aws` run gets here: test credentials, no config or credentials files of the developer's. */
export function cliEnv(workDir: string): NodeJS.ProcessEnv {
  writeFileSync(path.join(workDir, "config"), "");
  writeFileSync(path.join(workDir, "credentials"), "");
  return {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_DEFAULT_REGION: REGION,
    AWS_CONFIG_FILE: path.join(workDir, "config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(workDir, "credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PAGER: "",
  };
}

/** `aws --version` → [major, minor, patch]. */
export function cliVersion(cli: string): [number, number, number] {
  const out = execFileSync(cli, ["--version"], { encoding: "utf8", env: { PATH: process.env.PATH, HOME: process.env.HOME } });
  const match = /aws-cli\/(\d+)\.(\d+)\.(\d+)/.exec(out);
  if (match === null) throw new Error(`${cli} --version printed '${out}'`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** Configured endpoints (AWS_ENDPOINT_URL and the per-service variables) came in CLI 1.29.0 and 2.13.0. */
export function readsEndpointVariables([major, minor]: [number, number, number]): boolean {
  return major === 1 ? minor >= 29 : major === 2 ? minor >= 13 : major > 2;
}

/** A port on 127.0.0.1 with nothing listening: an endpoint that can only fail if a client goes there. */
export async function deadEndpoint(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
