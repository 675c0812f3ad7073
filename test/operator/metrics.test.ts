import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  authorise as authoriseIntent,
  createIntent,
  reauthenticate,
  revoke,
  withdrawAccess,
  type JsonObject,
} from '../../src/consent/index.ts';
import { systemClock } from '../../src/shared/clock.ts';
import {
  accountAccessData,
  domesticPaymentData,
  fundsConfirmationData,
  vrpData,
} from '../consent/fixtures.ts';
import { SteppingClock } from '../support/browser.ts';
import { aisGet, authorise } from '../journey/ais-support.ts';
import { startSandbox } from '../support/journey.ts';
import { call, httpsClient, startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { parsePrometheusText, sampleValue, type Sample } from '../support/prometheus.ts';

/** The platform's `/metrics` on its operator listener, as a Prometheus scraper reads it. */
async function scrape(
  platform: TestPlatform,
  token?: string,
): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  const agent = httpsClient([readFileSync(join(platform.dataDir, 'pki', 'root-ca.pem'), 'utf8')]);
  const answer = await call(agent, `${platform.urls.operator}/metrics`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: answer.status, text: answer.text, headers: answer.headers };
}

async function samples(platform: TestPlatform): Promise<Sample[]> {
  const { status, text, headers } = await scrape(platform);
  assert.equal(status, 200);
  assert.match(String(headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(text);
}

describe('operator metrics', () => {
  test('/metrics parses as Prometheus text and its counters move with real mTLS API calls', async () => {
    const sandbox = await startSandbox();
    const tpp = await sandbox.tpp('metrics-aisp', ['AISP']);
    const { accessToken } = await authorise(sandbox, tpp, {
      permissions: ['ReadAccountsDetail', 'ReadBalances'],
    });
    const accounts = await aisGet(tpp, accessToken, '/accounts');
    assert.equal(accounts.status, 200);
    const accountId = (accounts.json as { Data: { Account: { AccountId: string }[] } }).Data.Account[0]
      ?.AccountId;
    assert.ok(accountId);

    const route = { route: '/open-banking/v3.1/aisp/accounts/:AccountId', method: 'GET', version: 'v3.1' };
    const before = await samples(sandbox.platform);
    for (let i = 0; i < 3; i += 1)
      assert.equal((await aisGet(tpp, accessToken, `/accounts/${accountId}`)).status, 200);
    const refused = await aisGet(tpp, accessToken, '/accounts/not-in-this-consent');
    assert.ok(refused.status >= 400 && refused.status < 500, `refused with ${refused.status}`);
    const afterCalls = await samples(sandbox.platform);

    const moved = (name: string, labels: Record<string, string>) =>
      sampleValue(afterCalls, name, labels) - sampleValue(before, name, labels);
    assert.equal(moved('obkit_http_requests_total', { ...route, status_class: '2xx' }), 3);
    assert.equal(moved('obkit_http_requests_total', { ...route, status_class: '4xx' }), 1);
    assert.equal(moved('obkit_http_request_duration_seconds_count', route), 4);
    // Every mTLS request asked the client certificate's status (the scrape itself is not one of them).
    assert.equal(moved('obkit_certificate_status_checks_total', { result: 'good' }), 4);
    // Raw URLs never become label values: the account id appears nowhere.
    assert.ok(
      !afterCalls.some((sample) => Object.values(sample.labels).some((value) => value.includes(accountId))),
    );
    // The journey's tokens: client_credentials to stage the consent, authorization_code to redeem it.
    assert.ok(
      sampleValue(afterCalls, 'obkit_tokens_issued_total', { grant_type: 'client_credentials' }) >= 1,
    );
    assert.equal(
      sampleValue(afterCalls, 'obkit_tokens_issued_total', { grant_type: 'authorization_code' }),
      1,
    );
    // Read from the database at scrape time: the consent this test authorised.
    assert.ok(sampleValue(afterCalls, 'obkit_consents', { status: 'Authorised' }) >= 1);
    assert.equal(sampleValue(afterCalls, 'obkit_event_push_backlog', { state: 'waiting' }), 0);
    assert.equal(sampleValue(afterCalls, 'obkit_database_up'), 1);
    assert.ok(sampleValue(afterCalls, 'obkit_process_resident_memory_bytes') > 0);
    const pool = sampleValue(afterCalls, 'obkit_database_pool_connections', { state: 'max' });
    if (sandbox.platform.store.backend === 'postgres') assert.ok(pool > 0);
    else assert.equal(pool, 0);
  });

  test('obkit_consents counts a consent whose access the customer withdrew as AccessWithdrawn, not Authorised, until re-authenticated', async () => {
    const platform = await startTestPlatform();
    const ctx = { db: platform.store.db, clock: systemClock, notifyRevoked: async () => undefined };
    const consents = async () => {
      const all = await samples(platform);
      const count = (status: string) =>
        sampleValue(all, 'obkit_consents', { kind: 'account-access', status });
      return {
        authorised: count('Authorised'),
        withdrawn: count('AccessWithdrawn'),
        revoked: count('Revoked'),
      };
    };
    const before = await consents();
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const intent = await createIntent(ctx, {
        kind: 'account-access',
        clientId: 'metrics-client',
        data: accountAccessData('2099-01-01T00:00:00Z'),
        risk: {},
      });
      ids.push((await authoriseIntent(ctx, intent.id, { customerId: 'alice', accountIds: ['a'] })).id);
    }
    const moved = async () => {
      const now = await consents();
      return {
        authorised: now.authorised - before.authorised,
        withdrawn: now.withdrawn - before.withdrawn,
        revoked: now.revoked - before.revoked,
      };
    };
    assert.deepEqual(await moved(), { authorised: 3, withdrawn: 0, revoked: 0 });
    await withdrawAccess(ctx, ids[0]!);
    await withdrawAccess(ctx, ids[1]!);
    assert.deepEqual(await moved(), { authorised: 1, withdrawn: 2, revoked: 0 });
    await reauthenticate(ctx, ids[0]!, { customerId: 'alice' });
    assert.deepEqual(await moved(), { authorised: 2, withdrawn: 1, revoked: 0 });
    // Ended by the TPP, a withdrawn consent and one that never was are both simply Revoked.
    await revoke(ctx, ids[1]!, { actor: 'tpp' });
    await revoke(ctx, ids[2]!, { actor: 'tpp' });
    assert.deepEqual(await moved(), { authorised: 1, withdrawn: 0, revoked: 2 });
    const { text } = await scrape(platform);
    assert.match(text, /# HELP obkit_consents .*counts as AccessWithdrawn, not Authorised/);
  });

  test('obkit_consents counts an Authorised consent past its expiry as Expired, not Authorised nor AccessWithdrawn, for each kind with an expiry', async () => {
    const clock = new SteppingClock();
    const platform = await startTestPlatform({ clock });
    const ctx = { db: platform.store.db, clock, notifyRevoked: async () => undefined };
    const KINDS = ['account-access', 'funds-confirmation', 'domestic-vrp'] as const;
    const STATES = ['Authorised', 'AccessWithdrawn', 'Expired'] as const;
    /** kind → state → count, as scraped. */
    const consents = async () => {
      const all = await samples(platform);
      return Object.fromEntries(
        KINDS.map((kind) => [
          kind,
          Object.fromEntries(
            STATES.map((status) => [status, sampleValue(all, 'obkit_consents', { kind, status })]),
          ),
        ]),
      ) as Record<(typeof KINDS)[number], Record<(typeof STATES)[number], number>>;
    };
    const before = await consents();
    const moved = async () => {
      const now = await consents();
      return Object.fromEntries(
        KINDS.map((kind) => [
          kind,
          Object.fromEntries(STATES.map((status) => [status, now[kind][status] - before[kind][status]])),
        ]),
      );
    };
    const expiry = new Date(clock.now().getTime() + 10 * 60_000).toISOString();
    const authorised = async (kind: (typeof KINDS)[number], data: JsonObject) => {
      const intent = await createIntent(ctx, { kind, clientId: 'metrics-client', data, risk: {} });
      return authoriseIntent(ctx, intent.id, { customerId: 'alice', accountIds: ['a'] });
    };
    await authorised('account-access', accountAccessData(expiry));
    await authorised('account-access', accountAccessData('2099-01-01T00:00:00Z'));
    await withdrawAccess(ctx, (await authorised('account-access', accountAccessData(expiry))).id);
    await authorised('funds-confirmation', fundsConfirmationData('11280001234567', expiry));
    await authorised('domestic-vrp', vrpData(expiry));
    await withdrawAccess(ctx, (await authorised('domestic-vrp', vrpData('2099-01-01T00:00:00Z'))).id);
    assert.deepEqual(await moved(), {
      'account-access': { Authorised: 2, AccessWithdrawn: 1, Expired: 0 },
      'funds-confirmation': { Authorised: 1, AccessWithdrawn: 0, Expired: 0 },
      'domestic-vrp': { Authorised: 1, AccessWithdrawn: 1, Expired: 0 },
    });
    // Past the expiry, at the next scrape: nothing stored changed, the gauge reads the clock.
    clock.advance(20 * 60_000);
    assert.deepEqual(await moved(), {
      'account-access': { Authorised: 1, AccessWithdrawn: 0, Expired: 2 },
      'funds-confirmation': { Authorised: 0, AccessWithdrawn: 0, Expired: 1 },
      'domestic-vrp': { Authorised: 0, AccessWithdrawn: 1, Expired: 1 },
    });
    const { text } = await scrape(platform);
    assert.match(text, /# HELP obkit_consents .*past its expiry counts as Expired/);
  });

  test('obkit_consents counts a consent still awaiting authorisation past its expiry as Expired, not AwaitingAuthorisation', async () => {
    const clock = new SteppingClock();
    const platform = await startTestPlatform({ clock });
    const ctx = { db: platform.store.db, clock };
    const KINDS = ['account-access', 'funds-confirmation', 'domestic-vrp'] as const;
    const STATES = ['AwaitingAuthorisation', 'Expired'] as const;
    const consents = async () => {
      const all = await samples(platform);
      return Object.fromEntries(
        KINDS.flatMap((kind) =>
          STATES.map((status) => [`${kind} ${status}`, sampleValue(all, 'obkit_consents', { kind, status })]),
        ),
      );
    };
    const before = await consents();
    const moved = async () => {
      const now = await consents();
      return Object.fromEntries(Object.entries(now).map(([key, count]) => [key, count - before[key]!]));
    };
    const expiry = new Date(clock.now().getTime() + 10 * 60_000).toISOString();
    const staged = (kind: (typeof KINDS)[number], data: JsonObject) =>
      createIntent(ctx, { kind, clientId: 'metrics-client', data, risk: {} });
    await staged('account-access', accountAccessData(expiry));
    await staged('account-access', accountAccessData('2099-01-01T00:00:00Z'));
    await staged('funds-confirmation', fundsConfirmationData('11280001234567', expiry));
    await staged('domestic-vrp', vrpData(expiry));
    assert.deepEqual(await moved(), {
      'account-access AwaitingAuthorisation': 2,
      'account-access Expired': 0,
      'funds-confirmation AwaitingAuthorisation': 1,
      'funds-confirmation Expired': 0,
      'domestic-vrp AwaitingAuthorisation': 1,
      'domestic-vrp Expired': 0,
    });
    // Past the expiry none of them can be authorised any more: counted Expired at the next scrape.
    clock.advance(20 * 60_000);
    assert.deepEqual(await moved(), {
      'account-access AwaitingAuthorisation': 1,
      'account-access Expired': 1,
      'funds-confirmation AwaitingAuthorisation': 0,
      'funds-confirmation Expired': 1,
      'domestic-vrp AwaitingAuthorisation': 0,
      'domestic-vrp Expired': 1,
    });
    const { text } = await scrape(platform);
    assert.match(text, /# HELP obkit_consents .*as does one still awaiting authorisation past its expiry/);
  });

  test('obkit_consents counts a payment consent still awaiting authorisation past its CompletionDateTime as Expired; one authorised in time stays Authorised', async () => {
    const clock = new SteppingClock();
    const platform = await startTestPlatform({ clock });
    const ctx = { db: platform.store.db, clock };
    const KINDS = ['domestic-payment', 'file-payment'] as const;
    const STATES = ['AwaitingUpload', 'AwaitingAuthorisation', 'Authorised', 'Expired'] as const;
    const consents = async () => {
      const all = await samples(platform);
      return Object.fromEntries(
        KINDS.flatMap((kind) =>
          STATES.map((status) => [`${kind} ${status}`, sampleValue(all, 'obkit_consents', { kind, status })]),
        ),
      );
    };
    const before = await consents();
    const moved = async () => {
      const now = await consents();
      return Object.fromEntries(
        Object.entries(now)
          .map(([key, count]) => [key, count - before[key]!] as const)
          .filter(([, count]) => count !== 0),
      );
    };
    const soon = new Date(clock.now().getTime() + 10 * 60_000).toISOString();
    const staged = (kind: (typeof KINDS)[number], completion: string) =>
      createIntent(ctx, {
        kind,
        clientId: 'metrics-client',
        data: {
          ...domesticPaymentData(),
          Authorisation: { AuthorisationType: 'Any', CompletionDateTime: completion },
        },
        risk: {},
      });
    await staged('domestic-payment', soon);
    await staged('domestic-payment', '2099-01-01T00:00:00Z');
    await authoriseIntent(ctx, (await staged('domestic-payment', soon)).id, {
      customerId: 'metrics-customer',
      accountIds: ['metrics-account'],
    });
    await staged('file-payment', soon);
    assert.deepEqual(await moved(), {
      'domestic-payment AwaitingAuthorisation': 2,
      'domestic-payment Authorised': 1,
      'file-payment AwaitingUpload': 1,
    });
    // Past the window the awaiting ones can never be authorised: counted Expired at the next scrape.
    clock.advance(20 * 60_000);
    assert.deepEqual(await moved(), {
      'domestic-payment AwaitingAuthorisation': 1,
      'domestic-payment Authorised': 1,
      'domestic-payment Expired': 1,
      'file-payment Expired': 1,
    });
  });

  test('with a metrics token configured, a scrape without it is refused with 401', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const platform = await startTestPlatform({ env: { OBKIT_METRICS_TOKEN: token } });
    const refused = await scrape(platform);
    assert.equal(refused.status, 401);
    assert.match(String(refused.headers['www-authenticate']), /^Bearer /);
    assert.equal((await scrape(platform, 'not-the-token-at-all!!')).status, 401);
    const allowed = await scrape(platform, token);
    assert.equal(allowed.status, 200);
    assert.ok(parsePrometheusText(allowed.text).length > 0);
  });

  test('the customer and TPP listeners do not serve /metrics', async () => {
    const platform = await startTestPlatform();
    const agent = httpsClient([readFileSync(join(platform.dataDir, 'pki', 'root-ca.pem'), 'utf8')]);
    assert.equal((await call(agent, `${platform.urls.browser}/metrics`)).status, 404);
    // Without a client certificate the mTLS listener refuses before routing: 401, not metrics.
    assert.notEqual((await call(agent, `${platform.urls.mtls}/metrics`)).status, 200);
  });
});
