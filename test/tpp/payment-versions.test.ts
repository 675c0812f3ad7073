import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TppUsageError } from '../../src/tpp/errors.ts';
import type { HttpResponse } from '../../src/tpp/http.ts';
import { isRejected, notServedAt, PAYMENT_STATUSES } from '../../src/tpp/payment-versions.ts';

const answer = (status: number): HttpResponse => ({
  url: 'https://bank.example/open-banking/v4.0/pisp/domestic-vrp-consents',
  status,
  headers: {},
  text: '',
  json: undefined,
});

/**
 * The sandbox serves every payment kind at both versions, so a bank that does not serve one at a version
 * is this: its 404 on staging the consent, said as one line of usage (the CLI prints a TppUsageError as
 * one line and exits 2).
 */
describe('payment-versions', () => {
  it('turns a 404 on staging into one line saying what to try, and leaves any other answer alone', () => {
    const refusal = notServedAt('4.0', 'VRP', answer(404));
    assert.ok(refusal instanceof TppUsageError);
    assert.equal(
      refusal.message,
      '--api-version 4.0: the bank does not serve VRP at v4.0 (HTTP 404 at ' +
        'https://bank.example/open-banking/v4.0/pisp/domestic-vrp-consents); try --api-version 3.1.11',
    );
    assert.doesNotMatch(refusal.message, /\n/);
    assert.match(
      notServedAt('3.1.11', 'file payments', answer(404))?.message ?? '',
      /try --api-version 4\.0$/,
    );
    for (const status of [400, 401, 403, 415, 500])
      assert.equal(notServedAt('4.0', 'VRP', answer(status)), undefined);
  });

  it("knows each version's words for a rejection and a set-up payment", () => {
    assert.ok(isRejected('Rejected') && isRejected('RJCT'));
    assert.ok(
      !isRejected('ACCC') && !isRejected('AcceptedCreditSettlementCompleted') && !isRejected(undefined),
    );
    assert.ok(
      PAYMENT_STATUSES['4.0'].setUp.has('ACTC') && !PAYMENT_STATUSES['4.0'].setUp.has('InitiationCompleted'),
    );
    assert.ok(PAYMENT_STATUSES['3.1.11'].final.has('AcceptedSettlementCompleted'));
  });
});
