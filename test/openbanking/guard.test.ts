import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Intent } from '../../src/consent/index.ts';
import { ObError, obErrorBody } from '../../src/openbanking/errors.ts';
import {
  createGuardCaches,
  guard,
  guarded,
  guardProfiles,
  type Check,
  type AccessTokenView,
  type GuardDependencies,
} from '../../src/openbanking/guard/index.ts';
import { issueClientCertificate, loadOrCreateSandboxAuthorities } from '../../src/pki/index.ts';
import { attachClientCertificate, describeClientCertificate } from '../../src/shared/client-certificate.ts';
import { ManualClock } from '../../src/shared/clock.ts';

const clock = new ManualClock('2026-03-01T10:00:00Z');

function intent(overrides: Partial<Intent> = {}): Intent {
  return {
    id: 'aac-1',
    kind: 'account-access',
    clientId: 'client-a',
    status: 'Authorised',
    statusUpdatedAt: clock.now(),
    data: {},
    risk: {},
    permissions: ['ReadAccountsDetail', 'ReadBalances'],
    expiresAt: new Date('2026-06-01T00:00:00Z'),
    customerId: 'cust-1',
    accountIds: ['acc-1', 'acc-2'],
    createdAt: clock.now(),
    authorisedAt: clock.now(),
    lastUsedAt: undefined,
    ...overrides,
  };
}

