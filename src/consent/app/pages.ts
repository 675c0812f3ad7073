import { SANDBOX_USERNAMES } from '../../bank/index.ts';
import type { FactorResult } from '../credentials.ts';
import type { PsuAccount } from '../customers.ts';
import { formatDateTime, formatMoney, type IntentDescription } from '../describe.ts';
import {
  csrfField,
  errorPage as kitErrorPage,
  ERROR_TEXTS,
  html,
  layout as kitLayout,
  type ErrorPage as KitErrorPage,
  type SafeHtml,
  type Site,
} from '../../shared/page-kit/index.ts';

/**
 * The consent app's pages: server-rendered, no script at all, every value escaped by `html`. Labels on every
 * control, errors announced (`role="alert"`), one column that fits a phone.
 */
export interface PageFrame {
  /** Where the stylesheet and forms live, e.g. `/interaction`. */
  mountPath: string;
  bankName: string;
  /** Sandbox only: login pages say how to log in as a sandbox customer. */
  sandbox?: boolean;
}

export interface Tpp {
  name: string;
  logoUri: string | undefined;
}

/** The site of the PSU's pages (consent app, dashboard, bank app): the bank's name, its footer. */
export function siteOf(frame: PageFrame): Site {
  return {
    name: frame.bankName,
    stylesheet: `${frame.mountPath}/assets/consent.css`,
    footer: `You are on ${frame.bankName}'s secure site. We never ask for your password by email or phone.`,
  };
}

export function layout(frame: PageFrame, title: string, body: SafeHtml): string {
  return kitLayout(siteOf(frame), title, body);
}

function tppBanner(tpp: Tpp): SafeHtml {
  const logo = tpp.logoUri && /^https:\/\//i.test(tpp.logoUri) ? tpp.logoUri : undefined;
  return html`<div class="tpp">
    ${logo ? html`<img src="${logo}" alt="" width="48" height="48" referrerpolicy="no-referrer" />` : ''}
    <span>Requested by <strong>${tpp.name}</strong></span>
  </div>`;
}

/** The username and password form every PSU login page shows, posting to `<base>/login`. */
export function passwordForm(
  page: { base: string; csrf: string; username?: string | undefined },
  submit: string,
): SafeHtml {
  return html`<form method="post" action="${page.base}/login">
    ${csrfField(page.csrf)}
    <label for="username">Username</label>
    <input
      id="username"
      name="username"
      type="text"
      autocomplete="username"
      autocapitalize="none"
      spellcheck="false"
      required
      maxlength="128"
      value="${page.username ?? ''}"
    />
    <label for="password">Password</label>
    <input
      id="password"
      name="password"
      type="password"
      autocomplete="current-password"
      required
      maxlength="1024"
    />
    <button type="submit">${submit}</button>
  </form>`;
}

/**
 * The security code field (the customer's authenticator app): 6 digits, a space allowed in the middle as apps
 * show them, with `hint` under it. The login step and the bank app's approval ask for it the same way.
 */
export function securityCodeField(hint: string): SafeHtml {
  return html`<label for="code">Security code</label>
    <input
      id="code"
      name="code"
      type="text"
      inputmode="numeric"
      autocomplete="one-time-code"
      pattern="[0-9 ]{6,7}"
      maxlength="7"
      required
      aria-describedby="code-hint"
    />
    <p id="code-hint" class="hint">${hint}</p>`;
}

/**
 * Sandbox only: how a person logs in as a sandbox customer — the password (at the password step) or where
 * the security code comes from (at the code step). Nothing outside the sandbox.
 */
export function sandboxHint(frame: PageFrame, step: 'password' | 'code'): SafeHtml | string {
  if (!frame.sandbox) return '';
  return step === 'password'
    ? html`<p class="sandbox" role="note">
        <strong>Sandbox:</strong> the customers are ${SANDBOX_USERNAMES.join(', ')}; each one's password is
        <code>sandbox-</code> and the username, e.g. <code>sandbox-${SANDBOX_USERNAMES[0] ?? 'alice'}</code>.
      </p>`
    : html`<p class="sandbox" role="note">
        <strong>Sandbox:</strong> get the current code with
        <code>npx obkit sandbox totp &lt;username&gt;</code>, or add the customer's authenticator setup key
        from the sandbox's start page to an authenticator app.
      </p>`;
}

export function alert(message: string | undefined): SafeHtml | string {
  return message ? html`<p class="error" role="alert">${message}</p>` : '';
}

function cancelForm(base: string, csrf: string, tppName: string): SafeHtml {
  return html`<form method="post" action="${base}/cancel" class="cancel">
    ${csrfField(csrf)}
    <button type="submit" class="secondary">Cancel and return to ${tppName}</button>
  </form>`;
}

