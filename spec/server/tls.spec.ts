// HTTPS: the --tls self-signed certificate, --tls-cert/--tls-key, mutual TLS with --tls-ca, TLS 1.2 minimum, --tls-groups.
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import tls from "node:tls";
import { DecryptCommand, EncryptCommand, CreateKeyCommand } from "@aws-sdk/client-kms";
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import request from "supertest";
import { CLIS, CLI_TEST_TIMEOUT_MS } from "../support/aws-cli";
import { startCliLines } from "../support/cli-process";
import { credentials, REGION, startTestServer, type TestServer } from "../support/server";
import { cliEnv, HttpsClients, makeTestPki, run, type TestPki } from "./fixtures";
import { temporaryDirs } from "../support/files";

let pki: TestPki;
const tempDir = temporaryDirs("secretslite-spec-tls-");
beforeAll(() => {
  pki = makeTestPki();
});
afterAll(() => {
  pki.close();
});

/** Alert 40, handshake_failure: OpenSSL 3.0 names it "sslv3 alert", 3.5 "ssl/tls alert". */
const HANDSHAKE_FAILURE = expect.stringMatching(/^ERR_SSL_(SSLV3|SSL\/TLS)_ALERT_HANDSHAKE_FAILURE$/);

/** Opens a TLS connection to the server, asks for the health route, and reports the status line or the error code. */
function exchange(url: string, options: tls.ConnectionOptions): Promise<{ status?: string; protocol?: string; error?: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = tls.connect({ host: hostname, port: Number(port), ...options });
    let protocol: string | undefined;
    let data = "";
    socket.on("secureConnect", () => {
      protocol = socket.getProtocol() ?? undefined;
      // With TLS 1.3 the client's handshake completes before the server has judged its certificate:
      // only a request shows whether the server kept the connection.
      socket.write("GET /_secretslite/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    });
    socket.on("data", (chunk: Buffer) => (data += chunk.toString()));
    socket.on("end", () => resolve({ status: data.split("\r\n")[0], protocol }));
    socket.on("error", (error: NodeJS.ErrnoException) => resolve({ error: error.code }));
  });
}

async function roundTrip(clients: HttpsClients, name: string): Promise<void> {
  const secrets = clients.secretsManager();
  await secrets.send(new CreateSecretCommand({ Name: name, SecretString: "over https" }));
  expect((await secrets.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe("over https");
  const kms = clients.kms();
  const key = await kms.send(new CreateKeyCommand({}));
  const sealed = await kms.send(new EncryptCommand({ KeyId: key.KeyMetadata!.KeyId!, Plaintext: Buffer.from("sealed over https") }));
  const opened = await kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob! }));
  expect(Buffer.from(opened.Plaintext!).toString()).toBe("sealed over https");
}

