import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import Fastify from 'fastify';
import { createOperatorMetrics } from '../../src/operator/metrics/registry.ts';
import { MiRecorder } from '../../src/operator/mi/recorder.ts';
import { recordRequests } from '../../src/operator/request-recording.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { miHourly } from '../../src/store/schema/mi.ts';
import { parsePrometheusText, sampleValue } from '../support/prometheus.ts';
import { createTestStore } from '../support/store.ts';

describe('request recording', () => {
  test('every answer is recorded under its route, whichever way its route is found', async () => {
    const store = await createTestStore();
    after(() => store.close());
    const metrics = createOperatorMetrics({
      store,
      clock: systemClock,
      onCollectError: (error) => assert.fail(String(error)),
    });
    const mi = new MiRecorder(store.db);
    const app = Fastify();
    after(() => app.close());
    // Added before the recording is installed (as the surfaces' /health and /ready are).
    app.get('/early', async () => ({ early: true }));
    // An onRequest hook of the app that answers before any route's own hook runs (a refused certificate).
    app.addHook('onRequest', (request, reply, done) => {
      if (request.headers['x-refuse'] === 'yes') return void reply.status(401).send({ refused: true });
      done();
    });
    const recorder = recordRequests(app, { metrics, mi, clock: systemClock });
    // Told of every answer as a surface tells it (Surface.observeAnswers): from its onSend and onResponse.
    app.addHook('onSend', (request, reply, payload, done) => {
      recorder.sent(request, reply);
      done(null, payload);
    });
    app.addHook('onResponse', (request, reply, done) => {
      recorder.answered(request, reply);
      done();
    });
    // A preHandler that refuses (as the API guard does): answered before the route's handler starts.
    app.addHook('preHandler', (request, reply, done) => {
      if (request.headers['x-refuse'] === 'late') return void reply.status(403).send({ refused: true });
      done();
    });
    await app.register(
      async (api) => {
        api.get('/aisp/accounts/:AccountId', async () => ({ Data: {} }));
        api.route({ method: ['PUT', 'PATCH'], url: '/aisp/things', handler: async () => ({}) });
        api.get('/aisp/own-hook', { onRequest: (_request, _reply, done) => done() }, async () => ({}));
      },
      { prefix: '/open-banking/v3.1' },
    );
    await app.ready();

    const answers: [string, string, Record<string, string>?][] = [
      ['GET', '/open-banking/v3.1/aisp/accounts/a1'],
      ['GET', '/open-banking/v3.1/aisp/accounts/a2'],
      ['HEAD', '/open-banking/v3.1/aisp/accounts/a1'],
      ['PATCH', '/open-banking/v3.1/aisp/things'],
      ['GET', '/open-banking/v3.1/aisp/own-hook'],
      ['GET', '/open-banking/v3.1/aisp/accounts/a3', { 'x-refuse': 'yes' }],
      ['GET', '/open-banking/v3.1/aisp/accounts/a4', { 'x-refuse': 'late' }],
      ['GET', '/early'],
      ['GET', '/nowhere'],
      ['GET', '/nowhere', { 'x-refuse': 'yes' }],
    ];
    for (const [method, url, headers] of answers) {
      const answer = await app.inject({ method: method as 'GET', url, headers: headers ?? {} });
      assert.ok(answer.statusCode < 500, `${method} ${url}: ${answer.statusCode}`);
    }

    const samples = parsePrometheusText(
      await metrics.registry.getSingleMetricAsString('obkit_http_requests_total').then((text) => `${text}\n`),
    );
    const count = (route: string, method: string, version: string, status_class: string) =>
      sampleValue(samples, 'obkit_http_requests_total', { route, method, version, status_class });
    const account = '/open-banking/v3.1/aisp/accounts/:AccountId';
    assert.equal(count(account, 'GET', 'v3.1', '2xx'), 2);
    assert.equal(count(account, 'GET', 'v3.1', '4xx'), 2);
    assert.equal(count(account, 'HEAD', 'v3.1', '2xx'), 1);
    assert.equal(count('/open-banking/v3.1/aisp/things', 'PUT,PATCH', 'v3.1', '2xx'), 1);
    assert.equal(count('/open-banking/v3.1/aisp/own-hook', 'GET', 'v3.1', '2xx'), 1);
    assert.equal(count('/early', 'GET', '', '2xx'), 1);
    assert.equal(count('(unmatched)', 'GET', '', '4xx'), 2);
    const recorded = samples
      .filter((sample) => sample.name === 'obkit_http_requests_total')
      .reduce((sum, sample) => sum + sample.value, 0);
    assert.equal(recorded, answers.length, 'each answer recorded once');

    // The API calls reach MI under their OpenAPI paths (calls by endpoint, method and version).
    await mi.flush();
    const rows = await store.db.select().from(miHourly);
    const calls = Object.fromEntries(rows.map((row) => [`${row.version} ${row.endpoint}`, row.calls]));
    assert.deepEqual(calls, {
      'v3.1 GET /aisp/accounts/{AccountId}': 4,
      'v3.1 HEAD /aisp/accounts/{AccountId}': 1,
      'v3.1 PUT,PATCH /aisp/things': 1,
      'v3.1 GET /aisp/own-hook': 1,
    });
  });
});
