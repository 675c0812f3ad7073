import assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { revokeIntentTokens } from '../../src/auth/adapter.ts';
import { createInteractionBridge } from '../../src/auth/interaction-bridge.ts';
import { createCustomer, openAccount, postExternalCredit } from '../../src/bank/index.ts';
import { bankCustomerDirectory } from '../../src/consent/bank-directory.ts';
import {
  authorise,
  consentApp,
  consentDashboard,
  consume,
  createIntent,
  getIntent,
  listAudit,
  reject,
  revoke,
  sandboxCredentialsFor,
  seedCredentials,
  totpCode,
  withdrawAccess,
  type Intent,
} from '../../src/consent/index.ts';
import { systemClock } from '../../src/shared/clock.ts';
import type { Tpp } from '../auth/harness.ts';
import { recordStatements } from '../support/statements.ts';
import { startHarness } from '../auth/harness.ts';
import { exchangeCode, requestObject } from '../auth/flow.ts';
import { accountAccessData, domesticPaymentData, vrpData } from './fixtures.ts';

/**
 * The PSU's journey through the real authorization server and the real consent app: /authorize with a
 * signed request object → the login page → password → TOTP → the consent page → approve → the code at the
 * TPP's redirect URI → a certificate-bound token that introspects with the intent id.
 */

const clock = systemClock;

async function startJourney() {
  const h = await startHarness({
    mountBrowser: async (app, server) => {
      await app.register(consentApp, {
        db: server.store.db,
        clock,
        bridge: createInteractionBridge(server),
        customers: bankCustomerDirectory(server.store.db),
        headlessApproval: true,
      });
      // As the platform wires it: a withdrawal drops every token resting on the intent.
      await app.register(consentDashboard, {
        db: server.store.db,
        clock,
        customers: bankCustomerDirectory(server.store.db),
        notifyRevoked: async (intentId) => void (await revokeIntentTokens(server.store.db, intentId)),
      });
    },
  });
  const db = h.store.db;
  const bank = { clock };
  const alice = await createCustomer(db, bank, {
    username: 'alice',
    displayName: 'Alice Walker',
    kind: 'personal',
  });
  const current = await openAccount(db, bank, {
    holders: [alice.id],
    currency: 'GBP',
    name: 'Alice Walker',
    nickname: 'Everyday',
  });
  const savings = await openAccount(db, bank, {
    holders: [alice.id],
    currency: 'GBP',
    name: 'Alice Walker',
    nickname: 'Rainy day',
  });
  await postExternalCredit(db, bank, {
    accountId: current.id,
    amountMinor: 50_000n,
    currency: 'GBP',
    reference: 'salary',
  });
  const bob = await createCustomer(db, bank, { username: 'bob', displayName: 'Bob Singh', kind: 'personal' });
  await openAccount(db, bank, { holders: [bob.id], currency: 'GBP', name: 'Bob Singh' });
  await seedCredentials({ db, clock }, [
    { id: alice.id, username: 'alice' },
    { id: bob.id, username: 'bob' },
  ]);
  return { h, alice: { id: alice.id, current: current.id, savings: savings.id } };
}

type Journey = Awaited<ReturnType<typeof startJourney>>;

/** A browser: a cookie jar, redirects followed by hand. */
class Browser {
  readonly jar = new Map<string, string>();
  readonly h: Journey['h'];
  constructor(h: Journey['h']) {
    this.h = h;
  }
  async fetch(
    url: string,
    init: { method?: 'GET' | 'POST'; form?: Record<string, string | string[]>; json?: unknown } = {},
  ) {
    const headers: Record<string, string> = {};
    if (this.jar.size) headers['cookie'] = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(init.form))
        for (const v of [value].flat()) params.append(key, v);
      body = params.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers['content-type'] = 'application/json';
    }
    const response = await request(url, {
      method: init.method ?? 'GET',
      dispatcher: this.h.plainAgent,
      headers,
      body,
    });
    const text = await response.body.text();
    const setCookie = response.headers['set-cookie'];
    for (const line of typeof setCookie === 'string' ? [setCookie] : (setCookie ?? [])) {
      const [pair] = line.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      if (value === '' || /max-age=0/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line))
        this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const location = response.headers['location'];
    return {
      status: response.statusCode,
      location: typeof location === 'string' ? new URL(location, url).toString() : undefined,
      text,
    };
  }
}

