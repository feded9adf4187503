// The console's calls: an in-memory ring of the last 1,000 answered API calls, their per-second stats, and the live stream.
import type { IncomingMessage, ServerResponse } from "node:http";
import { trailElements } from "../audit/parameters";
import type { ServiceName } from "../generated";
import type { AnsweredCall } from "../protocol/json11";

/** One answered call as the console shows it: never a secret value or a plaintext (parameters as the audit log has them). */
export interface CallEntry {
  /** Epoch ms when the request arrived. */
  readonly time: number;
  readonly service: ServiceName | undefined;
  readonly operation: string;
  /** The principal's ARN with --principals, else the access key id; undefined when the request was not signed. */
  readonly principal: string | undefined;
  /** SecretId, KeyId (or the like) as sent, when the request named one. */
  readonly resource: string | undefined;
  readonly account: string | undefined;
  readonly region: string | undefined;
  readonly status: number;
  readonly errorCode: string | undefined;
  readonly errorMessage: string | undefined;
  readonly requestId: string;
  readonly durationMs: number;
  /** trailElements of the decoded request: what CloudTrail's requestParameters shows (null when nothing). */
  readonly parameters: Record<string, unknown> | null;
}

/** Which calls a list or a stream shows: each set field must match (resource and principal by substring). */
export interface CallFilter {
  readonly service?: string | undefined;
  readonly operation?: string | undefined;
  readonly principal?: string | undefined;
  readonly resource?: string | undefined;
  readonly errorCode?: string | undefined;
}

/** One second of the stats: its start (epoch ms) and what was answered in it. */
export interface SecondStats {
  readonly second: number;
  readonly requests: number;
  readonly errors: number;
}

export const RING_SIZE = 1000;
/** Seconds the request-rate chart covers: the last 15 minutes. */
export const STATS_SECONDS = 15 * 60;
const HEARTBEAT_MS = 15_000;
/** What a stream may have waiting for a slow browser before it is closed. */
const MAX_UNSENT_BYTES = 1024 * 1024;

/**
 * The members naming the resource a call acts on, in the order tried: the first string one is the call's resource.
 * CreateSecret names its secret by Name; ReEncrypt its source key; CreateAlias/UpdateAlias by AliasName after TargetKeyId.
 */
const RESOURCE_MEMBERS = ["SecretId", "KeyId", "SourceKeyId", "TargetKeyId", "Name", "AliasName", "ResourceArn", "ARN"] as const;

function resourceOf(value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const members = value as Record<string, unknown>;
  for (const name of RESOURCE_MEMBERS) {
    const member = members[name];
    if (typeof member === "string") return member;
  }
  return undefined;
}

