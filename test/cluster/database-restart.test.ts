import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openStore } from '../../src/store/index.ts';
import { authorise } from '../journey/ais-support.ts';
import { assertErrorPage } from '../support/error-page.ts';
import { startSandbox, type Tpp } from '../support/journey.ts';
import { AIS_V3_1_11, AIS_V4_0, validateComponent } from '../support/openapi.ts';
import { call, httpsClient, type JsonResponse } from '../support/platform.ts';
import { privatePostgresUnavailable, startPrivatePostgres } from '../support/private-postgres.ts';

/**
 * The bank's PostgreSQL stops (fast shutdown: every open connection is terminated) and starts again while
 * TPPs are reading: every answer is 200 or a 503 with Retry-After in its family's error format — the
 * Read/Write APIs' OB body (v3.1.11 and v4.0 shapes), RFC 6749 at the token endpoint, RFC 7591 at DCR, an
 * HTML page in the browser — never a 500; `/ready` says unavailable; and once the database is back the
 * same obkit instance serves again, without a restart. The server is the test's own (never the machine's).
 */

const skip = !process.env.DATABASE_URL
  ? 'PostgreSQL only (set DATABASE_URL): the embedded database cannot be restarted under the bank'
  : (privatePostgresUnavailable() ?? false);

function assertUnavailable(answer: JsonResponse, spec: string): void {
  assert.equal(answer.status, 503, answer.text);
  assert.match(String(answer.headers['retry-after']), /^\d+$/);
  const valid = validateComponent(spec, 'OBErrorResponse1', answer.body);
  assert.ok(valid.valid, valid.errors.join('\n'));
}

describe('PostgreSQL restarted under a running bank', { skip }, async () => {
  if (skip) return;
  const server = await startPrivatePostgres();
  const store = await openStore({ backend: 'postgres', url: server.url, poolSize: 5 });
  after(() => store.close());
  await store.migrate();
  const dataDir = mkdtempSync(join(tmpdir(), 'obkit-restart-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const bank = await startSandbox({ instanceOf: { dataDir, store } });
  const tpp: Tpp = await bank.tpp('reads-through-a-restart', ['AISP']);
  const consent = await authorise(bank, tpp, { permissions: ['ReadAccountsBasic'] });
  const agent = httpsClient([bank.rootPem], {
    certificatePem: tpp.bundle.transportCertificatePem,
    privateKeyPem: tpp.bundle.transportKeyPem,
  });
  const read = (version = 'v3.1') =>
    call(agent, `${bank.platform.urls.mtls}/open-banking/${version}/aisp/accounts`, {
      headers: { authorization: `Bearer ${consent.accessToken}` },
    });

  it('answers only 200 or 503 (never 500) and serves again once the database is back', async () => {
    const seen: JsonResponse[] = [];
    let reading = true;
    const started: Promise<void>[] = [];
    const readers = Array.from({ length: 4 }, () => {
      let served: () => void = () => undefined;
      started.push(new Promise<void>((resolve) => (served = resolve)));
      return (async () => {
        while (reading) {
          const answer = await read();
          seen.push(answer);
          if (answer.status === 200) served();
        }
      })();
    });
    await Promise.all(started);

    await server.stop();
    assertUnavailable(await read(), AIS_V3_1_11);
    assertUnavailable(await read('v4.0'), AIS_V4_0);
    const token = await call(agent, `${bank.platform.urls.mtls}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&scope=accounts&client_id=${tpp.clientId}`,
    });
    assert.equal(token.status, 503, token.text);
    assert.equal((token.body as { error?: string }).error, 'temporarily_unavailable');
    assert.match(String(token.headers['retry-after']), /^\d+$/);
    const registration = await call(agent, `${bank.platform.urls.mtls}/register/${tpp.clientId}`, {
      headers: { authorization: 'Bearer registration-access-token' },
    });
    assert.equal(registration.status, 503, registration.text);
    assert.equal((registration.body as { error?: string }).error, 'temporarily_unavailable');
    assert.match(String(registration.headers['retry-after']), /^\d+$/);
    const browser = httpsClient([bank.rootPem]);
    const page = await call(browser, `${bank.platform.urls.browser}/interaction/an-interaction`);
    assertErrorPage({ status: page.status, headers: page.headers, body: page.text }, 503);
    assert.match(String(page.headers['retry-after']), /^\d+$/);
    const ready = await call(browser, `${bank.platform.urls.browser}/ready`);
    assert.equal(ready.status, 503, ready.text);

    await server.start();
    // The same instance serves again: the pool replaces the connections the shutdown terminated.
    let resumed: JsonResponse | undefined;
    for (let attempt = 0; attempt < 20 && resumed?.status !== 200; attempt += 1) resumed = await read();
    assert.equal(resumed?.status, 200, resumed?.text);
    reading = false;
    await Promise.all(readers);
    assert.equal((await call(browser, `${bank.platform.urls.browser}/ready`)).status, 200);

    const unexpected = seen.filter((answer) => answer.status !== 200 && answer.status !== 503);
    assert.deepEqual(
      unexpected.map((answer) => `${answer.status} ${answer.text}`),
      [],
      'only 200 or 503 while the database restarted',
    );
    for (const answer of seen.filter((each) => each.status === 503)) assertUnavailable(answer, AIS_V3_1_11);
    assert.ok(
      seen.some((answer) => answer.status === 503),
      'the readers met the restart',
    );
  });
});
