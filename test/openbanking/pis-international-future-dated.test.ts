import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  balanceOf,
  internalAccountId,
  listTransactions,
  sandboxFxRate,
  startPaymentScheduler,
} from '../../src/bank/index.ts';
import { getIntent } from '../../src/consent/index.ts';
import { assertValidResponse, PIS_V3_1_11 } from '../support/openapi.ts';
import { createHarness, type Response } from './pis-support.ts';

const h = await createHarness();
const scheduler = startPaymentScheduler(h.store.db, { clock: h.clock }, { intervalMs: 3_600_000 });
afterEach(async () => h.assertLedgerSound());

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CHARGE_GBP_MINOR = 500n;

function valid(path: string, method: string, response: Response): void {
  assertValidResponse(PIS_V3_1_11, path, method, response.status, response.body);
}

const at = (offsetMs: number) =>
  new Date(h.clock.now().getTime() + offsetMs).toISOString().replace(/\.\d{3}Z$/, '+00:00');
const risk = { PaymentContextCode: 'PartyToParty' };
const payee = {
  CreditorAgent: { SchemeName: 'UK.OBIE.BICFI', Identification: 'DEUTDEFF' },
  CreditorAccount: {
    SchemeName: 'UK.OBIE.IBAN',
    Identification: 'DE89370400440532013000',
    Name: 'Hans Muster',
  },
};

function scheduledConsent(amount: { Amount: string; Currency: string }, extra: Record<string, unknown> = {}) {
  return {
    Data: {
      Permission: 'Create',
      Initiation: {
        InstructionIdentification: 'isp-1',
        EndToEndIdentification: 'E2E-ISP',
        RequestedExecutionDateTime: at(2 * DAY),
        CurrencyOfTransfer: 'EUR',
        DestinationCountryCode: 'DE',
        InstructedAmount: amount,
        ...payee,
        RemittanceInformation: { Reference: 'Invoice 9' },
        ...extra,
      },
    },
    Risk: risk,
  };
}

