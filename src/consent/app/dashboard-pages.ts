import type { PsuAccount, PsuPayment } from '../customers.ts';
import { formatDate, formatDateTime, formatMoney, type IntentDescription } from '../describe.ts';
import { isExpired, type AuditEntry, type Intent } from '../intents.ts';
import { KIND_INFO } from '../kinds.ts';
import { csrfField, html, type SafeHtml } from '../../shared/page-kit/index.ts';
import { describedRequest, layout, type PageFrame, type Tpp } from './pages.ts';

/** The consent dashboard's pages: every consent the PSU granted, per TPP, its history, and withdrawal. */

/** What became of a payment consent once used: its payments' real outcome, from the bank's records. */
export type PaymentState =
  | 'Paid'
  | 'Pending'
  | 'Rejected'
  | 'Partly rejected'
  | 'Scheduled'
  | 'Cancelled'
  | 'Set up'
  | 'Ended'
  | 'Submitted';

export type ConsentState =
  'Active' | 'Expired' | 'Withdrawn' | 'Declined' | 'Not yet approved' | PaymentState;

/**
 * The state the PSU reads. A used (Consumed) payment consent reads as what happened to its payments, never
 * just "completed": a rejected payment reads Rejected.
 */
export function consentState(intent: Intent, now: Date, payments: readonly PsuPayment[]): ConsentState {
  switch (intent.status) {
    case 'Authorised':
      // Past its expiry it can never be used nor confirmed again, withdrawn or not (as the operator reads it).
      if (isExpired(intent, now)) return 'Expired';
      // Access withdrawn here stays withdrawn until the PSU confirms the consent again at the TPP's request.
      return intent.accessWithdrawnAt !== undefined ? 'Withdrawn' : 'Active';
    case 'Revoked':
      return 'Withdrawn';
    case 'Consumed':
      return paymentState(intent, payments);
    case 'Rejected':
      return 'Declined';
    default:
      return 'Not yet approved';
  }
}

function paymentState(intent: Intent, payments: readonly PsuPayment[]): PaymentState {
  // Nothing recorded: the bank has the instruction, and no outcome to tell.
  if (payments.length === 0) return 'Submitted';
  if (intent.kind.endsWith('standing-order'))
    return payments.some((p) => p.status === 'Scheduled') ? 'Set up' : 'Ended';
  const count = (status: PsuPayment['status']) => payments.filter((p) => p.status === status).length;
  if (count('Pending') > 0) return 'Pending';
  for (const status of ['Scheduled', 'Cancelled', 'Rejected'] as const)
    if (count(status) === payments.length) return status;
  return count('Rejected') > 0 ? 'Partly rejected' : 'Paid';
}

/** Whether the PSU can withdraw it here: revocable kinds, while Authorised and unexpired. */
export function canWithdraw(intent: Intent, now: Date): boolean {
  return KIND_INFO[intent.kind].revocable && consentState(intent, now, []) === 'Active';
}

/** Whether the card's consent can be withdrawn now (the page says so only then). */
function withdrawable(card: ConsentCard): boolean {
  return KIND_INFO[card.intent.kind].revocable && card.state === 'Active';
}

export interface ConsentCard {
  intent: Intent;
  state: ConsentState;
  accounts: PsuAccount[];
  /** The payments made or due under it, oldest first (none for other kinds). */
  payments: PsuPayment[];
}

export interface TppConsents {
  clientId: string;
  tpp: Tpp;
  consents: ConsentCard[];
}

function when(date: Date | undefined, otherwise: string): string {
  return date ? formatDateTime(date) : otherwise;
}

/** An account as the PSU reads it: "Current account ending 1234". */
export function accountName(accounts: readonly PsuAccount[], id: string): string {
  const account = accounts.find((a) => a.id === id);
  const number = account?.identifications[0]?.identification.slice(-4);
  return account ? `${account.name}${number ? ` ending ${number}` : ''}` : 'a closed account';
}

function accountNames(accounts: PsuAccount[], ids: string[]): string {
  return ids.map((id) => accountName(accounts, id)).join(', ') || 'none';
}

function stateBadge(state: ConsentState): SafeHtml {
  const tone = ['Active', 'Paid', 'Scheduled', 'Set up'].includes(state)
    ? 'active'
    : state === 'Rejected' || state === 'Partly rejected'
      ? 'rejected'
      : 'ended';
  return html`<span class="state ${tone}">${state}</span>`;
}

