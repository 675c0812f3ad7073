import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { balanceOf, startPaymentScheduler, type AccountRecord } from '../../src/bank/index.ts';
import { assertValidResponse, PIS_V3_1_11 } from '../support/openapi.ts';
import { createHarness, type Response } from './pis-support.ts';

const h = await createHarness();
const scheduler = startPaymentScheduler(h.store.db, { clock: h.clock }, { intervalMs: 3_600_000 });
afterEach(async () => h.assertLedgerSound());

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function valid(path: string, method: string, response: Response): void {
  assertValidResponse(PIS_V3_1_11, path, method, response.status, response.body);
}

const creditor = (account: AccountRecord) => ({
  SchemeName: 'UK.OBIE.SortCodeAccountNumber',
  Identification: `${account.sortCode}${account.accountNumber}`,
  Name: account.name,
});
const at = (offsetMs: number) =>
  new Date(h.clock.now().getTime() + offsetMs).toISOString().replace(/\.\d{3}Z$/, '+00:00');
const risk = { PaymentContextCode: 'BillPayment' };

function scheduledConsent(amount: string, executeInMs: number) {
  return {
    Data: {
      Permission: 'Create',
      Initiation: {
        InstructionIdentification: 'sched-1',
        EndToEndIdentification: 'E2E-SCHED',
        RequestedExecutionDateTime: at(executeInMs),
        InstructedAmount: { Amount: amount, Currency: 'GBP' },
        CreditorAccount: creditor(h.bob),
        RemittanceInformation: { Reference: 'Rent' },
      },
    },
    Risk: risk,
  };
}

function standingOrderConsent(initiation: Record<string, unknown> = {}) {
  return {
    Data: {
      Permission: 'Create',
      Initiation: {
        Frequency: 'EvryDay',
        Reference: 'Pocket money',
        NumberOfPayments: '3',
        FirstPaymentDateTime: at(HOUR),
        FirstPaymentAmount: { Amount: '5.00', Currency: 'GBP' },
        RecurringPaymentAmount: { Amount: '2.50', Currency: 'GBP' },
        CreditorAccount: creditor(h.bob),
        ...initiation,
      },
    },
    Risk: risk,
  };
}

async function submit(
  consents: string,
  payments: string,
  body: { Data: { Initiation: unknown }; Risk: unknown },
) {
  const staged = await h.post(consents, body);
  assert.equal(staged.status, 201, staged.text);
  valid(consents, 'post', staged);
  const consentId = String(staged.body.Data?.ConsentId);
  const read = await h.get(`${consents}/${consentId}`);
  valid(`${consents}/${consentId}`, 'get', read);
  const token = await h.authorise(consentId);
  const made = await h.post(
    payments,
    { Data: { ConsentId: consentId, Initiation: body.Data.Initiation }, Risk: body.Risk },
    { token },
  );
  assert.equal(made.status, 201, made.text);
  valid(payments, 'post', made);
  return { consentId, made, token };
}

function statuses(details: Response): string[] {
  return (details.body.Data?.PaymentStatus as { Status: string }[]).map((entry) => entry.Status);
}