function standingOrderConsent(extra: Record<string, unknown> = {}) {
  return {
    Data: {
      Permission: 'Create',
      Initiation: {
        Frequency: 'EvryDay',
        Reference: 'Rent abroad',
        NumberOfPayments: '3',
        FirstPaymentDateTime: at(HOUR),
        CurrencyOfTransfer: 'EUR',
        InstructedAmount: { Amount: '20.00', Currency: 'EUR' },
        ...payee,
        ...extra,
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
  const token = await h.authorise(consentId);
  const read = await h.get(`${consents}/${consentId}`);
  valid(`${consents}/${consentId}`, 'get', read);
  const made = await h.post(
    payments,
    { Data: { ConsentId: consentId, Initiation: body.Data.Initiation }, Risk: body.Risk },
    { token },
  );
  assert.equal(made.status, 201, made.text);
  valid(payments, 'post', made);
  return { consentId, staged, read, made, token };
}

function statuses(details: Response): string[] {
  return (details.body.Data?.PaymentStatus as { Status: string }[]).map((entry) => entry.Status);
}

const eurClearingPayouts = async () =>
  (await listTransactions(h.store.db, internalAccountId('clearing', 'EUR'))).items.map((t) => t.amountMinor);

describe('international scheduled payments', () => {
  it('quotes at staging, posts nothing until due, then pays EUR through FX with the charge, once', async () => {
    const before = (await balanceOf(h.store.db, h.alice.id)).bookedMinor;
    const payoutsBefore = (await eurClearingPayouts()).length;
    const { consentId, staged, made, token } = await submit(
      '/international-scheduled-payment-consents',
      '/international-scheduled-payments',
      scheduledConsent({ Amount: '100.00', Currency: 'EUR' }),
    );
    const rate = Number(sandboxFxRate('GBP', 'EUR'));
    assert.deepEqual(staged.body.Data?.ExchangeRateInformation, {
      UnitCurrency: 'GBP',
      ExchangeRate: rate,
      RateType: 'Indicative',
    });
    assert.deepEqual((staged.body.Data?.Charges as { Amount: unknown }[])[0]?.Amount, {
      Amount: '5.00',
      Currency: 'GBP',
    });
    assert.equal(made.body.Data?.Status, 'InitiationCompleted');
    assert.equal((made.body.Data?.ExchangeRateInformation as { RateType: string }).RateType, 'Actual');
    assert.equal((await getIntent(h.store.db, consentId))?.status, 'Consumed');

    const funds = await h.get(
      `/international-scheduled-payment-consents/${consentId}/funds-confirmation`,
      token,
    );
    valid(`/international-scheduled-payment-consents/${consentId}/funds-confirmation`, 'get', funds);

    const id = String(made.body.Data?.InternationalScheduledPaymentId);
    const pending = await h.get(`/international-scheduled-payments/${id}/payment-details`);
    valid(`/international-scheduled-payments/${id}/payment-details`, 'get', pending);
    assert.deepEqual(statuses(pending), ['Pending']);

    h.clock.advance(DAY);
    assert.deepEqual(await scheduler.runNow(), []);
    assert.equal((await balanceOf(h.store.db, h.alice.id)).bookedMinor, before);
    h.clock.advance(DAY);
    const outcomes = await scheduler.runNow();
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['Executed'],
    );
    assert.deepEqual(await scheduler.runNow(), [], 'a second pass pays nothing');
    // 100.00 EUR needs 85.84 GBP at the sandbox rate (rounded up), plus the 5.00 GBP charge.
    assert.equal((await balanceOf(h.store.db, h.alice.id)).bookedMinor, before - 8584n - CHARGE_GBP_MINOR);
    const payouts = await eurClearingPayouts();
    assert.equal(payouts.length, payoutsBefore + 1);
    assert.ok(payouts.includes(10_000n), 'the EUR clearing account pays out exactly 100.00');

    const details = await h.get(`/international-scheduled-payments/${id}/payment-details`);
    valid(`/international-scheduled-payments/${id}/payment-details`, 'get', details);
    assert.deepEqual(statuses(details), ['AcceptedSettlementCompleted']);
    const read = await h.get(`/international-scheduled-payments/${id}`);
    valid(`/international-scheduled-payments/${id}`, 'get', read);
    assert.deepEqual(read.body.Data?.ExchangeRateInformation, made.body.Data?.ExchangeRateInformation);
  });

  it('reports a payment the ledger refused when due (the charge counts) as Rejected, posting nothing', async () => {
    const available = (await balanceOf(h.store.db, h.alice.id)).availableMinor;
    const whole = (available - 100n) / 100n; // leaves 1.00 + pence: not enough for the 5.00 charge
    const { made } = await submit(
      '/international-scheduled-payment-consents',
      '/international-scheduled-payments',
      scheduledConsent({ Amount: `${whole}.00`, Currency: 'GBP' }, { RequestedExecutionDateTime: at(HOUR) }),
    );
    h.clock.advance(2 * HOUR);
    const outcomes = await scheduler.runNow();
    assert.deepEqual(
      outcomes.map((o) => [o.status, o.reason]),
      [['Rejected', 'insufficient-funds']],
    );
    assert.equal((await balanceOf(h.store.db, h.alice.id)).availableMinor, available);
    const id = String(made.body.Data?.InternationalScheduledPaymentId);
    const details = await h.get(`/international-scheduled-payments/${id}/payment-details`);
    valid(`/international-scheduled-payments/${id}/payment-details`, 'get', details);
    assert.deepEqual(statuses(details), ['Rejected']);
  });

  it('refuses a past date, currencies the sandbox does not exchange, agreed rates and bad amounts', async () => {
    const cases: [ReturnType<typeof scheduledConsent>, string][] = [
      [
        scheduledConsent({ Amount: '1.00', Currency: 'EUR' }, { RequestedExecutionDateTime: at(-HOUR) }),
        'UK.OBIE.Field.InvalidDate',
      ],
      [
        scheduledConsent({ Amount: '1.00', Currency: 'EUR' }, { CurrencyOfTransfer: 'MXN' }),
        'UK.OBIE.Unsupported.Currency',
      ],
      [scheduledConsent({ Amount: '1.00', Currency: 'USD' }), 'UK.OBIE.Unsupported.Currency'],
      [scheduledConsent({ Amount: '1.001', Currency: 'EUR' }), 'UK.OBIE.Field.Invalid'],
      [scheduledConsent({ Amount: '0.00', Currency: 'EUR' }), 'UK.OBIE.Field.Invalid'],
      [
        scheduledConsent(
          { Amount: '1.00', Currency: 'EUR' },
          {
            ExchangeRateInformation: { UnitCurrency: 'GBP', RateType: 'Agreed', ContractIdentification: 'c' },
          },
        ),
        'UK.OBIE.Field.Invalid',
      ],
    ];
    for (const [body, code] of cases) {
      const refused = await h.post('/international-scheduled-payment-consents', body);
      assert.equal(refused.status, 400, refused.text);
      assert.equal(refused.body.Errors?.[0]?.ErrorCode, code, refused.text);
      valid('/international-scheduled-payment-consents', 'post', refused);
    }
  });

  it('refuses a submission that differs from the authorised consent, posting nothing', async () => {
    const body = scheduledConsent({ Amount: '10.00', Currency: 'EUR' });
    const staged = await h.post('/international-scheduled-payment-consents', body);
    const consentId = String(staged.body.Data?.ConsentId);
    const token = await h.authorise(consentId);
    const changed = {
      ...body.Data.Initiation,
      InstructedAmount: { Amount: '1000.00', Currency: 'EUR' },
    };
    const refused = await h.post(
      '/international-scheduled-payments',
      { Data: { ConsentId: consentId, Initiation: changed }, Risk: body.Risk },
      { token },
    );
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.body.Errors?.[0]?.ErrorCode, 'UK.OBIE.Resource.ConsentMismatch');
    valid('/international-scheduled-payments', 'post', refused);
    assert.equal((await getIntent(h.store.db, consentId))?.status, 'Authorised');
  });
});

describe('international standing orders', () => {
  it('pays EUR 20.00 three times through FX with a charge each time, then stops', async () => {
    const before = (await balanceOf(h.store.db, h.alice.id)).bookedMinor;
    const { staged, made } = await submit(
      '/international-standing-order-consents',
      '/international-standing-orders',
      standingOrderConsent(),
    );
    assert.equal(staged.body.Data?.ExchangeRateInformation, undefined, 'not in the standing-order resource');
    assert.ok(Array.isArray(staged.body.Data?.Charges));
    assert.equal(made.body.Data?.Status, 'InitiationCompleted');
    const id = String(made.body.Data?.InternationalStandingOrderId);
    assert.match(id, /^iso-/);
    for (let day = 0; day < 5; day++) {
      h.clock.advance(DAY);
      await scheduler.runNow();
    }
    // 20.00 EUR needs 17.17 GBP each time (rounded up), plus the 5.00 GBP charge.
    const each = 1717n + CHARGE_GBP_MINOR;
    assert.equal((await balanceOf(h.store.db, h.alice.id)).bookedMinor, before - 3n * each);
    const details = await h.get(`/international-standing-orders/${id}/payment-details`);
    valid(`/international-standing-orders/${id}/payment-details`, 'get', details);
    assert.deepEqual(statuses(details), [
      'AcceptedSettlementCompleted',
      'AcceptedSettlementCompleted',
      'AcceptedSettlementCompleted',
    ]);
    const read = await h.get(`/international-standing-orders/${id}`);
    valid(`/international-standing-orders/${id}`, 'get', read);
    assert.equal(read.body.Data?.Status, 'InitiationCompleted');
  });

  it('refuses inconsistent standing orders', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ FinalPaymentDateTime: at(10 * DAY) }, 'UK.OBIE.Field.Unexpected'],
      [{ Frequency: 'EveryFullMoon' }, 'UK.OBIE.Field.Invalid'],
      [{ NumberOfPayments: 'three' }, 'UK.OBIE.Field.Invalid'],
      [{ FirstPaymentDateTime: at(-DAY) }, 'UK.OBIE.Field.InvalidDate'],
      [{ InstructedAmount: { Amount: '-5.00', Currency: 'EUR' } }, 'UK.OBIE.Field.Invalid'],
      [{ CurrencyOfTransfer: 'XAU' }, 'UK.OBIE.Unsupported.Currency'],
      [{ FirstPaymentAmount: { Amount: '5.00', Currency: 'EUR' } }, 'UK.OBIE.Field.Unexpected'],
    ];
    for (const [change, code] of cases) {
      const refused = await h.post('/international-standing-order-consents', standingOrderConsent(change));
      assert.equal(refused.status, 400, JSON.stringify(change));
      assert.equal(refused.body.Errors?.[0]?.ErrorCode, code, `${JSON.stringify(change)}: ${refused.text}`);
      valid('/international-standing-order-consents', 'post', refused);
    }
  });
});
