import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { createCustomer, openAccount, postExternalCredit } from '../../src/bank/index.ts';
import { bankCustomerDirectory } from '../../src/consent/bank-directory.ts';
import {
  consentApp,
  createIntent,
  getIntent,
  listAudit,
  sandboxCredentialsFor,
  seedCredentials,
  totpCode,
  type ConsentContext,
  type Intent,
  type JsonObject,
} from '../../src/consent/index.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { createTestStore } from '../support/store.ts';
import { INTERACTION_COOKIE, RecordingBridge } from './bridge.ts';
import { accountAccessData, domesticPaymentData } from './fixtures.ts';
import { setCookieLine } from '../support/cookie-jar.ts';

const CLIENT = 'tpp-client-1';

interface World {
  app: FastifyInstance;
  bridge: RecordingBridge;
  ctx: ConsentContext;
  clock: ManualClock;
  alice: { id: string; current: string; savings: string; euro: string; currentScan: string };
  bob: { id: string; current: string; currentScan: string };
}

async function world(options: { headlessApproval?: boolean } = {}): Promise<World> {
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
  const savings = await openAccount(store.db, bank, {
    holders: [alice.id],
    currency: 'GBP',
    name: 'Alice Walker',
    nickname: 'Rainy day',
    accountSubType: 'Savings',
  });
  const euro = await openAccount(store.db, bank, {
    holders: [alice.id],
    currency: 'EUR',
    name: 'Alice Walker',
    nickname: 'Euro',
  });
  const bobs = await openAccount(store.db, bank, { holders: [bob.id], currency: 'GBP', name: 'Bob Singh' });
  await postExternalCredit(store.db, bank, {
    accountId: current.id,
    amountMinor: 125_050n,
    currency: 'GBP',
    reference: 'salary',
  });
  await seedCredentials(ctx, [
    { id: alice.id, username: 'alice' },
    { id: bob.id, username: 'bob' },
  ]);
  const bridge = new RecordingBridge();
  const app = Fastify();
  await app.register(consentApp, {
    db: store.db,
    clock,
    bridge,
    customers: bankCustomerDirectory(store.db),
    headlessApproval: options.headlessApproval ?? false,
    credentialPolicy: { maxFailures: 5, lockoutSeconds: 900 },
  });
  await app.ready();
  return {
    app,
    bridge,
    ctx,
    clock,
    alice: {
      id: alice.id,
      current: current.id,
      savings: savings.id,
      euro: euro.id,
      currentScan: `${current.sortCode}${current.accountNumber}`,
    },
    bob: { id: bob.id, current: bobs.id, currentScan: `${bobs.sortCode}${bobs.accountNumber}` },
  };
}

/** A browser of one interaction: keeps cookies, posts forms with the page's CSRF token. */
class Browser {
  readonly cookies = new Map<string, string>();
  csrf: string | undefined;
  readonly w: World;
  readonly uid: string;
  constructor(w: World, uid: string) {
    this.w = w;
    this.uid = uid;
    this.cookies.set(INTERACTION_COOKIE, uid);
  }
  #cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  #remember(response: LightMyRequestResponse): void {
    const header = response.headers['set-cookie'];
    for (const cookie of Array.isArray(header) ? header : header ? [header] : []) {
      const [pair] = cookie.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/Max-Age=0/.test(cookie)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const csrf = /name="csrf" value="([^"]+)"/.exec(response.body);
    if (csrf) this.csrf = csrf[1];
  }
  async get(path = ''): Promise<LightMyRequestResponse> {
    const response = await this.w.app.inject({
      method: 'GET',
      url: `/interaction/${this.uid}${path}`,
      headers: { cookie: this.#cookieHeader() },
    });
    this.#remember(response);
    return response;
  }
  async post(path: string, fields: [string, string][], withCsrf = true): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams(
      withCsrf && this.csrf ? [['csrf', this.csrf], ...fields] : fields,
    ).toString();
    const response = await this.w.app.inject({
      method: 'POST',
      url: `/interaction/${this.uid}${path}`,
      headers: { cookie: this.#cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: body,
    });
    this.#remember(response);
    return response;
  }
  async login(
    username: string,
    password = sandboxCredentialsFor(username).password,
  ): Promise<LightMyRequestResponse> {
    await this.get();
    return this.post('/login', [
      ['username', username],
      ['password', password],
    ]);
  }
  async sca(username: string): Promise<LightMyRequestResponse> {
    const login = await this.login(username);
    assert.equal(login.statusCode, 303, login.body);
    const totp = await this.get();
    assert.match(totp.body, /Enter your security code/);
    return this.post('/totp', [
      ['code', totpCode(sandboxCredentialsFor(username).totpSecret, this.w.clock.now())],
    ]);
  }
}