async function authorizeUrl(h: Journey['h'], tpp: Tpp, intent: Intent, scope: string) {
  const codeVerifier = randomBytes(32).toString('base64url');
  const extras = {
    state: randomBytes(8).toString('hex'),
    nonce: randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'),
    code_challenge_method: 'S256',
  };
  const request = await requestObject(h, { tpp, intentId: intent.id, scope }, extras);
  const query = new URLSearchParams({
    client_id: tpp.clientId,
    response_type: 'code id_token',
    scope,
    request,
  });
  return { url: `${h.browserUrl}/authorize?${query}`, codeVerifier };
}

/** An account-access consent `tpp` staged, valid for a day. */
function stageAccountAccess(h: Journey['h'], tpp: Tpp): Promise<Intent> {
  return createIntent(
    { db: h.store.db, clock },
    {
      kind: 'account-access',
      clientId: tpp.clientId,
      data: accountAccessData(new Date(Date.now() + 86_400_000).toISOString()),
      risk: {},
    },
  );
}

/** A new PSU browser sent to /authorize for `intent`, at the first page the bank shows it. */
async function openAuthorisation(h: Journey['h'], tpp: Tpp, intent: Intent, scope: string) {
  const { url, codeVerifier } = await authorizeUrl(h, tpp, intent, scope);
  const browser = new Browser(h);
  const step = await follow(browser, url, tpp.redirectUri);
  return { url, codeVerifier, browser, step };
}

function csrfOf(html: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(html);
  assert.ok(match, `no CSRF field in ${html.slice(0, 300)}`);
  return match[1]!;
}

/** Follows redirects from `url` until a page (2xx/4xx) or the TPP's redirect URI. */
async function follow(browser: Browser, url: string, redirectUri: string) {
  let current = url;
  for (let hop = 0; hop < 8; hop += 1) {
    if (current.startsWith(redirectUri)) return { url: current, page: undefined };
    const response = await browser.fetch(current);
    if (response.location && response.status >= 300 && response.status < 400) {
      current = response.location;
      continue;
    }
    return { url: current, page: response };
  }
  throw new Error('too many redirects');
}

/**
 * The reads of one request's statements that the approval hop repeated: the intent (the consent app's
 * check, `authorise`'s own read before its guarded UPDATE, the bridge's check after it) and oidc-provider's
 * interaction (the consent app's `details`, the bridge's finish, and oidc-provider's `interactionFinished`).
 */
function readsOf(statements: string[]) {
  const selects = (table: string) =>
    statements.filter((text) => /^\s*select\b/i.test(text) && text.includes(`from "${table}"`)).length;
  return {
    intent: selects('consent_intents'),
    authModels: selects('auth_models'),
    // The customer and their accounts (read apart before, joined in one statement now).
    customer: selects('bank_customers') + selects('bank_account_holders'),
  };
}

function paramsOf(url: string): URLSearchParams {
  const parsed = new URL(url);
  return new URLSearchParams(parsed.hash ? parsed.hash.slice(1) : parsed.search);
}

/**
 * From `/authorize` through the login page, the password and the TOTP code (strong customer authentication)
 * to the consent page. `codeAt` picks the TOTP step: a code is accepted once, at a step later than the last.
 */
async function loginWithSca(
  browser: Browser,
  url: string,
  redirectUri: string,
  username: string,
  codeAt: Date,
) {
  let step = await follow(browser, url, redirectUri);
  assert.match(step.page?.text ?? '', /Log in to obkit bank/, step.url);
  const interactionUrl = step.url;
  let posted = await browser.fetch(`${interactionUrl}/login`, {
    method: 'POST',
    form: {
      csrf: csrfOf(step.page!.text),
      username,
      password: sandboxCredentialsFor(username).password,
    },
  });
  assert.equal(posted.status, 303, posted.text);
  step = await follow(browser, posted.location!, redirectUri);
  assert.match(step.page!.text, /Enter your security code/);
  posted = await browser.fetch(`${interactionUrl}/totp`, {
    method: 'POST',
    form: {
      csrf: csrfOf(step.page!.text),
      code: totpCode(sandboxCredentialsFor(username).totpSecret, codeAt),
    },
  });
  assert.equal(posted.status, 303, posted.text);
  return follow(browser, posted.location!, redirectUri);
}

