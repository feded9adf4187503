// The Overview page: health, version, data location, token, uptime, accounts and regions in use, and the request rate chart.
import { BACKING_KEY_SPECS } from "../../crypto/key-specs";
import type { BackingKeySpec, MaterialLocation } from "../../crypto/key-store";
import type { CallRing, SecondStats } from "../calls";
import { html, type Html } from "../html";
import type { ConsoleView, PageHandler } from "../view";

/** One account's region that holds anything, with what it holds (counted as ListKeys and ListSecrets would). */
export interface PartitionCounts {
  readonly account: string;
  readonly region: string;
  readonly kmsKeys: number;
  readonly secrets: number;
}

/** What the overview shows that no API operation answers: the server's own facts (main.ts wires them). */
export interface OverviewFacts {
  /** As the admin app's AdminState.health: undefined until storage and the token are open and the seed applied. */
  health(): { readonly storage: string; readonly keyStore: { readonly ok: boolean; readonly kind: string; readonly detail: string } } | undefined;
  readonly version: string;
  readonly nodeVersion: string;
  /** The data directory, or "in memory". */
  readonly dataLocation: string;
  /** The token holding the root key as an operator finds it (its label), and where each key spec's material is used. */
  readonly token: { readonly label: string; supports(spec: BackingKeySpec): MaterialLocation | undefined };
  /** When the server started (uptime is counted from it). */
  readonly startedAt: Date;
  /** The account/regions holding KMS keys or secrets, with their counts. */
  partitions(): Promise<readonly PartitionCounts[]>;
}

/** Seconds per point of the rate chart: 90 points over 15 minutes. */
const POINT_SECONDS = 10;

function uptime(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return `${days > 0 ? `${days}d ` : ""}${hours}h ${minutes}m ${seconds % 60}s`;
}

/** The readiness word /_secretslite/health answers for the same facts. */
function status(health: ReturnType<OverviewFacts["health"]>): "ready" | "degraded" | "starting" {
  if (health === undefined) return "starting";
  if (health.keyStore.ok && health.storage === "open") return "ready";
  return health.storage.startsWith("degraded") ? "degraded" : "starting";
}

export function overviewPage(facts: OverviewFacts, ring: CallRing, now: () => number = Date.now): PageHandler {
  return async (view) => {
    const health = facts.health();
    const state = status(health);
    const partitions = [...(await facts.partitions())].sort((a, b) => a.account.localeCompare(b.account) || a.region.localeCompare(b.region));
    const inToken = BACKING_KEY_SPECS.filter((spec) => facts.token.supports(spec) === "token");
    const inNode = BACKING_KEY_SPECS.filter((spec) => facts.token.supports(spec) === "node");
    const seconds = ring.perSecond();
    const requests = seconds.reduce((sum, second) => sum + second.requests, 0);
    const errors = seconds.reduce((sum, second) => sum + second.errors, 0);
    const body = html`<section class="overview">
  <dl class="facts">
    <dt>Health</dt><dd class="health health-${state}">${state}${health === undefined ? "" : html` (storage ${health.storage}; ${health.keyStore.kind} ${health.keyStore.ok ? "ok" : "not ok"}: ${health.keyStore.detail})`}</dd>
    <dt>Version</dt><dd>secretslite ${facts.version} on Node ${facts.nodeVersion}</dd>
    <dt>Data</dt><dd><code>${facts.dataLocation}</code></dd>
    <dt>Token</dt><dd><code>${facts.token.label}</code></dd>
    <dt>Key specs in the token</dt><dd class="specs-token">${inToken.join(", ") || "none"}</dd>
    <dt>Key specs used in Node</dt><dd class="specs-node">${inNode.join(", ") || "none"}</dd>
    <dt>Uptime</dt><dd>${uptime(now() - facts.startedAt.getTime())} (since <time datetime="${facts.startedAt.toISOString()}">${facts.startedAt.toISOString()}</time>)</dd>
  </dl>
  <h2>Accounts and regions in use</h2>
  ${partitions.length === 0 ? html`<p class="empty">No KMS key or secret in any account.</p>` : partitionTable(view, partitions)}
  <h2>Requests, last 15 minutes</h2>
  <p class="summary">${requests} requests, ${errors} failed (${requests === 0 ? "0" : ((errors / requests) * 100).toFixed(1)} % errors); ${(requests / seconds.length).toFixed(2)} per second on average.</p>
  ${rateChart(seconds)}
</section>`;
    return { title: "Overview", body };
  };
}