describe('API guard', async () => {
  const authorities = await loadOrCreateSandboxAuthorities(mkdtempSync(join(tmpdir(), 'obkit-guard-')));
  const mine = describeClientCertificate(
    new X509Certificate(
      (await issueClientCertificate(authorities.issuing, { commonName: 'tpp-a' })).certificatePem,
    ),
    'tls',
  );
  const theirs = describeClientCertificate(
    new X509Certificate(
      (await issueClientCertificate(authorities.issuing, { commonName: 'tpp-b' })).certificatePem,
    ),
    'tls',
  );

  const tokens = new Map<string, AccessTokenView>();
  const intents = new Map<string, Intent>();
  let intentLookups = 0;
  const caches = createGuardCaches(
    {
      tokens: { find: async (value) => tokens.get(value) },
      intents: {
        find: async (id) => {
          intentLookups += 1;
          return intents.get(id);
        },
      },
    },
    { clock, ttlMs: 60_000, maxEntries: 1000 },
  );
  /** Clients whose participant the directory has suspended. */
  const suspended = new Set<string>();
  const dependencies: GuardDependencies = {
    tokens: caches.tokens,
    intents: caches.intents,
    participants: {
      checkClient: async (clientId) =>
        suspended.has(clientId)
          ? { active: false, detail: `organisation of ${clientId} is Suspended at the directory` }
          : { active: true },
    },
    clock,
  };

  function dataToken(overrides: Partial<AccessTokenView> = {}): AccessTokenView {
    return {
      clientId: 'client-a',
      scopes: new Set(['openid', 'accounts']),
      grantType: 'authorization_code',
      certificateThumbprint: mine.thumbprintS256,
      intentId: 'aac-1',
      customerId: 'cust-1',
      expiresAt: new Date('2026-03-01T11:00:00Z'),
      roles: ['AISP'],
      ...overrides,
    };
  }

  /** Checks run, by name, in order: the pipeline's table is run whole and in order, waiting or not. */
  const ran: string[] = [];
  /**
   * A check that passes at once, after a wait (a promise), or through a thenable that is no `Promise` (as
   * drizzle's query builders are); `/ordered/refuse-<name>` makes it refuse.
   */
  function orderedCheck(name: string, answers: 'now' | 'later' | 'thenable'): Check {
    return {
      name,
      run(state) {
        ran.push(name);
        const outcome = (state.request.params as { outcome: string }).outcome;
        const decide = () => {
          if (outcome === `refuse-${name}`)
            throw ObError.single(403, 'UK.OBIE.Header.Invalid', `${name} refused`);
        };
        if (answers === 'now') return decide();
        if (answers === 'later') return new Promise<void>((resolve) => setImmediate(resolve)).then(decide);
        const thenable: PromiseLike<void> = {
          then(onDone, onRefused) {
            return new Promise<void>((resolve) => setImmediate(resolve)).then(decide).then(onDone, onRefused);
          },
        };
        return thenable as Promise<void>;
      },
    };
  }

  let app: FastifyInstance;
  before(async () => {
    app = Fastify();
    // Stands in for the mTLS surface: the test says which certificate "arrived" on the connection.
    app.addHook('onRequest', async (request) => {
      const which = request.headers['x-test-certificate'];
      if (which === 'mine') attachClientCertificate(request.raw, mine);
      if (which === 'theirs') attachClientCertificate(request.raw, theirs);
    });
    app.setErrorHandler((error, request, reply) => {
      if (error instanceof ObError) return reply.status(error.status).send(obErrorBody(error, request.id));
      return reply.status(500).send({ unexpected: String(error) });
    });
    app.get(
      '/accounts/:AccountId/balances',
      { preHandler: guard(guardProfiles.accountData(['ReadBalances']), dependencies) },
      async (request) => ({ intent: guarded(request).intent?.id }),
    );
    app.get(
      '/accounts/:AccountId/beneficiaries',
      {
        preHandler: guard(
          guardProfiles.accountData(['ReadBeneficiariesBasic', 'ReadBeneficiariesDetail']),
          dependencies,
        ),
      },
      async () => ({ ok: true }),
    );
    app.get(
      '/ordered/:outcome',
      {
        preHandler: guard(
          [
            orderedCheck('first', 'now'),
            orderedCheck('second', 'later'),
            orderedCheck('third', 'now'),
            orderedCheck('fourth', 'thenable'),
            orderedCheck('last', 'now'),
          ],
          dependencies,
        ),
      },
      async () => ({ ok: true }),
    );
    app.post(
      '/account-access-consents',
      { preHandler: guard(guardProfiles.consentEndpoint('accounts'), dependencies) },
      async () => ({ ok: true }),
    );
    await app.ready();
  });

  async function get(url: string, headers: Record<string, string>) {
    const response = await app.inject({ method: 'GET', url, headers });
    return {
      status: response.statusCode,
      body: response.json() as { Errors?: { ErrorCode: string; Message: string }[] },
    };
  }
  const ok = { 'x-test-certificate': 'mine', authorization: 'Bearer good' };

  it('lets a bound, scoped token on an authorised consent read a selected account', async () => {
    tokens.set('good', dataToken());
    intents.set('aac-1', intent());
    const response = await get('/accounts/acc-1/balances', ok);
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { intent: 'aac-1' });
  });

  it('refuses without a transport certificate', async () => {
    const response = await get('/accounts/acc-1/balances', { authorization: 'Bearer good' });
    assert.equal(response.status, 401);
    assert.equal(response.body.Errors?.[0]?.ErrorCode, 'UK.OBIE.Header.Missing');
  });

  it('refuses a missing, malformed or unknown token', async () => {
    assert.equal(
      (await get('/accounts/acc-1/balances', { 'x-test-certificate': 'mine' })).body.Errors?.[0]?.ErrorCode,
      'UK.OBIE.Header.Missing',
    );
    const malformed = await get('/accounts/acc-1/balances', {
      'x-test-certificate': 'mine',
      authorization: 'Basic abc',
    });
    assert.equal(malformed.status, 401);
    assert.equal(malformed.body.Errors?.[0]?.ErrorCode, 'UK.OBIE.Header.Invalid');
    const unknown = await get('/accounts/acc-1/balances', {
      'x-test-certificate': 'mine',
      authorization: 'Bearer nope',
    });
    assert.equal(unknown.status, 401);
  });

  it("refuses a suspended participant's client with 403 on data and consent endpoints, and serves it again when reinstated", async () => {
    suspended.add('client-a');
    try {
      const data = await get('/accounts/acc-1/balances', ok);
      assert.equal(data.status, 403);
      assert.equal(data.body.Errors?.[0]?.ErrorCode, 'UK.OBIE.Resource.InvalidConsentStatus');
      assert.match(data.body.Errors?.[0]?.Message ?? '', /Suspended/);
      tokens.set('cc-suspended', dataToken({ grantType: 'client_credentials', intentId: undefined }));
      const consent = await app.inject({
        method: 'POST',
        url: '/account-access-consents',
        headers: { ...ok, authorization: 'Bearer cc-suspended' },
      });
      assert.equal(consent.statusCode, 403);
    } finally {
      suspended.delete('client-a');
    }
    assert.equal((await get('/accounts/acc-1/balances', ok)).status, 200);
  });

  it('refuses an expired token', async () => {
    tokens.set('old', dataToken({ expiresAt: new Date('2026-03-01T09:59:59Z') }));
    assert.equal((await get('/accounts/acc-1/balances', { ...ok, authorization: 'Bearer old' })).status, 401);
  });

  it('refuses a client_credentials token on a data endpoint, and a PSU token on a consent endpoint', async () => {
    tokens.set('cc', dataToken({ grantType: 'client_credentials', intentId: undefined }));
    assert.equal((await get('/accounts/acc-1/balances', { ...ok, authorization: 'Bearer cc' })).status, 401);
    const consent = await app.inject({ method: 'POST', url: '/account-access-consents', headers: ok });
    assert.equal(consent.statusCode, 403);
    const allowed = await app.inject({
      method: 'POST',
      url: '/account-access-consents',
      headers: { ...ok, authorization: 'Bearer cc' },
    });
    assert.equal(allowed.statusCode, 200);
  });

  it('refuses a token presented with another certificate than the one it is bound to', async () => {
    const response = await get('/accounts/acc-1/balances', { ...ok, 'x-test-certificate': 'theirs' });
    assert.equal(response.status, 401);
    assert.match(response.body.Errors?.[0]?.Message ?? '', /bound to another/);
  });

  it('refuses a token without the accounts scope', async () => {
    tokens.set('payments-only', dataToken({ scopes: new Set(['openid', 'payments']) }));
    assert.equal(
      (await get('/accounts/acc-1/balances', { ...ok, authorization: 'Bearer payments-only' })).status,
      403,
    );
  });

  it('refuses when the consent lacks the permission, and accepts any of several', async () => {
    const response = await get('/accounts/acc-1/beneficiaries', ok);
    assert.equal(response.status, 403);
    assert.match(
      response.body.Errors?.[0]?.Message ?? '',
      /ReadBeneficiariesBasic or ReadBeneficiariesDetail/,
    );
    intents.set('aac-2', intent({ id: 'aac-2', permissions: ['ReadBeneficiariesBasic'] }));
    tokens.set('bene', dataToken({ intentId: 'aac-2' }));
    assert.equal(
      (await get('/accounts/acc-1/beneficiaries', { ...ok, authorization: 'Bearer bene' })).status,
      200,
    );
  });

  it('answers 400 Resource.NotFound for an account the PSU did not select', async () => {
    const response = await get('/accounts/acc-9/balances', ok);
    assert.equal(response.status, 400);
    assert.equal(response.body.Errors?.[0]?.ErrorCode, 'UK.OBIE.Resource.NotFound');
  });

  it('refuses a consent of another client, and an expired consent', async () => {
    intents.set('aac-3', intent({ id: 'aac-3', clientId: 'client-b' }));
    tokens.set('other', dataToken({ intentId: 'aac-3' }));
    assert.equal(
      (await get('/accounts/acc-1/balances', { ...ok, authorization: 'Bearer other' })).status,
      403,
    );
    intents.set('aac-4', intent({ id: 'aac-4', expiresAt: new Date('2026-02-01T00:00:00Z') }));
    tokens.set('expired-consent', dataToken({ intentId: 'aac-4' }));
    const expired = await get('/accounts/acc-1/balances', { ...ok, authorization: 'Bearer expired-consent' });
    assert.equal(expired.status, 403);
    assert.match(expired.body.Errors?.[0]?.Message ?? '', /expired/);
  });

  it('refuses a consent whose access the PSU withdrew at the bank, even while a token on it still lives', async () => {
    intents.set('aac-w', intent({ id: 'aac-w', accessWithdrawnAt: new Date('2026-03-01T09:00:00Z') }));
    tokens.set('withdrawn', dataToken({ intentId: 'aac-w' }));
    const refused = await get('/accounts/acc-1/balances', { ...ok, authorization: 'Bearer withdrawn' });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.Errors?.[0]?.ErrorCode, 'UK.OBIE.Resource.InvalidConsentStatus');
    assert.match(refused.body.Errors?.[0]?.Message ?? '', /withdrew access/);
  });

  it('serves repeat requests from the cache, and a revocation is refused at once when it is forgotten', async () => {
    intents.set('aac-5', intent({ id: 'aac-5' }));
    tokens.set('cached', dataToken({ intentId: 'aac-5' }));
    const headers = { ...ok, authorization: 'Bearer cached' };
    const lookupsBefore = intentLookups;
    assert.equal((await get('/accounts/acc-1/balances', headers)).status, 200);
    assert.equal((await get('/accounts/acc-2/balances', headers)).status, 200);
    assert.equal(intentLookups - lookupsBefore, 1, 'the second request is answered from the cache');

    intents.set('aac-5', intent({ id: 'aac-5', status: 'Revoked' }));
    caches.forgetIntent('aac-5');
    const refused = await get('/accounts/acc-1/balances', headers);
    assert.equal(refused.status, 403);
    assert.match(refused.body.Errors?.[0]?.Message ?? '', /Revoked/);
  });

  it('runs every check of the table in order, those answering at once and those that wait (a promise or another thenable), and stops at the first refusal', async () => {
    ran.length = 0;
    assert.equal((await get('/ordered/pass', {})).status, 200);
    assert.deepEqual(ran, ['first', 'second', 'third', 'fourth', 'last']);
    for (const [refusing, upTo] of [
      ['first', 1],
      ['second', 2],
      ['third', 3],
      ['fourth', 4],
      ['last', 5],
    ] as const) {
      ran.length = 0;
      const refused = await get(`/ordered/refuse-${refusing}`, {});
      assert.equal(refused.status, 403, refusing);
      assert.match(refused.body.Errors?.[0]?.Message ?? '', new RegExp(`${refusing} refused`));
      assert.deepEqual(ran, ['first', 'second', 'third', 'fourth', 'last'].slice(0, upTo), refusing);
    }
  });

  it('answers a cached token and consent at once, without a promise; a miss once read', async () => {
    intents.set('aac-6', intent({ id: 'aac-6' }));
    tokens.set('at-once', dataToken({ intentId: 'aac-6' }));
    const missed = caches.tokens.find('at-once');
    assert.ok(missed instanceof Promise, 'a miss waits for the source');
    assert.equal((await missed)?.intentId, 'aac-6');
    const hit = caches.tokens.find('at-once');
    assert.ok(!(hit instanceof Promise), 'a hit is answered at once');
    assert.equal(hit?.intentId, 'aac-6');
    await caches.intents.find('aac-6');
    const intentHit = caches.intents.find('aac-6');
    assert.ok(!(intentHit instanceof Promise));
    assert.equal(intentHit?.id, 'aac-6');
    // The whole data guard then runs in one go, and still refuses what it must.
    assert.equal(
      (await get('/accounts/acc-1/balances', { ...ok, authorization: 'Bearer at-once' })).status,
      200,
    );
    intents.set('aac-6', intent({ id: 'aac-6', status: 'Revoked' }));
    caches.forgetIntent('aac-6');
    assert.equal(
      (await get('/accounts/acc-1/balances', { ...ok, authorization: 'Bearer at-once' })).status,
      403,
    );
  });

  it('refuses malformed FAPI headers with 400 Header.Invalid', async () => {
    for (const [name, value] of [
      ['x-fapi-auth-date', '2026-03-01'],
      ['x-fapi-customer-ip-address', '999.1.1.1'],
      ['x-fapi-interaction-id', 'not-a-uuid'],
    ] as const) {
      const response = await get('/accounts/acc-1/balances', { ...ok, [name]: value });
      assert.equal(response.status, 400, name);
      assert.equal(response.body.Errors?.[0]?.ErrorCode, 'UK.OBIE.Header.Invalid');
    }
    const fine = await get('/accounts/acc-1/balances', {
      ...ok,
      'x-fapi-auth-date': 'Sun, 01 Mar 2026 09:00:00 GMT',
      'x-fapi-customer-ip-address': '2001:db8::1',
      'x-fapi-interaction-id': '93bac548-d2de-4546-b106-880a5018460d',
    });
    assert.equal(fine.status, 200);
  });
});