export interface LoginPage {
  /** Where the forms post: `<base>/login`, `<base>/cancel`. */
  base: string;
  csrf: string;
  /** The TPP that sent the PSU here; absent for the bank's own pages (the dashboard). */
  tpp?: Tpp;
  username?: string;
  error?: string;
}

export function loginPage(frame: PageFrame, page: LoginPage): string {
  return layout(
    frame,
    'Log in',
    html`${page.tpp ? tppBanner(page.tpp) : ''}
      <h1>Log in to ${frame.bankName}</h1>
      ${
        page.tpp
          ? html`<p>${page.tpp.name} has sent you here to approve a request. Log in to see it.</p>`
          : html`<p>Log in to see and manage the apps you have given access to your accounts.</p>`
      }
      ${sandboxHint(frame, 'password')} ${alert(page.error)} ${passwordForm(page, 'Continue')}
      ${page.tpp ? cancelForm(page.base, page.csrf, page.tpp.name) : ''}`,
  );
}

export interface TotpPage {
  base: string;
  csrf: string;
  tpp?: Tpp;
  error?: string;
}

export function totpPage(frame: PageFrame, page: TotpPage): string {
  return layout(
    frame,
    'Enter your security code',
    html`${page.tpp ? tppBanner(page.tpp) : ''}
      <h1>Enter your security code</h1>
      <p>Open your authenticator app and enter the 6-digit code it shows for ${frame.bankName}.</p>
      ${sandboxHint(frame, 'code')} ${alert(page.error)}
      <form method="post" action="${page.base}/totp">
        ${csrfField(page.csrf)} ${securityCodeField('6 digits, for example 123456.')}
        <button type="submit">Log in</button>
      </form>
      ${page.tpp ? cancelForm(page.base, page.csrf, page.tpp.name) : ''}`,
  );
}

export interface ConsentPage {
  uid: string;
  csrf: string;
  tpp: Tpp;
  customerName: string;
  description: IntentDescription;
  accounts: PsuAccount[];
  /** One account (radio buttons) or several (checkboxes). */
  select: 'one' | 'many';
  selected?: string[];
  error?: string;
  /**
   * Set when the request re-authenticates a permission the customer gave before (same ConsentId): when it
   * was given, and the accounts it shares, which stay as they are; `withdrawnAt`, when the customer withdrew
   * its access at the bank (confirming gives it back).
   */
  reauthentication?: { since: Date | undefined; withdrawnAt?: Date | undefined; shared: PsuAccount[] };
}

function accountLabel(account: PsuAccount): string {
  const number = account.identifications[0];
  const tail = number ? ` ending ${number.identification.slice(-4)}` : '';
  return `${account.name}${tail}`;
}

/**
 * What the PSU is asked to approve (or approved), in plain words: the description's groups and facts, and
 * `more` facts the page adds (the dashboard: accounts, when granted, last used).
 */
export function describedRequest(
  description: IntentDescription,
  more: readonly { label: string; value: string }[] = [],
): SafeHtml {
  const facts = [...description.facts, ...more];
  return html`${description.groups.map(
    (group) =>
      html`<section class="group">
        <h2>${group.title}</h2>
        <ul>
          ${group.items.map((item) => html`<li>${item}</li>`)}
        </ul>
      </section>`,
  )}
  ${
    facts.length > 0
      ? html`<dl class="facts">
          ${facts.map(
            (fact) =>
              html`<div>
                <dt>${fact.label}</dt>
                <dd>${fact.value}</dd>
              </div>`,
          )}
        </dl>`
      : ''
  }`;
}

/**
 * The accounts the PSU may choose from: radio buttons when the request takes one account, checkboxes
 * otherwise; `selected` are pre-checked (a single account always is).
 */
export function accountChoices(page: {
  accounts: PsuAccount[];
  select: 'one' | 'many';
  selected?: string[] | undefined;
}): SafeHtml[] {
  const selected = new Set(page.selected ?? (page.accounts.length === 1 ? [page.accounts[0]!.id] : []));
  const inputType = page.select === 'one' ? 'radio' : 'checkbox';
  return page.accounts.map(
    (account) =>
      html`<div class="account">
        <input
          type="${inputType}"
          id="account-${account.id}"
          name="accounts"
          value="${account.id}"
          ${selected.has(account.id) ? html`checked` : ''}
        />
        <label for="account-${account.id}">
          <span class="name">${accountLabel(account)}</span>
          <span class="balance">Balance ${formatMoney(account.balance, account.currency)}</span>
        </label>
      </div>`,
  );
}