/** One payment in words: "£5,000.00 rejected on 2 March 2026 at 10:00 (UK time): Insufficient funds: …". */
export function describePayment(payment: PsuPayment): string {
  const amount = formatMoney(payment.amount, payment.currency);
  switch (payment.status) {
    case 'Paid':
      return `${amount} paid on ${formatDateTime(payment.at)}`;
    case 'Pending':
      return `${amount} pending since ${formatDateTime(payment.at)}`;
    case 'Rejected':
      return `${amount} rejected on ${formatDateTime(payment.at)}: ${payment.reason ?? 'Rejected by the bank'}`;
    case 'Scheduled':
      return `${amount} due on ${formatDate(payment.at)}`;
    case 'Cancelled':
      return `${amount} cancelled (was due on ${formatDate(payment.at)})`;
  }
}

/** The payments of a consent in one line for its card: the only one, or counts, the latest and the next. */
function paymentsSummary(payments: readonly PsuPayment[]): string | undefined {
  const done = payments.filter((p) => p.status !== 'Scheduled');
  const next = payments.find((p) => p.status === 'Scheduled');
  const parts: string[] = [];
  const last = done.at(-1);
  if (done.length === 1 && last) parts.push(describePayment(last));
  else if (last) {
    const counts = (['Paid', 'Pending', 'Rejected', 'Cancelled'] as const)
      .map((status) => [status, done.filter((p) => p.status === status).length] as const)
      .filter(([, n]) => n > 0)
      .map(([status, n]) => `${n} ${status.toLowerCase()}`);
    parts.push(`${counts.join(', ')}; latest: ${describePayment(last)}`);
  }
  if (next) parts.push(`next: ${describePayment(next)}`);
  return parts.length > 0 ? parts.join('; ') : undefined;
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
                      ${
                        withdrawable(card) || card.intent.expiresAt
                          ? html`<div>
                              <dt>${card.state === 'Expired' ? 'Expired' : 'Expires'}</dt>
                              <dd>${when(card.intent.expiresAt, 'when you withdraw it')}</dd>
                            </div>`
                          : ''
                      }
                      <div>
                        <dt>Accounts</dt>
                        <dd>${accountNames(card.accounts, card.intent.accountIds)}</dd>
                      </div>
                      ${
                        paymentsSummary(card.payments) !== undefined
                          ? html`<div>
                              <dt>${card.payments.length === 1 ? 'Payment' : 'Payments'}</dt>
                              <dd>${paymentsSummary(card.payments)}</dd>
                            </div>`
                          : ''
                      }
                    </dl>
                    <a href="${page.base}/consents/${card.intent.id}"
                      >${withdrawable(card) ? 'Details, history and withdrawal' : 'Details and history'}</a
                    >
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
    case 'reauthenticated':
      return `Confirmed again by you, so ${tppName} can keep using it`;
    case 'rejected':
      return entry.actor === 'psu' ? 'Declined by you' : 'Declined by the bank';
    case 'consumed':
      return `Payment instruction sent by ${tppName}`;
    case 'access-withdrawn':
      return `Access withdrawn by you: ${tppName} can use it again only if you confirm it again`;
    case 'revoked':
      return entry.actor === 'psu'
        ? 'Withdrawn by you'
        : entry.actor === 'tpp'
          ? `Cancelled by ${tppName}`
          : 'Withdrawn by the bank';
    case 'used':
      return `Used by ${tppName}${detail}`;
    case 'migrated':
      return `Moved to a newer version of Open Banking by ${tppName}: what you agreed is unchanged`;
    case 'account-removed':
      return `You stopped sharing ${entry.detail ?? 'an account'} with ${tppName}`;
  }
}

function outcomeWords(payment: PsuPayment): string {
  switch (payment.status) {
    case 'Rejected':
      return `Rejected: ${payment.reason ?? 'Rejected by the bank'}`;
    case 'Scheduled':
      return 'Due';
    default:
      return payment.status;
  }
}

