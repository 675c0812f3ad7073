import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { sandboxCredentialsFor } from '../../src/consent/credentials.ts';
import { loadConfig, type ConfigError } from '../../src/server/config.ts';
import { selectParts } from '../../src/server/parts.ts';
import { createLogger } from '../../src/server/logger.ts';
import { rateLimitCounters, rateLimitPolicies } from '../../src/server/rate-limits.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { pageSecurityHeaders } from '../../src/shared/page-kit/index.ts';
import { schema, type Store } from '../../src/store/index.ts';
import { startSandbox, type Sandbox, type Tpp, startDeployment } from '../support/journey.ts';
import { CookieJar, csrfOf } from '../support/cookie-jar.ts';
import { AIS_V3_1_11, AIS_V4_0, validateComponent } from '../support/openapi.ts';
import { call, httpsClient, startTestPlatform, type JsonResponse } from '../support/platform.ts';

/**
 * Rate limits (issue 12, item 5): per client on the mutual-TLS listener, per IP on the browser listener, the
 * PSU's login and the OCSP responder; a refusal is a 429 in the family's format with `Retry-After` and the
 * `RateLimit-Policy` / `RateLimit` fields of Read/Write v4.0.1; on PostgreSQL the counts are shared by every
 * instance. The limited instances run beside a sandbox with the default limits, on its data directory and
 * database, so that onboarding the TPPs does not spend the small quotas under test.
 */

const WINDOW_SECONDS = 120;
const LIMITS = {
  OBKIT_RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS),
  OBKIT_RATE_LIMIT_MTLS: '2',
  OBKIT_RATE_LIMIT_BROWSER: '10',
  OBKIT_RATE_LIMIT_LOGIN: '6',
  OBKIT_RATE_LIMIT_OCSP: '2',
};

const transportIdentity = (tpp: Tpp) => ({
  certificatePem: tpp.bundle.transportCertificatePem,
  privateKeyPem: tpp.bundle.transportKeyPem,
});

/** Another instance of the sandbox's platform, with the small limits above. */
async function limitedInstance(sandbox: Sandbox, store: Store, env: Record<string, string> = LIMITS) {
  return startTestPlatform({
    parts: selectParts('all'),
    instanceOf: { dataDir: sandbox.platform.dataDir, store },
    env,
  });
}

/** A fresh window for every key: what onboarding on the sandbox counted (PostgreSQL shares it) is forgotten. */
async function forgetCounts(store: Store): Promise<void> {
  await store.db.delete(schema.rateLimits);
}

const header = (response: JsonResponse, name: string) => {
  const value = response.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
};

function assertLimited(
  response: JsonResponse,
  policy: { name: string; quota: number },
  contentType: RegExp,
): void {
  assert.equal(response.status, 429, response.text);
  assert.match(header(response, 'content-type') ?? '', contentType);
  const retryAfter = Number(header(response, 'retry-after'));
  assert.ok(
    Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= WINDOW_SECONDS,
    `Retry-After ${String(header(response, 'retry-after'))}`,
  );
  assert.match(
    header(response, 'ratelimit-policy') ?? '',
    new RegExp(`"${policy.name}";q=${policy.quota};w=${WINDOW_SECONDS}`),
  );
  const remaining = new RegExp(`"${policy.name}";r=0;t=(\\d+)`).exec(header(response, 'ratelimit') ?? '');
  assert.ok(remaining, `RateLimit: ${String(header(response, 'ratelimit'))}`);
  assert.ok(Number(remaining[1]) <= WINDOW_SECONDS);
}

function assertObError(response: JsonResponse): void {
  const valid = validateComponent(AIS_V3_1_11, 'OBErrorResponse1', response.body);
  assert.ok(valid.valid, valid.errors.join('\n'));
  assert.equal((response.body as { Code: string }).Code, '429');
  assert.ok(header(response, 'x-fapi-interaction-id'));
}

