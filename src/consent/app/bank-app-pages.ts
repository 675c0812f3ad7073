import type { PsuAccount } from '../customers.ts';
import { formatDateTime, type IntentDescription } from '../describe.ts';
import type { DecoupledRequest } from './bank-app-bridge.ts';
import { csrfField, html, SafeHtml } from '../../shared/page-kit/index.ts';
import {
  accountChoices,
  alert,
  describedRequest,
  layout,
  type PageFrame,
  passwordForm,
  sandboxHint,
  securityCodeField,
} from './pages.ts';

/**
 * The bank app's pages (decoupled authorisation): the customer's pending requests, refreshed live by a
 * small same-origin script (no inline script; the page works without it, with a Refresh link), and the
 * review page where a request is approved with the security code or denied.
 */

export const BANK_APP_SCRIPT = `'use strict';
(function () {
  var region = document.getElementById('pending');
  if (!region || !window.fetch) return;
  var source = region.getAttribute('data-src');
  var last = null;
  function refresh() {
    fetch(source, { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (text) {
        if (text !== null && text !== last) {
          last = text;
          region.innerHTML = text;
        }
      })
      .catch(function () {});
  }
  refresh();
  window.setInterval(refresh, 2000);
})();
`;

export const BANK_APP_STYLES = `
.request { border: 1px solid var(--line); border-radius: 0.25rem; padding: 0.75rem 1rem; margin: 0.75rem 0; }
.binding { font-size: 1.5rem; font-weight: 700; letter-spacing: 0.05em; border: 2px dashed var(--brand); padding: 0.5rem 0.75rem; display: inline-block; }
`;

function requestItem(base: string, request: DecoupledRequest): SafeHtml {
  return html`<li class="request">
    <p><strong>${request.clientName}</strong> asks you to approve a request.</p>
    ${request.bindingMessage ? html`<p>Code shown by ${request.clientName}: <strong>${request.bindingMessage}</strong></p>` : ''}
    <p class="hint">
      Sent ${formatDateTime(request.requestedAt)}; expires ${formatDateTime(request.expiresAt)}.
    </p>
    <a class="button" href="${base}/requests/${request.id}">Review request from ${request.clientName}</a>
  </li>`;
}

/** The live region's content: also what the script fetches from `<base>/pending`. */
export function pendingFragment(base: string, requests: DecoupledRequest[]): string {
  if (requests.length === 0) return html`<p>You have no requests waiting.</p>`.value;
  return html`<p>${requests.length === 1 ? '1 request is' : `${requests.length} requests are`} waiting.</p>
    <ul class="consents">
      ${requests.map((request) => requestItem(base, request))}
    </ul>`.value;
}

export interface BankAppHome {
  base: string;
  csrf: string;
  customerName: string;
  requests: DecoupledRequest[];
  notice?: string;
}

export function bankAppHome(frame: PageFrame, page: BankAppHome): string {
  return layout(
    frame,
    'Requests to approve',
    html`<h1>Requests to approve</h1>
      <p class="who">Logged in to the ${frame.bankName} app as ${page.customerName}.</p>
      ${page.notice ? html`<p class="notice" role="status">${page.notice}</p>` : ''}
      <p>
        When an app asks to use your accounts without sending you to our website, the request appears here.
        This list updates by itself.
      </p>
      <section id="pending" aria-live="polite" aria-label="Waiting requests" data-src="${page.base}/pending">
        ${new SafeHtml(pendingFragment(page.base, page.requests))}
      </section>
      <p><a href="${page.base}">Refresh</a></p>
      <form method="post" action="${page.base}/logout">
        ${csrfField(page.csrf)}
        <button type="submit" class="secondary">Log out</button>
      </form>
      <script src="${page.base}/assets/live.js" defer></script>`,
  );
}

export interface BankAppLogin {
  base: string;
  csrf: string;
  username?: string;
  error?: string;
}

export function bankAppLogin(frame: PageFrame, page: BankAppLogin): string {
  return layout(
    frame,
    'Log in to the app',
    html`<h1>Log in to the ${frame.bankName} app</h1>
      <p>
        Log in to see requests waiting for your approval. You will confirm each one with your security code.
      </p>
      ${sandboxHint(frame, 'password')} ${alert(page.error)} ${passwordForm(page, 'Log in')}`,
  );
}

export interface BankAppReview {
  base: string;
  csrf: string;
  request: DecoupledRequest;
  description: IntentDescription;
  accounts: PsuAccount[];
  select: 'one' | 'many';
  selected?: string[];
  error?: string;
}

export function bankAppReview(frame: PageFrame, page: BankAppReview): string {
  const { request, description } = page;
  return layout(
    frame,
    `Approve ${request.clientName}'s request`,
    html`<p><a href="${page.base}">Back to your requests</a></p>
      <h1>${description.headline}</h1>
      ${
        request.bindingMessage
          ? html`<p>
                Check that ${request.clientName} shows you this code. If it does not, deny the request.
              </p>
              <p class="binding" id="binding-message">${request.bindingMessage}</p>`
          : html`<p>Only approve if you asked ${request.clientName} for this just now.</p>`
      }
      ${alert(page.error)} ${describedRequest(description)}
      <form method="post" action="${page.base}/requests/${request.id}">
        ${csrfField(page.csrf)}
        <fieldset>
          <legend>
            ${page.select === 'one' ? 'Choose the account to use' : `Choose the accounts ${request.clientName} may see`}
          </legend>
          ${accountChoices(page)}
        </fieldset>
        ${securityCodeField('The 6-digit code from your authenticator app, to approve.')}
        ${sandboxHint(frame, 'code')}
        <div class="actions">
          <button type="submit" name="decision" value="approve">Approve</button>
          <button type="submit" name="decision" value="deny" class="secondary" formnovalidate>Deny</button>
        </div>
      </form>
      <p class="hint">Expires ${formatDateTime(request.expiresAt)}.</p>`,
  );
}
