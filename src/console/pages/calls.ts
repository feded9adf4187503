// The Calls page: recent API calls from the ring (filterable, live by server-sent events), one call's detail, counts per operation.
import { CALLS_PATH, CALLS_STREAM_PATH, callFilterOf, callFilterQuery, RING_SIZE, type CallEntry, type CallFilter, type CallRing } from "../calls";
import { html, raw, type Html } from "../html";
import type { ConsoleView, PageHandler } from "../view";

/** Rows the page shows; the stream adds new ones above them (console.js keeps at most data-stream-max rows). */
export const CALLS_SHOWN = 100;

const SERVICES: ReadonlyArray<readonly [string, string]> = [
  ["", "any service"],
  ["secretsmanager", "Secrets Manager"],
  ["kms", "KMS"],
];

/** `?a=b&c=d` of the set values, or "". */
function queryString(query: Readonly<Record<string, string | undefined>>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== "") params.set(name, value);
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

const isoTime = (time: number): string => new Date(time).toISOString();

/**
 * The calls page. Without `request`, the filter form, the counts chart and the newest CALLS_SHOWN matching calls; the
 * table's `data-stream` names the event stream of the same filter (console.js subscribes and prepends rows). With
 * `request=<id>`, that call's detail.
 */
export function callsPage(ring: CallRing): PageHandler {
  return async (view, query) => {
    const requestId = query.request;
    if (requestId !== undefined && requestId !== "") return callDetail(view, ring, requestId);
    const filter = callFilterOf(query);
    const calls = ring.recent(filter, CALLS_SHOWN);
    const counts = ring.countsByOperation(filter);
    const kept = Math.min(ring.recorded, RING_SIZE);
    const body = html`<section class="calls-page">
  ${filterForm(view, filter)}
  <h2>Calls per operation</h2>
  ${counts.length === 0 ? html`<p class="empty">No call matches.</p>` : operationChart(counts)}
  <h2>Recent calls</h2>
  <p class="summary">Showing the newest ${calls.length} matching of the ${kept} kept (the last 1,000 calls since start; ${ring.recorded} in all).</p>
  <table class="calls" data-stream="${CALLS_STREAM_PATH + queryString(callFilterQuery(filter))}" data-stream-max="${CALLS_SHOWN}">
    <thead><tr><th>Time</th><th>Service</th><th>Operation</th><th>Principal</th><th>Resource</th><th>Status</th><th>Error</th><th>ms</th><th>Request id</th></tr></thead>
    <tbody>${calls.map((call) => callRow(view, call))}</tbody>
  </table>
</section>`;
    return { title: "Calls", body };
  };
}

function filterForm(view: ConsoleView, filter: CallFilter): Html {
  const text = (name: string, label: string, value: string | undefined, placeholder: string): Html =>
    html`<label>${label} <input type="text" name="${name}" value="${value ?? ""}" placeholder="${placeholder}"></label>`;
  // A GET form replaces its action's query: the page's account and region go along as fields.
  return html`<form class="filter" method="get" action="${CALLS_PATH}">
  <input type="hidden" name="account" value="${view.account}">
  <input type="hidden" name="region" value="${view.region}">
  <label>Service <select name="service">${SERVICES.map(
    ([value, label]) => html`<option value="${value}"${filter.service === value || (value === "" && filter.service === undefined) ? raw(" selected") : ""}>${label}</option>`,
  )}</select></label>
  ${text("operation", "Operation", filter.operation, "GetSecretValue")}
  ${text("principal", "Principal", filter.principal, "ARN or access key id")}
  ${text("resource", "Resource", filter.resource, "part of a name, id or ARN")}
  ${text("error", "Error code", filter.errorCode, "ResourceNotFoundException")}
  <button type="submit">Filter</button>
  <a href="${view.href(CALLS_PATH)}">Clear</a>
</form>`;
}

function callRow(view: ConsoleView, call: CallEntry): Html {
  const failed = call.status >= 400;
  return html`<tr class="${failed ? "call-error" : "call-ok"}" data-request-id="${call.requestId}">
  <td><time datetime="${isoTime(call.time)}">${isoTime(call.time)}</time></td>
  <td>${call.service ?? ""}</td>
  <td>${call.operation}</td>
  <td>${call.principal ?? ""}</td>
  <td>${call.resource ?? ""}</td>
  <td class="status">${call.status}</td>
  <td class="error-code" title="${call.errorMessage ?? ""}">${call.errorCode ?? ""}</td>
  <td class="number">${call.durationMs.toFixed(1)}</td>
  <td><a href="${view.href(CALLS_PATH, { request: call.requestId })}">${call.requestId}</a></td>
</tr>`;
}

