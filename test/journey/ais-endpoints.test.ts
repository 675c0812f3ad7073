import { systemClock } from '../../src/shared/clock.ts';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { and, eq, sql } from 'drizzle-orm';
import { before, describe, it } from 'node:test';
import { getIntent } from '../../src/consent/index.ts';
import { postExternalCredit, verifyLedger } from '../../src/bank/index.ts';
import { consentAudit } from '../../src/store/schema/consent.ts';
import { bankAccounts } from '../../src/store/schema/bank.ts';
import { embeddedHandleOf, openStore, type Store } from '../../src/store/index.ts';
import { clientCredentialsToken } from '../../src/tpp/authorization.ts';
import { ALL_ACCOUNT_PERMISSIONS, apiBaseOf, callApi } from '../../src/tpp/open-banking.ts';
import { startSandbox, type Sandbox, type Tpp } from '../support/journey.ts';
import type { TestPlatform } from '../support/platform.ts';
import { recordSent, recordStatements } from '../support/statements.ts';
import { AIS_V3_1_11, assertValidResponse, validateComponent } from '../support/openapi.ts';
import { aisGet, aisGetUrl, authorise, type AisAnswer, type AuthorisedConsent } from './ais-support.ts';

/**
 * The Account Information API over real HTTPS + mTLS, on the composed sandbox with the seeded bank,
 * as a registered TPP with PSU-authorised tokens. Every 200 and every error body is validated against the
 * official OpenAPI file.
 */

type Json = Record<string, unknown>;
const data = (answer: AisAnswer) => (answer.json as { Data: Json }).Data;
const list = (answer: AisAnswer, key: string) => (data(answer)[key] ?? []) as Json[];
const links = (answer: AisAnswer) => (answer.json as { Links: Record<string, string> }).Links;
const meta = (answer: AisAnswer) => (answer.json as { Meta: { TotalPages: number } }).Meta;

/** Asserts the status and validates the body against the spec for `template` (200 or the error's status). */
function expectValid(answer: AisAnswer, template: string, status: number): void {
  assert.equal(answer.status, status, `${template}: ${answer.text.slice(0, 500)}`);
  assertValidResponse(AIS_V3_1_11, template, 'get', status, answer.json);
}

/**
 * An error answer: the status, the UK.OBIE code, and a valid OBErrorResponse1 body — through the path's
 * declared response when the spec gives that status a body (400, 403, …), else against the component
 * (the spec declares 401 without a body and some paths without 404; we still answer the OB error body).
 */
function expectError(answer: AisAnswer, template: string, status: number, code: string): void {
  assert.equal(answer.status, status, `${template}: ${answer.text.slice(0, 500)}`);
  if (status === 400 || status === 403)
    assertValidResponse(AIS_V3_1_11, template, 'get', status, answer.json);
  const component = validateComponent(AIS_V3_1_11, 'OBErrorResponse1', answer.json);
  assert.ok(component.valid, component.errors.join('\n'));
  const errors = (answer.json as { Errors: { ErrorCode: string }[] }).Errors;
  assert.ok(
    errors.some((e) => e.ErrorCode === code),
    `${template}: expected ${code}, got ${answer.text}`,
  );
}

/** The URL of a PostgreSQL store's database, to open a second handle (another instance's) on it. */
async function urlOf(store: Store): Promise<string> {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('a PostgreSQL store without DATABASE_URL');
  const [row] = await store.db
    .select({ name: sql<string>`current_database()` })
    .from(bankAccounts)
    .limit(1);
  if (!row) throw new Error('no account to read the database name with');
  const url = new URL(base);
  url.pathname = `/${row.name}`;
  return url.toString();
}

/**
 * The routes whose handler answered with a promise from now until `stop`: fastify publishes `asyncStart`
 * for a handler that answered with a promise, never for one that answered with its value (a serialised
 * answer at hand: no promise, no microtask).
 */
function handlersAwaited(): { awaited: string[]; stop(): void } {
  const awaited: string[] = [];
  const asyncStart = 'tracing:fastify.request.handler:asyncStart';
  const subscriber = (message: unknown) => {
    awaited.push((message as { route: { url: string } }).route.url);
  };
  subscribe(asyncStart, subscriber);
  return { awaited, stop: () => unsubscribe(asyncStart, subscriber) };
}

/**
 * The platform's change version up to date, as a cache lease keeps it: under the platform's own lease as it
 * is; without one (`OBKIT_CACHE_LEASE_MS=0`, or main before leases) every version the store announces is
 * taken from its notification (`store_change_version`) and `upToDate()` says every change has been heard.
 * `restore` puts the instance back as it was.
 */
async function asIfLeased(platform: TestPlatform) {
  const version = platform.changeVersion;
  const { upToDate } = version;
  const stop = await platform.store.listen('store_change_version', (payload) =>
    version.observe(Number(payload)),
  );
  version.observe(await platform.store.changeVersion());
  version.upToDate = () => true;
  return {
    async restore() {
      version.upToDate = upToDate;
      await stop();
    },
  };
}

/**
 * Waits until `platform` has heard a change version (`until`): at once on the embedded database (every
 * write passes through this process) and on an instance that reads the version on every request (not up to
 * date: no cache lease); while up to date, once that version's notification has arrived. A change announced
 * by migration 0018's trigger waits for no instance (only `store.notify`'s callers wait for the leases), so
 * a read right after it may still be answered from before it, at most one lease later.
 */
async function hearing(platform: TestPlatform) {
  const { changeVersion, store } = platform;
  const waiting = new Set<{ at: number; resolve: () => void }>();
  const settle = (): void => {
    for (const waiter of waiting) {
      if (changeVersion.upToDate() && changeVersion.current() < waiter.at) continue;
      waiting.delete(waiter);
      waiter.resolve();
    }
  };
  // Listened after the platform's own listener (its lease's, or `asIfLeased`'s): it has taken a version first.
  const stop = store.embedded ? async () => undefined : await store.listen('store_change_version', settle);
  return {
    until: (at: number) =>
      new Promise<void>((resolve) => {
        if (store.embedded) return resolve();
        waiting.add({ at, resolve });
        settle();
      }),
    stop,
  };
}

