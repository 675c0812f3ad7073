import type { PsuAccount } from '../customers.ts';
import { formatDateTime, type IntentDescription } from '../describe.ts';
import type { AuditEntry, Intent } from '../intents.ts';
import { KIND_INFO } from '../kinds.ts';
import { html, type SafeHtml } from './html.ts';
import { csrfField, describedRequest, layout, type PageFrame, type Tpp } from './pages.ts';

/** The consent dashboard's pages: every consent the PSU granted, per TPP, its history, and withdrawal. */

export type ConsentState = 'Active' | 'Expired' | 'Withdrawn' | 'Completed' | 'Declined' | 'Not yet approved';

export function consentState(intent: Intent, now: Date): ConsentState {
  switch (intent.status) {
    case 'Authorised':
      return intent.expiresAt && intent.expiresAt.getTime() <= now.getTime() ? 'Expired' : 'Active';
    case 'Revoked':
      return 'Withdrawn';
    case 'Consumed':
      return 'Completed';
    case 'Rejected':
      return 'Declined';
    default:
      return 'Not yet approved';
  }
}

/** Whether the PSU can withdraw it here: revocable kinds, while Authorised and unexpired. */
export function canWithdraw(intent: Intent, now: Date): boolean {
  return KIND_INFO[intent.kind].revocable && consentState(intent, now) === 'Active';
}

export interface ConsentCard {
  intent: Intent;
  state: ConsentState;
  accounts: PsuAccount[];
}

export interface TppConsents {
  clientId: string;
  tpp: Tpp;
  consents: ConsentCard[];
}

function when(date: Date | undefined, otherwise: string): string {
  return date ? formatDateTime(date) : otherwise;
}

function accountNames(accounts: PsuAccount[], ids: string[]): string {
  const names = ids.map((id) => {
    const account = accounts.find((a) => a.id === id);
    const number = account?.identifications[0]?.identification.slice(-4);
    return account ? `${account.name}${number ? ` ending ${number}` : ''}` : 'a closed account';
  });
  return names.join(', ') || 'none';
}

function stateBadge(state: ConsentState): SafeHtml {
  const tone = state === 'Active' ? 'active' : 'ended';
  return html`<span class="state ${tone}">${state}</span>`;
}

export interface DashboardPage {
  base: string;
  csrf: string;
  customerName: string;
  groups: TppConsents[];
  notice?: string;
}