describe('domestic scheduled payments', () => {
  it('sets the payment up, posts nothing until due, then the scheduler pays it once', async () => {
    const before = (await balanceOf(h.store.db, h.alice.id)).bookedMinor;
    const { made } = await submit(
      '/domestic-scheduled-payment-consents',
      '/domestic-scheduled-payments',
      scheduledConsent('12.34', 2 * DAY),
    );
    assert.equal(made.body.Data?.Status, 'InitiationCompleted');
    const id = String(made.body.Data?.DomesticScheduledPaymentId);
    const pending = await h.get(`/domestic-scheduled-payments/${id}/payment-details`);
    valid(`/domestic-scheduled-payments/${id}/payment-details`, 'get', pending);
    assert.deepEqual(statuses(pending), ['Pending']);

    h.clock.advance(DAY);
    assert.deepEqual(await scheduler.runNow(), []);
    assert.equal((await balanceOf(h.store.db, h.alice.id)).bookedMinor, before);
    h.clock.advance(DAY);
    const outcomes = await scheduler.runNow();
    assert.equal(outcomes.length, 1);
    assert.equal(outcomes[0]?.status, 'Executed');
    assert.deepEqual(await scheduler.runNow(), [], 'a second pass pays nothing');
    assert.equal((await balanceOf(h.store.db, h.alice.id)).bookedMinor, before - 1234n);

    const details = await h.get(`/domestic-scheduled-payments/${id}/payment-details`);
    valid(`/domestic-scheduled-payments/${id}/payment-details`, 'get', details);
    assert.deepEqual(statuses(details), ['AcceptedSettlementCompleted']);
    const read = await h.get(`/domestic-scheduled-payments/${id}`);
    valid(`/domestic-scheduled-payments/${id}`, 'get', read);
  });

  it('reports a payment the ledger refused when due as Rejected, posting nothing', async () => {
    const { made } = await submit(
      '/domestic-scheduled-payment-consents',
      '/domestic-scheduled-payments',
      scheduledConsent('99999.00', HOUR),
    );
    h.clock.advance(2 * HOUR);
    const outcomes = await scheduler.runNow();
    assert.equal(outcomes[0]?.status, 'Rejected');
    const details = await h.get(
      `/domestic-scheduled-payments/${String(made.body.Data?.DomesticScheduledPaymentId)}/payment-details`,
    );
    assert.deepEqual(statuses(details), ['Rejected']);
    const entry = (
      details.body.Data?.PaymentStatus as { StatusDetail?: { StatusReasonDescription?: string } }[]
    )[0];
    assert.equal(
      entry?.StatusDetail?.StatusReasonDescription,
      'When due: Insufficient funds: there was not enough money in the account',
    );
    valid('/domestic-scheduled-payments/x/payment-details', 'get', details);
  });

  it('refuses an execution date in the past', async () => {
    const refused = await h.post('/domestic-scheduled-payment-consents', scheduledConsent('1.00', -HOUR));
    assert.equal(refused.status, 400);
    assert.equal(refused.body.Errors?.[0]?.ErrorCode, 'UK.OBIE.Field.InvalidDate');
    valid('/domestic-scheduled-payment-consents', 'post', refused);
  });
});

describe('domestic standing orders', () => {
  it('sets the order up and the scheduler pays the first and recurring amounts, then stops', async () => {
    const before = (await balanceOf(h.store.db, h.alice.id)).bookedMinor;
    const { made } = await submit(
      '/domestic-standing-order-consents',
      '/domestic-standing-orders',
      standingOrderConsent(),
    );
    assert.equal(made.body.Data?.Status, 'InitiationCompleted');
    const id = String(made.body.Data?.DomesticStandingOrderId);
    for (let day = 0; day < 5; day++) {
      h.clock.advance(DAY);
      await scheduler.runNow();
    }
    assert.equal((await balanceOf(h.store.db, h.alice.id)).bookedMinor, before - 500n - 250n - 250n);
    const details = await h.get(`/domestic-standing-orders/${id}/payment-details`);
    valid(`/domestic-standing-orders/${id}/payment-details`, 'get', details);
    assert.deepEqual(statuses(details), [
      'AcceptedSettlementCompleted',
      'AcceptedSettlementCompleted',
      'AcceptedSettlementCompleted',
    ]);
    const read = await h.get(`/domestic-standing-orders/${id}`);
    valid(`/domestic-standing-orders/${id}`, 'get', read);
    assert.equal(read.body.Data?.Status, 'InitiationCompleted');
  });

  it('refuses inconsistent standing orders', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ FinalPaymentDateTime: at(10 * DAY) }, 'UK.OBIE.Field.Unexpected'],
      [{ RecurringPaymentAmount: { Amount: '1.00', Currency: 'EUR' } }, 'UK.OBIE.Field.Invalid'],
      [{ Frequency: 'EveryFullMoon' }, 'UK.OBIE.Field.Invalid'],
      [{ NumberOfPayments: 'three' }, 'UK.OBIE.Field.Invalid'],
      [{ FirstPaymentDateTime: at(-DAY) }, 'UK.OBIE.Field.InvalidDate'],
      [{ FirstPaymentAmount: { Amount: '5.001', Currency: 'GBP' } }, 'UK.OBIE.Field.Invalid'],
    ];
    for (const [change, code] of cases) {
      const refused = await h.post('/domestic-standing-order-consents', standingOrderConsent(change));
      assert.equal(refused.status, 400, JSON.stringify(change));
      assert.equal(refused.body.Errors?.[0]?.ErrorCode, code, JSON.stringify(change));
      valid('/domestic-standing-order-consents', 'post', refused);
    }
  });
});