/** Resolves at the next notification on `channel` of `store` (listening once this returns). */
async function nextNotification(store: Store, channel: string): Promise<{ heard: Promise<void> }> {
  let resolve = (): void => undefined;
  const heard = new Promise<void>((done) => (resolve = done));
  const stop = await store.listen(channel, () => resolve());
  return { heard: heard.then(stop) };
}

describe('Account Information v3.1.11 over mTLS', async () => {
  const sandbox: Sandbox = await startSandbox();
  let tpp: Tpp;
  let full: AuthorisedConsent;
  let accountIds: string[];
  let current: string;

  before(async () => {
    tpp = await sandbox.tpp('ais-reader', ['AISP']);
    full = await authorise(sandbox, tpp, { permissions: ALL_ACCOUNT_PERMISSIONS });
    const accounts = await aisGet(tpp, full.accessToken, '/accounts');
    expectValid(accounts, '/accounts', 200);
    accountIds = list(accounts, 'Account').map((a) => a.AccountId as string);
    assert.ok(accountIds.length >= 3, 'alice has several accounts');
    const gbpCurrent = list(accounts, 'Account').find(
      (a) => a.AccountSubType === 'CurrentAccount' && a.Currency === 'GBP',
    );
    assert.ok(gbpCurrent);
    current = gbpCurrent.AccountId as string;
  });

  it('every data endpoint answers a body valid against the official OpenAPI (full consent)', async () => {
    const statements = await aisGet(tpp, full.accessToken, `/accounts/${current}/statements`);
    expectValid(statements, '/accounts/{AccountId}/statements', 200);
    const statementId = list(statements, 'Statement')[0]?.StatementId as string | undefined;
    assert.ok(statementId, 'the seeded account has statements');

    const paths: [string, string][] = [
      ['/accounts', '/accounts'],
      [`/accounts/${current}`, '/accounts/{AccountId}'],
      [`/accounts/${current}/balances`, '/accounts/{AccountId}/balances'],
      [`/accounts/${current}/transactions`, '/accounts/{AccountId}/transactions'],
      [`/accounts/${current}/beneficiaries`, '/accounts/{AccountId}/beneficiaries'],
      [`/accounts/${current}/direct-debits`, '/accounts/{AccountId}/direct-debits'],
      [`/accounts/${current}/standing-orders`, '/accounts/{AccountId}/standing-orders'],
      [`/accounts/${current}/scheduled-payments`, '/accounts/{AccountId}/scheduled-payments'],
      [`/accounts/${current}/statements`, '/accounts/{AccountId}/statements'],
      [`/accounts/${current}/statements/${statementId}`, '/accounts/{AccountId}/statements/{StatementId}'],
      [
        `/accounts/${current}/statements/${statementId}/file`,
        '/accounts/{AccountId}/statements/{StatementId}/file',
      ],
      [
        `/accounts/${current}/statements/${statementId}/transactions`,
        '/accounts/{AccountId}/statements/{StatementId}/transactions',
      ],
      [`/accounts/${current}/product`, '/accounts/{AccountId}/product'],
      [`/accounts/${current}/offers`, '/accounts/{AccountId}/offers'],
      [`/accounts/${current}/party`, '/accounts/{AccountId}/party'],
      [`/accounts/${current}/parties`, '/accounts/{AccountId}/parties'],
      ['/balances', '/balances'],
      ['/transactions', '/transactions'],
      ['/beneficiaries', '/beneficiaries'],
      ['/direct-debits', '/direct-debits'],
      ['/standing-orders', '/standing-orders'],
      ['/scheduled-payments', '/scheduled-payments'],
      ['/statements', '/statements'],
      ['/products', '/products'],
      ['/offers', '/offers'],
      ['/party', '/party'],
    ];
    const nonEmpty = new Set<string>();
    for (const [path, template] of paths) {
      const answer = await aisGet(tpp, full.accessToken, path);
      expectValid(answer, template, 200);
      const body = answer.json as { Data: Json; Links?: { Self: string } };
      if (!template.endsWith('/file')) {
        assert.equal(body.Links?.Self.split('?')[0], `${apiBaseOf(tpp.bank)}/aisp${path}`, template);
        for (const value of Object.values(body.Data)) {
          if (Array.isArray(value) ? value.length > 0 : value) nonEmpty.add(template);
        }
      }
    }
    // The statement file as the bank issued it, when the TPP asks for a PDF.
    const pdf = await aisGet(tpp, full.accessToken, `/accounts/${current}/statements/${statementId}/file`, {
      accept: 'application/pdf',
    });
    assert.equal(pdf.status, 200, pdf.text.slice(0, 300));
    assert.ok(pdf.text.startsWith('%PDF-1.'), 'a PDF document');
    assert.match(pdf.text, /Balance brought forward/);
    // The consent resource's own Self link names it once (no doubled base path).
    const consent = await callApi(
      tpp.bank,
      full.clientToken,
      `${apiBaseOf(tpp.bank)}/aisp/account-access-consents/${full.consentId}`,
    );
    assert.equal(
      (consent.json as { Links: { Self: string } }).Links.Self,
      `${apiBaseOf(tpp.bank)}/aisp/account-access-consents/${full.consentId}`,
    );
    // The seeded bank gives every family real data on alice's current account (no empty lists passing).
    for (const template of [
      '/accounts/{AccountId}/balances',
      '/accounts/{AccountId}/transactions',
      '/accounts/{AccountId}/beneficiaries',
      '/accounts/{AccountId}/direct-debits',
      '/accounts/{AccountId}/standing-orders',
      '/accounts/{AccountId}/statements/{StatementId}/transactions',
      '/accounts/{AccountId}/product',
      '/accounts/{AccountId}/party',
      '/accounts/{AccountId}/parties',
      '/party',
      '/scheduled-payments',
      '/offers',
    ]) {
      assert.ok(nonEmpty.has(template), `${template} returned no data`);
    }
  });

  it('bulk endpoints span exactly the accounts the PSU selected', async () => {
    const one = await authorise(sandbox, tpp, { permissions: ALL_ACCOUNT_PERMISSIONS, accounts: [current] });
    const accounts = await aisGet(tpp, one.accessToken, '/accounts');
    expectValid(accounts, '/accounts', 200);
    assert.deepEqual(
      list(accounts, 'Account').map((a) => a.AccountId),
      [current],
    );
    for (const [path, key] of [
      ['/balances', 'Balance'],
      ['/transactions', 'Transaction'],
      ['/beneficiaries', 'Beneficiary'],
      ['/standing-orders', 'StandingOrder'],
      ['/direct-debits', 'DirectDebit'],
      ['/statements', 'Statement'],
    ] as const) {
      const answer = await aisGet(tpp, one.accessToken, path);
      expectValid(answer, path, 200);
      const items = list(answer, key);
      assert.ok(items.length > 0, `${path} is empty`);
      assert.ok(
        items.every((item) => item.AccountId === current),
        `${path} leaked another account`,
      );
    }
    const other = accountIds.find((id) => id !== current);
    assert.ok(other);
    for (const suffix of ['', '/balances', '/transactions', '/beneficiaries', '/party']) {
      const answer = await aisGet(tpp, one.accessToken, `/accounts/${other}${suffix}`);
      expectError(answer, `/accounts/{AccountId}${suffix}`, 400, 'UK.OBIE.Resource.NotFound');
    }
    const unknown = await aisGet(tpp, one.accessToken, '/accounts/no-such-account/transactions');
    expectError(unknown, '/accounts/{AccountId}/transactions', 400, 'UK.OBIE.Resource.NotFound');
  });

  it('without ReadTransactionsDetail no detail field is ever returned; Credits alone gives credits only', async () => {
    const basic = await authorise(sandbox, tpp, {
      permissions: [
        'ReadAccountsBasic',
        'ReadTransactionsBasic',
        'ReadTransactionsCredits',
        'ReadStatementsBasic',
      ],
    });
    const DETAIL = [
      'TransactionInformation',
      'Balance',
      'MerchantDetails',
      'CreditorAccount',
      'DebtorAccount',
      'CreditorAgent',
      'DebtorAgent',
    ];
    const seen: Json[] = [];
    let answer = await aisGet(tpp, basic.accessToken, `/accounts/${current}/transactions`);
    for (;;) {
      expectValid(answer, '/accounts/{AccountId}/transactions', 200);
      seen.push(...list(answer, 'Transaction'));
      const next = links(answer).Next;
      if (!next) break;
      answer = await aisGetUrl(tpp, basic.accessToken, next);
    }
    const bulk = await aisGet(tpp, basic.accessToken, '/transactions');
    expectValid(bulk, '/transactions', 200);
    seen.push(...list(bulk, 'Transaction'));
    assert.ok(seen.length > 10);
    for (const transaction of seen) {
      for (const field of DETAIL) assert.equal(transaction[field], undefined, `${field} leaked`);
      assert.equal(transaction.CreditDebitIndicator, 'Credit');
      const card = transaction.CardInstrument as { Identification?: string } | undefined;
      if (card?.Identification)
        assert.match(card.Identification, /^\*+\d{4}$/, 'PAN unmasked without ReadPAN');
    }
    const accounts = await aisGet(tpp, basic.accessToken, '/accounts');
    expectValid(accounts, '/accounts', 200);
    for (const account of list(accounts, 'Account')) {
      assert.equal(account.Account, undefined, 'identifiers need ReadAccountsDetail');
      assert.equal(account.Servicer, undefined);
    }
    const statements = await aisGet(tpp, basic.accessToken, `/accounts/${current}/statements`);
    expectValid(statements, '/accounts/{AccountId}/statements', 200);
    const statement = list(statements, 'Statement')[0];
    assert.ok(statement);
    assert.equal(statement.StatementAmount, undefined, 'amounts need ReadStatementsDetail');
    const file = await aisGet(
      tpp,
      basic.accessToken,
      `/accounts/${current}/statements/${statement.StatementId as string}/file`,
    );
    expectError(
      file,
      '/accounts/{AccountId}/statements/{StatementId}/file',
      403,
      'UK.OBIE.Resource.InvalidConsentStatus',
    );

    // With Detail the same transactions carry the detail fields.
    const detailed = await aisGet(tpp, full.accessToken, `/accounts/${current}/transactions`);
    expectValid(detailed, '/accounts/{AccountId}/transactions', 200);
    assert.ok(list(detailed, 'Transaction').some((t) => t.TransactionInformation !== undefined));
    assert.ok(list(detailed, 'Transaction').some((t) => t.Balance !== undefined));
    assert.ok(list(detailed, 'Transaction').some((t) => t.CreditDebitIndicator === 'Debit'));
  });

  it('Basic permissions hide creditor accounts of beneficiaries, standing orders and scheduled payments; Debits alone gives debits', async () => {
    const basic = await authorise(sandbox, tpp, {
      permissions: [
        'ReadBeneficiariesBasic',
        'ReadStandingOrdersBasic',
        'ReadScheduledPaymentsBasic',
        'ReadTransactionsBasic',
        'ReadTransactionsDebits',
        'ReadStatementsDetail',
      ],
    });
    for (const [path, key] of [
      ['/beneficiaries', 'Beneficiary'],
      ['/standing-orders', 'StandingOrder'],
      ['/scheduled-payments', 'ScheduledPayment'],
    ] as const) {
      const answer = await aisGet(tpp, basic.accessToken, path);
      expectValid(answer, path, 200);
      assert.ok(list(answer, key).length > 0, `${path} is empty`);
      for (const item of list(answer, key)) {
        assert.equal(item.CreditorAccount, undefined, `${path} leaked CreditorAccount`);
        assert.equal(item.CreditorAgent, undefined, `${path} leaked CreditorAgent`);
      }
      const detailed = await aisGet(tpp, full.accessToken, path);
      assert.ok(list(detailed, key).some((item) => item.CreditorAccount !== undefined));
    }
    // Statement transactions: only the statement's period, only debits, no detail.
    const statements = await aisGet(tpp, basic.accessToken, `/accounts/${current}/statements`);
    const statement = list(statements, 'Statement')[0];
    assert.ok(statement);
    const lines = await aisGet(
      tpp,
      basic.accessToken,
      `/accounts/${current}/statements/${statement.StatementId as string}/transactions`,
    );
    expectValid(lines, '/accounts/{AccountId}/statements/{StatementId}/transactions', 200);
    assert.ok(list(lines, 'Transaction').length > 0);
    for (const t of list(lines, 'Transaction')) {
      const booked = Date.parse(t.BookingDateTime as string);
      assert.ok(booked >= Date.parse(statement.StartDateTime as string));
      assert.ok(booked <= Date.parse(statement.EndDateTime as string));
      assert.equal(t.CreditDebitIndicator, 'Debit');
      assert.equal(t.TransactionInformation, undefined);
    }
    // The JSON statement file carries the lines as this consent sees transactions.
    const file = await aisGet(
      tpp,
      basic.accessToken,
      `/accounts/${current}/statements/${statement.StatementId as string}/file`,
    );
    expectValid(file, '/accounts/{AccountId}/statements/{StatementId}/file', 200);
    const fileLines = (file.json as { Transaction: Json[] }).Transaction;
    assert.ok(fileLines.length > 0);
    assert.ok(fileLines.every((t) => t.CreditDebitIndicator === 'Debit' && t.Balance === undefined));
  });

  it('without ReadBalances balances are refused (403), and so is every endpoint the consent does not cover', async () => {
    const noBalances = await authorise(sandbox, tpp, { permissions: ['ReadAccountsDetail'] });
    expectError(
      await aisGet(tpp, noBalances.accessToken, '/balances'),
      '/balances',
      403,
      'UK.OBIE.Resource.InvalidConsentStatus',
    );
    expectError(
      await aisGet(tpp, noBalances.accessToken, `/accounts/${current}/balances`),
      '/accounts/{AccountId}/balances',
      403,
      'UK.OBIE.Resource.InvalidConsentStatus',
    );
    for (const [path, template] of [
      [`/accounts/${current}/transactions`, '/accounts/{AccountId}/transactions'],
      ['/beneficiaries', '/beneficiaries'],
      ['/party', '/party'],
      [`/accounts/${current}/parties`, '/accounts/{AccountId}/parties'],
      ['/statements', '/statements'],
    ]) {
      expectError(
        await aisGet(tpp, noBalances.accessToken, path as string),
        template as string,
        403,
        'UK.OBIE.Resource.InvalidConsentStatus',
      );
    }
    const accounts = await aisGet(tpp, noBalances.accessToken, '/accounts');
    expectValid(accounts, '/accounts', 200);
  });

  it('a token of another client is refused', async () => {
    const other = await sandbox.tpp('ais-other', ['AISP']);
    // The other TPP presents the first TPP's token over its own mTLS connection: the binding fails.
    const stolen = await aisGet(other, full.accessToken, '/accounts');
    expectError(stolen, '/accounts', 401, 'UK.OBIE.Header.Invalid');
  });

  it('a client_credentials token where the PSU must have authorised is 401 (not a consent status); a PSU token on a consent endpoint is 403', async () => {
    // Read/Write Data API Profile, HTTP status table: "invalid token" is 401, "Re-authenticating the PSU
    // may result in an appropriate token"; "a security policy was violated" is 403.
    for (const [path, template] of [
      ['/accounts', '/accounts'],
      [`/accounts/${current}/balances`, '/accounts/{AccountId}/balances'],
      ['/transactions', '/transactions'],
    ]) {
      const clientOnly = await aisGet(tpp, full.clientToken, path as string);
      expectError(clientOnly, template as string, 401, 'UK.OBIE.Header.Invalid');
      assert.match(clientOnly.text, /authorised|authorization code/);
    }
    const psuOnConsent = await callApi(
      tpp.bank,
      full.accessToken,
      `${apiBaseOf(tpp.bank)}/aisp/account-access-consents/${full.consentId}`,
    );
    assert.equal(psuOnConsent.status, 403, psuOnConsent.text);
    assertValidResponse(AIS_V3_1_11, '/account-access-consents/{ConsentId}', 'get', 403, psuOnConsent.json);
    assert.equal(
      (psuOnConsent.json as { Errors: { ErrorCode: string }[] }).Errors[0]?.ErrorCode,
      'UK.OBIE.Header.Invalid',
    );
  });

  it('serves a specified path with a trailing slash as the path, on every API base; undefined URLs stay 404', async () => {
    const base = apiBaseOf(tpp.bank);
    const plain = await aisGet(tpp, full.accessToken, '/accounts');
    const slashed = await aisGet(tpp, full.accessToken, '/accounts/');
    expectValid(slashed, '/accounts', 200);
    assert.deepEqual(data(slashed), data(plain));
    const transactions = await aisGet(
      tpp,
      full.accessToken,
      `/accounts/${current}/transactions/?fromBookingDateTime=2020-01-01T00:00:00`,
    );
    expectValid(transactions, '/accounts/{AccountId}/transactions', 200);
    assert.equal(links(transactions).Self?.split('?')[0], `${base}/aisp/accounts/${current}/transactions`);
    // On the payment and funds-confirmation bases too: the route is reached (an unknown id is its 400).
    const everything = await sandbox.tpp('ais-slashes');
    for (const [url, scope] of [
      [`${base}/aisp/account-access-consents/aac-nobody/`, 'accounts'],
      [`${base}/pisp/domestic-payment-consents/pdc-nobody/`, 'payments'],
      [`${base}/cbpii/funds-confirmation-consents/fcc-nobody/`, 'fundsconfirmations'],
    ] as const) {
      const token = (await clientCredentialsToken(everything.bank, scope)).access_token;
      const answer = await callApi(everything.bank, token, url);
      assert.equal(answer.status, 400, `${url}: ${answer.text}`);
      const body = validateComponent(AIS_V3_1_11, 'OBErrorResponse1', answer.json);
      assert.ok(body.valid, body.errors.join('\n'));
    }
    for (const url of [`${base}/aisp/no-such-resource/`, `${base}/aisp/card-accounts`, `${base}/aisp/`]) {
      const answer = await callApi(tpp.bank, full.accessToken, url);
      assert.equal(answer.status, 404, `${url}: ${answer.text}`);
      const body = validateComponent(AIS_V3_1_11, 'OBErrorResponse1', answer.json);
      assert.ok(body.valid, body.errors.join('\n'));
    }
  });

  it('reads date filters in ISO 8601 basic and extended forms alike', async () => {
    const path = `/accounts/${current}/transactions`;
    const extended = await aisGet(
      tpp,
      full.accessToken,
      `${path}?fromBookingDateTime=2020-01-01T00:00:00&toBookingDateTime=2099-12-31T23:59:59`,
    );
    expectValid(extended, '/accounts/{AccountId}/transactions', 200);
    for (const query of [
      'fromBookingDateTime=20200101T000000&toBookingDateTime=20991231T235959',
      'fromBookingDateTime=20200101&toBookingDateTime=20991231T235959Z',
      'fromBookingDateTime=2020-01-01T00:00:00%2B01:00&toBookingDateTime=2099-12-31T23:59:59.999',
      'fromBookingDateTime=2020-001&toBookingDateTime=2099-W53-4T23:59:59',
    ]) {
      const answer = await aisGet(tpp, full.accessToken, `${path}?${query}`);
      expectValid(answer, '/accounts/{AccountId}/transactions', 200);
      assert.deepEqual(data(answer), data(extended), query);
    }
    const statements = await aisGet(
      tpp,
      full.accessToken,
      `/accounts/${current}/statements?fromStatementDateTime=20200101T000000`,
    );
    expectValid(statements, '/accounts/{AccountId}/statements', 200);
    for (const bad of ['2020-01-01T000000', '20200101T00:00:00', '2021-W53-1', '2020-02-30']) {
      expectError(
        await aisGet(tpp, full.accessToken, `${path}?fromBookingDateTime=${bad}`),
        '/accounts/{AccountId}/transactions',
        400,
        'UK.OBIE.Field.InvalidDate',
      );
    }
  });

  it("a revoked consent's token is refused at once", async () => {
    const consent = await authorise(sandbox, tpp, { permissions: ALL_ACCOUNT_PERMISSIONS });
    // Warm every cache on the path first: revocation must still win.
    expectValid(
      await aisGet(tpp, consent.accessToken, `/accounts/${current}/transactions`),
      '/accounts/{AccountId}/transactions',
      200,
    );
    for (let times = 0; times < 2; times++) {
      expectValid(
        await aisGet(tpp, consent.accessToken, `/accounts/${current}`),
        '/accounts/{AccountId}',
        200,
      );
    }
    const removal = await callApi(
      tpp.bank,
      consent.clientToken,
      `${apiBaseOf(tpp.bank)}/aisp/account-access-consents/${consent.consentId}`,
      { method: 'DELETE' },
    );
    assert.equal(removal.status, 204, removal.text);
    const refused = await aisGet(tpp, consent.accessToken, `/accounts/${current}/transactions`);
    // The token itself is revoked with its consent: 401 at the token check, before the consent check.
    expectError(refused, '/accounts/{AccountId}/transactions', 401, 'UK.OBIE.Header.Invalid');
    const account = await aisGet(tpp, consent.accessToken, `/accounts/${current}`);
    expectError(account, '/accounts/{AccountId}', 401, 'UK.OBIE.Header.Invalid');
  });

  it('malformed headers, dates and pages are 400s with UK.OBIE codes, never 500', async () => {
    const path = `/accounts/${current}/transactions`;
    const template = '/accounts/{AccountId}/transactions';
    const cases: [string, Record<string, string>, number, string][] = [
      [`${path}?fromBookingDateTime=yesterday`, {}, 400, 'UK.OBIE.Field.InvalidDate'],
      [`${path}?toBookingDateTime=2024-02-30T00:00:00`, {}, 400, 'UK.OBIE.Field.InvalidDate'],
      [`${path}?fromBookingDateTime=2024-13-01`, {}, 400, 'UK.OBIE.Field.InvalidDate'],
      [`${path}?fromBookingDateTime=2024-01-01T25:00:00`, {}, 400, 'UK.OBIE.Field.InvalidDate'],
      [
        `${path}?fromBookingDateTime=2024-05-01&toBookingDateTime=2024-04-01`,
        {},
        400,
        'UK.OBIE.Field.InvalidDate',
      ],
      [
        `${path}?fromBookingDateTime=2024-01-01&fromBookingDateTime=2024-02-01`,
        {},
        400,
        'UK.OBIE.Field.Invalid',
      ],
      [`${path}?page=0`, {}, 400, 'UK.OBIE.Field.Invalid'],
      [`${path}?page=-1`, {}, 400, 'UK.OBIE.Field.Invalid'],
      [`${path}?page=two`, {}, 400, 'UK.OBIE.Field.Invalid'],
      [`${path}?page=99999`, {}, 400, 'UK.OBIE.Field.Invalid'],
      [path, { 'x-fapi-auth-date': 'last tuesday' }, 400, 'UK.OBIE.Header.Invalid'],
      [path, { 'x-fapi-customer-ip-address': 'not-an-ip' }, 400, 'UK.OBIE.Header.Invalid'],
      [path, { 'x-fapi-interaction-id': 'not a uuid' }, 400, 'UK.OBIE.Header.Invalid'],
      [path, { authorization: 'Basic abc' }, 401, 'UK.OBIE.Header.Invalid'],
      [path, { authorization: 'Bearer not-a-token' }, 401, 'UK.OBIE.Header.Invalid'],
      [
        `/accounts/${current}/statements?fromStatementDateTime=01/02/2024`,
        {},
        400,
        'UK.OBIE.Field.InvalidDate',
      ],
      [`/accounts/${current}/statements/${'x'.repeat(90)}`, {}, 400, 'UK.OBIE.Resource.NotFound'],
    ];
    for (const [url, headers, status, code] of cases) {
      const answer = await aisGet(tpp, full.accessToken, url, headers);
      const spec = url.includes('/statements/')
        ? '/accounts/{AccountId}/statements/{StatementId}'
        : url.includes('/statements')
          ? '/accounts/{AccountId}/statements'
          : template;
      expectError(answer, spec, status, code);
    }
  });

  it('pages transactions with a fixed size: Links walk every page once, filters kept, TotalPages exact', async () => {
    const path = `/accounts/${current}/transactions`;
    const first = await aisGet(tpp, full.accessToken, path);
    expectValid(first, '/accounts/{AccountId}/transactions', 200);
    const pages = meta(first).TotalPages;
    assert.ok(pages > 1, 'six months of history spans several pages');
    assert.equal(links(first).Prev, undefined);
    assert.ok(links(first).Next && links(first).Last && links(first).First);
    const ids = new Set<string>();
    let answer = first;
    let visited = 0;
    let previousBooking = Infinity;
    for (;;) {
      visited += 1;
      expectValid(answer, '/accounts/{AccountId}/transactions', 200);
      assert.equal(meta(answer).TotalPages, pages);
      for (const t of list(answer, 'Transaction')) {
        assert.ok(!ids.has(t.TransactionId as string), 'a transaction on two pages');
        ids.add(t.TransactionId as string);
        const booked = Date.parse(t.BookingDateTime as string);
        assert.ok(booked <= previousBooking, 'newest first');
        previousBooking = booked;
      }
      if (visited > 1) assert.ok(links(answer).Prev);
      const next = links(answer).Next;
      if (!next) break;
      answer = await aisGetUrl(tpp, full.accessToken, next);
    }
    assert.equal(visited, pages);
    assert.equal(links(answer).Self, links(first).Last);

    // Filters: only the window, and the links keep the filter.
    const from = '2000-01-01T00:00:00';
    const to = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 19);
    const filtered = await aisGet(
      tpp,
      full.accessToken,
      `${path}?fromBookingDateTime=${from}&toBookingDateTime=${to}`,
    );
    expectValid(filtered, '/accounts/{AccountId}/transactions', 200);
    const items = list(filtered, 'Transaction');
    assert.ok(items.length > 0);
    for (const t of items) assert.ok(Date.parse(t.BookingDateTime as string) <= Date.parse(`${to}Z`));
    if (links(filtered).Next) assert.match(links(filtered).Next ?? '', /toBookingDateTime=/);
    assert.ok(meta(filtered).TotalPages < pages || items.length < ids.size);
    // A timezone in the filter is ignored, as the specification asks.
    const zoned = await aisGet(tpp, full.accessToken, `${path}?toBookingDateTime=${to}%2B05:00`);
    expectValid(zoned, '/accounts/{AccountId}/transactions', 200);
    assert.deepEqual(list(zoned, 'Transaction')[0]?.TransactionId, items[0]?.TransactionId);
  });

  it("the consent's TransactionFromDateTime/ToDateTime bound what any query returns", async () => {
    const from = new Date(Date.now() - 60 * 86_400_000);
    const to = new Date(Date.now() - 30 * 86_400_000);
    const bounded = await authorise(sandbox, tpp, {
      permissions: ALL_ACCOUNT_PERMISSIONS,
      transactionFrom: from.toISOString(),
      transactionTo: to.toISOString(),
    });
    const wide = await aisGet(
      tpp,
      bounded.accessToken,
      `/accounts/${current}/transactions?fromBookingDateTime=2000-01-01&toBookingDateTime=2100-01-01`,
    );
    expectValid(wide, '/accounts/{AccountId}/transactions', 200);
    const seen = list(wide, 'Transaction');
    assert.ok(seen.length > 0);
    for (const t of seen) {
      const booked = Date.parse(t.BookingDateTime as string);
      assert.ok(
        booked >= from.getTime() && booked <= to.getTime(),
        `${t.BookingDateTime as string} outside the consent`,
      );
    }
    // A query entirely outside the consent's window: an empty page, not an error.
    const outside = await aisGet(tpp, bounded.accessToken, `/transactions?fromBookingDateTime=2100-01-01`);
    expectValid(outside, '/transactions', 200);
    assert.equal(list(outside, 'Transaction').length, 0);
    assert.equal(meta(outside).TotalPages, 1);
    // Statements outside the window are not listed.
    const statements = await aisGet(tpp, bounded.accessToken, `/accounts/${current}/statements`);
    expectValid(statements, '/accounts/{AccountId}/statements', 200);
    for (const s of list(statements, 'Statement')) {
      assert.ok(Date.parse(s.EndDateTime as string) >= from.getTime());
      assert.ok(Date.parse(s.StartDateTime as string) <= to.getTime());
    }
  });

  it("a page's window is its own consent's and query's, read after read (derived once per consent and URL)", async () => {
    const from = new Date(Date.now() - 60 * 86_400_000);
    const to = new Date(Date.now() - 30 * 86_400_000);
    const bounded = await authorise(sandbox, tpp, {
      permissions: ALL_ACCOUNT_PERMISSIONS,
      transactionFrom: from.toISOString(),
      transactionTo: to.toISOString(),
    });
    const booked = (answer: AisAnswer) =>
      list(answer, 'Transaction').map((t) => Date.parse(t.BookingDateTime as string));
    const path = `/accounts/${current}/transactions`;
    const recent = new Date(to.getTime() + 86_400_000).toISOString().slice(0, 10);
    const older = from.toISOString().slice(0, 10);
    // The same URLs read in turns under two consents, twice over: each answer stays its own.
    const answers = new Map<string, string>();
    for (let round = 0; round < 2; round += 1) {
      for (const [name, consent] of [
        ['full', full],
        ['bounded', bounded],
      ] as const) {
        for (const query of ['', `?fromBookingDateTime=${recent}`, `?fromBookingDateTime=${older}`]) {
          const answer = await aisGet(tpp, consent.accessToken, `${path}${query}`);
          expectValid(answer, '/accounts/{AccountId}/transactions', 200);
          assert.equal(links(answer).Self, `${apiBaseOf(tpp.bank)}/aisp${path}${query}`);
          const times = booked(answer);
          if (name === 'bounded') {
            for (const time of times) assert.ok(time >= from.getTime() && time <= to.getTime(), name + query);
          }
          if (query.includes(recent)) {
            for (const time of times) assert.ok(time >= Date.parse(recent), name + query);
            if (name === 'bounded') assert.equal(times.length, 0, 'after the consent window: none');
          }
          const key = `${name} ${query}`;
          if (round === 0) answers.set(key, answer.text);
          else assert.equal(answer.text, answers.get(key), `${key} read again`);
        }
      }
    }
    assert.ok(answers.get('full ')!.length > answers.get('bounded ')!.length);
    assert.notEqual(
      answers.get(`full ?fromBookingDateTime=${older}`),
      answers.get(`bounded ?fromBookingDateTime=${older}`),
    );
    // A query refused is refused again (nothing kept of it), and the consent still reads.
    for (let i = 0; i < 2; i += 1) {
      expectError(
        await aisGet(tpp, bounded.accessToken, `${path}?fromBookingDateTime=2024-02-30`),
        '/accounts/{AccountId}/transactions',
        400,
        'UK.OBIE.Field.InvalidDate',
      );
    }
    assert.equal((await aisGet(tpp, bounded.accessToken, path)).text, answers.get('bounded '));
  });

  it('records the consent as used for the dashboard (throttled, not per request)', async () => {
    const consent = await authorise(sandbox, tpp, { permissions: ['ReadAccountsBasic'] });
    const store = sandbox.platform.store;
    assert.equal((await getIntent(store.db, consent.consentId))?.lastUsedAt, undefined);
    for (let i = 0; i < 3; i += 1)
      expectValid(await aisGet(tpp, consent.accessToken, '/accounts'), '/accounts', 200);
    let intent = await getIntent(store.db, consent.consentId);
    for (let wait = 0; !intent?.lastUsedAt && wait < 500; wait += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      intent = await getIntent(store.db, consent.consentId);
    }
    assert.ok(intent?.lastUsedAt, 'lastUsedAt set');
    const used = await store.db
      .select()
      .from(consentAudit)
      .where(and(eq(consentAudit.intentId, consent.consentId), eq(consentAudit.event, 'used')));
    assert.equal(used.length, 1, 'three reads within a minute: one write');
  });

  it('a page read again shows a transaction posted since (by any instance: the ledger is read, not told)', async () => {
    const path = `/accounts/${current}/transactions`;
    const first = await aisGet(tpp, full.accessToken, path);
    expectValid(first, '/accounts/{AccountId}/transactions', 200);
    const again = await aisGet(tpp, full.accessToken, path);
    assert.equal(again.text, first.text, 'nothing posted: the same page');
    const reference = `CACHE ${Date.now()}`;
    // Written straight to the store, as another instance of the platform would: no hook of this one runs.
    await postExternalCredit(
      sandbox.platform.store.db,
      { clock: systemClock },
      { accountId: current, amountMinor: 1234n, currency: 'GBP', reference },
    );
    const after = await aisGet(tpp, full.accessToken, path);
    expectValid(after, '/accounts/{AccountId}/transactions', 200);
    const newest = list(after, 'Transaction')[0];
    assert.equal(newest?.TransactionReference, reference);
    assert.deepEqual(newest?.Amount, { Amount: '12.34', Currency: 'GBP' });
  });

  it('an account read again sends no statement while nothing was written (embedded), and shows a change made since', async () => {
    const { store } = sandbox.platform;
    const path = `/accounts/${current}`;
    const read = async () => {
      const answer = await aisGet(tpp, full.accessToken, path);
      expectValid(answer, '/accounts/{AccountId}', 200);
      return answer;
    };
    const accountReads = (statements: string[]) =>
      statements.filter((text) => text.includes('"bank_accounts"'));
    if (store.embedded) {
      const { embedded } = store;
      // Background work (the consent's "last used", MI, the scheduler) writes now and then, and every write
      // ends what was read before it: the repeat counts when nothing at all was written around the pair.
      let quiet = false;
      for (let attempt = 0; attempt < 10 && !quiet; attempt++) {
        const before = embedded.writeCount();
        await read();
        const { statements } = await recordStatements(read);
        quiet = embedded.writeCount() === before;
        if (quiet) assert.deepEqual(accountReads(statements), [], 'nothing written since: no statement');
      }
      assert.ok(quiet, 'two reads with nothing written around them');
    }
    const [{ nickname: was = null } = {}] = await store.db
      .select({ nickname: bankAccounts.nickname })
      .from(bankAccounts)
      .where(eq(bankAccounts.id, current));
    const nickname = `Renamed ${Date.now()}`;
    const heard = await hearing(sandbox.platform);
    try {
      // Written straight to the store, as the bank's back office would: no hook of this platform runs. The
      // trigger (migration 0018) announces it; under a cache lease it is shown once heard.
      await store.db.update(bankAccounts).set({ nickname }).where(eq(bankAccounts.id, current));
      await heard.until(await store.changeVersion());
      const { result: after, statements } = await recordStatements(read);
      assert.equal(list(after, 'Account')[0]?.Nickname, nickname);
      // One statement: the rows' versions, and the changed row with them (not a second read). On PostgreSQL
      // without a lease the statement sees a newer change version than the request was checked under: the
      // request is checked again under it, and the statement sent again.
      const reads = accountReads(statements).length;
      assert.ok(reads >= 1 && reads <= (store.embedded ? 1 : 2), `written since: read again (${reads})`);
    } finally {
      await store.db.update(bankAccounts).set({ nickname: was }).where(eq(bankAccounts.id, current));
      await heard.until(await store.changeVersion());
      await heard.stop();
    }
  });

  it('an account and a transactions page read again on the embedded database are sent in the tick the guard passes them', async (t) => {
    if (!sandbox.platform.store.embedded) return t.skip('PostgreSQL reads the change version per request');
    const { embedded } = sandbox.platform.store;
    const { awaited, stop } = handlersAwaited();
    try {
      for (const [template, path] of [
        ['/accounts/{AccountId}', `/accounts/${current}`],
        ['/accounts/{AccountId}/transactions', `/accounts/${current}/transactions`],
      ] as const) {
        // Background work (the consent's "last used", MI) writes now and then, and a write ends what was
        // read before it: the repeat counts when nothing was written around the pair.
        let quiet = false;
        for (let attempt = 0; attempt < 10 && !quiet; attempt++) {
          const before = embedded.writeCount();
          expectValid(await aisGet(tpp, full.accessToken, path), template, 200);
          awaited.length = 0;
          expectValid(await aisGet(tpp, full.accessToken, path), template, 200);
          quiet = embedded.writeCount() === before;
          if (quiet) assert.deepEqual(awaited, [], `${template} read again: answered without a promise`);
        }
        assert.ok(quiet, `two reads of ${template} with nothing written around them`);
      }
    } finally {
      stop();
    }
  });

  it("an account's answer is kept per consent's permissions and served again only while its row is unchanged, whoever writes it", async () => {
    const basic = await authorise(sandbox, tpp, { permissions: ['ReadAccountsBasic'] });
    const path = `/accounts/${current}`;
    const read = async (consent: AuthorisedConsent) => {
      const answer = await aisGet(tpp, consent.accessToken, path);
      expectValid(answer, '/accounts/{AccountId}', 200);
      return answer;
    };
    const account = (answer: AisAnswer) => list(answer, 'Account')[0] ?? {};
    // The accounts' one statement: the versions, and the rows whose version this instance does not hold.
    const accountReads = (statements: string[]) =>
      statements.filter((text) => text.includes('"bank_accounts"'));
    for (let round = 0; round < 2; round++) {
      // Each permission set its own answer, read in turns: neither is ever served the other's.
      assert.ok(account(await read(full)).Account, 'ReadAccountsDetail: identifications');
      assert.equal(account(await read(basic)).Account, undefined, 'ReadAccountsBasic: none');
    }
    const { result: again, statements } = await recordStatements(() => read(full));
    assert.ok(account(again).Account);
    // At most the versions' statement (none on the embedded database while nothing was written).
    assert.ok(accountReads(statements).length <= 1, 'unchanged: answered again, one statement at most');

    // A second handle on the same database, as another instance of the platform: no hook of this one runs.
    const { store } = sandbox.platform;
    const other =
      store.backend === 'pglite'
        ? await openStore({
            backend: 'pglite',
            dataDir: undefined,
            pglite: embeddedHandleOf((store.db as unknown as { $client: object }).$client),
          })
        : await openStore({ backend: 'postgres', url: await urlOf(store), poolSize: 1 });
    const [{ nickname: was = null } = {}] = await other.db
      .select({ nickname: bankAccounts.nickname })
      .from(bankAccounts)
      .where(eq(bankAccounts.id, current));
    const nickname = `Elsewhere ${Date.now()}`;
    const heard = await hearing(sandbox.platform);
    try {
      await other.db.update(bankAccounts).set({ nickname }).where(eq(bankAccounts.id, current));
      await heard.until(await other.changeVersion());
      const { result: after, statements: afterStatements } = await recordStatements(() => read(full));
      assert.equal(account(after).Nickname, nickname, "Detail: the other handle's write is seen");
      assert.ok(account(after).Account);
      // The row sent with its version; on PostgreSQL without a lease checked again once (as above).
      const reads = accountReads(afterStatements).length;
      assert.ok(
        reads >= 1 && reads <= (store.embedded ? 1 : 2),
        `changed: the row sent with its version (${reads})`,
      );
      const basicAfter = await read(basic);
      assert.equal(account(basicAfter).Nickname, nickname, 'Basic: the write is seen too');
      assert.equal(account(basicAfter).Account, undefined);
    } finally {
      await other.db.update(bankAccounts).set({ nickname: was }).where(eq(bankAccounts.id, current));
      await heard.until(await other.changeVersion());
      await heard.stop();
      // Closing a PGlite store closes its handle, which the platform still uses.
      if (other.backend === 'postgres') await other.close();
    }
    assert.equal(account(await read(full)).Nickname ?? null, was, 'the write undone is seen too');
  });

  it('on PostgreSQL, while every change has been heard, an account and the accounts read again send no statement, in the tick the guard passes them', async (t) => {
    const { platform } = sandbox;
    if (platform.store.embedded) return t.skip('PostgreSQL only: the embedded path is the test above');
    const leased = await asIfLeased(platform);
    const { awaited, stop } = handlersAwaited();
    try {
      for (const [template, path] of [
        ['/accounts/{AccountId}', `/accounts/${current}`],
        ['/accounts', '/accounts'],
      ] as const) {
        const first = await aisGet(tpp, full.accessToken, path);
        expectValid(first, template, 200);
        // A posting since (the statement of every payment's posting): balances only, nothing announced.
        await postExternalCredit(
          platform.store.db,
          { clock: systemClock },
          { accountId: current, amountMinor: 1n, currency: 'GBP', reference: `NOT ANNOUNCED ${Date.now()}` },
        );
        // Notifications arrive in commit order: once this one is here, an announcement of the posting would be.
        const { heard } = await nextNotification(platform.store, 'test_after_posting');
        await platform.store.db.execute(sql`select pg_notify('test_after_posting', '')`);
        await heard;
        awaited.length = 0;
        const { result: again, sent } = await recordSent(() => aisGet(tpp, full.accessToken, path));
        expectValid(again, template, 200);
        assert.equal(again.text, first.text, `${template}: the same answer`);
        assert.deepEqual(
          sent.map(({ text }) => text),
          [],
          `${template} read again after a posting: no statement`,
        );
        assert.deepEqual(awaited, [], `${template} read again: answered without a promise`);
      }
    } finally {
      stop();
      await leased.restore();
    }
  });

  it('on PostgreSQL, an account detail written by plain SQL is announced, and shown by the next read once heard', async (t) => {
    const { platform } = sandbox;
    const { store } = platform;
    if (store.embedded) return t.skip('PostgreSQL only: the embedded database answers again until any write');
    const path = `/accounts/${current}`;
    const read = async () => {
      const answer = await aisGet(tpp, full.accessToken, path);
      expectValid(answer, '/accounts/{AccountId}', 200);
      return answer;
    };
    const accountReads = (sent: { text: string }[]) =>
      sent.filter(({ text }) => text.includes('"bank_accounts"'));
    const leased = await asIfLeased(platform);
    const [{ nickname: was = null } = {}] = await store.db
      .select({ nickname: bankAccounts.nickname })
      .from(bankAccounts)
      .where(eq(bankAccounts.id, current));
    try {
      await read();
      assert.deepEqual((await recordSent(read)).sent, [], 'heard, unchanged: no statement');
      const nickname = `Announced ${Date.now()}`;
      const { heard: announced } = await nextNotification(store, 'bank_accounts_changed');
      const heard = await hearing(platform);
      // As a DBA would: no hook of this platform runs; the trigger announces it in the same transaction.
      await store.db.execute(sql`update bank_accounts set nickname = ${nickname} where id = ${current}`);
      await announced;
      await heard.until(await store.changeVersion());
      await heard.stop();
      const { result: after, sent } = await recordSent(read);
      assert.equal(list(after, 'Account')[0]?.Nickname, nickname, 'the change is shown');
      assert.equal(accountReads(sent).length, 1, 'read again once, in one statement');
      assert.deepEqual((await recordSent(read)).sent, [], 'then answered again without one');
    } finally {
      await store.db.update(bankAccounts).set({ nickname: was }).where(eq(bankAccounts.id, current));
      await leased.restore();
    }
  });

  it('keeps the ledger invariant after every test above: each balance equals the sum of its postings', async () => {
    assert.deepEqual(await verifyLedger(sandbox.platform.store.db), []);
  });
});
