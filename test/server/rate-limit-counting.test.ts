import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import { rateLimitCounter, type RateLimitCounters } from '../../src/server/rate-limits.ts';

/**
 * The rate-limit counter itself, as an onRequest hook of a plain fastify app (no listener, no store): it counts a request held in
 * memory in the tick the request arrives (no promise, no microtask turn before the next hook; bench/README.md,
 * session 15), still sets the RateLimit fields on every counted answer, refuses over the quota, and admits
 * a request its store failed to count. The whole surface's limits: rate-limits.test.ts.
 */

const QUOTA = 3;
const WINDOW_SECONDS = 60;

/** A store whose every count fails, as SharedQuotas' does when PostgreSQL cannot be reached. */
class FailingStore implements FastifyRateLimitStore {
  incr(key: string, callback: (error: Error | null) => void): void {
    callback(new Error(`the count of ${key} could not be taken`));
  }
  child(): FastifyRateLimitStore {
    return this;
  }
}

/**
 * An mTLS surface's limit on an app whose first hook queues a microtask and whose hook after the limit's
 * reports whether that microtask ran before it: it did if the limit's hook made the request wait.
 */
async function limitedApp(counters: RateLimitCounters): Promise<FastifyInstance> {
  const app = Fastify();
  app.decorateRequest('microtaskRan', false);
  app.addHook('onRequest', (request, _reply, done) => {
    const marked = request as unknown as { microtaskRan: boolean };
    queueMicrotask(() => {
      marked.microtaskRan = true;
    });
    done();
  });
  const countRequest = rateLimitCounter(
    'mtls',
    {
      policies: [{ name: 'mtls', quota: QUOTA, windowSeconds: WINDOW_SECONDS }],
      counters,
      trustedProxies: [],
    },
    (request) => request.url === '/livez',
  );
  assert.ok(countRequest, 'a limit applies');
  app.addHook('onRequest', countRequest);
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-waited', String((request as unknown as { microtaskRan: boolean }).microtaskRan));
    done();
  });
  app.get('/accounts', async () => ({ Data: {} }));
  app.get('/livez', async () => ({ live: true }));
  return app;
}

const inProcess: RateLimitCounters = { store: undefined, close: async () => undefined };

describe('rate-limit counting', () => {
  it('counts a request held in memory in the tick it arrives, and sets the RateLimit fields', async () => {
    const app = await limitedApp(inProcess);
    for (let served = 1; served <= QUOTA; served++) {
      const response = await app.inject({ url: '/accounts' });
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['x-waited'], 'false', 'the limit made the request wait for a promise');
      assert.equal(response.headers['ratelimit-policy'], `"mtls";q=${QUOTA};w=${WINDOW_SECONDS}`);
      const rate = /^"mtls";r=(\d+);t=(\d+)$/.exec(String(response.headers.ratelimit));
      assert.ok(rate, `RateLimit: ${String(response.headers.ratelimit)}`);
      assert.equal(Number(rate[1]), QUOTA - served);
      assert.ok(Number(rate[2]) >= 1 && Number(rate[2]) <= WINDOW_SECONDS);
    }
    await app.close();
  });

  it('refuses the request over the quota with 429, Retry-After and an OB error body', async () => {
    const app = await limitedApp(inProcess);
    for (let served = 1; served <= QUOTA; served++)
      assert.equal((await app.inject({ url: '/accounts' })).statusCode, 200);
    const refused = await app.inject({ url: '/accounts' });
    assert.equal(refused.statusCode, 429);
    assert.match(String(refused.headers['content-type']), /^application\/json/);
    const retryAfter = Number(refused.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= WINDOW_SECONDS);
    assert.match(String(refused.headers.ratelimit), /^"mtls";r=0;t=\d+$/);
    assert.equal((refused.json() as { Code: string }).Code, '429');
    // Never counted: the probes.
    assert.equal((await app.inject({ url: '/livez' })).statusCode, 200);
    await app.close();
  });

  it('admits a request its store could not count, as counted none so far', async () => {
    const app = await limitedApp({ store: FailingStore, close: async () => undefined });
    for (let request = 0; request <= QUOTA; request++) {
      const response = await app.inject({ url: '/accounts' });
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers.ratelimit, `"mtls";r=${QUOTA};t=0`);
    }
    await app.close();
  });
});