export function dashboardPage(frame: PageFrame, page: DashboardPage): string {
  const active = page.groups.filter((g) => g.consents.some((c) => c.state === 'Active'));
  return layout(
    frame,
    'Your connected apps',
    html`<h1>Your connected apps</h1>
      <p class="who">Logged in as ${page.customerName}.</p>
      ${page.notice ? html`<p class="notice" role="status">${page.notice}</p>` : ''}
      <p>
        These apps can see your account information or make payments because you allowed them to. You can
        withdraw access at any time.
      </p>
      ${page.groups.length === 0 ? html`<p>You have not given any app access to your accounts.</p>` : ''}
      ${page.groups.map(
        (group) =>
          html`<section class="tpp-consents" aria-labelledby="tpp-${group.clientId}">
            <h2 id="tpp-${group.clientId}">${group.tpp.name}</h2>
            <ul class="consents">
              ${group.consents.map(
                (card) =>
                  html`<li class="consent">
                    <p>
                      <strong>${capitalise(KIND_INFO[card.intent.kind].label)}</strong>
                      ${stateBadge(card.state)}
                    </p>
                    <dl class="facts">
                      <div>
                        <dt>Granted</dt>
                        <dd>${when(card.intent.authorisedAt, 'not yet')}</dd>
                      </div>
                      <div>
                        <dt>Last used</dt>
                        <dd>${when(card.intent.lastUsedAt, 'never')}</dd>
                      </div>
                      <div>
                        <dt>Expires</dt>
                        <dd>${when(card.intent.expiresAt, 'when you withdraw it')}</dd>
                      </div>
                      <div>
                        <dt>Accounts</dt>
                        <dd>${accountNames(card.accounts, card.intent.accountIds)}</dd>
                      </div>
                    </dl>
                    <a href="${page.base}/consents/${card.intent.id}">Details, history and withdrawal</a>
                  </li>`,
              )}
            </ul>
          </section>`,
      )}
      <form method="post" action="${page.base}/logout">
        ${csrfField(page.csrf)}
        <button type="submit" class="secondary">Log out</button>
      </form>
      <p class="hint">${active.length} app${active.length === 1 ? '' : 's'} with active access.</p>`,
  );
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function eventWords(entry: AuditEntry, tppName: string): string {
  const detail = entry.detail && entry.event === 'used' ? ` (${entry.detail})` : '';
  switch (entry.event) {
    case 'created':
      return `Requested by ${tppName}`;
    case 'uploaded':
      return `Payment file uploaded by ${tppName}`;
    case 'authorised':
      return 'Approved by you';
    case 'rejected':
      return entry.actor === 'psu' ? 'Declined by you' : 'Declined by the bank';
    case 'consumed':
      return 'Payment made';
    case 'revoked':
      return entry.actor === 'psu'
        ? 'Withdrawn by you'
        : entry.actor === 'tpp'
          ? `Cancelled by ${tppName}`
          : 'Withdrawn by the bank';
    case 'used':
      return `Used by ${tppName}${detail}`;
  }
}

/** At most this many history lines are shown, newest first. */
export const HISTORY_LINES = 100;

export interface ConsentDetailsPage {
  base: string;
  tpp: Tpp;
  card: ConsentCard;
  description: IntentDescription;
  history: AuditEntry[];
  withdrawable: boolean;
}

export function consentDetailsPage(frame: PageFrame, page: ConsentDetailsPage): string {
  const { card, description } = page;
  const newestFirst = [...page.history].reverse().slice(0, HISTORY_LINES);
  return layout(
    frame,
    `${page.tpp.name}: ${KIND_INFO[card.intent.kind].label}`,
    html`<p><a href="${page.base}">Back to your connected apps</a></p>
      <h1>${page.tpp.name}</h1>
      <p>${capitalise(KIND_INFO[card.intent.kind].label)} ${stateBadge(card.state)}</p>
      <p>${description.headline}</p>
      ${describedRequest(description, [
        { label: 'Accounts', value: accountNames(card.accounts, card.intent.accountIds) },
        { label: 'Granted', value: when(card.intent.authorisedAt, 'not yet') },
        { label: 'Last used', value: when(card.intent.lastUsedAt, 'never') },
      ])}
      ${
        page.withdrawable
          ? html`<p>
              <a class="button" href="${page.base}/consents/${card.intent.id}/revoke">Withdraw access</a>
            </p>`
          : ''
      }
      <h2>History</h2>
      <table class="history">
        <caption class="hint">
          Newest first${page.history.length > HISTORY_LINES ? html`, the latest ${HISTORY_LINES}` : ''}
        </caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">What happened</th>
          </tr>
        </thead>
        <tbody>
          ${newestFirst.map(
            (entry) =>
              html`<tr>
                <td>${formatDateTime(entry.at)}</td>
                <td>${eventWords(entry, page.tpp.name)}</td>
              </tr>`,
          )}
        </tbody>
      </table>`,
  );
}

export interface WithdrawPage {
  base: string;
  csrf: string;
  tpp: Tpp;
  intent: Intent;
}

export function withdrawPage(frame: PageFrame, page: WithdrawPage): string {
  const what =
    page.intent.kind === 'account-access'
      ? 'see your account information'
      : KIND_INFO[page.intent.kind].label;
  return layout(
    frame,
    'Withdraw access',
    html`<h1>Withdraw ${page.tpp.name}’s access?</h1>
      <p>
        ${page.tpp.name} will immediately stop being able to use this permission (${what}). You cannot undo
        this: to use the app again, it will have to ask you again.
      </p>
      <form method="post" action="${page.base}/consents/${page.intent.id}/revoke">
        ${csrfField(page.csrf)}
        <div class="actions">
          <button type="submit">Yes, withdraw access</button>
          <a class="button secondary" href="${page.base}/consents/${page.intent.id}">No, go back</a>
        </div>
      </form>`,
  );
}
