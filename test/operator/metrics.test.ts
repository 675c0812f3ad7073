import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import Fastify from 'fastify';
import { metricsRoutes } from '../../src/operator/metrics/routes.ts';
import type { RunningPlatform } from '../../src/server/platform.ts';
import { aisGet, authorise } from '../journey/ais-support.ts';
import { startSandbox } from '../support/journey.ts';
import { startTestPlatform } from '../support/platform.ts';
import { parsePrometheusText, sampleValue, type Sample } from '../support/prometheus.ts';

/** The platform's `/metrics`, as a scraper reads it. */
async function scrape(platform: RunningPlatform, token?: string): Promise<{ status: number; text: string }> {
  const operations = platform.operations;
  assert.ok(operations, 'the platform records operations');
  const app = Fastify();
  after(() => app.close());
  await app.register(metricsRoutes, { metrics: operations.metrics, token });
  const response = await app.inject({
    url: '/metrics',
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: response.statusCode, text: response.body };
}

async function samples(platform: RunningPlatform): Promise<Sample[]> {
  const { status, text } = await scrape(platform);
  assert.equal(status, 200);
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

  test('with a metrics token configured, a scrape without it is refused with 401', async () => {
    const platform = await startTestPlatform();
    const token = 'metrics-token-0123456789abcdef';
    const operations = platform.operations;
    assert.ok(operations);
    const app = Fastify();
    after(() => app.close());
    await app.register(metricsRoutes, { metrics: operations.metrics, token });
    const refused = await app.inject({ url: '/metrics' });
    assert.equal(refused.statusCode, 401);
    assert.match(String(refused.headers['www-authenticate']), /^Bearer /);
    const wrong = await app.inject({
      url: '/metrics',
      headers: { authorization: 'Bearer not-the-token-at-all!!' },
    });
    assert.equal(wrong.statusCode, 401);
    const allowed = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } });
    assert.equal(allowed.statusCode, 200);
    assert.ok(parsePrometheusText(allowed.body).length > 0);
  });
});
