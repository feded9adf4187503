// worker_threads for the cryptography only JavaScript (@noble) does here: ML-DSA, Ed25519ph, and ECDSA over a given digest.

import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { MlDsaLevel } from "./key-specs";

export type NobleEcdsaCurve = "p256" | "p384" | "p521" | "secp256k1";

/**
 * One job for a worker. `secret` fields (ML-DSA and Ed25519 seeds) are moved, not copied, into the worker and
 * zeroed there after use; the caller zeroes its own copy.
 */
export type CryptoJob =
  | { readonly op: "ml-dsa-public-key"; readonly level: MlDsaLevel; readonly secret: Uint8Array }
  | { readonly op: "ml-dsa-sign"; readonly level: MlDsaLevel; readonly secret: Uint8Array; readonly message: Uint8Array; readonly externalMu: boolean }
  | {
      readonly op: "ml-dsa-verify";
      readonly level: MlDsaLevel;
      readonly publicKey: Uint8Array;
      readonly message: Uint8Array;
      readonly externalMu: boolean;
      readonly signature: Uint8Array;
    }
  | { readonly op: "ed25519ph-sign"; readonly secret: Uint8Array; readonly digest: Uint8Array }
  | { readonly op: "ed25519ph-verify"; readonly publicKey: Uint8Array; readonly digest: Uint8Array; readonly signature: Uint8Array }
  | {
      readonly op: "ecdsa-verify-digest";
      readonly curve: NobleEcdsaCurve;
      readonly publicKey: Uint8Array;
      readonly digest: Uint8Array;
      /** r ‖ s */
      readonly signature: Uint8Array;
    };

interface CryptoJobResults {
  "ml-dsa-public-key": Uint8Array;
  "ml-dsa-sign": Uint8Array;
  "ml-dsa-verify": boolean;
  "ed25519ph-sign": Uint8Array;
  "ed25519ph-verify": boolean;
  "ecdsa-verify-digest": boolean;
}

type CryptoJobResult = CryptoJobResults[keyof CryptoJobResults];

interface WorkerReply {
  readonly id: number;
  readonly result?: CryptoJobResult;
  readonly error?: string;
}

/** The @noble modules a worker may load, by file URL: a worker started from source text resolves no bare names. */
type NobleModuleUrls = Readonly<Record<"mlDsa" | "ed25519" | "edwards" | "nist" | "secp256k1", string>>;

/**
 * The body of every worker, started from its source text (`eval`): the code must run both from the TypeScript
 * sources under jest and from dist/, and a worker file of its own would exist as .js only in dist/. So this
 * function uses nothing of this module's scope, only what it requires itself, and TypeScript still checks it.
 * @noble is ESM-only: it is loaded with a real import(), which no CommonJS transform rewrites inside a string.
 */
