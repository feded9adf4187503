// Slow and idle clients: SDK calls keep their latency beside them, they are cut after the headers timeout, and --max-connections caps them.
import net from "node:net";
import { CreateSecretCommand, GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { credentials, REGION, startTestServer, type TestServer } from "../support/server";

interface HeldSocket {
  readonly socket: net.Socket;
  readonly opened: number;
  /** ms after opening; undefined while open. */
  closedAfter: number | undefined;
  received: string;
}

/** Connects and resolves once the connection is up; `behave` then makes it idle or slow. */
function open(port: number, behave: (socket: net.Socket) => void = () => undefined): Promise<HeldSocket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const held: HeldSocket = { socket, opened: Date.now(), closedAfter: undefined, received: "" };
    socket.on("data", (chunk: Buffer) => (held.received += chunk.toString()));
    socket.on("error", () => undefined);
    socket.on("close", () => (held.closedAfter = Date.now() - held.opened));
    socket.once("connect", () => {
      behave(socket);
      resolve(held);
    });
    socket.once("error", reject);
  });
}

/** Slowloris: a request line, then one more header line every second, never the blank line that ends them. */
const slowloris = (socket: net.Socket): void => {
  socket.write("GET /_secretslite/health HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  let n = 0;
  const timer = setInterval(() => {
    if (socket.destroyed) clearInterval(timer);
    else socket.write(`X-Slow-${n++}: x\r\n`);
  }, 1000);
  socket.on("close", () => clearInterval(timer));
};

/** A complete keep-alive request; resolves with the answer's status line once it came. */
const oneRequest = (held: HeldSocket): Promise<string> => {
  held.socket.write("GET /_secretslite/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  return waitFor(() => (held.received.includes("\r\n\r\n") ? held.received.split("\r\n", 1)[0] : undefined), 5000);
};

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((wake) => setTimeout(wake, 50));
  }
}

const percentile = (values: number[], p: number): number => [...values].sort((a, b) => a - b)[Math.ceil((p / 100) * values.length) - 1]!;

describe("behaviour", () => {
  it("serves SDK calls at their usual latency beside 48 idle and slowloris sockets, and cuts those after the headers timeout (with TLS, the handshake's)", async () => {
    const server: TestServer = await startTestServer({ flags: ["--max-connections", "64"] });
    // Idle sockets that never start their TLS handshake: the same bound, from the handshake timeout.
    const tlsServer: TestServer = await startTestServer({ flags: ["--tls"] });
    const held: HeldSocket[] = [];
    try {
      for (let i = 0; i < 4; i++) held.push(await open(tlsServer.port));
      for (let i = 0; i < 24; i++) held.push(await open(server.port), await open(server.port, slowloris));
      const client = new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 });
      const latencies: number[] = [];
      // Three callers at once, 20 calls each: writes and reads.
      await Promise.all(
        [0, 1, 2].map(async (worker) => {
          for (let call = 0; call < 20; call++) {
            const started = performance.now();
            if (call % 4 === 0) await client.send(new CreateSecretCommand({ Name: `slow/${worker}/${call}`, SecretString: "v" }));
            else if (call % 4 === 1) await client.send(new GetSecretValueCommand({ SecretId: `slow/${worker}/${call - 1}` }));
            else await client.send(new ListSecretsCommand({ MaxResults: 5 }));
            latencies.push(performance.now() - started);
          }
        }),
      );
      client.destroy();
      expect(latencies).toHaveLength(60);
      // A liveness bound, not a benchmark: on an idle machine these take a few milliseconds each.
      expect(percentile(latencies, 95)).toBeLessThan(1000);
      // The slow sockets were all still held while the calls ran.
      expect(held.filter((h) => h.closedAfter !== undefined)).toEqual([]);

      // Headers not complete within 10 s: 408 and closed, at the next once-a-second check.
      await waitFor(() => (held.every((h) => h.closedAfter !== undefined) ? true : undefined), 20_000);
      for (const h of held) {
        expect(h.closedAfter).toBeGreaterThanOrEqual(9_000);
        expect(h.closedAfter).toBeLessThan(16_000);
      }
      // Plain HTTP ones are told why; a socket that never spoke TLS is only closed.
      for (const h of held.slice(4)) expect(h.received).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      for (const h of held) h.socket.destroy();
      await server.close();
      await tlsServer.close();
    }
  }, 40_000);

  it("closes connections beyond --max-connections at once, and serves again when one goes", async () => {
    const server = await startTestServer({ flags: ["--max-connections", "8"] });
    const held: HeldSocket[] = [];
    try {
      // Each answered, so each is really accepted and held (keep-alive) before the next.
      for (let i = 0; i < 8; i++) {
        const socket = await open(server.port);
        held.push(socket);
        expect(await oneRequest(socket)).toBe("HTTP/1.1 200 OK");
      }
      const beyond = await open(server.port, (socket) => socket.write("GET /_secretslite/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
      await waitFor(() => beyond.closedAfter, 2000);
      expect(beyond.received).toBe("");
      expect(held.filter((h) => h.closedAfter !== undefined)).toEqual([]);

      held[0]!.socket.destroy();
      await waitFor(() => held[0]!.closedAfter, 2000);
      // The server sees the close a moment after the client does.
      await new Promise((wake) => setTimeout(wake, 200));
      const again = await open(server.port);
      held.push(again);
      expect(await oneRequest(again)).toBe("HTTP/1.1 200 OK");
    } finally {
      for (const h of held) h.socket.destroy();
      await server.close();
    }
  });
});
