import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify, { type LightMyRequestResponse } from 'fastify';
import { createCustomer, openAccount } from '../../src/bank/index.ts';
import { bankCustomerDirectory } from '../../src/consent/bank-directory.ts';
import {
  authorise,
  consentDashboard,
  consume,
  createIntent,
  getIntent,
  listAudit,
  recordUse,
  sandboxCredentialsFor,
  seedCredentials,
  totpCode,
  type ConsentContext,
} from '../../src/consent/index.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { createTestStore } from '../support/store.ts';
import { accountAccessData, domesticPaymentData, fundsConfirmationData } from './fixtures.ts';
import { CookieJar, csrfOf, setCookieLine } from '../support/cookie-jar.ts';

async function world() {
  const store = await createTestStore();
  const clock = new ManualClock('2026-01-01T09:00:00Z');
  const ctx: ConsentContext = { db: store.db, clock };
  const bank = { clock };
  const alice = await createCustomer(store.db, bank, {
    username: 'alice',
    displayName: 'Alice Walker',
    kind: 'personal',
  });
  const bob = await createCustomer(store.db, bank, {
    username: 'bob',
    displayName: 'Bob Singh',
    kind: 'personal',
  });
  const current = await openAccount(store.db, bank, {
    holders: [alice.id],
    currency: 'GBP',
    name: 'Alice Walker',
    nickname: 'Everyday',
  });
  const bobs = await openAccount(store.db, bank, { holders: [bob.id], currency: 'GBP', name: 'Bob Singh' });
  await seedCredentials(ctx, [
    { id: alice.id, username: 'alice' },
    { id: bob.id, username: 'bob' },
  ]);
  const stage = async (
    kind: Parameters<typeof createIntent>[1]['kind'],
    clientId: string,
    data: Record<string, unknown>,
  ) => createIntent(ctx, { kind, clientId, data, risk: {} });
  const aac = await stage('account-access', 'client-acme', accountAccessData());
  await authorise(ctx, aac.id, { customerId: alice.id, accountIds: [current.id] });
  clock.advance(3_600_000);
  await recordUse(ctx, aac.id, 'GET /accounts');
  const cof = await stage(
    'funds-confirmation',
    'client-shop',
    fundsConfirmationData(`${current.sortCode}${current.accountNumber}`),
  );
  await authorise(ctx, cof.id, { customerId: alice.id, accountIds: [current.id] });
  const pdc = await stage('domestic-payment', 'client-acme', domesticPaymentData());
  await authorise(ctx, pdc.id, { customerId: alice.id, accountIds: [current.id] });
  await consume(ctx, pdc.id);
  const bobsConsent = await stage('account-access', 'client-acme', accountAccessData());
  await authorise(ctx, bobsConsent.id, { customerId: bob.id, accountIds: [bobs.id] });
  const pending = await stage('account-access', 'client-acme', accountAccessData());

  const revoked: string[] = [];
  const app = Fastify();
  await app.register(consentDashboard, {
    db: store.db,
    clock,
    customers: bankCustomerDirectory(store.db),
    notifyRevoked: async (id) => void revoked.push(id),
    tpps: {
      async describe(clientId) {
        return { 'client-acme': { name: 'Acme Budget' }, 'client-shop': { name: 'Corner Shop' } }[clientId];
      },
    },
  });
  await app.ready();
  return {
    app,
    ctx,
    clock,
    revoked,
    alice,
    ids: { aac: aac.id, cof: cof.id, pdc: pdc.id, bobs: bobsConsent.id, pending: pending.id },
  };
}

