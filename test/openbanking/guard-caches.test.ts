import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