function cryptoWorkerMain(): void {
  const { parentPort, workerData } = require("node:worker_threads") as typeof import("node:worker_threads");
  const { createHash } = require("node:crypto") as typeof import("node:crypto");
  type MlDsaModule = typeof import("@noble/post-quantum/ml-dsa.js");
  type Ed25519Module = typeof import("@noble/curves/ed25519.js");
  type EdwardsModule = typeof import("@noble/curves/abstract/edwards.js");
  type NistModule = typeof import("@noble/curves/nist.js");
  type Secp256k1Module = typeof import("@noble/curves/secp256k1.js");
  if (parentPort === null) throw new Error("cryptoWorkerMain runs only in a worker thread");
  const port = parentPort;
  const urls = (workerData as { readonly modules: NobleModuleUrls }).modules;
  const importUrl = new Function("url", "return import(url)") as (url: string) => Promise<unknown>;
  const loaded = new Map<string, Promise<unknown>>();
  const load = <T>(url: string): Promise<T> => {
    let module = loaded.get(url);
    if (module === undefined) {
      module = importUrl(url);
      loaded.set(url, module);
    }
    return module as Promise<T>;
  };

  const mlDsa = async (level: number) => {
    const module = await load<MlDsaModule>(urls.mlDsa);
    return level === 44 ? module.ml_dsa44 : level === 65 ? module.ml_dsa65 : module.ml_dsa87;
  };

  // Ed25519ph (RFC 8032 §5.1) over a SHA-512 prehash the caller already has: KMS's ED25519_PH_SHA_512 takes the
  // 64-byte PH(M) as its DIGEST, and @noble's ed25519ph would hash it once more. The same EdDSA with PH = identity.
  let ed25519phOverDigest: Promise<ReturnType<EdwardsModule["eddsa"]>> | undefined;
  const ed25519ph = () =>
    (ed25519phOverDigest ??= (async () => {
      const [{ ed25519 }, { eddsa }] = await Promise.all([load<Ed25519Module>(urls.ed25519), load<EdwardsModule>(urls.edwards)]);
      const sha512 = (data: Uint8Array): Uint8Array => new Uint8Array(createHash("sha512").update(data).digest());
      const dom2Prefix = Buffer.from("SigEd25519 no Ed25519 collisions", "latin1");
      return eddsa(ed25519.Point, sha512, {
        // RFC 8032 §5.1.5: clear the low 3 bits and the top bit, set bit 254.
        adjustScalarBytes: (bytes: Uint8Array) => {
          const clamped = new Uint8Array(bytes);
          clamped[0] = (clamped[0] ?? 0) & 248;
          clamped[31] = ((clamped[31] ?? 0) & 127) | 64;
          return clamped;
        },
        // dom2(phflag = 1, context = empty): KMS signs without a context.
        domain: (data: Uint8Array, context: Uint8Array, phflag: boolean) =>
          new Uint8Array(Buffer.concat([dom2Prefix, Buffer.of(phflag ? 1 : 0, context.length), context, data])),
        prehash: (digest: Uint8Array) => digest,
      });
    })());

  const ecdsaCurve = async (curve: string) => {
    if (curve === "secp256k1") return (await load<Secp256k1Module>(urls.secp256k1)).secp256k1;
    const nist = await load<NistModule>(urls.nist);
    return curve === "p256" ? nist.p256 : curve === "p384" ? nist.p384 : nist.p521;
  };

  const run = async (job: CryptoJob): Promise<CryptoJobResult> => {
    switch (job.op) {
      case "ml-dsa-public-key": {
        const { publicKey, secretKey } = (await mlDsa(job.level)).keygen(job.secret);
        secretKey.fill(0);
        return publicKey;
      }
      case "ml-dsa-sign": {
        const signer = await mlDsa(job.level);
        const { secretKey } = signer.keygen(job.secret);
        try {
          // Deterministic (rnd = 0, FIPS 204 §3.4): KMS's EXTERNAL_MU signature equals the RAW one for the same message.
          return job.externalMu
            ? signer.internal.sign(job.message, secretKey, { externalMu: true, extraEntropy: false })
            : signer.sign(job.message, secretKey, { extraEntropy: false });
        } finally {
          secretKey.fill(0);
        }
      }
      case "ml-dsa-verify": {
        const verifier = await mlDsa(job.level);
        return job.externalMu
          ? verifier.internal.verify(job.signature, job.message, job.publicKey, { externalMu: true })
          : verifier.verify(job.signature, job.message, job.publicKey);
      }
      case "ed25519ph-sign":
        return (await ed25519ph()).sign(job.digest, job.secret);
      case "ed25519ph-verify":
        // RFC 8032 decoding, not the laxer ZIP-215 @noble defaults to.
        return (await ed25519ph()).verify(job.signature, job.digest, job.publicKey, { zip215: false });
      case "ecdsa-verify-digest":
        // Signatures from the token are not normalised to low S, and KMS does not ask for it.
        return (await ecdsaCurve(job.curve)).verify(job.signature, job.digest, job.publicKey, { prehash: false, lowS: false, format: "compact" });
    }
  };

  port.on("message", (message: { readonly id: number; readonly job: CryptoJob }) => {
    run(message.job)
      .then(
        (result) => port.postMessage({ id: message.id, result } satisfies WorkerReply),
        (error: unknown) => {
          // @noble throws on malformed signatures and keys; a verification says false to those.
          if (message.job.op.endsWith("-verify") || message.job.op === "ecdsa-verify-digest") {
            port.postMessage({ id: message.id, result: false } satisfies WorkerReply);
          } else {
            port.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) } satisfies WorkerReply);
          }
        },
      )
      .finally(() => {
        if ("secret" in message.job) message.job.secret.fill(0);
      });
  });
}

