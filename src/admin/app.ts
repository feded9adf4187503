// The express app behind the AWS endpoint: /_secretslite/health, /_secretslite/reset, /_secretslite/backup and the console (/_secretslite/ui).
import path from "node:path";
import express, { type Express, type Request, type Router } from "express";

/** One account, one region, or one account's region; neither means everything. */
export interface ResetPartition {
  readonly account?: string;
  readonly region?: string;
}

export interface AdminState {
  /** undefined until storage and the key store are open and the seed is applied. */
  /** `leader`: on a store several nodes share, whether this node runs the cluster's timed work now (absent otherwise). */
  readonly health: () => { storage: string; keyStore: { ok: boolean; kind: string; detail: string }; leader?: boolean } | undefined;
  /** Wipes (a partition, or everything) and applies the seed again. */
  readonly reset: (partition?: ResetPartition) => Promise<void>;
  readonly version: string;
  readonly nodeVersion: string;
  /** What the start logged in its summary line (data, token, counts, seed, audit log, TLS); undefined until started. */
  readonly startup?: () => object | undefined;
  /** Writes a consistent copy of the data dir (one LevelDB snapshot + the token's files) to `dir`; undefined --in-memory. */
  readonly backup?: (dir: string) => Promise<{ records: number }>;
  /** The browser console's router (src/console/app.ts), mounted at /_secretslite/ui; absent with --no-console. */
  readonly console?: Router;
}

export function createAdminApp(state: AdminState): Express {
  const app = express();
  app.disable("x-powered-by");
  // One spelling per route, the one server.ts's guard checks: express would otherwise also match
  // /_SECRETSLITE/reset and /_secretslite/reset/ (the guard refuses those before they get here).
  app.set("case sensitive routing", true);
  app.set("strict routing", true);

  app.get("/_secretslite/health", (_req, res) => {
    const health = state.health();
    const ready = health !== undefined && health.keyStore.ok && health.storage === "open";
    // Degraded: storage refuses writes since one failed (a full disk), reads still answer. 503 like "starting",
    // so a readiness check stops sending work that would fail; the status and storage say why.
    const degraded = health !== undefined && health.storage.startsWith("degraded");
    res.status(ready ? 200 : 503).json({
      status: ready ? "ready" : degraded ? "degraded" : "starting",
      version: state.version,
      node: state.nodeVersion,
      services: ["kms", "secretsmanager"],
      storage: health?.storage ?? "opening",
      keyStore: health?.keyStore ?? { ok: false, kind: "pkcs11", detail: "opening" },
      ...(health?.leader === undefined ? {} : { leader: health.leader }),
      ...(state.startup?.() === undefined ? {} : { startup: state.startup() }),
    });
  });

  app.post("/_secretslite/reset", async (req, res) => {
    const partition = resetPartition(req);
    if (typeof partition === "string") {
      res.status(400).json({ status: "refused", message: partition });
      return;
    }
    if (state.health() === undefined) {
      res.status(503).json({ status: "starting" });
      return;
    }
    try {
      await state.reset(partition);
      res.json({ status: "reset", ...partition });
    } catch (error) {
      // A seed that no longer applies (a key it names was changed to refuse it, say) is the likely cause: say so.
      res.status(500).json({ status: "failed", message: error instanceof Error ? error.message : String(error) });
    }
  });

  // `secretslite backup DIR` posts here when this server holds the data dir's LevelDB lock (it finds us by run.json).
  app.post("/_secretslite/backup", express.json({ limit: "16kb" }), async (req, res) => {
    const dir = (req.body as { dir?: unknown } | undefined)?.dir;
    if (typeof dir !== "string" || !path.isAbsolute(dir)) {
      res.status(400).json({ status: "refused", message: 'The body must be {"dir": "/absolute/path"}: a new or empty directory for the backup.' });
      return;
    }
    if (state.backup === undefined) {
      res.status(400).json({ status: "refused", message: "An --in-memory server keeps nothing that a backup could restore." });
      return;
    }
    if (state.health() === undefined) {
      res.status(503).json({ status: "starting" });
      return;
    }
    try {
      const { records } = await state.backup(dir);
      res.json({ status: "written", dir, records });
    } catch (error) {
      res.status(500).json({ status: "failed", message: error instanceof Error ? error.message : String(error) });
    }
  });

  if (state.console !== undefined) app.use("/_secretslite/ui", state.console);

  app.use((req, res) => {
    res.status(404).json({ message: `No route for ${req.method} ${req.path}. The AWS endpoint is POST /.` });
  });

  return app;
}

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

/** The reset's `?account=&region=`, or why they are refused. */
function resetPartition(req: Request): ResetPartition | string {
  const query = req.query as Record<string, unknown>;
  const unknown = Object.keys(query).filter((name) => name !== "account" && name !== "region");
  if (unknown.length > 0) return `Unknown parameter ${unknown.join(", ")}: reset takes account and region.`;
  const { account, region } = query;
  if (account !== undefined && (typeof account !== "string" || !ACCOUNT.test(account))) {
    return `account must be one 12-digit account id, not ${JSON.stringify(account)}.`;
  }
  if (region !== undefined && (typeof region !== "string" || !REGION.test(region))) {
    return `region must be one region name such as eu-west-1, not ${JSON.stringify(region)}.`;
  }
  return { ...(account === undefined ? {} : { account }), ...(region === undefined ? {} : { region }) };
}
