import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createOperatorMetrics, type OperatorMetrics } from '../../src/operator/metrics/registry.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { parsePrometheusText, sampleValue, type Sample } from '../support/prometheus.ts';
import { createTestStore } from '../support/store.ts';

/** The request and certificate figures as a scrape reads them (only these metrics: no database gauge is read). */
async function scrape(metrics: OperatorMetrics): Promise<Sample[]> {
  const names = [
    'obkit_http_requests_total',
    'obkit_http_request_duration_seconds',
    'obkit_certificate_status_checks_total',
  ];
  const texts = await Promise.all(names.map((name) => metrics.registry.getSingleMetricAsString(name)));
  return parsePrometheusText(texts.map((text) => `${text}\n`).join(''));
}

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10];
const STATUSES = [200, 201, 404, 500, 302, 101, 503, 400];
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

/** What one route's answers must read as: counts by status class, and the latency histogram. */
class Expected {
  readonly counts = new Map<string, number>();
  readonly buckets = BUCKETS.map(() => 0);
  count = 0;
  sum = 0;
  answered(status: number, seconds: number): void {
    const statusClass = `${Math.floor(status / 100)}xx`;
    this.counts.set(statusClass, (this.counts.get(statusClass) ?? 0) + 1);
    BUCKETS.forEach((bound, at) => {
      if (seconds <= bound) this.buckets[at]! += 1;
    });
    this.count += 1;
    this.sum += seconds;
  }
}

function assertRead(samples: Sample[], labels: Record<string, string>, expected: Expected): void {
  for (const statusClass of CLASSES)
    assert.equal(
      sampleValue(samples, 'obkit_http_requests_total', { ...labels, status_class: statusClass }),
      expected.counts.get(statusClass) ?? 0,
      `${labels.route} ${statusClass}`,
    );
  assert.equal(sampleValue(samples, 'obkit_http_request_duration_seconds_count', labels), expected.count);
  assert.equal(sampleValue(samples, 'obkit_http_request_duration_seconds_sum', labels), expected.sum);
  BUCKETS.forEach((bound, at) =>
    assert.equal(
      sampleValue(samples, 'obkit_http_request_duration_seconds_bucket', { ...labels, le: String(bound) }),
      expected.buckets[at],
      `${labels.route} le ${bound}`,
    ),
  );
  assert.equal(
    sampleValue(samples, 'obkit_http_request_duration_seconds_bucket', { ...labels, le: '+Inf' }),
    expected.count,
  );
}

describe('request metrics held between scrapes', () => {
  test('every answer of mixed routes and statuses is counted and observed exactly, at every scrape', async () => {
    const store = await createTestStore();
    after(() => store.close());
    const metrics = createOperatorMetrics({
      store,
      clock: systemClock,
      onCollectError: (error) => assert.fail(String(error)),
    });
    const account = { route: '/open-banking/v3.1/aisp/accounts/:AccountId', method: 'GET', version: 'v3.1' };
    const token = { route: '/token', method: 'POST', version: '' };
    const routes = [
      { labels: account, series: metrics.requestSeries(account), expected: new Expected() },
      { labels: token, series: metrics.requestSeries(token), expected: new Expected() },
    ];
    // Asked again for the same labels (another route object of the same pattern): the same series.
    assert.equal(metrics.requestSeries({ ...account }), routes[0]!.series);
    // Latencies across every bucket and beyond the last; more answers than a route holds between scrapes (256),
    // and numbers that are not multiples of it, so both the held and the handed-over ones are read.
    let answers = 0;
    const answer = (times: number) => {
      for (let i = 0; i < times; i++, answers++) {
        const route = routes[answers % 3 === 0 ? 1 : 0]!;
        const status = STATUSES[answers % STATUSES.length]!;
        const seconds = ((answers * 7919) % 13_000) / 1000 + 0.0001;
        route.series.answered(status, seconds);
        route.expected.answered(status, seconds);
      }
    };
    const check = async () => {
      const samples = await scrape(metrics);
      for (const route of routes) assertRead(samples, route.labels, route.expected);
    };
    answer(5);
    await check();
    await check(); // a second scrape with nothing new reads the same: nothing counted twice
    answer(700);
    await check();
    answer(1);
    await check();

    // The client certificate checks, asked on every mTLS request, likewise.
    const checks = metrics.telemetry;
    for (let i = 0; i < 5; i++) checks.certificateStatusChecked('good');
    checks.certificateStatusChecked('revoked');
    checks.certificateStatusChecked('foreign_issuer');
    const first = await scrape(metrics);
    assert.equal(sampleValue(first, 'obkit_certificate_status_checks_total', { result: 'good' }), 5);
    assert.equal(sampleValue(first, 'obkit_certificate_status_checks_total', { result: 'revoked' }), 1);
    assert.equal(
      sampleValue(first, 'obkit_certificate_status_checks_total', { result: 'foreign_issuer' }),
      1,
    );
    assert.equal(sampleValue(first, 'obkit_certificate_status_checks_total', { result: 'unavailable' }), 0);
    checks.certificateStatusChecked('good');
    const second = await scrape(metrics);
    assert.equal(sampleValue(second, 'obkit_certificate_status_checks_total', { result: 'good' }), 6);
    assert.equal(sampleValue(second, 'obkit_certificate_status_checks_total', { result: 'revoked' }), 1);
  });
});