async function stage(
  w: World,
  kind: Intent['kind'],
  data: JsonObject,
  scopes: string[],
  clientName = 'Acme Budget',
): Promise<{ intent: Intent; browser: Browser }> {
  const intent = await createIntent(w.ctx, { kind, clientId: CLIENT, data, risk: {} });
  const uid = `uid${Math.random().toString(36).slice(2)}`;
  w.bridge.start({
    uid,
    clientId: CLIENT,
    clientName,
    intentId: intent.id,
    scopes: ['openid', ...scopes],
    acrValues: ['urn:openbanking:psd2:sca'],
  });
  w.bridge.observe = async () => getIntent(w.ctx.db, intent.id);
  return { intent, browser: new Browser(w, uid) };
}

function text(html: string): string {
  return html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
}

describe('consent app', () => {
  it('serves the login page with its security headers, a per-interaction session cookie and escaped values', async () => {
    const w = await world();
    const { browser } = await stage(
      w,
      'account-access',
      accountAccessData(),
      ['accounts'],
      '<script>alert(1)</script> & Co',
    );
    const page = await browser.get();
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    const csp = page.headers['content-security-policy'] as string;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|script-src [^;]*'self'/);
    assert.match(page.headers['strict-transport-security'] as string, /max-age=\d{7,}/);
    assert.equal(page.headers['x-frame-options'], 'DENY');
    assert.equal(page.headers['cache-control'], 'no-store');
    const cookie = setCookieLine(page.headers['set-cookie'], 'obkit_consent');
    assert.match(cookie, /^obkit_consent=[A-Za-z0-9_-]{43};/);
    for (const flag of ['Secure', 'HttpOnly', 'SameSite=Lax', `Path=/interaction/${browser.uid}`])
      assert.ok(cookie.includes(flag), flag);
    assert.doesNotMatch(page.body, /<script/i);
    assert.match(page.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; Co/);
    assert.match(page.body, /<label for="username">Username<\/label>/);
    assert.match(page.body, /autocomplete="current-password"/);
    assert.ok(browser.csrf && browser.csrf.length >= 43);
    const css = await w.app.inject({ method: 'GET', url: '/interaction/assets/consent.css' });
    assert.equal(css.statusCode, 200);
    assert.match(css.headers['content-type'] as string, /text\/css/);
    assert.match(css.body, /:focus-visible/);
  });

  it('refuses a form without the CSRF token, with a wrong one, or without the session cookie (403)', async () => {
    const w = await world();
    const { browser } = await stage(w, 'account-access', accountAccessData(), ['accounts']);
    await browser.get();
    const fields: [string, string][] = [
      ['username', 'alice'],
      ['password', 'sandbox-alice'],
    ];
    assert.equal((await browser.post('/login', fields, false)).statusCode, 403);
    assert.equal(
      (await browser.post('/login', [['csrf', 'x'.repeat(43)], ...fields], false)).statusCode,
      403,
    );
    const session = browser.cookies.get('obkit_consent')!;
    browser.cookies.delete('obkit_consent');
    const noCookie = await browser.post('/login', fields);
    assert.equal(noCookie.statusCode, 403);
    assert.match(text(noCookie.body), /session has expired/);
    browser.cookies.set('obkit_consent', session);
    assert.equal((await browser.post('/login', fields)).statusCode, 303);
  });

  it('shows the attempts left after a wrong password, and locks the login after five failures', async () => {
    const w = await world();
    const { browser } = await stage(w, 'account-access', accountAccessData(), ['accounts']);
    const first = await browser.login('alice', 'not-my-password');
    assert.equal(first.statusCode, 401);
    assert.match(
      text(first.body),
      /The username or password is wrong\. You have 4 attempts left before your login is locked\./,
    );
    assert.match(first.body, /value="alice"/, 'the username is kept');
    for (const left of [3, 2, 1]) {
      const again = await browser.post('/login', [
        ['username', 'alice'],
        ['password', 'nope'],
      ]);
      assert.match(text(again.body), new RegExp(`You have ${left} attempts? left`));
    }
    const locked = await browser.post('/login', [
      ['username', 'alice'],
      ['password', 'nope'],
    ]);
    assert.equal(locked.statusCode, 403);
    assert.match(text(locked.body), /Your login is locked/);
    assert.match(text(locked.body), /try again after 1 January 2026 at 09:15/);
    const right = await browser.post('/login', [
      ['username', 'alice'],
      ['password', 'sandbox-alice'],
    ]);
    assert.match(text(right.body), /Your login is locked/, 'the right password does not open a locked login');
    const unknown = await browser.post('/login', [
      ['username', 'nobody'],
      ['password', 'whatever1'],
    ]);
    assert.equal(unknown.statusCode, 401);
    assert.match(text(unknown.body), /The username or password is wrong\. You have 4 attempts left/);
    assert.equal(w.bridge.calls.length, 0);
  });

  it('shows SCA failures with attempts left, then finishes the login with acr sca and amr', async () => {
    const w = await world();
    const { browser } = await stage(w, 'account-access', accountAccessData(), ['accounts']);
    assert.equal((await browser.login('alice')).statusCode, 303);
    await browser.get();
    const right = totpCode(sandboxCredentialsFor('alice').totpSecret, w.clock.now());
    const wrong = await browser.post('/totp', [['code', right === '000000' ? '111111' : '000000']]);
    assert.equal(wrong.statusCode, 401);
    assert.match(text(wrong.body), /That security code is wrong\. You have 4 attempts left/);
    const done = await browser.post('/totp', [['code', right]]);
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, `/auth/${browser.uid}`);
    assert.deepEqual(
      w.bridge.calls.map((c) => c.kind),
      ['finishLogin'],
    );
    const call = w.bridge.calls[0]!;
    assert.ok(call.kind === 'finishLogin');
    assert.deepEqual(call.result, {
      customerId: w.alice.id,
      acr: 'urn:openbanking:psd2:sca',
      amr: ['pwd', 'otp', 'mfa'],
    });
  });

  it('locks the login after wrong security codes; the locked page still lets the PSU go back (Rejected)', async () => {
    const w = await world();
    const { intent, browser } = await stage(w, 'account-access', accountAccessData(), ['accounts']);
    assert.equal((await browser.login('alice')).statusCode, 303);
    await browser.get();
    const right = totpCode(sandboxCredentialsFor('alice').totpSecret, w.clock.now());
    const wrong = right === '000000' ? '111111' : '000000';
    for (const left of [4, 3, 2, 1]) {
      assert.match(
        text((await browser.post('/totp', [['code', wrong]])).body),
        new RegExp(`You have ${left} attempts? left`),
      );
    }
    const locked = await browser.post('/totp', [['code', wrong]]);
    assert.equal(locked.statusCode, 403);
    assert.match(text(locked.body), /Your login is locked/);
    // Straight from the locked page (its form and the rotated session cookie).
    const cancelled = await browser.post('/cancel', []);
    assert.equal(cancelled.statusCode, 303);
    assert.equal(cancelled.headers.location, 'https://tpp.example/cb?error=access_denied');
    assert.equal((await getIntent(w.ctx.db, intent.id))!.status, 'Rejected');
    assert.deepEqual(
      w.bridge.calls.map((c) => c.kind),
      ['abort'],
    );
  });

  it('reports the acr that was asked for: ca when only ca was requested (SCA satisfies it)', async () => {
    const w = await world();
    const { browser } = await stage(w, 'account-access', accountAccessData(), ['accounts']);
    const interaction = w.bridge.interactions.get(browser.uid)!;
    w.bridge.interactions.set(browser.uid, { ...interaction, acrValues: ['urn:openbanking:psd2:ca'] });
    assert.equal((await browser.sca('alice')).statusCode, 303);
    const call = w.bridge.calls[0]!;
    assert.ok(call.kind === 'finishLogin');
    assert.equal(call.result.acr, 'urn:openbanking:psd2:ca');
  });

  it('approves account access: the intent in plain words, accounts with balances, Authorised before finishConsent', async () => {
    const w = await world();
    const { intent, browser } = await stage(w, 'account-access', accountAccessData(), ['accounts']);
    assert.equal((await browser.sca('alice')).statusCode, 303);
    const page = await browser.get();
    assert.equal(page.statusCode, 200);
    const words = text(page.body);
    assert.match(words, /Acme Budget asks to see information about your accounts\./);
    assert.match(words, /Your account details/);
    assert.match(words, /Your account name, number and sort code\./);
    assert.match(words, /Your account balance\./);
    assert.match(words, /The details of your incoming transactions/);
    assert.match(words, /Transactions covered From 1 January 2025 to 31 December 2025/);
    assert.match(words, /Access lasts Until 30 June 2026/);
    assert.match(words, /Logged in as Alice Walker/);
    assert.match(words, /Everyday ending \d{4} Balance £1,250\.50/);
    assert.match(words, /Rainy day ending \d{4} Balance £0\.00/);
    assert.match(words, /Euro ending \d{4} Balance €0\.00/);
    assert.match(page.body, /type="checkbox"/);

    const none = await browser.post('/consent', [['decision', 'approve']]);
    assert.equal(none.statusCode, 400);
    assert.match(text(none.body), /Choose at least one account/);
    const foreign = await browser.post('/consent', [
      ['decision', 'approve'],
      ['accounts', w.bob.current],
    ]);
    assert.equal(foreign.statusCode, 400, 'another customer’s account cannot be chosen');

    const approved = await browser.post('/consent', [
      ['decision', 'approve'],
      ['accounts', w.alice.current],
      ['accounts', w.alice.euro],
    ]);
    assert.equal(approved.statusCode, 303);
    assert.equal(approved.headers.location, 'https://tpp.example/cb?code=test-code');
    const stored = (await getIntent(w.ctx.db, intent.id))!;
    assert.equal(stored.status, 'Authorised');
    assert.equal(stored.customerId, w.alice.id);
    assert.deepEqual(stored.accountIds, [w.alice.current, w.alice.euro]);
    const finish = w.bridge.calls.at(-1)!;
    assert.ok(finish.kind === 'finishConsent');
    assert.deepEqual(
      {
        intentId: finish.result.intentId,
        scopes: finish.result.scopes,
        status: finish.result.authorised.status,
      },
      { intentId: intent.id, scopes: ['openid', 'accounts'], status: 'Authorised' },
    );
    assert.equal((finish.observed as Intent).status, 'Authorised', 'authorised before the bridge was told');
    const audit = await listAudit(w.ctx.db, intent.id);
    assert.deepEqual(
      audit.map((e) => `${e.event}/${e.actor}`),
      ['created/tpp', 'authorised/psu'],
    );
  });

  it('rejects: the intent becomes Rejected, then the interaction is aborted with access_denied', async () => {
    const w = await world();
    const { intent, browser } = await stage(w, 'domestic-payment', domesticPaymentData(), ['payments']);
    await browser.sca('alice');
    const page = await browser.get();
    const words = text(page.body);
    assert.match(words, /Acme Budget asks to make a payment of £165\.88 from your account\./);
    assert.match(words, /To ACME Inc \(sort code 08-08-00, account 21325698 \(roll number 0002\)\)/);
    assert.match(words, /Reference FRESCO-101/);
    assert.match(words, /Date Straight away/);
    assert.match(page.body, /type="radio"/);
    assert.doesNotMatch(words, /Euro ending/, 'a GBP payment cannot leave from a EUR account');
    const rejected = await browser.post('/consent', [['decision', 'reject']]);
    assert.equal(rejected.statusCode, 303);
    assert.equal(rejected.headers.location, 'https://tpp.example/cb?error=access_denied');
    assert.equal((await getIntent(w.ctx.db, intent.id))!.status, 'Rejected');
    const abort = w.bridge.calls.at(-1)!;
    assert.ok(abort.kind === 'abort');
    assert.equal(abort.error, 'access_denied');
    assert.equal((abort.observed as Intent).status, 'Rejected');
  });

  it('allows exactly one account for a payment', async () => {
    const w = await world();
    const { intent, browser } = await stage(w, 'domestic-payment', domesticPaymentData(), ['payments']);
    await browser.sca('alice');
    await browser.get();
    const two = await browser.post('/consent', [
      ['decision', 'approve'],
      ['accounts', w.alice.current],
      ['accounts', w.alice.savings],
    ]);
    assert.equal(two.statusCode, 400);
    assert.match(text(two.body), /Choose the account to use/);
    const one = await browser.post('/consent', [
      ['decision', 'approve'],
      ['accounts', w.alice.savings],
    ]);
    assert.equal(one.statusCode, 303);
    assert.deepEqual((await getIntent(w.ctx.db, intent.id))!.accountIds, [w.alice.savings]);
  });

  it('shows a wrong-user page when the payment names a debtor account the PSU does not hold', async () => {
    const w = await world();
    const { intent, browser } = await stage(
      w,
      'domestic-payment',
      domesticPaymentData({ SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: w.bob.currentScan }),
      ['payments'],
    );
    await browser.sca('alice');
    const page = await browser.get();
    assert.equal(page.statusCode, 403);
    assert.match(text(page.body), /This request is for someone else’s account/);
    assert.match(text(page.body), /Alice Walker does not hold/);
    const cancelled = await browser.post('/cancel', []);
    assert.equal(cancelled.statusCode, 303);
    assert.equal((await getIntent(w.ctx.db, intent.id))!.status, 'Rejected');
    assert.equal(w.bridge.calls.at(-1)!.kind, 'abort');
  });

  it('offers only the named debtor account when it is the PSU’s', async () => {
    const w = await world();
    const { browser } = await stage(
      w,
      'domestic-payment',
      domesticPaymentData({
        SchemeName: 'UK.OBIE.SortCodeAccountNumber',
        Identification: w.alice.currentScan,
      }),
      ['payments'],
    );
    await browser.sca('alice');
    const words = text((await browser.get()).body);
    assert.match(words, /Everyday ending/);
    assert.doesNotMatch(words, /Rainy day/);
  });

  it('shows an expired-intent page, and an expired-interaction page without a live interaction', async () => {
    const w = await world();
    const { intent, browser } = await stage(w, 'account-access', accountAccessData('2026-01-01T09:30:00Z'), [
      'accounts',
    ]);
    assert.equal((await browser.get()).statusCode, 200);
    w.clock.advance(31 * 60_000);
    const page = await browser.get();
    assert.equal(page.statusCode, 400);
    assert.match(text(page.body), /This request has expired/);
    assert.match(page.body, /action="\/interaction\/[^"]+\/cancel"/);
    assert.equal((await getIntent(w.ctx.db, intent.id))!.status, 'AwaitingAuthorisation');

    browser.cookies.delete(INTERACTION_COOKIE);
    const gone = await browser.get();
    assert.equal(gone.statusCode, 400);
    assert.match(text(gone.body), /This page has expired/);
    assert.equal((await w.app.inject({ method: 'GET', url: '/interaction/bad%20uid!' })).statusCode, 404);
  });

  it('shows an already-dealt-with page when the intent was decided elsewhere', async () => {
    const w = await world();
    const { intent, browser } = await stage(w, 'account-access', accountAccessData(), ['accounts']);
    await browser.sca('alice');
    await browser.get();
    const { authorise } = await import('../../src/consent/index.ts');
    await authorise(w.ctx, intent.id, { customerId: w.alice.id, accountIds: [w.alice.current] });
    const late = await browser.post('/consent', [
      ['decision', 'approve'],
      ['accounts', w.alice.savings],
    ]);
    assert.equal(late.statusCode, 409);
    assert.match(text(late.body), /already been dealt with/);
    assert.deepEqual((await getIntent(w.ctx.db, intent.id))!.accountIds, [w.alice.current]);
    assert.ok(!w.bridge.calls.some((c) => c.kind === 'finishConsent'));
  });

  it('answers 404 to headless approval unless it is enabled', async () => {
    const w = await world();
    const { intent, browser } = await stage(w, 'account-access', accountAccessData(), ['accounts']);
    const response = await w.app.inject({
      method: 'POST',
      url: `/interaction/${browser.uid}/sandbox-approve`,
      headers: { cookie: `${INTERACTION_COOKIE}=${browser.uid}` },
      payload: { username: 'alice', decision: 'approve' },
    });
    assert.equal(response.statusCode, 404);
    assert.equal((await getIntent(w.ctx.db, intent.id))!.status, 'AwaitingAuthorisation');
  });

  it('approves and rejects headlessly when enabled, with the same state changes', async () => {
    const w = await world({ headlessApproval: true });
    const post = (uid: string, payload: unknown) =>
      w.app.inject({
        method: 'POST',
        url: `/interaction/${uid}/sandbox-approve`,
        headers: { cookie: `${INTERACTION_COOKIE}=${uid}` },
        payload: payload as Record<string, unknown>,
      });

    const a = await stage(w, 'account-access', accountAccessData(), ['accounts']);
    const approved = await post(a.browser.uid, { username: 'alice', decision: 'approve' });
    assert.equal(approved.statusCode, 303, approved.body);
    const stored = (await getIntent(w.ctx.db, a.intent.id))!;
    assert.equal(stored.status, 'Authorised');
    assert.deepEqual(
      new Set(stored.accountIds),
      new Set([w.alice.current, w.alice.savings, w.alice.euro]),
      'all eligible by default',
    );
    const call = w.bridge.calls.at(-1)!;
    assert.ok(call.kind === 'finishLoginAndConsent');
    assert.equal(call.login.customerId, w.alice.id);
    assert.deepEqual(
      {
        intentId: call.consent.intentId,
        scopes: call.consent.scopes,
        status: call.consent.authorised.status,
      },
      { intentId: a.intent.id, scopes: ['openid', 'accounts'], status: 'Authorised' },
    );

    const p = await stage(w, 'domestic-payment', domesticPaymentData(), ['payments']);
    assert.equal(
      (await post(p.browser.uid, { username: 'alice', decision: 'approve', accounts: [w.bob.current] }))
        .statusCode,
      400,
    );
    assert.equal(
      (
        await post(p.browser.uid, {
          username: 'alice',
          decision: 'approve',
          accounts: [w.alice.current, w.alice.savings],
        })
      ).statusCode,
      400,
    );
    assert.equal((await post(p.browser.uid, { username: 'nobody', decision: 'approve' })).statusCode, 400);
    assert.equal((await post(p.browser.uid, { username: 'alice', decision: 'maybe' })).statusCode, 400);
    const rejected = await post(p.browser.uid, { username: 'alice', decision: 'reject' });
    assert.equal(rejected.statusCode, 303);
    assert.equal((await getIntent(w.ctx.db, p.intent.id))!.status, 'Rejected');
    assert.equal(w.bridge.calls.at(-1)!.kind, 'abort');
    assert.equal(
      (await post(p.browser.uid, { username: 'alice', decision: 'approve' })).statusCode,
      400,
      'interaction is over',
    );

    const c = await stage(w, 'domestic-payment', domesticPaymentData(), ['payments']);
    w.bridge.interactions.set(c.browser.uid, {
      ...w.bridge.interactions.get(c.browser.uid)!,
      prompt: 'consent',
      customerId: w.bob.id,
    });
    const wrongUser = await post(c.browser.uid, { username: 'alice', decision: 'approve' });
    assert.equal(wrongUser.statusCode, 409);
    assert.equal(wrongUser.json().error, 'wrong_user');
    const asBob = await post(c.browser.uid, { username: 'bob', decision: 'approve' });
    assert.equal(asBob.statusCode, 303);
    assert.equal(w.bridge.calls.at(-1)!.kind, 'finishConsent');
    assert.deepEqual((await getIntent(w.ctx.db, c.intent.id))!.accountIds, [w.bob.current]);
  });
});