/** A PSU's browser on the sandbox dashboard: its cookie and CSRF token, from one loopback address. */
function dashboardBrowser(url: string, rootPem: string, localAddress: string) {
  const agent = httpsClient([rootPem], undefined, localAddress);
  const jar = new CookieJar();
  let csrf = '';
  const keep = (response: JsonResponse) => {
    jar.take(response.headers['set-cookie']);
    csrf = csrfOf(response.text) ?? csrf;
    return response;
  };
  return {
    open: async () => keep(await call(agent, `${url}/dashboard`, { headers: { cookie: jar.header() } })),
    logIn: async (username: string, password: string) =>
      keep(
        await call(agent, `${url}/dashboard/login`, {
          method: 'POST',
          headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ csrf, username, password }).toString(),
        }),
      ),
  };
}

describe('rate limits', async () => {
  const sandbox = await startSandbox();
  const aisp = await sandbox.tpp('limited-aisp', ['AISP']);
  const other = await sandbox.tpp('unlimited-aisp', ['AISP']);
  const limited = await limitedInstance(sandbox, sandbox.platform.store);
  await forgetCounts(sandbox.platform.store);

  it('refuses a client over its quota on a mutual-TLS API route with 429, an OB error body and the RateLimit fields', async () => {
    const agent = httpsClient([sandbox.rootPem], transportIdentity(aisp));
    const accounts = `${limited.urls.mtls}/open-banking/v3.1/aisp/accounts`;
    const first = await call(agent, accounts);
    assert.equal(first.status, 401, 'counted, then refused by the guard: no token');
    assert.match(header(first, 'ratelimit-policy') ?? '', new RegExp(`"mtls";q=2;w=${WINDOW_SECONDS}`));
    assert.match(header(first, 'ratelimit') ?? '', /"mtls";r=1;t=\d+/);
    assert.equal(header(first, 'retry-after'), undefined);
    assert.equal((await call(agent, accounts)).status, 401);

    const refused = await call(agent, accounts);
    assertLimited(refused, { name: 'mtls', quota: 2 }, /^application\/json/);
    assertObError(refused);
    // On a v4.0 path the same refusal comes in v4.0's error body (no top-level Code; ErrorCode U-codes).
    const refusedOnV4 = await call(agent, `${limited.urls.mtls}/open-banking/v4.0/aisp/accounts`);
    assertLimited(refusedOnV4, { name: 'mtls', quota: 2 }, /^application\/json/);
    const validV4 = validateComponent(AIS_V4_0, 'OBErrorResponse1', refusedOnV4.body);
    assert.ok(validV4.valid, validV4.errors.join('\n'));
    assert.equal((refusedOnV4.body as { Code?: string }).Code, undefined, refusedOnV4.text);

    // Per client: another TPP's certificate is still served; the authorization server's answers, which
    // oidc-provider writes itself, carry the fields too.
    const otherAgent = httpsClient([sandbox.rootPem], transportIdentity(other));
    assert.equal((await call(otherAgent, accounts)).status, 401);
    const token = await call(otherAgent, `${limited.urls.mtls}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    assert.ok([400, 401].includes(token.status), token.text);
    assert.match(header(token, 'ratelimit') ?? '', /"mtls";r=0;t=\d+/);
    assertLimited(await call(otherAgent, accounts), { name: 'mtls', quota: 2 }, /^application\/json/);
    // The load balancer's probes are never counted.
    assert.equal((await call(agent, `${limited.urls.mtls}/health`)).status, 200);
  });

  it('refuses an IP address over its quota on a browser route with a short page', async () => {
    const agent = httpsClient([sandbox.rootPem], undefined, '127.0.0.2');
    for (let served = 0; served < 10; served += 1) {
      assert.equal((await call(agent, `${limited.urls.browser}/directory`)).status, 200);
    }
    const refused = await call(agent, `${limited.urls.browser}/directory`);
    assertLimited(refused, { name: 'browser', quota: 10 }, /^text\/html/);
    assert.match(refused.text, /Too many requests/);

    // Per IP: another address is still served.
    const neighbour = httpsClient([sandbox.rootPem], undefined, '127.0.0.3');
    assert.equal((await call(neighbour, `${limited.urls.browser}/directory`)).status, 200);
  });

  it('counts the OCSP responder apart from the pages, and refuses over its own quota', async () => {
    const agent = httpsClient([sandbox.rootPem], undefined, '127.0.0.4');
    const ocsp = `${limited.urls.browser}/directory/v1/ocsp`;
    const ask = () =>
      call(agent, ocsp, {
        method: 'POST',
        headers: { 'content-type': 'application/ocsp-request' },
        body: 'not an OCSP request',
      });
    for (let asked = 0; asked < 2; asked += 1) {
      const answer = await ask();
      assert.notEqual(answer.status, 429, answer.text);
      assert.match(header(answer, 'ratelimit-policy') ?? '', /^"ocsp";q=2;w=/);
    }
    assertLimited(await ask(), { name: 'ocsp', quota: 2 }, /^text\/html/);
    // The pages from that address are not spent by OCSP.
    assert.equal((await call(agent, `${limited.urls.browser}/directory`)).status, 200);
  });

  it('throttles the PSU login per IP and keeps the lock-out after five wrong passwords', async () => {
    const browser = dashboardBrowser(limited.urls.browser, sandbox.rootPem, '127.0.0.5');
    assert.equal((await browser.open()).status, 200);
    const alice = sandboxCredentialsFor('alice');
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      const wrong = await browser.logIn('alice', 'not-the-password');
      assert.notEqual(wrong.status, 429);
      assert.match(wrong.text, /username or password is wrong/);
      assert.match(header(wrong, 'ratelimit-policy') ?? '', /"browser";q=10;w=\d+, "login";q=6;w=\d+/);
    }
    const locked = await browser.logIn('alice', 'not-the-password');
    assert.equal(locked.status, 403, locked.text);
    assert.match(locked.text, /Your login is locked/);
    // The right password does not open a locked login; the throttle did not stand in the lock-out's way.
    const stillLocked = await browser.logIn('alice', alice.password);
    assert.equal(stillLocked.status, 403);
    assert.match(stillLocked.text, /Your login is locked/);
    // The seventh attempt from this address within the window is throttled before it reaches the login.
    const throttled = await browser.logIn('bob', sandboxCredentialsFor('bob').password);
    assertLimited(throttled, { name: 'login', quota: 6 }, /^text\/html/);
    for (const [name, value] of Object.entries(pageSecurityHeaders()))
      assert.equal(header(throttled, name), value);
  });

  it('behind a trusted proxy counts the forwarded address, and believes X-Forwarded-For from no one else', async () => {
    const proxied = await limitedInstance(sandbox, sandbox.platform.store, {
      ...LIMITS,
      OBKIT_MTLS_MODE: 'proxy',
      OBKIT_TRUSTED_PROXIES: '127.0.0.7',
    });
    const page = `${proxied.urls.browser}/directory`;
    const proxy = httpsClient([sandbox.rootPem], undefined, '127.0.0.7');
    const from = (address: string) => ({ headers: { 'x-forwarded-for': `${address}, 127.0.0.7` } });
    for (let served = 0; served < 10; served += 1) {
      assert.equal((await call(proxy, page, from('203.0.113.5'))).status, 200);
    }
    assertLimited(
      await call(proxy, page, from('203.0.113.5')),
      { name: 'browser', quota: 10 },
      /^text\/html/,
    );
    assert.equal(
      (await call(proxy, page, from('203.0.113.6'))).status,
      200,
      'another client behind the proxy',
    );

    // Anyone else is counted by their own address, whatever they claim to forward for.
    const direct = httpsClient([sandbox.rootPem], undefined, '127.0.0.8');
    for (let served = 0; served < 10; served += 1) {
      const claimed = { headers: { 'x-forwarded-for': `198.51.100.${served}` } };
      assert.equal((await call(direct, page, claimed)).status, 200);
    }
    assertLimited(
      await call(direct, page, { headers: { 'x-forwarded-for': '198.51.100.99' } }),
      { name: 'browser', quota: 10 },
      /^text\/html/,
    );
  });

  it('takes its limits from the configuration; 0 turns a limit off', async () => {
    const config = loadConfig({
      env: { OBKIT_RATE_LIMIT_MTLS: '0', OBKIT_RATE_LIMIT_LOGIN: '7', OBKIT_RATE_LIMIT_WINDOW_SECONDS: '30' },
    });
    assert.deepEqual(
      rateLimitPolicies(config).map(({ name, quota, windowSeconds }) => [name, quota, windowSeconds]),
      [
        ['browser', 30_000, 30],
        ['login', 7, 30],
        ['ocsp', 6_000, 30],
      ],
    );
    assert.throws(
      () => loadConfig({ env: { OBKIT_RATE_LIMIT_OCSP: 'many' } }),
      (error: ConfigError) => error.problems.some((problem) => problem.startsWith('OBKIT_RATE_LIMIT_OCSP')),
    );

    const unlimited = await limitedInstance(sandbox, sandbox.platform.store, {
      ...LIMITS,
      OBKIT_RATE_LIMIT_MTLS: '0',
    });
    const agent = httpsClient([sandbox.rootPem], transportIdentity(other));
    for (let calls = 0; calls < 4; calls += 1) {
      const answer = await call(agent, `${unlimited.urls.mtls}/open-banking/v3.1/aisp/accounts`);
      assert.equal(answer.status, 401);
      assert.equal(header(answer, 'ratelimit'), undefined);
    }
  });
});

describe(
  'rate limits shared by two instances on PostgreSQL',
  { skip: !process.env.DATABASE_URL },
  async () => {
    const {
      storeA,
      instanceA: sandbox,
      openInstanceStore,
    } = await startDeployment(process.env.DATABASE_URL ?? '');
    const aisp = await sandbox.tpp('shared-quota', ['AISP']);
    const instanceA = await limitedInstance(sandbox, await openInstanceStore());
    const instanceB = await limitedInstance(sandbox, await openInstanceStore());
    await forgetCounts(storeA);

    it('a client quota spent through instance A is enforced at instance B', async () => {
      const agent = httpsClient([sandbox.rootPem], transportIdentity(aisp));
      const path = '/open-banking/v3.1/aisp/accounts';
      assert.equal((await call(agent, `${instanceA.urls.mtls}${path}`)).status, 401);
      assert.equal((await call(agent, `${instanceA.urls.mtls}${path}`)).status, 401);
      const refused = await call(agent, `${instanceB.urls.mtls}${path}`);
      assertLimited(refused, { name: 'mtls', quota: 2 }, /^application\/json/);
      assertObError(refused);
    });

    it('an IP address quota spent through instance A is enforced at instance B', async () => {
      const agent = httpsClient([sandbox.rootPem], undefined, '127.0.0.6');
      for (let served = 0; served < 10; served += 1) {
        const instance = served % 2 === 0 ? instanceA : instanceB;
        assert.equal((await call(agent, `${instance.urls.browser}/directory`)).status, 200);
      }
      assertLimited(
        await call(agent, `${instanceB.urls.browser}/directory`),
        { name: 'browser', quota: 10 },
        /^text\/html/,
      );
      assertLimited(
        await call(agent, `${instanceA.urls.browser}/directory`),
        { name: 'browser', quota: 10 },
        /^text\/html/,
      );
    });

    it('never admits more than the quota, however the requests of a key spread over the instances', async () => {
      const logger = createLogger(loadConfig({ env: { OBKIT_LOG_LEVEL: 'silent' } }));
      const stores = [storeA, await openInstanceStore()].map((store) => {
        const counters = rateLimitCounters(store, systemClock, logger);
        after(() => counters.close());
        assert.ok(counters.store, 'PostgreSQL shares its counts');
        return new counters.store({});
      });
      // 250 a window: leases of 2, so the instances go back to the database for every other request.
      const take = (index: number) =>
        new Promise<{ current: number; ttl: number }>((resolve, reject) =>
          stores[index % 2]?.incr(
            'test:spread',
            (error, result) => (error || !result ? reject(error ?? new Error('no result')) : resolve(result)),
            60_000,
            250,
          ),
        );
      const outcomes = await Promise.all(Array.from({ length: 400 }, (_, index) => take(index)));
      const admitted = outcomes.filter(({ current }) => current <= 250).length;
      assert.ok(admitted <= 250, `${admitted} admitted`);
      assert.ok(admitted >= 248, `${admitted} admitted: at most one unspent lease per instance is lost`);
      assert.ok(outcomes.every(({ ttl }) => ttl > 0 && ttl <= 60_000));
    });
  },
);
