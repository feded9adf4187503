// Small pieces the secrets and keys pages share: dates, JSON, tags, hidden inputs that keep the account/region, inline section errors.
import { html, type Html } from "../html";
import type { ConsoleView } from "../view";

/** The console's mount point: links are made from it with view.href so they keep the account and region. */
export const UI = "/_secretslite/ui";

/** A date from an operation's answer (a Date; epoch seconds or an ISO string tolerated) as UTC text, or "—". */
export function when(value: unknown): string {
  if (value === undefined || value === null) return "—";
  const date = value instanceof Date ? value : typeof value === "number" ? new Date(value * 1000) : new Date(String(value));
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString().replace(".000Z", "Z");
}

export const dateCell = (value: unknown): Html => (value === undefined || value === null ? html`<span class="muted">—</span>` : html`<time>${when(value)}</time>`);

/** A policy document indented for reading; text that is not JSON is shown as given. */
export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** Bytes from an answer: the API's operations give Uint8Array (a Buffer in Node); base64 text is accepted too. */
export function bytesOf(value: unknown): Buffer {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === "string") return Buffer.from(value, "base64");
  return Buffer.alloc(0);
}

export interface TagLike {
  readonly Key?: string | undefined;
  readonly Value?: string | undefined;
  readonly TagKey?: string | undefined;
  readonly TagValue?: string | undefined;
}

/** Tags of either service's shape (Secrets Manager Key/Value, KMS TagKey/TagValue) as a list of chips. */
export function tagList(tags: readonly TagLike[] | undefined): Html {
  if (tags === undefined || tags.length === 0) return html`<span class="muted">—</span>`;
  return html`<ul class="tags">${tags.map((tag) => html`<li><span class="tag-key">${tag.Key ?? tag.TagKey}</span>=<span class="tag-value">${tag.Value ?? tag.TagValue}</span></li>`)}</ul>`;
}

/**
 * A GET form's fields replace its action's query, so the account and region that view.href puts in a link are
 * repeated as hidden inputs (whatever names the router gives them).
 */
export function hiddenScope(view: ConsoleView, path: string): Html {
  const url = new URL(view.href(path), "http://console.invalid");
  return html`${[...url.searchParams].map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}`;
}

/** The API's error code and message, for a part of a page that failed while the rest could be shown. */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${typeof code === "string" ? code : error.name}: ${error.message}`;
  }
  return String(error);
}

export const sectionError = (error: unknown): Html => html`<p class="error" role="alert">${errorText(error)}</p>`;

/** Runs a call whose failure should only blank its own section (say a rotation status on an asymmetric key). */
export async function attempt<T>(call: () => Promise<T>): Promise<{ readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown }> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A page size from the query: the API's 1–100, 100 when absent or not a number. */
export function pageSize(text: string | undefined): number {
  const size = Number.parseInt(text ?? "", 10);
  return Number.isInteger(size) && size >= 1 ? Math.min(size, 100) : 100;
}
