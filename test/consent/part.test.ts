import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { createCustomer } from '../../src/bank/index.ts';
import { checkPassword, sandboxCredentialsFor } from '../../src/consent/index.ts';
import { mountConsent } from '../../src/consent/part.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { createTestStore } from '../support/store.ts';
import { INTERACTION_COOKIE, RecordingBridge } from './bridge.ts';

async function mount(sandbox: boolean, headlessApproval?: boolean) {
  const store = await createTestStore();
  const clock = new ManualClock();
  const alice = await createCustomer(
    store.db,
    { clock },
    { username: 'alice', displayName: 'Alice', kind: 'personal' },
  );
  const browser = Fastify();
  const bridge = new RecordingBridge();
  const mounted = await mountConsent(
    { config: { sandbox }, store, clock, browser },
    { bridge, notifyRevoked: async () => undefined, notifyChanged: async () => undefined },
    headlessApproval === undefined ? {} : { headlessApproval },
  );
  await browser.ready();
  return { store, clock, alice, browser, mounted };
}

describe('consent part', () => {
  it('in the sandbox: seeds credentials for bank customers, serves both apps, headless approval on', async () => {
    const { store, clock, alice, browser, mounted } = await mount(true);
    const ok = await checkPassword(
      { db: store.db, clock },
      { username: 'alice', customerId: alice.id, password: sandboxCredentialsFor('alice').password },
    );
    assert.deepEqual(ok, { ok: true });
    await createCustomer(store.db, { clock }, { username: 'zoe', displayName: 'Zoe', kind: 'personal' });
    assert.deepEqual(
      (await mounted.seedSandboxCredentials()).map((c) => c.username),
      ['zoe'],
    );
    assert.deepEqual(await mounted.seedSandboxCredentials(), [], 'idempotent');
    assert.equal((await browser.inject({ method: 'GET', url: '/dashboard' })).statusCode, 200);
    assert.equal(
      (await browser.inject({ method: 'GET', url: '/interaction/assets/consent.css' })).statusCode,
      200,
    );
    const headless = await browser.inject({
      method: 'POST',
      url: '/interaction/abc/sandbox-approve',
      headers: { cookie: `${INTERACTION_COOKIE}=abc` },
      payload: { username: 'alice', decision: 'approve' },
    });
    assert.equal(headless.statusCode, 400, 'enabled: it answers (no live interaction here), not 404');
  });

  it('outside the sandbox: no seeded credentials, headless approval 404, and it cannot be switched on', async () => {
    const { store, clock, alice, browser } = await mount(false);
    const result = await checkPassword(
      { db: store.db, clock },
      { username: 'alice', customerId: alice.id, password: 'sandbox-alice' },
    );
    assert.equal(result.ok, false);
    const headless = await browser.inject({
      method: 'POST',
      url: '/interaction/abc/sandbox-approve',
      payload: { username: 'alice', decision: 'approve' },
    });
    assert.equal(headless.statusCode, 404);
    await assert.rejects(mount(false, true), /only in the sandbox/);
  });
});
