import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { balanceOf, periodContaining } from '../../src/bank/index.ts';
import { assertValidResponse, VRP_V3_1_11 } from '../support/openapi.ts';
import {
  authorisedSweepingVrp,
  createHarness,
  sortCodeAccount,
  sweepingVrpConsent,
  type Response,
  type SweepingVrpConsent,
} from './pis-support.ts';

const h = await createHarness();
afterEach(async () => h.assertLedgerSound());

function valid(path: string, method: string, response: Response): void {
  assertValidResponse(VRP_V3_1_11, path, method, response.status, response.body);
}

const DAY = 86_400_000;
const scan = sortCodeAccount;
const vrpConsent = (limits: Parameters<typeof sweepingVrpConsent>[1], maximum?: string) =>
  sweepingVrpConsent(h.bob, limits, maximum);
type ConsentBody = SweepingVrpConsent;
const authorisedVrp = (body: ConsentBody) => authorisedSweepingVrp(h, body);

const code = (response: Response) => response.body.Errors?.[0]?.ErrorCode;

describe('VRP periods', () => {
  const start = new Date('2026-01-31T10:00:00Z');
  it('aligns calendar periods', () => {
    const at = new Date('2026-03-18T15:00:00Z'); // a Wednesday
    const iso = (type: Parameters<typeof periodContaining>[0]) => {
      const period = periodContaining(type, 'Calendar', start, at);
      return [period.start.toISOString(), period.end.toISOString()];
    };
    assert.deepEqual(iso('Day'), ['2026-03-18T00:00:00.000Z', '2026-03-19T00:00:00.000Z']);
    assert.deepEqual(iso('Week'), ['2026-03-16T00:00:00.000Z', '2026-03-23T00:00:00.000Z']);
    assert.deepEqual(iso('Fortnight'), ['2026-03-15T00:00:00.000Z', '2026-04-01T00:00:00.000Z']);
    assert.deepEqual(iso('Month'), ['2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z']);
    assert.deepEqual(iso('Half-year'), ['2026-01-01T00:00:00.000Z', '2026-07-01T00:00:00.000Z']);
    assert.deepEqual(iso('Year'), ['2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']);
  });

  it('counts consent-aligned periods from the consent start, clamping month ends', () => {
    const month = periodContaining('Month', 'Consent', start, new Date('2026-03-10T00:00:00Z'));
    assert.equal(month.start.toISOString(), '2026-02-28T10:00:00.000Z');
    assert.equal(month.end.toISOString(), '2026-03-31T10:00:00.000Z');
    const week = periodContaining('Week', 'Consent', start, new Date('2026-02-14T09:59:59Z'));
    assert.equal(week.start.toISOString(), '2026-02-07T10:00:00.000Z');
    const half = periodContaining('Half-year', 'Consent', start, new Date('2026-08-01T00:00:00Z'));
    assert.equal(half.start.toISOString(), '2026-07-31T10:00:00.000Z');
    const year = periodContaining('Year', 'Consent', start, new Date('2026-01-31T10:00:00Z'));
    assert.equal(year.start.toISOString(), start.toISOString());
    assert.equal(year.end.toISOString(), '2027-01-31T10:00:00.000Z');
  });
});

