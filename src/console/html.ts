// HTML built by tagged templates that escape every interpolated value: a page can never carry markup a caller stored.

/** Markup that is already safe: made by `html`, or by `raw` for constant text written in this code. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text for an element's content or a quoted attribute value. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);

type Interpolated = Html | string | number | boolean | undefined | null | readonly Interpolated[];

function render(value: Interpolated): string {
  if (value === undefined || value === null || value === false) return "";
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

/** html`<td>${name}</td>`: strings, numbers and arrays are escaped; Html values go in as they are; undefined/null/false are nothing. */
export function html(strings: TemplateStringsArray, ...values: readonly Interpolated[]): Html {
  let text = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) text += render(values[i] as Interpolated) + (strings[i + 1] ?? "");
  return new Html(text);
}

/** Constant markup written in this code (never anything a request or the store holds). */
export const raw = (text: string): Html => new Html(text);