describe('PSU journey through the authorization server and the consent app', async () => {
  const { h, alice } = await startJourney();
  const tpp = h.tpps.a;

  it('login, TOTP, consent and approval end in a certificate-bound token on the authorised intent', async () => {
    const intent = await stageAccountAccess(h, tpp);
    const { url, codeVerifier } = await authorizeUrl(h, tpp, intent, 'openid accounts');
    const browser = new Browser(h);

    let step = await follow(browser, url, tpp.redirectUri);
    assert.match(step.url, /\/interaction\/[A-Za-z0-9_-]+$/);
    assert.equal(step.page?.status, 200);
    assert.match(step.page!.text, /Log in to obkit bank/);
    const interactionUrl = step.url;

    let posted = await browser.fetch(`${interactionUrl}/login`, {
      method: 'POST',
      form: {
        csrf: csrfOf(step.page!.text),
        username: 'alice',
        password: sandboxCredentialsFor('alice').password,
      },
    });
    assert.equal(posted.status, 303, posted.text);
    step = await follow(browser, posted.location!, tpp.redirectUri);
    assert.match(step.page!.text, /Enter your security code/);

    posted = await browser.fetch(`${interactionUrl}/totp`, {
      method: 'POST',
      form: {
        csrf: csrfOf(step.page!.text),
        code: totpCode(sandboxCredentialsFor('alice').totpSecret, new Date()),
      },
    });
    assert.equal(posted.status, 303, posted.text);
    step = await follow(browser, posted.location!, tpp.redirectUri);
    // The provider resumes, then starts a new interaction (new uid) for the consent prompt.
    assert.match(step.url, /\/interaction\/[A-Za-z0-9_-]+$/);
    assert.notEqual(step.url, interactionUrl);
    const consentUrl = step.url;
    assert.match(step.page!.text, /asks to see information about your accounts/);
    assert.match(step.page!.text, /Everyday ending \d{4}/);

    const decision = await recordStatements(() =>
      browser.fetch(`${consentUrl}/consent`, {
        method: 'POST',
        form: { csrf: csrfOf(step.page!.text), decision: 'approve', accounts: [alice.current] },
      }),
    );
    posted = decision.result;
    assert.equal(posted.status, 303, posted.text);
    // The intent read once (the guarded UPDATE re-checks its status), the interaction and the provider's
    // session once (they were read three times each).
    assert.deepEqual(readsOf(decision.statements), { intent: 1, authModels: 2, customer: 1 });
    step = await follow(browser, posted.location!, tpp.redirectUri);
    const params = paramsOf(step.url);
    assert.equal(params.get('error'), null, step.url);
    const code = params.get('code');
    assert.ok(code);

    const stored = (await getIntent(h.store.db, intent.id))!;
    assert.equal(stored.status, 'Authorised');
    assert.equal(stored.customerId, alice.id);
    assert.deepEqual(stored.accountIds, [alice.current]);

    const token = await exchangeCode(h, tpp, code, codeVerifier);
    assert.equal(token.status, 200, token.body);
    const introspection = await h.post(tpp.agent, `${h.mtlsUrl}/token/introspection`, {
      token: token.json['access_token'] as string,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await h.clientAssertion(tpp, { aud: `${h.mtlsUrl}/token/introspection` }),
    });
    assert.equal(introspection.json['active'], true, introspection.body);
    assert.equal(introspection.json['openbanking_intent_id'], intent.id);
    const thumbprint = createHash('sha256')
      .update(new X509Certificate(tpp.transport.certificatePem).raw)
      .digest('base64url');
    assert.deepEqual(introspection.json['cnf'], { 'x5t#S256': thumbprint });
  });

  it('reject on the consent page: the intent is Rejected and the TPP receives access_denied', async () => {
    const intent = await createIntent(
      { db: h.store.db, clock },
      { kind: 'domestic-payment', clientId: tpp.clientId, data: domesticPaymentData(), risk: {} },
    );
    const { url } = await authorizeUrl(h, tpp, intent, 'openid payments');
    const browser = new Browser(h);
    let step = await follow(browser, url, tpp.redirectUri);
    const interactionUrl = step.url;
    let posted = await browser.fetch(`${interactionUrl}/login`, {
      method: 'POST',
      form: { csrf: csrfOf(step.page!.text), username: 'alice', password: 'sandbox-alice' },
    });
    assert.equal(posted.status, 303, posted.text);
    step = await follow(browser, posted.location!, tpp.redirectUri);
    posted = await browser.fetch(`${interactionUrl}/totp`, {
      method: 'POST',
      form: {
        csrf: csrfOf(step.page!.text),
        code: totpCode(sandboxCredentialsFor('alice').totpSecret, new Date(Date.now() + 30_000)),
      },
    });
    assert.equal(posted.status, 303, posted.text);
    step = await follow(browser, posted.location!, tpp.redirectUri);
    assert.match(step.page!.text, /make a payment of £165\.88/);
    posted = await browser.fetch(`${step.url}/consent`, {
      method: 'POST',
      form: { csrf: csrfOf(step.page!.text), decision: 'reject' },
    });
    step = await follow(browser, posted.location!, tpp.redirectUri);
    assert.equal(paramsOf(step.url).get('error'), 'access_denied');
    assert.equal((await getIntent(h.store.db, intent.id))!.status, 'Rejected');
  });

  it('headless sandbox approval: one JSON post after /authorize yields the code', async () => {
    const intent = await stageAccountAccess(h, tpp);
    const { codeVerifier, browser, step } = await openAuthorisation(h, tpp, intent, 'openid accounts');
    const approval = await recordStatements(() =>
      browser.fetch(`${step.url}/sandbox-approve`, {
        method: 'POST',
        json: { username: 'alice', decision: 'approve' },
      }),
    );
    const approved = approval.result;
    assert.equal(approved.status, 303, approved.text);
    // One read of the intent and one of the interaction in the approval request (three of each before),
    // one of the customer with their accounts (two before).
    assert.deepEqual(readsOf(approval.statements), { intent: 1, authModels: 1, customer: 1 });
    const done = await follow(browser, approved.location!, tpp.redirectUri);
    const code = paramsOf(done.url).get('code');
    assert.ok(code, done.url);
    const stored = (await getIntent(h.store.db, intent.id))!;
    assert.equal(stored.status, 'Authorised');
    assert.deepEqual(new Set(stored.accountIds), new Set([alice.current, alice.savings]));
    assert.equal((await exchangeCode(h, tpp, code, codeVerifier)).status, 200);
  });

  it('withdrawing access in the dashboard kills the TPP’s tokens at once; the consent stays Authorised and re-authentication brings access back', async () => {
    const intent = await stageAccountAccess(h, tpp);
    const { codeVerifier, browser, step } = await openAuthorisation(h, tpp, intent, 'openid accounts');
    const approved = await browser.fetch(`${step.url}/sandbox-approve`, {
      method: 'POST',
      json: { username: 'bob', decision: 'approve' },
    });
    const done = await follow(browser, approved.location!, tpp.redirectUri);
    const token = await exchangeCode(h, tpp, paramsOf(done.url).get('code')!, codeVerifier);
    const introspect = async () =>
      h.post(tpp.agent, `${h.mtlsUrl}/token/introspection`, {
        token: token.json['access_token'] as string,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await h.clientAssertion(tpp, { aud: `${h.mtlsUrl}/token/introspection` }),
      });
    assert.equal((await introspect()).json['active'], true);

    const psu = new Browser(h);
    let page = await psu.fetch(`${h.browserUrl}/dashboard`);
    let posted = await psu.fetch(`${h.browserUrl}/dashboard/login`, {
      method: 'POST',
      form: { csrf: csrfOf(page.text), username: 'bob', password: sandboxCredentialsFor('bob').password },
    });
    assert.equal(posted.status, 303, posted.text);
    page = await psu.fetch(`${h.browserUrl}/dashboard`);
    posted = await psu.fetch(`${h.browserUrl}/dashboard/totp`, {
      method: 'POST',
      form: { csrf: csrfOf(page.text), code: totpCode(sandboxCredentialsFor('bob').totpSecret, new Date()) },
    });
    assert.equal(posted.status, 303, posted.text);
    page = await psu.fetch(`${h.browserUrl}/dashboard/consents/${intent.id}/revoke`);
    assert.equal(page.status, 200, page.text);
    posted = await psu.fetch(`${h.browserUrl}/dashboard/consents/${intent.id}/revoke`, {
      method: 'POST',
      form: { csrf: csrfOf(page.text) },
    });
    assert.equal(posted.status, 303, posted.text);
    // Access withdrawn at the bank: the consent stays Authorised (the profiles' "Access Revocation"), the
    // tokens and refresh tokens resting on it die.
    const withdrawn = (await getIntent(h.store.db, intent.id))!;
    assert.equal(withdrawn.status, 'Authorised');
    assert.ok(withdrawn.accessWithdrawnAt instanceof Date);
    assert.equal((await introspect()).json['active'], false, 'the token died with the withdrawal');
    const refreshToken = token.json['refresh_token'];
    assert.equal(typeof refreshToken, 'string', 'an account-access consent gets a refresh token');
    const refreshed = await h.post(tpp.agent, `${h.mtlsUrl}/token`, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken as string,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await h.clientAssertion(tpp, { aud: `${h.mtlsUrl}/token` }),
    });
    assert.equal(refreshed.status, 400, refreshed.body);
    assert.equal(refreshed.json['error'], 'invalid_grant');

    // The TPP asks the PSU to re-authenticate the same consent: a new token works, the old one stays dead.
    const again = await authorizeUrl(h, tpp, intent, 'openid accounts');
    const reauth = new Browser(h);
    const asked = await follow(reauth, again.url, tpp.redirectUri);
    const confirmed = await reauth.fetch(`${asked.url}/sandbox-approve`, {
      method: 'POST',
      json: { username: 'bob', decision: 'approve' },
    });
    assert.equal(confirmed.status, 303, confirmed.text);
    const back = await follow(reauth, confirmed.location!, tpp.redirectUri);
    const fresh = await exchangeCode(h, tpp, paramsOf(back.url).get('code')!, again.codeVerifier);
    assert.equal(fresh.status, 200, fresh.body);
    assert.equal((await getIntent(h.store.db, intent.id))!.accessWithdrawnAt, undefined);
    const introspectFresh = await h.post(tpp.agent, `${h.mtlsUrl}/token/introspection`, {
      token: fresh.json['access_token'] as string,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await h.clientAssertion(tpp, { aud: `${h.mtlsUrl}/token/introspection` }),
    });
    assert.equal(introspectFresh.json['active'], true, introspectFresh.body);
    assert.equal((await introspect()).json['active'], false, 'the old token stays dead');
  });

  describe('re-authenticating an Authorised consent (same ConsentId)', async () => {
    // A customer of these tests alone: each SCA login takes a later TOTP step than the last one accepted.
    const carol = await createCustomer(
      h.store.db,
      { clock },
      {
        username: 'carol',
        displayName: 'Carol Jones',
        kind: 'personal',
      },
    );
    const carolCurrent = await openAccount(
      h.store.db,
      { clock },
      {
        holders: [carol.id],
        currency: 'GBP',
        name: 'Carol Jones',
        nickname: 'Household',
      },
    );
    const carolSavings = await openAccount(
      h.store.db,
      { clock },
      {
        holders: [carol.id],
        currency: 'GBP',
        name: 'Carol Jones',
        nickname: 'Holiday',
      },
    );
    await seedCredentials({ db: h.store.db, clock }, [{ id: carol.id, username: 'carol' }]);
    const codeSteps = [-30_000, 0, 30_000];
    const nextCodeTime = () => new Date(Date.now() + codeSteps.shift()!);

    /** An account-access consent carol authorised (one of her two accounts), and its first token. */
    async function authorisedConsent() {
      const staged = await stageAccountAccess(h, tpp);
      const { codeVerifier, browser, step } = await openAuthorisation(h, tpp, staged, 'openid accounts');
      const approved = await browser.fetch(`${step.url}/sandbox-approve`, {
        method: 'POST',
        json: { username: 'carol', decision: 'approve', accounts: [carolCurrent.id] },
      });
      assert.equal(approved.status, 303, approved.text);
      const done = await follow(browser, approved.location!, tpp.redirectUri);
      const token = await exchangeCode(h, tpp, paramsOf(done.url).get('code')!, codeVerifier);
      assert.equal(token.status, 200, token.body);
      return (await getIntent(h.store.db, staged.id))!;
    }

    it('SCA, the permission shown as given before, Confirm: the same consent stays Authorised and a new token rests on it', async () => {
      const intent = await authorisedConsent();
      const { url, codeVerifier } = await authorizeUrl(h, tpp, intent, 'openid accounts');
      const browser = new Browser(h);
      const step = await loginWithSca(browser, url, tpp.redirectUri, 'carol', nextCodeTime());
      assert.equal(step.page?.status, 200, step.page?.text);
      const page = step.page!.text;
      assert.match(page, /Confirm again: .*asks to see information about your accounts/);
      assert.match(page, /You gave .* this permission on /);
      assert.match(page, /Nothing about it changes/);
      assert.match(page, /Household ending \d{4}/, 'the account it shares');
      assert.doesNotMatch(page, /Holiday/, 'nothing to choose: the accounts stay as they are');
      assert.doesNotMatch(page, /name="accounts"/);
      assert.match(page, /name="reauthentication" value="yes"/);

      const posted = await browser.fetch(`${step.url}/consent`, {
        method: 'POST',
        form: {
          csrf: csrfOf(page),
          reauthentication: 'yes',
          decision: 'approve',
          accounts: [carolSavings.id],
        },
      });
      assert.equal(posted.status, 303, posted.text);
      const back = await follow(browser, posted.location!, tpp.redirectUri);
      const code = paramsOf(back.url).get('code');
      assert.ok(code, back.url);

      const stored = (await getIntent(h.store.db, intent.id))!;
      assert.equal(stored.status, 'Authorised');
      assert.equal(stored.customerId, carol.id);
      assert.deepEqual(stored.accountIds, [carolCurrent.id], 'a posted account list is not a new selection');
      assert.deepEqual(stored.authorisedAt, intent.authorisedAt);
      const audit = await listAudit(h.store.db, intent.id);
      assert.deepEqual(
        audit.map((entry) => [entry.event, entry.from, entry.to, entry.actor]),
        [
          ['created', undefined, 'AwaitingAuthorisation', 'tpp'],
          ['authorised', 'AwaitingAuthorisation', 'Authorised', 'psu'],
          ['reauthenticated', 'Authorised', 'Authorised', 'psu'],
        ],
      );

      const token = await exchangeCode(h, tpp, code, codeVerifier);
      assert.equal(token.status, 200, token.body);
      const introspection = await h.post(tpp.agent, `${h.mtlsUrl}/token/introspection`, {
        token: token.json['access_token'] as string,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await h.clientAssertion(tpp, { aud: `${h.mtlsUrl}/token/introspection` }),
      });
      assert.equal(introspection.json['active'], true, introspection.body);
      assert.equal(introspection.json['openbanking_intent_id'], intent.id);
    });

    it('a consent whose access was withdrawn at the bank: the page says confirming gives it back', async () => {
      const intent = await authorisedConsent();
      await withdrawAccess(
        {
          db: h.store.db,
          clock,
          notifyRevoked: async (intentId) => void (await revokeIntentTokens(h.store.db, intentId)),
        },
        intent.id,
      );
      const { url } = await authorizeUrl(h, tpp, intent, 'openid accounts');
      const step = await loginWithSca(new Browser(h), url, tpp.redirectUri, 'carol', nextCodeTime());
      assert.equal(step.page?.status, 200, step.page?.text);
      assert.match(step.page!.text, /You withdrew .* access on .*:\s+confirming gives it back\./);
    });

    it('not confirming leaves the consent Authorised (not Rejected); another customer cannot take it over', async () => {
      const intent = await authorisedConsent();
      let { url } = await authorizeUrl(h, tpp, intent, 'openid accounts');
      let browser = new Browser(h);
      let step = await loginWithSca(browser, url, tpp.redirectUri, 'carol', nextCodeTime());
      const posted = await browser.fetch(`${step.url}/consent`, {
        method: 'POST',
        form: { csrf: csrfOf(step.page!.text), reauthentication: 'yes', decision: 'reject' },
      });
      const back = await follow(browser, posted.location!, tpp.redirectUri);
      assert.equal(paramsOf(back.url).get('error'), 'access_denied', back.url);
      let stored = (await getIntent(h.store.db, intent.id))!;
      assert.equal(stored.status, 'Authorised');
      assert.equal((await listAudit(h.store.db, intent.id)).length, 2, 'nothing happened to the consent');

      ({ url } = await authorizeUrl(h, tpp, intent, 'openid accounts'));
      browser = new Browser(h);
      step = await loginWithSca(browser, url, tpp.redirectUri, 'bob', new Date(Date.now() + 30_000));
      assert.equal(step.page?.status, 403, step.page?.text);
      assert.match(step.page!.text, /This permission was given by someone else/);
      const sneaked = await browser.fetch(`${step.url}/sandbox-approve`, {
        method: 'POST',
        json: { username: 'bob', decision: 'approve' },
      });
      assert.equal(sneaked.status, 409, sneaked.text);
      stored = (await getIntent(h.store.db, intent.id))!;
      assert.equal(stored.customerId, carol.id);
      assert.equal((await listAudit(h.store.db, intent.id)).length, 2);
    });

    it('a VRP consent is re-authenticated too (headless sandbox approval): its debtor account is kept', async () => {
      const ctx = { db: h.store.db, clock };
      const validTo = new Date(Date.now() + 30 * 86_400_000).toISOString();
      const staged = await createIntent(ctx, {
        kind: 'domestic-vrp',
        clientId: tpp.clientId,
        data: vrpData(validTo),
        risk: {},
      });
      const approveAs = async (json: unknown) => {
        const { codeVerifier, browser, step } = await openAuthorisation(h, tpp, staged, 'openid payments');
        const answer = await browser.fetch(`${step.url}/sandbox-approve`, { method: 'POST', json });
        return { answer, browser, codeVerifier };
      };
      const first = await approveAs({ username: 'carol', decision: 'approve', accounts: [carolCurrent.id] });
      assert.equal(first.answer.status, 303, first.answer.text);

      const moved = await approveAs({ username: 'carol', decision: 'approve', accounts: [carolSavings.id] });
      assert.equal(moved.answer.status, 400, moved.answer.text);
      assert.equal(JSON.parse(moved.answer.text).error, 'invalid_accounts');
      const declined = await approveAs({ username: 'carol', decision: 'reject' });
      const back = await follow(declined.browser, declined.answer.location!, tpp.redirectUri);
      assert.equal(paramsOf(back.url).get('error'), 'access_denied');
      assert.equal((await getIntent(h.store.db, staged.id))!.status, 'Authorised');

      const again = await approveAs({ username: 'carol', decision: 'approve' });
      assert.equal(again.answer.status, 303, again.answer.text);
      const done = await follow(again.browser, again.answer.location!, tpp.redirectUri);
      const token = await exchangeCode(h, tpp, paramsOf(done.url).get('code')!, again.codeVerifier);
      assert.equal(token.status, 200, token.body);
      const stored = (await getIntent(h.store.db, staged.id))!;
      assert.equal(stored.status, 'Authorised');
      assert.deepEqual(stored.accountIds, [carolCurrent.id]);
      assert.deepEqual(
        (await listAudit(h.store.db, staged.id)).map((entry) => entry.event),
        ['created', 'authorised', 'reauthenticated'],
      );
    });

    it('refused at /authorize with invalid_request: a consumed or unconsumed payment consent, a Rejected or Revoked one', async () => {
      const ctx = { db: h.store.db, clock };
      const refusal = async (intent: Intent, scope: string) => {
        const { url } = await authorizeUrl(h, tpp, intent, scope);
        const step = await follow(new Browser(h), url, tpp.redirectUri);
        return paramsOf(step.url);
      };
      const payment = await createIntent(ctx, {
        kind: 'domestic-payment',
        clientId: tpp.clientId,
        data: domesticPaymentData(),
        risk: {},
      });
      await authorise(ctx, payment.id, { customerId: carol.id, accountIds: [carolCurrent.id] });
      let params = await refusal(payment, 'openid payments');
      assert.equal(params.get('error'), 'invalid_request');
      assert.match(
        params.get('error_description') ?? '',
        /the intent is Authorised, not AwaitingAuthorisation/,
      );
      await consume(ctx, payment.id);
      params = await refusal(payment, 'openid payments');
      assert.equal(params.get('error'), 'invalid_request');
      assert.match(params.get('error_description') ?? '', /Consumed/);

      const rejected = await createIntent(ctx, {
        kind: 'account-access',
        clientId: tpp.clientId,
        data: accountAccessData(new Date(Date.now() + 86_400_000).toISOString()),
        risk: {},
      });
      await reject(ctx, rejected.id);
      params = await refusal(rejected, 'openid accounts');
      assert.equal(params.get('error'), 'invalid_request');
      assert.match(params.get('error_description') ?? '', /the intent is Rejected/);

      const intent = await authorisedConsent();
      await revoke({ ...ctx, notifyRevoked: async () => undefined }, intent.id, { actor: 'tpp' });
      params = await refusal(intent, 'openid accounts');
      assert.equal(params.get('error'), 'invalid_request');
      assert.match(
        params.get('error_description') ?? '',
        /the intent is Revoked: only an AwaitingAuthorisation intent can be authorised, and only an Authorised one re-authenticated/,
      );
    });
  });
});
