import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createGuardCaches } from '../../src/openbanking/guard/index.ts';
import type { AccessTokenView } from '../../src/openbanking/guard/index.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { createHarness, domesticConsent } from './pis-support.ts';

/**
 * What the guard's caches keep as an instance serves journeys. A PSU's token is asked for while its journey
 * lasts and never again, and a consumed consent likewise: only their expiry can drop them, and an entry is
 * dropped on expiry only when it is asked for again — so, before session 18, an instance kept every token
 * and consent it had seen up to the caches' 50,000-entry bound (bench/README.md, session 18).
 */
const h = await createHarness();

describe('guard caches over many journeys', () => {
  it('hold only what the last TTL brought, however many payment journeys the instance served', async () => {
    const journeys = 12;
    for (let journey = 0; journey < journeys; journey++) {
      // A client_credentials token of its own, as a TPP gets one for each consent it stages.
      const clientToken = `cc-journey-${journey}`;
      h.tokens.set(clientToken, h.tokens.get(h.ccToken)!);
      const body = domesticConsent(h.bob, '1.00');
      const staged = await h.post('/domestic-payment-consents', body, { token: clientToken });
      assert.equal(staged.status, 201, staged.text);
      const consentId = String(staged.body.Data?.ConsentId);
      const token = await h.authorise(consentId);
      const submission = {
        Data: { ConsentId: consentId, Initiation: body.Data.Initiation },
        Risk: body.Risk,
      };
      const paid = await h.post('/domestic-payments', submission, { token });
      assert.equal(paid.status, 201, paid.text);
      // Past the harness's 30 s TTL: what this journey left in the caches is of no use to the next.
      h.clock.advance(31_000);
    }
    const held = h.caches.held();
    // At most the last journey's: its client_credentials token (its PSU token went with the consumed
    // consent), and its consent.
    assert.ok(held.tokens <= 1, `${held.tokens} tokens held after ${journeys} journeys`);
    assert.ok(held.intents <= 1, `${held.intents} consents held after ${journeys} journeys`);
    await h.assertLedgerSound();
  });
});

describe('guard caches dropping the tokens of a consent or of a client', () => {
  const clock = new ManualClock();
  const view = (clientId: string, intentId: string | undefined): AccessTokenView => ({
    clientId,
    intentId,
    scopes: new Set(['accounts']),
    grantType: intentId ? 'authorization_code' : 'client_credentials',
    certificateThumbprint: undefined,
    customerId: undefined,
    expiresAt: new Date(clock.epochMs() + 3_600_000),
    roles: ['AISP'],
  });
  const known = new Map<string, AccessTokenView>([
    ['t-a1', view('client-1', 'intent-a')],
    ['t-a2', view('client-2', 'intent-a')],
    ['t-b1', view('client-1', 'intent-b')],
    ['t-cc1', view('client-1', undefined)],
    ['t-cc2', view('client-2', undefined)],
  ]);
  const asked: string[] = [];
  const caches = createGuardCaches(
    {
      tokens: {
        find(token) {
          asked.push(token);
          return known.get(token);
        },
      },
      intents: { find: () => undefined },
    },
    { clock, ttlMs: 30_000, maxEntries: 100 },
  );
  const findAll = () => {
    asked.length = 0;
    // The inner source answers at once, so the cache does too (no promise to wait for).
    for (const token of [...known.keys(), 't-unknown']) void caches.tokens.find(token);
    return [...asked];
  };

  it('drops exactly the tokens resting on a consent, and exactly the tokens of a client', () => {
    findAll();
    assert.deepEqual(findAll(), [], 'every token held');
    caches.forgetIntent('intent-a');
    assert.deepEqual(findAll(), ['t-a1', 't-a2']);
    caches.forgetTokens({ clientId: 'client-1' });
    assert.deepEqual(findAll(), ['t-a1', 't-b1', 't-cc1']);
    caches.forgetTokens({ token: 't-cc2' });
    assert.deepEqual(findAll(), ['t-cc2']);
  });

  it('keeps no index of tokens it no longer holds', () => {
    findAll();
    assert.ok(caches.held().tokenGroups > 0);
    // Past the TTL: the next token kept sweeps the expired ones, and their consents' and clients' groups.
    clock.advance(31_000);
    void caches.tokens.find('t-cc1');
    assert.deepEqual(caches.held(), { tokens: 1, intents: 0, tokenGroups: 1 });
    caches.forgetTokens({ clientId: 'client-1' });
    assert.deepEqual(caches.held(), { tokens: 0, intents: 0, tokenGroups: 0 });
  });
});