class Browser {
  readonly jar = new CookieJar();
  csrf = '';
  readonly app: Awaited<ReturnType<typeof world>>['app'];
  constructor(app: Awaited<ReturnType<typeof world>>['app']) {
    this.app = app;
  }
  #keep(response: LightMyRequestResponse): LightMyRequestResponse {
    this.jar.take(response.headers['set-cookie']);
    this.csrf = csrfOf(response.body) ?? this.csrf;
    return response;
  }
  async get(url: string) {
    return this.#keep(await this.app.inject({ method: 'GET', url, headers: { cookie: this.jar.header() } }));
  }
  async post(url: string, fields: Record<string, string>, csrf = true) {
    return this.#keep(
      await this.app.inject({
        method: 'POST',
        url,
        headers: { cookie: this.jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(csrf ? { csrf: this.csrf, ...fields } : fields).toString(),
      }),
    );
  }
  async logIn(username: string, clock: ManualClock) {
    await this.get('/dashboard');
    assert.equal(
      (await this.post('/dashboard/login', { username, password: sandboxCredentialsFor(username).password }))
        .statusCode,
      303,
    );
    await this.get('/dashboard');
    const done = await this.post('/dashboard/totp', {
      code: totpCode(sandboxCredentialsFor(username).totpSecret, clock.now()),
    });
    assert.equal(done.statusCode, 303, done.body);
    return this.get('/dashboard');
  }
}

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('consent dashboard', () => {
  it('needs a login with password and TOTP, then lists the PSU’s own consents per TPP', async () => {
    const w = await world();
    const browser = new Browser(w.app);
    const login = await browser.get('/dashboard');
    assert.match(text(login.body), /Log in to obkit bank/);
    assert.match(login.headers['content-security-policy'] as string, /frame-ancestors 'none'/);
    assert.match(
      setCookieLine(login.headers['set-cookie'], 'obkit_dashboard'),
      /obkit_dashboard=.*Path=\/dashboard.*Secure; HttpOnly; SameSite=Lax/,
    );
    assert.equal(
      (await browser.get(`/dashboard/consents/${w.ids.aac}`)).statusCode,
      303,
      'nothing before login',
    );

    const list = await browser.logIn('alice', w.clock);
    assert.equal(list.statusCode, 200);
    const words = text(list.body);
    assert.match(words, /Logged in as Alice Walker/);
    assert.match(words, /Acme Budget/);
    assert.match(words, /Corner Shop/);
    assert.match(words, /Access to account information Active/);
    assert.match(words, /Confirmation of available funds Active/);
    assert.match(words, /A payment Submitted/, 'consumed, and no payment recorded: no outcome claimed');
    assert.match(words, /Granted 1 January 2026 at 09:00 \(UK time\)/);
    assert.match(words, /Last used 1 January 2026 at 10:00/);
    assert.match(words, /Expires 30 June 2026/);
    assert.match(words, /Accounts Everyday ending \d{4}/);
    assert.ok(list.body.includes(w.ids.aac));
    assert.ok(!list.body.includes(w.ids.bobs), 'not another customer’s consent');
    assert.ok(!list.body.includes(w.ids.pending), 'not one never authorised');
    assert.match(words, /2 apps with active access/);
  });

  it('shows what a consent allows and its history, and hides other customers’ consents', async () => {
    const w = await world();
    const browser = new Browser(w.app);
    await browser.logIn('alice', w.clock);
    const details = await browser.get(`/dashboard/consents/${w.ids.aac}`);
    assert.equal(details.statusCode, 200);
    const words = text(details.body);
    assert.match(words, /Your account balance\./);
    assert.match(words, /Withdraw access/);
    assert.match(words, /1 January 2026 at 10:00 \(UK time\) Used by Acme Budget \(GET \/accounts\)/);
    assert.match(words, /Approved by you/);
    assert.match(words, /Requested by Acme Budget/);
    assert.ok(words.indexOf('Used by') < words.indexOf('Approved by you'), 'newest first');
    assert.equal((await browser.get(`/dashboard/consents/${w.ids.bobs}`)).statusCode, 404);
    assert.equal((await browser.get('/dashboard/consents/not-an-id')).statusCode, 404);
    const payment = text((await browser.get(`/dashboard/consents/${w.ids.pdc}`)).body);
    assert.doesNotMatch(payment, /Withdraw access/, 'a payment consent cannot be withdrawn');
    assert.match(payment, /Payment instruction sent by Acme Budget/);
  });

  it('withdraws after confirmation: account access stays Authorised with its access withdrawn (re-authenticatable), funds confirmation is Revoked; audited as the PSU, the notifier told; CSRF enforced', async () => {
    const w = await world();
    const browser = new Browser(w.app);
    await browser.logIn('alice', w.clock);
    const confirm = await browser.get(`/dashboard/consents/${w.ids.aac}/revoke`);
    assert.equal(confirm.statusCode, 200);
    assert.match(text(confirm.body), /Withdraw Acme Budget’s access\?/);
    assert.match(
      text(confirm.body),
      /To use it again, Acme Budget will have to ask you to confirm this same permission again, here at the bank\./,
    );
    assert.equal((await browser.post(`/dashboard/consents/${w.ids.aac}/revoke`, {}, false)).statusCode, 403);
    assert.equal((await getIntent(w.ctx.db, w.ids.aac))!.accessWithdrawnAt, undefined);
    const done = await browser.post(`/dashboard/consents/${w.ids.aac}/revoke`, {});
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, `/dashboard?revoked=${w.ids.aac}`);
    const withdrawn = (await getIntent(w.ctx.db, w.ids.aac))!;
    assert.equal(withdrawn.status, 'Authorised', 'the profiles: its status "must remain unchanged"');
    assert.deepEqual(withdrawn.accessWithdrawnAt, w.clock.now());
    assert.deepEqual(w.revoked, [w.ids.aac], 'every token resting on it is killed');
    const last = (await listAudit(w.ctx.db, w.ids.aac)).at(-1)!;
    assert.deepEqual(
      [last.event, last.actor, last.from, last.to],
      ['access-withdrawn', 'psu', 'Authorised', 'Authorised'],
    );
    const list = text((await browser.get(done.headers.location as string)).body);
    assert.match(list, /You have withdrawn Acme Budget’s access\./);
    assert.match(list, /Access to account information Withdrawn/);
    assert.match(list, /1 app with active access/);
    const details = text((await browser.get(`/dashboard/consents/${w.ids.aac}`)).body);
    assert.doesNotMatch(details, /Withdraw access/, 'nothing left to withdraw');
    assert.match(details, /You withdrew Acme Budget’s access on 1 January 2026 at 10:00 \(UK time\)\./);
    assert.match(details, /Acme Budget cannot use it unless it asks you to confirm it again and you do/);
    assert.match(
      details,
      /Access withdrawn by you: Acme Budget can use it again only if you confirm it again/,
    );
    assert.equal(
      (await browser.get(`/dashboard/consents/${w.ids.aac}/revoke`)).statusCode,
      303,
      'no confirmation page for a withdrawn consent',
    );
    // Withdrawing again (a retry) only repeats the notification.
    assert.equal((await browser.post(`/dashboard/consents/${w.ids.aac}/revoke`, {})).statusCode, 303);
    assert.deepEqual(w.revoked, [w.ids.aac, w.ids.aac]);
    assert.equal((await listAudit(w.ctx.db, w.ids.aac)).at(-1)!.event, 'access-withdrawn');
    assert.equal((await listAudit(w.ctx.db, w.ids.aac)).length, 4);

    // Funds confirmation: revoked, as before (this bank does not offer its re-authentication).
    const cofConfirm = text((await browser.get(`/dashboard/consents/${w.ids.cof}/revoke`)).body);
    assert.match(cofConfirm, /You cannot undo this/);
    assert.equal((await browser.post(`/dashboard/consents/${w.ids.cof}/revoke`, {})).statusCode, 303);
    const cof = (await getIntent(w.ctx.db, w.ids.cof))!;
    assert.equal(cof.status, 'Revoked');
    assert.equal(cof.accessWithdrawnAt, undefined);
    assert.equal((await listAudit(w.ctx.db, w.ids.cof)).at(-1)!.event, 'revoked');
    assert.match(text((await browser.get('/dashboard')).body), /0 apps with active access/);

    // Another customer's consent cannot be withdrawn through this session.
    assert.equal((await browser.post(`/dashboard/consents/${w.ids.bobs}/revoke`, {})).statusCode, 404);
    assert.equal((await getIntent(w.ctx.db, w.ids.bobs))!.status, 'Authorised');
    // Nor a payment consent.
    assert.equal((await browser.post(`/dashboard/consents/${w.ids.pdc}/revoke`, {})).statusCode, 303);
    assert.equal((await getIntent(w.ctx.db, w.ids.pdc))!.status, 'Consumed');

    assert.equal((await browser.post('/dashboard/logout', {})).statusCode, 303);
    assert.equal((await browser.get(`/dashboard/consents/${w.ids.cof}`)).statusCode, 303);
  });

  it('shows expired consents as Expired and offers no withdrawal', async () => {
    const w = await world();
    w.clock.set('2026-07-01T00:00:00Z');
    const browser = new Browser(w.app);
    const list = text((await browser.logIn('alice', w.clock)).body);
    assert.match(list, /Access to account information Expired/);
    assert.match(list, /Expired 30 June 2026/);
    assert.doesNotMatch(
      text((await browser.get(`/dashboard/consents/${w.ids.aac}`)).body),
      /Withdraw access/,
    );
  });

  it('shows a consent whose access the PSU withdrew and which then expired as Expired, never to be confirmed again', async () => {
    const w = await world();
    const browser = new Browser(w.app);
    await browser.logIn('alice', w.clock);
    assert.equal((await browser.post(`/dashboard/consents/${w.ids.aac}/revoke`, {})).statusCode, 303);
    assert.match(text((await browser.get('/dashboard')).body), /Access to account information Withdrawn/);
    w.clock.set('2026-07-01T00:00:00Z');
    const list = text((await browser.logIn('alice', w.clock)).body);
    assert.match(list, /Access to account information Expired/);
    const details = text((await browser.get(`/dashboard/consents/${w.ids.aac}`)).body);
    assert.match(details, /You withdrew Acme Budget’s access on 1 January 2026 at 10:00 \(UK time\)\./);
    assert.match(details, /It has since expired: it cannot be confirmed again\./);
    assert.doesNotMatch(details, /unless it asks you to confirm it again/);
  });
});