async function callDetail(view: ConsoleView, ring: CallRing, requestId: string): Promise<{ title: string; body: Html }> {
  const call = ring.find(requestId);
  const back = html`<p><a href="${view.href(CALLS_PATH)}">All calls</a></p>`;
  if (call === undefined) {
    return {
      title: "Call not found",
      body: html`${back}<p class="empty">No kept call has request id <code>${requestId}</code>: the console keeps the last 1,000 calls since the server started.</p>`,
    };
  }
  const row = (label: string, value: Html | string | number | undefined): Html => html`<dt>${label}</dt><dd>${value ?? "—"}</dd>`;
  const body = html`${back}
<section class="call-detail ${call.status >= 400 ? "call-error" : "call-ok"}">
  <dl>
    ${row("Request id", html`<code>${call.requestId}</code>`)}
    ${row("Time", isoTime(call.time))}
    ${row("Service", call.service)}
    ${row("Operation", call.operation)}
    ${row("Principal", call.principal)}
    ${row("Resource", call.resource)}
    ${row("Account", call.account)}
    ${row("Region", call.region)}
    ${row("HTTP status", call.status)}
    ${row("Duration (ms)", call.durationMs.toFixed(3))}
    ${row("Error code", call.errorCode)}
    ${row("Error message", call.errorMessage)}
  </dl>
  <h2>Request parameters</h2>
  <p class="note">As the audit log records them: secret values, plaintexts, ciphertexts and other blobs are left out.</p>
  <pre class="parameters">${call.parameters === null ? "null" : JSON.stringify(call.parameters, null, 2)}</pre>
</section>`;
  return { title: `${call.operation || "Call"} ${call.requestId}`, body };
}

const BAR_HEIGHT = 18;
const BAR_WIDTH = 360;
const FONT_SIZE = 12;
/**
 * The chart's text is monospace so its width is known on the server, whatever fonts the browser has: an advance of
 * 0.6em in the usual monospace faces, rounded up so a wider one still fits. The label column is as wide as the longest
 * `service:operation` ("secretsmanager:BatchGetSecretValue", "kms:GetParametersForImport"), so none is cut at the left.
 */
const CHAR_WIDTH = Math.ceil(FONT_SIZE * 0.62 * 10) / 10;
const GAP = 6;
const MONOSPACE = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace";
const textWidth = (text: string): number => Math.ceil(text.length * CHAR_WIDTH);

/** Horizontal bars, one per operation: calls in full, the failed part of each bar drawn over it (class chart-errors). */
export function operationChart(counts: ReadonlyArray<{ readonly operation: string; readonly calls: number; readonly errors: number }>): Html {
  const most = Math.max(1, ...counts.map((count) => count.calls));
  const figures = counts.map((count) => `${count.calls}${count.errors > 0 ? ` (${count.errors} failed)` : ""}`);
  const labelWidth = GAP + Math.max(0, ...counts.map((count) => textWidth(count.operation))) + GAP;
  const height = counts.length * BAR_HEIGHT + 4;
  // The figure after the longest bar must fit too.
  const width = labelWidth + BAR_WIDTH + GAP + Math.max(0, ...figures.map(textWidth)) + GAP;
  const bars = counts.map((count, i) => {
    const y = i * BAR_HEIGHT + 2;
    const full = Math.max(1, Math.round((count.calls / most) * BAR_WIDTH));
    const failed = Math.round((count.errors / most) * BAR_WIDTH);
    return html`<g class="bar" data-operation="${count.operation}">
  <title>${count.operation}: ${count.calls} calls, ${count.errors} failed</title>
  <text class="chart-label" x="${labelWidth - GAP}" y="${y + 13}" text-anchor="end">${count.operation}</text>
  <rect class="chart-calls" x="${labelWidth}" y="${y}" width="${full}" height="${BAR_HEIGHT - 4}" fill="#4a7bd0"></rect>
  ${failed > 0 ? html`<rect class="chart-errors" x="${labelWidth}" y="${y}" width="${failed}" height="${BAR_HEIGHT - 4}" fill="#d04a4a"></rect>` : ""}
  <text class="chart-figure" x="${labelWidth + full + GAP}" y="${y + 13}">${figures[i]}</text>
</g>`;
  });
  return html`<svg class="chart chart-operations" role="img" aria-label="Calls per operation" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-size="${FONT_SIZE}" font-family="${MONOSPACE}">${bars}</svg>`;
}