function partitionTable(view: ConsoleView, partitions: readonly PartitionCounts[]): Html {
  return html`<table class="partitions">
  <thead><tr><th>Account</th><th>Region</th><th>KMS keys</th><th>Secrets</th></tr></thead>
  <tbody>${partitions.map(
    (p) => html`<tr${p.account === view.account && p.region === view.region ? html` class="current"` : ""}>
    <td>${p.account}</td><td>${p.region}</td>
    <td class="number"><a href="${view.href("/_secretslite/ui/keys", { account: p.account, region: p.region })}">${p.kmsKeys}</a></td>
    <td class="number"><a href="${view.href("/_secretslite/ui/secrets", { account: p.account, region: p.region })}">${p.secrets}</a></td>
  </tr>`,
  )}</tbody>
</table>`;
}

const CHART_WIDTH = 720;
const CHART_HEIGHT = 160;
const PAD = 30;

/**
 * Requests per second (line, class chart-requests) and errors per second (line, class chart-errors), each point the
 * average over POINT_SECONDS, oldest left; the y axis is labelled with its top value.
 */
export function rateChart(seconds: readonly SecondStats[]): Html {
  const points: Array<{ requests: number; errors: number }> = [];
  for (let i = 0; i < seconds.length; i += POINT_SECONDS) {
    const slice = seconds.slice(i, i + POINT_SECONDS);
    points.push({
      requests: slice.reduce((sum, second) => sum + second.requests, 0) / slice.length,
      errors: slice.reduce((sum, second) => sum + second.errors, 0) / slice.length,
    });
  }
  const top = Math.max(1, ...points.map((point) => point.requests));
  const x = (i: number): string => (PAD + (i * (CHART_WIDTH - 2 * PAD)) / Math.max(1, points.length - 1)).toFixed(1);
  const y = (value: number): string => (CHART_HEIGHT - PAD - (value / top) * (CHART_HEIGHT - 2 * PAD)).toFixed(1);
  const line = (pick: (point: { requests: number; errors: number }) => number): string => points.map((point, i) => `${x(i)},${y(pick(point))}`).join(" ");
  return html`<svg class="chart chart-rate" role="img" aria-label="Requests and errors per second over the last 15 minutes" xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" font-size="11">
  <line x1="${PAD}" y1="${CHART_HEIGHT - PAD}" x2="${CHART_WIDTH - PAD}" y2="${CHART_HEIGHT - PAD}" stroke="#888"></line>
  <line x1="${PAD}" y1="${PAD}" x2="${PAD}" y2="${CHART_HEIGHT - PAD}" stroke="#888"></line>
  <text x="${PAD - 4}" y="${PAD + 4}" text-anchor="end">${top.toFixed(top < 10 ? 1 : 0)}</text>
  <text x="${PAD - 4}" y="${CHART_HEIGHT - PAD + 4}" text-anchor="end">0</text>
  <text x="${PAD}" y="${CHART_HEIGHT - 8}">15 min ago</text>
  <text x="${CHART_WIDTH - PAD}" y="${CHART_HEIGHT - 8}" text-anchor="end">now</text>
  <polyline class="chart-requests" fill="none" stroke="#4a7bd0" stroke-width="2" points="${line((point) => point.requests)}"></polyline>
  <polyline class="chart-errors" fill="none" stroke="#d04a4a" stroke-width="2" points="${line((point) => point.errors)}"></polyline>
  <text x="${CHART_WIDTH - PAD}" y="${PAD - 10}" text-anchor="end"><tspan fill="#4a7bd0">requests/s</tspan> <tspan fill="#d04a4a">errors/s</tspan></text>
</svg>`;
}