describe('domestic VRP', () => {
  it('stages, reads and deletes a consent, every body as the spec says', async () => {
    const { consentId, staged, token } = await authorisedVrp(
      vrpConsent([{ PeriodType: 'Month', PeriodAlignment: 'Calendar', Amount: '200.00' }]),
    );
    valid('/domestic-vrp-consents', 'post', staged);
    const read = await h.get(`/domestic-vrp-consents/${consentId}`);
    assert.equal(read.status, 200);
    valid(`/domestic-vrp-consents/${consentId}`, 'get', read);
    assert.ok(read.body.Data?.DebtorAccount, 'the debtor account is shown once authorised');

    const funds = await h.post(
      `/domestic-vrp-consents/${consentId}/funds-confirmation`,
      {
        Data: {
          ConsentId: consentId,
          Reference: 'check',
          InstructedAmount: { Amount: '20.00', Currency: 'GBP' },
        },
      },
      { token },
    );
    assert.equal(funds.status, 201, funds.text);
    valid(`/domestic-vrp-consents/${consentId}/funds-confirmation`, 'post', funds);

    const deleted = await h.del(`/domestic-vrp-consents/${consentId}`);
    assert.equal(deleted.status, 204);
    assert.ok(h.revoked.includes(consentId));
    assert.equal((await h.get(`/domestic-vrp-consents/${consentId}`)).status, 400);
  });

  it('pays up to the period limit, refuses the next, and a new period resets it', async () => {
    const { consentId, pay } = await authorisedVrp(
      vrpConsent([
        { PeriodType: 'Day', PeriodAlignment: 'Calendar', Amount: '100.00' },
        { PeriodType: 'Month', PeriodAlignment: 'Consent', Amount: '150.00' },
      ]),
    );
    const before = await balanceOf(h.store.db, h.alice.id);
    for (const amount of ['40.00', '40.00', '20.00']) {
      const paid = await pay(amount);
      assert.equal(paid.status, 201, paid.text);
      valid('/domestic-vrps', 'post', paid);
      assert.equal(paid.body.Data?.Status, 'AcceptedCreditSettlementCompleted');
    }
    const over = await pay('0.01');
    assert.equal(over.status, 400);
    valid('/domestic-vrps', 'post', over);
    assert.equal(code(over), 'UK.OBIE.Rules.FailsControlParameters');
    assert.equal(over.body.Errors?.[0]?.Path, 'Data.ControlParameters.PeriodicLimits.0');
    assert.equal((await balanceOf(h.store.db, h.alice.id)).bookedMinor, before.bookedMinor - 10_000n);

    // Next calendar day: the day limit resets, the consent-aligned month still counts the 100.00.
    h.clock.advance(DAY);
    assert.equal((await pay('50.00')).status, 201);
    const month = await pay('0.01');
    assert.equal(code(month), 'UK.OBIE.Rules.FailsControlParameters');
    assert.equal(month.body.Errors?.[0]?.Path, 'Data.ControlParameters.PeriodicLimits.1');

    // A month after the consent was created, both reset.
    h.clock.set(new Date(h.clock.now().getTime() + 31 * DAY));
    const renewed = await pay('50.00');
    assert.equal(renewed.status, 201, renewed.text);

    const id = String(renewed.body.Data?.DomesticVRPId);
    const read = await h.get(`/domestic-vrps/${id}`);
    assert.equal(read.status, 200);
    valid(`/domestic-vrps/${id}`, 'get', read);
    const details = await h.get(`/domestic-vrps/${id}/payment-details`);
    valid(`/domestic-vrps/${id}/payment-details`, 'get', details);
    assert.equal((await h.get(`/domestic-vrp-consents/${consentId}`)).body.Data?.Status, 'Authorised');
  });

  it('refuses a payment above the maximum individual amount or outside the consent', async () => {
    const { pay } = await authorisedVrp(
      vrpConsent([{ PeriodType: 'Week', PeriodAlignment: 'Calendar', Amount: '500.00' }]),
    );
    const big = await pay('50.01');
    assert.equal(big.status, 400);
    assert.equal(code(big), 'UK.OBIE.Rules.FailsControlParameters');
    const otherCreditor = await pay('1.00', { instruction: { CreditorAccount: scan(h.mallory) } });
    assert.equal(code(otherCreditor), 'UK.OBIE.Resource.ConsentMismatch');
    const euro = await pay('1.00', {
      instruction: { InstructedAmount: { Amount: '1.00', Currency: 'EUR' } },
    });
    assert.equal(code(euro), 'UK.OBIE.Rules.FailsControlParameters');
    const decimals = await pay('1.001');
    assert.equal(code(decimals), 'UK.OBIE.Field.Invalid');
    const zero = await pay('0.00');
    assert.equal(code(zero), 'UK.OBIE.Field.Invalid');
  });

  it('refuses malformed control parameters', async () => {
    const mixed = vrpConsent([{ PeriodType: 'Day', PeriodAlignment: 'Calendar', Amount: '10.00' }]);
    (mixed.Data.ControlParameters.PeriodicLimits[0] as { Currency: string }).Currency = 'EUR';
    const refused = await h.post('/domestic-vrp-consents', mixed);
    assert.equal(refused.status, 400);
    valid('/domestic-vrp-consents', 'post', refused);
    const badPeriod = vrpConsent([{ PeriodType: 'Decade', PeriodAlignment: 'Calendar', Amount: '10.00' }]);
    assert.equal(code(await h.post('/domestic-vrp-consents', badPeriod)), 'UK.OBIE.Field.Invalid');
    const noLimits = vrpConsent([]);
    assert.equal((await h.post('/domestic-vrp-consents', noLimits)).status, 400);
  });

  it('a rejected payment (insufficient funds) uses no limit', async () => {
    const { pay } = await authorisedVrp(
      vrpConsent([{ PeriodType: 'Year', PeriodAlignment: 'Calendar', Amount: '3000.00' }], '2000.00'),
    );
    const balance = (await balanceOf(h.store.db, h.alice.id)).bookedMinor;
    const tooMuch = await pay((Number(balance + 100n) / 100).toFixed(2));
    assert.equal(tooMuch.status, 201);
    assert.equal(tooMuch.body.Data?.Status, 'Rejected');
    valid('/domestic-vrps', 'post', tooMuch);
    assert.equal((await pay('10.00')).body.Data?.Status, 'AcceptedCreditSettlementCompleted');
  });

  it('runs a payment once under its key: retries, racing it or after it at the limit, get its answer', async () => {
    // The key row is written last, with the answer (bench/README.md, "Payments", session 9): a retry
    // whose work would go through is rolled back and answered; one the limit refuses is answered too.
    const { pay } = await authorisedVrp(
      vrpConsent([{ PeriodType: 'Day', PeriodAlignment: 'Calendar', Amount: '30.00' }]),
    );
    const before = await balanceOf(h.store.db, h.alice.id);
    const same = { key: randomUUID(), instruction: { InstructionIdentification: 'retried-1' } };
    const racing = await Promise.all(Array.from({ length: 5 }, () => pay('30.00', same)));
    for (const response of racing) assert.equal(response.status, 201, response.text);
    assert.equal(new Set(racing.map((response) => response.body.Data?.DomesticVRPId)).size, 1);
    const later = await pay('30.00', same);
    assert.equal(later.status, 201, later.text);
    assert.deepEqual(later.body, racing[0]!.body);
    const other = await pay('30.00', { ...same, instruction: { InstructionIdentification: 'retried-2' } });
    assert.equal(code(other), 'UK.OBIE.Header.Invalid');
    assert.equal((await balanceOf(h.store.db, h.alice.id)).bookedMinor, before.bookedMinor - 3_000n);
  });

  it('concurrent payments never pass a limit together', async () => {
    const { consentId, pay } = await authorisedVrp(
      vrpConsent([{ PeriodType: 'Day', PeriodAlignment: 'Calendar', Amount: '100.00' }]),
    );
    const responses = await Promise.all(Array.from({ length: 20 }, () => pay('10.00')));
    const accepted = responses.filter((response) => response.status === 201);
    const refused = responses.filter((response) => code(response) === 'UK.OBIE.Rules.FailsControlParameters');
    assert.equal(accepted.length, 10);
    assert.equal(refused.length, 10);
    const again = await pay('0.01');
    assert.equal(code(again), 'UK.OBIE.Rules.FailsControlParameters', consentId);
  });
});