/** Each payment the bank made, rejected or will make under the consent, with its outcome. */
function paymentsTable(payments: readonly PsuPayment[]): SafeHtml {
  return html`<h2>Payments</h2>
    <table class="history payments">
      <caption class="hint">
        What the bank did with each payment, oldest first
      </caption>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Amount</th>
          <th scope="col">Outcome</th>
        </tr>
      </thead>
      <tbody>
        ${payments.map(
          (payment) =>
            html`<tr>
              <td>
                ${
                  payment.status === 'Scheduled' || payment.status === 'Cancelled'
                    ? formatDate(payment.at)
                    : formatDateTime(payment.at)
                }
              </td>
              <td>${formatMoney(payment.amount, payment.currency)}</td>
              <td>${outcomeWords(payment)}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
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
  /** The form's CSRF token: the PSU may stop sharing one account of an active account-access consent. */
  stopSharingCsrf?: string;
}

/**
 * One account of an active account-access consent can stop being shared while the others stay; a consent's
 * only account cannot (the PSU withdraws access instead).
 */
function stopSharingForm(page: ConsentDetailsPage): SafeHtml | string {
  const { intent, accounts } = page.card;
  if (!page.withdrawable || intent.kind !== 'account-access' || page.stopSharingCsrf === undefined) return '';
  if (intent.accountIds.length < 2)
    return html`<p class="hint">${page.tpp.name} sees one account: to stop sharing it, withdraw access.</p>`;
  return html`<h2>Shared accounts</h2>
    <p>You can stop sharing one account with ${page.tpp.name} and keep sharing the others.</p>
    <form method="post" action="${page.base}/consents/${intent.id}/stop-sharing">
      ${csrfField(page.stopSharingCsrf)}
      <label for="account">Account</label>
      <select id="account" name="account">
        ${intent.accountIds.map((id) => html`<option value="${id}">${accountName(accounts, id)}</option>`)}
      </select>
      <button type="submit" class="secondary">Stop sharing this account</button>
    </form>`;
}

export function consentDetailsPage(frame: PageFrame, page: ConsentDetailsPage): string {
  const { card, description } = page;
  // The bank's outcome of each payment joins the consent's own history, after what happened at the same time.
  const lines = [
    ...page.history.map((entry) => ({ at: entry.at, words: eventWords(entry, page.tpp.name) })),
    ...card.payments
      .filter((payment) => payment.status !== 'Scheduled' && payment.status !== 'Cancelled')
      .map((payment) => ({ at: payment.at, words: `Payment of ${describePayment(payment)}` })),
  ];
  const chronological = lines
    .map((line, order) => ({ ...line, order }))
    .sort((a, b) => a.at.getTime() - b.at.getTime() || a.order - b.order);
  const newestFirst = chronological.reverse().slice(0, HISTORY_LINES);
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
      ${
        card.intent.status === 'Authorised' && card.intent.accessWithdrawnAt !== undefined
          ? html`<p class="notice" role="status">
              You withdrew ${page.tpp.name}’s access on ${formatDateTime(card.intent.accessWithdrawnAt)}.
              ${
                card.state === 'Expired'
                  ? 'It has since expired: it cannot be confirmed again.'
                  : `${page.tpp.name} cannot use it unless it asks you to confirm it again and you do, at the bank.`
              }
            </p>`
          : ''
      }
      ${stopSharingForm(page)} ${card.payments.length > 0 ? paymentsTable(card.payments) : ''}
      <h2>History</h2>
      <table class="history">
        <caption class="hint">
          Newest first${lines.length > HISTORY_LINES ? html`, the latest ${HISTORY_LINES}` : ''}
        </caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">What happened</th>
          </tr>
        </thead>
        <tbody>
          ${newestFirst.map(
            (line) =>
              html`<tr>
                <td>${formatDateTime(line.at)}</td>
                <td>${line.words}</td>
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
  // Withdrawn access to a consent that may be re-authenticated comes back only if the PSU confirms it again.
  const afterwards = KIND_INFO[page.intent.kind].reauthenticatable
    ? html`To use it again, ${page.tpp.name} will have to ask you to confirm this same permission again, here
      at the bank.`
    : html`You cannot undo this: to use the app again, it will have to ask you again.`;
  return layout(
    frame,
    'Withdraw access',
    html`<h1>Withdraw ${page.tpp.name}’s access?</h1>
      <p>${page.tpp.name} will immediately stop being able to use this permission (${what}). ${afterwards}</p>
      <form method="post" action="${page.base}/consents/${page.intent.id}/revoke">
        ${csrfField(page.csrf)}
        <div class="actions">
          <button type="submit">Yes, withdraw access</button>
          <a class="button secondary" href="${page.base}/consents/${page.intent.id}">No, go back</a>
        </div>
      </form>`,
  );
}
