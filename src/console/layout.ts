// The frame of every console page: navigation, the account/region switch, who is signed in, and the logout form.
import { html, type Html } from "./html";
import type { ConsolePage, ConsoleUser } from "./view";
import { CONSOLE_PATH } from "./session";

export interface Frame {
  readonly account: string;
  readonly region: string;
  readonly csrfToken: string | undefined;
  readonly user: ConsoleUser | undefined;
  /** The nav entry to mark current (a path segment). */
  readonly current: string | undefined;
  readonly href: (path: string, query?: Readonly<Record<string, string | undefined>>) => string;
  /** Under --enforce-auth the account is the principal's: the switch offers the region only. */
  readonly accountFixed: boolean;
}

const NAV: ReadonlyArray<readonly [segment: string, label: string]> = [
  ["overview", "Overview"],
  ["secrets", "Secrets"],
  ["keys", "KMS keys"],
  ["calls", "Calls"],
  ["actions", "Actions"],
];

function who(user: ConsoleUser | undefined): Html | string {
  if (user === undefined || user.kind === "open") return "no sign-in needed (signatures are not verified)";
  if (user.kind === "admin") return "admin token holder";
  return html`<span class="principal" title="${user.accessKeyId}">${user.arn}</span>`;
}

export function layout(page: ConsolePage, frame: Frame): string {
  const switcher = html`<form class="scope" method="get" action="${CONSOLE_PATH}/${frame.current ?? "overview"}">
      <label>Account <input name="account" value="${frame.account}" size="12" pattern="[0-9]{12}" ${frame.accountFixed ? html`readonly` : ""}></label>
      <label>Region <input name="region" value="${frame.region}" size="14"></label>
      <button type="submit">Switch</button>
    </form>`;
  const logout =
    frame.csrfToken === undefined || frame.user === undefined || frame.user.kind === "open"
      ? ""
      : html`<form class="logout" method="post" action="${CONSOLE_PATH}/logout"><input type="hidden" name="csrf" value="${frame.csrfToken}"><button type="submit">Sign out</button></form>`;
  const nav = NAV.map(
    ([segment, label]) => html`<a href="${frame.href(`${CONSOLE_PATH}/${segment}`)}"${segment === frame.current ? html` aria-current="page"` : ""}>${label}</a>`,
  );
  const header = html`<header>
  <a class="brand" href="${frame.href(`${CONSOLE_PATH}/overview`)}">secretslite</a>
  <nav>${nav}</nav>
  ${switcher}
  <div class="user">Signed in: ${who(frame.user)} ${logout}</div>
</header>`;
  return documentOf(page, { script: true, bodyClass: undefined, header });
}

/** The one HTML document every console page is: head (stylesheet, and the script unless bare), the page's title and body. */
function documentOf(page: ConsolePage, parts: { readonly script: boolean; readonly bodyClass: string | undefined; readonly header: Html | undefined }): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · secretslite</title>
<link rel="stylesheet" href="${CONSOLE_PATH}/assets/console.css">
${parts.script ? html`<script src="${CONSOLE_PATH}/assets/console.js" defer></script>` : ""}
</head>
<body${parts.bodyClass === undefined ? "" : html` class="${parts.bodyClass}"`}>
${parts.header ?? ""}
<main>
<h1>${page.title}</h1>
${page.body}
</main>
</body>
</html>
`.text;
}

/** A page outside the frame (the login page): no navigation, nothing the user may not see yet. */
export function bare(page: ConsolePage): string {
  return documentOf(page, { script: false, bodyClass: "bare", header: undefined });
}