/** A filter from a page's or the stream's query: `service`, `operation`, `principal`, `resource`, `error`. */
export function callFilterOf(query: Readonly<Record<string, string | undefined>>): CallFilter {
  const set = (name: string): string | undefined => {
    const value = query[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  return { service: set("service"), operation: set("operation"), principal: set("principal"), resource: set("resource"), errorCode: set("error") };
}

/** The query naming a filter (the inverse of callFilterOf), empty fields left out. */
export function callFilterQuery(filter: CallFilter): Record<string, string | undefined> {
  return { service: filter.service, operation: filter.operation, principal: filter.principal, resource: filter.resource, error: filter.errorCode };
}

export function matches(entry: CallEntry, filter: CallFilter): boolean {
  if (filter.service !== undefined && entry.service !== filter.service) return false;
  if (filter.operation !== undefined && entry.operation !== filter.operation) return false;
  if (filter.principal !== undefined && !(entry.principal ?? "").includes(filter.principal)) return false;
  if (filter.resource !== undefined && !(entry.resource ?? "").includes(filter.resource)) return false;
  if (filter.errorCode !== undefined && entry.errorCode !== filter.errorCode) return false;
  return true;
}

type Listener = (entry: CallEntry) => void;

/**
 * The last RING_SIZE calls, kept whatever the audit-log setting (the endpoint's `onCall` feeds `record`). Each entry is
 * made once, when the call is answered: the decoded request goes through trailElements at once and is not kept, so a
 * secret value never stays in the ring.
 */
export class CallRing {
  private readonly entries: Array<CallEntry | undefined> = new Array<CallEntry | undefined>(RING_SIZE);
  /** How many calls were ever recorded; the next goes at total % RING_SIZE. */
  private total = 0;
  private readonly secondOf = new Float64Array(STATS_SECONDS).fill(-1);
  private readonly requestsIn = new Uint32Array(STATS_SECONDS);
  private readonly errorsIn = new Uint32Array(STATS_SECONDS);
  private readonly listeners = new Set<Listener>();
  private readonly streams = new Set<() => void>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The endpoint's onCall: `ring.record` bound, so it can be passed as is. */
  readonly record = (call: AnsweredCall): void => {
    const entry: CallEntry = {
      time: call.startedAt,
      service: call.service,
      operation: call.operation,
      principal: call.principalArn ?? call.accessKeyId,
      resource: resourceOf(call.input) ?? resourceOf(call.body),
      account: call.account,
      region: call.region,
      status: call.status,
      errorCode: call.errorCode,
      errorMessage: call.errorMessage,
      requestId: call.requestId,
      durationMs: call.durationMs,
      parameters: call.input === undefined ? null : trailElements(call.input),
    };
    this.entries[this.total % RING_SIZE] = entry;
    this.total++;
    this.count(entry);
    for (const listener of this.listeners) {
      try {
        listener(entry);
      } catch {
        // A listener is a stream to one browser: its failure is its own (the stream closes itself), never the call's.
      }
    }
  };

  private count(entry: CallEntry): void {
    const second = Math.floor(this.now() / 1000);
    const slot = second % STATS_SECONDS;
    if (this.secondOf[slot] !== second) {
      this.secondOf[slot] = second;
      this.requestsIn[slot] = 0;
      this.errorsIn[slot] = 0;
    }
    this.requestsIn[slot] = (this.requestsIn[slot] ?? 0) + 1;
    if (entry.status >= 400) this.errorsIn[slot] = (this.errorsIn[slot] ?? 0) + 1;
  }

  /** Calls ever recorded since start (the ring keeps the last RING_SIZE). */
  get recorded(): number {
    return this.total;
  }

  /** The kept calls matching `filter`, newest first, at most `limit`. */
  recent(filter: CallFilter = {}, limit = RING_SIZE): CallEntry[] {
    const out: CallEntry[] = [];
    const kept = Math.min(this.total, RING_SIZE);
    for (let i = 1; i <= kept && out.length < limit; i++) {
      const entry = this.entries[(this.total - i) % RING_SIZE];
      if (entry !== undefined && matches(entry, filter)) out.push(entry);
    }
    return out;
  }

  /** A kept call by its request id. */
  find(requestId: string): CallEntry | undefined {
    for (const entry of this.entries) if (entry?.requestId === requestId) return entry;
    return undefined;
  }

  /** Kept calls per `service:operation` matching `filter`, most called first (ties by name). */
  countsByOperation(filter: CallFilter = {}): Array<{ readonly operation: string; readonly calls: number; readonly errors: number }> {
    const counts = new Map<string, { calls: number; errors: number }>();
    for (const entry of this.recent(filter)) {
      const name = `${entry.service ?? "?"}:${entry.operation || "?"}`;
      const count = counts.get(name) ?? { calls: 0, errors: 0 };
      count.calls++;
      if (entry.status >= 400) count.errors++;
      counts.set(name, count);
    }
    return [...counts.entries()].map(([operation, count]) => ({ operation, ...count })).sort((a, b) => b.calls - a.calls || a.operation.localeCompare(b.operation));
  }

  /** The last STATS_SECONDS seconds, oldest first, the current second last; seconds without calls count zero. */
  perSecond(): SecondStats[] {
    const current = Math.floor(this.now() / 1000);
    const out: SecondStats[] = [];
    for (let second = current - STATS_SECONDS + 1; second <= current; second++) {
      const slot = second % STATS_SECONDS;
      const kept = this.secondOf[slot] === second;
      out.push({ second: second * 1000, requests: kept ? (this.requestsIn[slot] ?? 0) : 0, errors: kept ? (this.errorsIn[slot] ?? 0) : 0 });
    }
    return out;
  }

  /** Calls `listener` with each new call; returns the unsubscribe. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Ends every open stream (before the server closes: an open event stream would keep it waiting). */
  closeStreams(): void {
    for (const end of [...this.streams]) end();
  }

  /** @internal streamCalls registers its end here. */
  trackStream(end: () => void): () => void {
    this.streams.add(end);
    return () => this.streams.delete(end);
  }
}

/** What a stream's `call` event carries (JSON): the row the calls table shows, and the link to the call's detail. */
export interface CallEvent {
  readonly time: string;
  readonly service: string;
  readonly operation: string;
  readonly principal: string;
  readonly resource: string;
  readonly status: number;
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly requestId: string;
  readonly durationMs: number;
  /** The call's detail page: /_secretslite/ui/calls?request=<id>. */
  readonly detail: string;
}

export const CALLS_PATH = "/_secretslite/ui/calls";
export const CALLS_STREAM_PATH = "/_secretslite/ui/calls/stream";

export function callEvent(entry: CallEntry): CallEvent {
  return {
    time: new Date(entry.time).toISOString(),
    service: entry.service ?? "",
    operation: entry.operation,
    principal: entry.principal ?? "",
    resource: entry.resource ?? "",
    status: entry.status,
    errorCode: entry.errorCode ?? "",
    errorMessage: entry.errorMessage ?? "",
    requestId: entry.requestId,
    durationMs: entry.durationMs,
    detail: `${CALLS_PATH}?request=${encodeURIComponent(entry.requestId)}`,
  };
}

/**
 * Server-sent events for /_secretslite/ui/calls/stream: one `call` event (id = request id, data = CallEvent JSON) per new
 * call matching `filter`, a comment every 15 s so proxies and the browser keep the connection, and everything released
 * when the browser goes. A browser that reconnects with Last-Event-ID first gets the kept calls it missed.
 */
export function streamCalls(ring: CallRing, req: IncomingMessage, res: ServerResponse, filter: CallFilter): void {
  res.writeHead(200, {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-store",
    Connection: "keep-alive",
    "X-Content-Type-Options": "nosniff",
  });
  let ended = false;
  let unsubscribe: () => void = () => undefined;
  let untrack: () => void = () => undefined;
  const heartbeat = setInterval(() => res.write(": heartbeat\n\n"), HEARTBEAT_MS);
  heartbeat.unref();
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    unsubscribe();
    untrack();
    if (!res.writableEnded) res.end();
  };
  const send = (entry: CallEntry): void => {
    if (ended) return;
    // A browser that stopped reading (a background tab, a stalled link) must not make the server buffer without end:
    // the stream closes, and EventSource reconnects with Last-Event-ID and gets the kept calls it missed.
    if (res.writableLength > MAX_UNSENT_BYTES) {
      end();
      return;
    }
    res.write(`event: call\nid: ${entry.requestId}\ndata: ${JSON.stringify(callEvent(entry))}\n\n`);
  };
  // The browser's EventSource waits this long before it reconnects.
  res.write("retry: 3000\n\n");
  const lastEventId = req.headers["last-event-id"];
  if (typeof lastEventId === "string" && lastEventId !== "") {
    const missed: CallEntry[] = [];
    for (const entry of ring.recent(filter)) {
      if (entry.requestId === lastEventId) {
        for (let i = missed.length - 1; i >= 0; i--) send(missed[i] as CallEntry);
        break;
      }
      missed.push(entry);
    }
  }
  unsubscribe = ring.subscribe((entry) => {
    if (matches(entry, filter)) send(entry);
  });
  untrack = ring.trackStream(end);
  req.on("close", end);
  res.on("close", end);
  res.on("error", end);
}