interface PendingJob {
  readonly id: number;
  readonly job: CryptoJob;
  readonly resolve: (result: CryptoJobResult) => void;
  readonly reject: (error: Error) => void;
}

/**
 * A few workers (two at most: ML-DSA-87 signs in ~10 ms, and more threads than cores only queue in the OS),
 * started on first use. An idle worker is unref'd so it never keeps the process alive, and ref'd while it works
 * so a pending answer does.
 */
class CryptoWorkerPool {
  private readonly size = Math.max(1, Math.min(2, availableParallelism()));
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly running = new Map<Worker, PendingJob>();
  private readonly queue: PendingJob[] = [];
  private nextId = 0;
  private modules: NobleModuleUrls | undefined;

  run(job: CryptoJob): Promise<CryptoJobResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    this.idle.length = 0;
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.workers.length < this.size ? this.start() : undefined);
      if (worker === undefined) return;
      const pending = this.queue.shift();
      if (pending === undefined) {
        this.idle.push(worker);
        return;
      }
      this.running.set(worker, pending);
      worker.ref();
      const { job, transfer } = movable(pending.job);
      worker.postMessage({ id: pending.id, job }, transfer);
    }
  }

  private start(): Worker {
    this.modules ??= nobleModuleUrls();
    const worker = new Worker(`(${cryptoWorkerMain.toString()})()`, { eval: true, workerData: { modules: this.modules } });
    this.workers.push(worker);
    worker.on("message", (reply: WorkerReply) => {
      const pending = this.running.get(worker);
      this.running.delete(worker);
      worker.unref();
      this.idle.push(worker);
      if (pending !== undefined && pending.id === reply.id) {
        if (reply.error !== undefined || reply.result === undefined) pending.reject(new Error(`Crypto worker: ${reply.error ?? "no result"}`));
        else pending.resolve(reply.result);
      }
      this.dispatch();
    });
    const fail = (error: Error): void => {
      const pending = this.running.get(worker);
      this.running.delete(worker);
      this.drop(worker);
      pending?.reject(error);
      this.dispatch();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`Crypto worker exited with code ${code}`)));
    return worker;
  }

  private drop(worker: Worker): void {
    for (const list of [this.workers, this.idle]) {
      const at = list.indexOf(worker);
      if (at >= 0) list.splice(at, 1);
    }
  }
}

/**
 * The job with its secret copied into a buffer of its own, which postMessage then transfers: afterwards no copy
 * of the seed is left in this thread. (Node's small Buffers share one pooled ArrayBuffer, which must never move.)
 */
function movable(job: CryptoJob): { readonly job: CryptoJob; readonly transfer: ArrayBuffer[] } {
  if (!("secret" in job)) return { job, transfer: [] };
  const secret = new Uint8Array(job.secret);
  return { job: { ...job, secret }, transfer: [secret.buffer] };
}

function nobleModuleUrls(): NobleModuleUrls {
  const url = (specifier: string): string => pathToFileURL(require.resolve(specifier)).href;
  return {
    mlDsa: url("@noble/post-quantum/ml-dsa.js"),
    ed25519: url("@noble/curves/ed25519.js"),
    edwards: url("@noble/curves/abstract/edwards.js"),
    nist: url("@noble/curves/nist.js"),
    secp256k1: url("@noble/curves/secp256k1.js"),
  };
}

/**
 * One pool per process, made on first use: the pure verification functions have no key store to hang it on, the
 * workers hold nothing but loaded code, and one pool bounds the threads whoever asks. It never holds the process open.
 */
let sharedPool: CryptoWorkerPool | undefined;

export function runCryptoJob<J extends CryptoJob>(job: J): Promise<CryptoJobResults[J["op"]]> {
  sharedPool ??= new CryptoWorkerPool();
  return sharedPool.run(job) as Promise<CryptoJobResults[J["op"]]>;
}

/** Stops the workers (tests, and a process that wants no threads left); the next job starts new ones. */
export async function closeCryptoWorkers(): Promise<void> {
  const pool = sharedPool;
  sharedPool = undefined;
  await pool?.close();
}
