import { formatDateTime } from '../../consent/describe.ts';
import { csrfField, html, postForm, STYLESHEET, type SafeHtml } from '../../shared/page-kit/index.ts';
import type { Operator } from '../accounts.ts';

/**
 * The console's pages: server-rendered in the consent app's style, no script, every value escaped. An
 * auditor sees the same pages as an admin, without the forms that act.
 */
export const CONSOLE_BASE = '/console';

export const CONSOLE_STYLESHEET = `${STYLESHEET}
main { max-width: 72rem; }
nav { max-width: 72rem; margin: 0 auto; padding: 0.5rem 1.25rem; display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; }
nav form { margin-left: auto; } nav form button { margin: 0; padding: 0.25rem 0.75rem; }
table.list { width: 100%; border-collapse: collapse; font-size: 0.9375rem; }
table.list th, table.list td { text-align: left; padding: 0.375rem 0.5rem 0.375rem 0; border-bottom: 1px solid var(--line); vertical-align: top; }
form.search { display: flex; flex-wrap: wrap; gap: 0 1rem; align-items: flex-end; }
form.search label { margin-top: 0.5rem; } form.search input, form.search select { padding: 0.375rem; font: inherit; }
code { font-size: 0.875rem; word-break: break-all; }
`;

export function consoleLayout(
  operator: Operator | undefined,
  csrf: string,
  title: string,
  body: SafeHtml,
): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${title} – obkit console</title>
        <link rel="stylesheet" href="${CONSOLE_BASE}/assets/console.css" />
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header><span class="bank">obkit operator console</span></header>
        ${
          operator
            ? html`<nav aria-label="Console">
                <a href="${CONSOLE_BASE}/tpps">TPPs</a>
                <a href="${CONSOLE_BASE}/consents">Consents</a>
                <a href="${CONSOLE_BASE}/payments">Payments</a>
                <a href="${CONSOLE_BASE}/audit">Audit log</a>
                <a href="${CONSOLE_BASE}/mi">MI</a>
                <form method="post" action="${CONSOLE_BASE}/logout">
                  ${csrfField(csrf)}
                  <span class="who">${operator.name} (${operator.role})</span>
                  <button type="submit" class="secondary">Log out</button>
                </form>
              </nav>`
            : ''
        }
        <main id="main">
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html> `.value;
}

export function loginBody(page: {
  csrf: string;
  error?: string | undefined;
  name?: string | undefined;
}): SafeHtml {
  return html`${page.error ? html`<p class="error" role="alert">${page.error}</p>` : ''}
    <form method="post" action="${CONSOLE_BASE}/login">
      ${csrfField(page.csrf)}
      <label for="name">Operator name</label>
      <input type="text" id="name" name="name" autocomplete="username" required value="${page.name ?? ''}" />
      <label for="password">Password</label>
      <input type="password" id="password" name="password" autocomplete="current-password" required />
      <label for="code">Authenticator code</label>
      <input
        type="text"
        id="code"
        name="code"
        inputmode="numeric"
        autocomplete="one-time-code"
        pattern="[0-9 ]{6,7}"
        required
      />
      <button type="submit">Log in</button>
    </form>`;
}

export function when(date: Date | null | undefined): string {
  return date ? formatDateTime(date) : '—';
}

export function statusBadge(text: string, good: boolean): SafeHtml {
  return html`<span class="state ${good ? 'active' : 'rejected'}">${text}</span>`;
}

/** A console search form (GET to `action`): `fields` on one wrapping row, then the submit button. */
export function searchForm(action: string, fields: readonly SafeHtml[], submitLabel = 'Search'): SafeHtml {
  return html`<form class="search" method="get" action="${action}">
    ${fields}
    <button type="submit">${submitLabel}</button>
  </form>`;
}

/** A search form's field; the label wraps the input so the form's row keeps the two together. */
export function searchInput(
  name: string,
  label: string,
  value: string | number,
  options: { type?: 'text' | 'date' | 'number'; min?: number; max?: number } = {},
): SafeHtml {
  return html`<label for="${name}"
    >${label}
    <input
      type="${options.type ?? 'text'}"
      id="${name}"
      name="${name}"
      ${options.min !== undefined ? html`min="${options.min}"` : ''}
      ${options.max !== undefined ? html`max="${options.max}"` : ''}
      value="${value}"
  /></label>`;
}

/** A search form's choice among `values`, or any (`''`). */
export function searchSelect(
  name: string,
  label: string,
  values: readonly string[],
  chosen: string,
): SafeHtml {
  return html`<label for="${name}"
    >${label}
    <select id="${name}" name="${name}">
      <option value="">any</option>
      ${values.map((value) => html`<option value="${value}" ${value === chosen ? html`selected` : ''}>${value}</option>`)}
    </select></label
  >`;
}

/**
 * The consents' and payments' search form: `fields`, then the created from / to dates that `parseSearch`
 * reads; `problem` (why its filter was undefined) is the error that explains the 400.
 */
export function dateSearchForm(
  action: string,
  fields: readonly SafeHtml[],
  typed: { from: string; to: string },
  problem: string | undefined,
): SafeHtml {
  return html`${searchForm(action, [
    ...fields,
    searchInput('from', 'From', typed.from, { type: 'date' }),
    searchInput('to', 'To', typed.to, { type: 'date' }),
  ])}
  ${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}`;
}

/** One cell of a console list: text (escaped) or markup. */
export type ListCell = SafeHtml | string | number;

/** A console list: `table.list` with one heading row and a row of cells per item. */
export function listTable(
  headings: readonly string[],
  rows: readonly (readonly ListCell[])[],
  options: { id?: string; className?: string; caption?: string } = {},
): SafeHtml {
  return html`<table
    class="list${options.className ? ` ${options.className}` : ''}"
    ${options.id ? html`id="${options.id}"` : ''}
  >
    ${
      options.caption
        ? html`<caption>
            <h2>${options.caption}</h2>
          </caption>`
        : ''
    }
    <thead>
      <tr>
        ${headings.map((heading) => html`<th>${heading}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (cells) =>
          html`<tr>
            ${cells.map((cell) => html`<td>${cell}</td>`)}
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/** The reason an operator gives for an action that needs one (suspend, revoke): at most 200 characters. */
const REASON_FIELD = html`<label for="reason">Reason</label
  ><input type="text" id="reason" name="reason" required maxlength="200" />`;

/** An admin's action on a page: a POST to `action` with its CSRF field and button, and a reason if asked. */
export function actionForm(
  action: string,
  csrf: string,
  label: string,
  options: { askReason?: boolean } = {},
): SafeHtml {
  return postForm(
    action,
    csrf,
    html`${options.askReason ? REASON_FIELD : ''}<button type="submit">${label}</button>`,
  );
}