/** The re-authentication page: the permission given before, confirmed again, with nothing to choose. */
function reauthenticationPage(
  frame: PageFrame,
  page: ConsentPage,
  reauthentication: NonNullable<ConsentPage['reauthentication']>,
): string {
  const { description } = page;
  const since = reauthentication.since ? ` on ${formatDateTime(reauthentication.since)}` : '';
  return layout(
    frame,
    `Confirm ${page.tpp.name}'s access again`,
    html`${tppBanner(page.tpp)}
      <h1>Confirm again: ${description.headline}</h1>
      <p class="who">Logged in as ${page.customerName}.</p>
      ${alert(page.error)}
      <p class="reauthentication">
        You gave ${page.tpp.name} this permission${since}. ${page.tpp.name} asks you to confirm it again, so
        it can keep using it. Nothing about it changes: the same details and the same accounts.
      </p>
      ${
        reauthentication.withdrawnAt
          ? html`<p class="reauthentication">
              You withdrew ${page.tpp.name}'s access on ${formatDateTime(reauthentication.withdrawnAt)}:
              confirming gives it back.
            </p>`
          : ''
      }
      ${describedRequest(description)}
      <form method="post" action="${frame.mountPath}/${page.uid}/consent">
        ${csrfField(page.csrf)}
        <input type="hidden" name="reauthentication" value="yes" />
        <h2>Accounts it keeps using</h2>
        <ul class="shared-accounts">
          ${reauthentication.shared.map((account) => html`<li>${accountLabel(account)}</li>`)}
        </ul>
        <p>
          If you do not confirm, the permission stays as it is, but ${page.tpp.name} may not be able to use
          it. You can withdraw it at any time in ${frame.bankName}'s online banking.
        </p>
        <div class="actions">
          <button type="submit" name="decision" value="approve">Confirm</button>
          <button type="submit" name="decision" value="reject" class="secondary" formnovalidate>
            Do not confirm
          </button>
        </div>
      </form>`,
  );
}

export function consentPage(frame: PageFrame, page: ConsentPage): string {
  if (page.reauthentication) return reauthenticationPage(frame, page, page.reauthentication);
  const { description } = page;
  const legend =
    page.select === 'one' ? 'Choose the account to use' : `Choose the accounts ${page.tpp.name} may see`;
  return layout(
    frame,
    `Approve ${page.tpp.name}'s request`,
    html`${tppBanner(page.tpp)}
      <h1>${description.headline}</h1>
      <p class="who">Logged in as ${page.customerName}.</p>
      ${alert(page.error)} ${describedRequest(description)}
      <form method="post" action="${frame.mountPath}/${page.uid}/consent">
        ${csrfField(page.csrf)}
        <fieldset>
          <legend>${legend}</legend>
          ${accountChoices(page)}
        </fieldset>
        <p>You can withdraw your permission at any time in ${frame.bankName}'s online banking.</p>
        <div class="actions">
          <button type="submit" name="decision" value="approve">Approve</button>
          <button type="submit" name="decision" value="reject" class="secondary" formnovalidate>
            Reject
          </button>
        </div>
      </form>`,
  );
}

/** The page a customer sees while the bank's database cannot answer (503 with Retry-After). */
export const UNAVAILABLE_PAGE: ErrorPage = ERROR_TEXTS.unavailable;

export interface ErrorPage extends Omit<KitErrorPage, 'actions'> {
  /** When set, the page offers to go back to the TPP (aborting the interaction). */
  cancel?: { base: string; csrf: string; tppName: string } | undefined;
}

export function errorPage(frame: PageFrame, page: ErrorPage): string {
  const { cancel, ...rest } = page;
  return kitErrorPage(siteOf(frame), {
    ...rest,
    ...(cancel ? { actions: cancelForm(cancel.base, cancel.csrf, cancel.tppName) } : {}),
  });
}

/** The bank's name on every page when none is configured. */
export const DEFAULT_BANK_NAME = 'obkit bank';

/** What the PSU reads after a failed factor: wrong, with attempts left; or a replayed code. */
export function factorFailureMessage(
  result: Exclude<FactorResult, { ok: true }>,
  what: 'password' | 'code',
): string {
  if (result.reason === 'reused')
    return 'That code has already been used. Wait for your app to show a new one.';
  if (result.reason !== 'invalid') return '';
  const attempts = result.remainingAttempts === 1 ? '1 attempt' : `${result.remainingAttempts} attempts`;
  const wrong = what === 'password' ? 'The username or password is wrong.' : 'That security code is wrong.';
  return `${wrong} You have ${attempts} left before your login is locked.`;
}

export function lockedMessage(lockedUntil: Date): string[] {
  return [
    `You can try again after ${formatDateTime(lockedUntil)}.`,
    'If you did not try to log in, call us: someone may know your username.',
  ];
}