describe("behaviour", () => {
  describe("--tls", () => {
    let server: TestServer;
    afterEach(async () => {
      await server?.close();
    });

    it("makes a self-signed certificate for localhost, 127.0.0.1 and ::1 in the data dir, serves SDK v3 over HTTPS with it, and reuses it on restart", async () => {
      server = await startTestServer({ flags: ["--tls"] });
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const certFile = path.join(server.dataDir, "tls", "cert.pem");
      expect(server.tlsCertificate).toBe(certFile);
      const certificate = new X509Certificate(readFileSync(certFile));
      expect(certificate.subjectAltName).toBe("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
      expect(certificate.checkIssued(certificate)).toBe(true);
      expect(statSync(path.join(server.dataDir, "tls", "key.pem")).mode & 0o777).toBe(0o600);

      const clients = new HttpsClients(server.url, { ca: readFileSync(certFile) });
      await roundTrip(clients, "tls/self-signed");
      clients.close();
      const health = await request(server.url).get("/_secretslite/health").ca(readFileSync(certFile));
      expect(health.status).toBe(200);

      // A client that does not trust the certificate is turned away: this is real TLS, not a scheme in a URL.
      const untrusting = new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 });
      await expect(untrusting.send(new GetSecretValueCommand({ SecretId: "tls/self-signed" }))).rejects.toThrow("self-signed certificate");
      untrusting.destroy();

      await server.stop();
      server = await startTestServer({ dataDir: server.dataDir, flags: ["--tls"] });
      expect(server.tlsCertificate).toBe(certFile);
      expect(new X509Certificate(readFileSync(certFile)).fingerprint256).toBe(certificate.fingerprint256);
      const again = new HttpsClients(server.url, { ca: certificate.toString() });
      expect((await again.secretsManager().send(new GetSecretValueCommand({ SecretId: "tls/self-signed" }))).SecretString).toBe("over https");
      again.close();
    });

    it.each(CLIS)("%s trusts the self-signed certificate given as --ca-bundle", async (cli) => {
      server = await startTestServer({ flags: ["--tls"] });
      const listed = await run(cli, ["kms", "list-keys", "--ca-bundle", server.tlsCertificate!, "--endpoint-url", server.url, "--output", "json"], cliEnv(tempDir()));
      expect(listed).toMatchObject({ code: 0 });
      expect(JSON.parse(listed.stdout)).toEqual({ Keys: expect.any(Array) });
    }, CLI_TEST_TIMEOUT_MS);

    it("refuses TLS 1.1 and accepts TLS 1.2 and 1.3", async () => {
      server = await startTestServer({ flags: ["--tls"] });
      const ca = readFileSync(server.tlsCertificate!);
      // SECLEVEL=0 lets this client offer TLS 1.1 at all, so the refusal seen is the server's (alert 70, protocol_version).
      expect(await exchange(server.url, { ca, minVersion: "TLSv1", maxVersion: "TLSv1.1", ciphers: "DEFAULT@SECLEVEL=0" })).toEqual({
        error: "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION",
      });
      expect(await exchange(server.url, { ca, maxVersion: "TLSv1.2" })).toEqual({ status: "HTTP/1.1 200 OK", protocol: "TLSv1.2" });
      expect(await exchange(server.url, { ca })).toEqual({ status: "HTTP/1.1 200 OK", protocol: "TLSv1.3" });
    });
  });

  it("--in-memory --tls (the built CLI) prints the certificate after the ready line and removes it at exit", async () => {
    const { child, lines, exit, stderr } = await startCliLines(path.join(__dirname, "..", "..", "bin", "secretslite.js"), ["--port", "0", "--in-memory", "--tls"], 2);
    try {
      const url = /^secretslite listening on (https:\/\/127\.0\.0\.1:\d+)$/.exec(lines[0]!)?.[1];
      const certFile = /^secretslite certificate (\S+) \(self-signed/.exec(lines[1]!)?.[1];
      expect({ url, certFile }).toEqual({ url: expect.any(String), certFile: expect.stringMatching(/secretslite-tls-.*\/tls\/cert\.pem$/) });
      expect(stderr()).toContain("TLS: made a self-signed certificate for localhost");
      const clients = new HttpsClients(url!, { ca: readFileSync(certFile!) });
      await roundTrip(clients, "tls/in-memory");
      clients.close();
      child.kill("SIGTERM");
      expect(await exit).toBe(0);
      expect(existsSync(certFile!)).toBe(false);
    } finally {
      child.kill("SIGKILL");
    }
  });

  describe("--tls-cert and --tls-key", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ flags: ["--tls-cert", pki.serverCertFile, "--tls-key", pki.serverKeyFile] });
    });
    afterAll(async () => {
      await server.close();
    });

    it("serves SDK v3 with the given certificate, trusted through an https agent's `ca`", async () => {
      expect(server.url).toMatch(/^https:/);
      expect(server.tlsCertificate).toBeUndefined();
      const clients = new HttpsClients(server.url, { ca: readFileSync(pki.caFile) });
      await roundTrip(clients, "tls/given-certificate");
      clients.close();
    });

    it.each(CLIS)("%s trusts it with --ca-bundle and with AWS_CA_BUNDLE, and refuses it with neither", async (cli) => {
      const env = cliEnv(tempDir());
      const name = `tls/cli-${path.basename(path.dirname(cli))}`;
      const endpoint = ["--endpoint-url", server.url, "--output", "json"];
      const created = await run(cli, ["secretsmanager", "create-secret", "--name", name, "--secret-string", "via cli", "--ca-bundle", pki.caFile, ...endpoint], env);
      expect(created).toMatchObject({ code: 0 });
      const read = await run(cli, ["secretsmanager", "get-secret-value", "--secret-id", name, ...endpoint], { ...env, AWS_CA_BUNDLE: pki.caFile });
      expect(read.code).toBe(0);
      expect(JSON.parse(read.stdout).SecretString).toBe("via cli");
      const refused = await run(cli, ["secretsmanager", "get-secret-value", "--secret-id", name, ...endpoint], env);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/CERTIFICATE_VERIFY_FAILED/);
    }, CLI_TEST_TIMEOUT_MS);
  });

  describe("--tls-ca (mutual TLS)", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ flags: ["--tls-cert", pki.serverCertFile, "--tls-key", pki.serverKeyFile, "--tls-ca", pki.caFile] });
    });
    afterAll(async () => {
      await server.close();
    });

    it("serves SDK v3 clients presenting a certificate the CA signed", async () => {
      const clients = new HttpsClients(server.url, { ca: readFileSync(pki.caFile), cert: readFileSync(pki.clientCertFile), key: readFileSync(pki.clientKeyFile) });
      await roundTrip(clients, "tls/mutual");
      clients.close();
    });

    it("refuses clients without a certificate, and with a certificate from another CA", async () => {
      const bare = new HttpsClients(server.url, { ca: readFileSync(pki.caFile) });
      await expect(bare.secretsManager().send(new GetSecretValueCommand({ SecretId: "tls/mutual" }))).rejects.toThrow(
        "tlsv13 alert certificate required",
      );
      bare.close();
      const ca = readFileSync(pki.caFile);
      expect(await exchange(server.url, { ca })).toEqual({ error: "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED" });
      expect(await exchange(server.url, { ca, maxVersion: "TLSv1.2" })).toEqual({ error: HANDSHAKE_FAILURE });
      const stranger = { ca, cert: readFileSync(pki.strangerCertFile), key: readFileSync(pki.strangerKeyFile) };
      // Node's server judges the chain after the handshake and destroys the socket: no alert, no response.
      expect(await exchange(server.url, stranger)).toEqual({ status: "", protocol: "TLSv1.3" });
      const strangers = new HttpsClients(server.url, stranger);
      await expect(strangers.secretsManager().send(new GetSecretValueCommand({ SecretId: "tls/mutual" }))).rejects.toThrow("socket hang up");
      strangers.close();
      const member = { ca, cert: readFileSync(pki.clientCertFile), key: readFileSync(pki.clientKeyFile) };
      expect(await exchange(server.url, member)).toMatchObject({ status: "HTTP/1.1 200 OK" });
    });
  });

  describe("--tls-groups", () => {
    it("passes the groups to OpenSSL: a client sharing none of them is refused", async () => {
      const server = await startTestServer({ flags: ["--tls", "--tls-groups", "X25519"] });
      try {
        const ca = readFileSync(server.tlsCertificate!);
        expect(await exchange(server.url, { ca, ecdhCurve: "X25519" })).toMatchObject({ status: "HTTP/1.1 200 OK" });
        expect(await exchange(server.url, { ca, ecdhCurve: "P-384" })).toEqual({ error: HANDSHAKE_FAILURE });
      } finally {
        await server.close();
      }
    });

    // Which of these two runs depends on the OpenSSL of the Node running the suite: Node 20's 3.0 lacks
    // ML-KEM; CI's current Node (OpenSSL 3.5+) runs the handshake.
    if (postQuantumAvailable()) {
      it(`negotiates X25519MLKEM768 (Node ${process.version}, OpenSSL ${process.versions.openssl}) with SDK v3 and with a client offering only it`, async () => {
        const server = await startTestServer({ flags: ["--tls", "--tls-groups", "X25519MLKEM768"] });
        try {
          const ca = readFileSync(server.tlsCertificate!);
          expect(await exchange(server.url, { ca, ecdhCurve: "X25519MLKEM768" })).toEqual({ status: "HTTP/1.1 200 OK", protocol: "TLSv1.3" });
          expect(await exchange(server.url, { ca, ecdhCurve: "X25519" })).toEqual({ error: HANDSHAKE_FAILURE });
          const clients = new HttpsClients(server.url, { ca });
          await roundTrip(clients, "tls/post-quantum");
          clients.close();
        } finally {
          await server.close();
        }
      });
    } else {
      it(`stops the start with X25519MLKEM768 on this Node's OpenSSL ${process.versions.openssl}, saying which OpenSSL it has and that 3.5+ is needed`, async () => {
        const dataDir = tempDir();
        await expect(startTestServer({ dataDir, flags: ["--tls", "--tls-groups", "X25519MLKEM768:X25519"] })).rejects.toThrow(
          `--tls-groups: X25519MLKEM768 is not known to this Node's OpenSSL (Node ${process.version} has OpenSSL ${process.versions.openssl}). ` +
            "Hybrid post-quantum groups such as X25519MLKEM768 need OpenSSL 3.5 or later",
        );
        // Checked before anything is made or opened.
        expect(existsSync(path.join(dataDir, "tls"))).toBe(false);
      });
    }
  });

  describe("bad TLS files stop the start, naming the flag and file", () => {
    it.each([
      ["a missing certificate", () => ["--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"], () => "--tls-cert /nonexistent/cert.pem: no such file"],
      ["a key of another certificate", () => ["--tls-cert", pki.serverCertFile, "--tls-key", pki.clientKeyFile], () => `--tls-cert ${pki.serverCertFile} with --tls-key ${pki.clientKeyFile}: `],
      ["a CA file that is not a certificate", () => ["--tls-cert", pki.serverCertFile, "--tls-key", pki.serverKeyFile, "--tls-ca", pki.serverKeyFile], () => `--tls-ca ${pki.serverKeyFile}: not a PEM certificate`],
    ])("%s", async (_name, flags, message) => {
      await expect(startTestServer({ dataDir: tempDir(), flags: flags() })).rejects.toThrow(message());
    });
  });
});

function postQuantumAvailable(): boolean {
  try {
    tls.createSecureContext({ ecdhCurve: "X25519MLKEM768" });
    return true;
  } catch {
    return false;
  }
}
