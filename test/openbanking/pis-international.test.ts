import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { balanceOf, internalAccountId, listTransactions, sandboxFxRate } from '../../src/bank/index.ts';
import { getIntent } from '../../src/consent/index.ts';
import { assertValidResponse, PIS_V3_1_11 } from '../support/openapi.ts';
import { createHarness, type Response } from './pis-support.ts';

const h = await createHarness();
afterEach(async () => h.assertLedgerSound());

function valid(path: string, method: string, response: Response): void {
  assertValidResponse(PIS_V3_1_11, path, method, response.status, response.body);
}

function consent(
  amount: { Amount: string; Currency: string },
  transfer = 'EUR',
  extra: Record<string, unknown> = {},
) {
  return {
    Data: {
      Initiation: {
        InstructionIdentification: 'intl-1',
        EndToEndIdentification: 'E2E-INTL',
        InstructionPriority: 'Normal',
        CurrencyOfTransfer: transfer,
        DestinationCountryCode: 'DE',
        InstructedAmount: amount,
        CreditorAgent: { SchemeName: 'UK.OBIE.BICFI', Identification: 'DEUTDEFF' },
        CreditorAccount: {
          SchemeName: 'UK.OBIE.IBAN',
          Identification: 'DE89370400440532013000',
          Name: 'Hans Muster',
        },
        RemittanceInformation: { Reference: 'Invoice 7' },
        ...extra,
      },
    },
    Risk: { PaymentContextCode: 'PartyToParty' },
  };
}

async function pay(body: ReturnType<typeof consent>) {
  const staged = await h.post('/international-payment-consents', body);
  assert.equal(staged.status, 201, staged.text);
  valid('/international-payment-consents', 'post', staged);
  const consentId = String(staged.body.Data?.ConsentId);
  const token = await h.authorise(consentId);
  const read = await h.get(`/international-payment-consents/${consentId}`);
  valid(`/international-payment-consents/${consentId}`, 'get', read);
  const funds = await h.get(`/international-payment-consents/${consentId}/funds-confirmation`, token);
  assert.equal(funds.status, 200, funds.text);
  valid(`/international-payment-consents/${consentId}/funds-confirmation`, 'get', funds);
  const paid = await h.post(
    '/international-payments',
    { Data: { ConsentId: consentId, Initiation: body.Data.Initiation }, Risk: body.Risk },
    { token },
  );
  assert.equal(paid.status, 201, paid.text);
  valid('/international-payments', 'post', paid);
  return { consentId, staged, paid };
}

describe('international payments', () => {
  it('pays EUR 100.00 from a GBP account at the sandbox rate plus the charge, in one posting set', async () => {
    const before = (await balanceOf(h.store.db, h.alice.id)).bookedMinor;
    const { consentId, staged, paid } = await pay(consent({ Amount: '100.00', Currency: 'EUR' }));
    const rate = sandboxFxRate('GBP', 'EUR');
    assert.deepEqual(staged.body.Data?.ExchangeRateInformation, {
      UnitCurrency: 'GBP',
      ExchangeRate: Number(rate),
      RateType: 'Indicative',
    });
    assert.equal(paid.body.Data?.Status, 'AcceptedSettlementCompleted');
    assert.deepEqual(paid.body.Data?.ExchangeRateInformation, {
      UnitCurrency: 'GBP',
      ExchangeRate: Number(rate),
      RateType: 'Actual',
    });
    assert.deepEqual((paid.body.Data?.Charges as { Amount: unknown }[])[0]?.Amount, {
      Amount: '5.00',
      Currency: 'GBP',
    });
    // 100.00 EUR at 1.165 EUR per GBP needs 85.84 GBP (rounded up so the payee gets the full amount), + 5.00.
    assert.equal((await balanceOf(h.store.db, h.alice.id)).bookedMinor, before - 8584n - 500n);
    const clearing = await listTransactions(h.store.db, internalAccountId('clearing', 'EUR'));
    assert.equal(clearing.items[0]?.amountMinor, 10_000n, 'the EUR clearing account pays out exactly 100.00');
    assert.equal((await getIntent(h.store.db, consentId))?.status, 'Consumed');

    const id = String(paid.body.Data?.InternationalPaymentId);
    const read = await h.get(`/international-payments/${id}`);
    valid(`/international-payments/${id}`, 'get', read);
    assert.deepEqual(read.body.Data?.ExchangeRateInformation, paid.body.Data?.ExchangeRateInformation);
    const details = await h.get(`/international-payments/${id}/payment-details`);
    valid(`/international-payments/${id}/payment-details`, 'get', details);
  });

  it('debits exactly an amount instructed in the account currency; no charge when the creditor bears it', async () => {
    const before = (await balanceOf(h.store.db, h.alice.id)).bookedMinor;
    const { paid } = await pay(
      consent({ Amount: '50.00', Currency: 'GBP' }, 'USD', { ChargeBearer: 'BorneByCreditor' }),
    );
    assert.equal(paid.body.Data?.Charges, undefined);
    assert.equal((await balanceOf(h.store.db, h.alice.id)).bookedMinor, before - 5000n);
  });

  it('pays GBP abroad without conversion, charge only', async () => {
    const before = (await balanceOf(h.store.db, h.alice.id)).bookedMinor;
    const { paid } = await pay(consent({ Amount: '10.00', Currency: 'GBP' }, 'GBP'));
    assert.equal(paid.body.Data?.ExchangeRateInformation, undefined);
    assert.equal((await balanceOf(h.store.db, h.alice.id)).bookedMinor, before - 1000n - 500n);
  });

  it('rejects for insufficient funds (the charge counts), posting nothing', async () => {
    const available = (await balanceOf(h.store.db, h.alice.id)).availableMinor;
    const whole = (available - 100n) / 100n; // leaves 1.00 + pence: not enough for the 5.00 charge
    const { paid } = await pay(consent({ Amount: `${whole}.00`, Currency: 'GBP' }, 'EUR'));
    assert.equal(paid.body.Data?.Status, 'Rejected');
    assert.equal((await balanceOf(h.store.db, h.alice.id)).availableMinor, available);
  });

  it('refuses currencies the sandbox does not exchange, agreed rates and mixed currencies', async () => {
    const cases: [ReturnType<typeof consent>, string][] = [
      [consent({ Amount: '1.00', Currency: 'EUR' }, 'MXN'), 'UK.OBIE.Unsupported.Currency'],
      [consent({ Amount: '1.00', Currency: 'ZZZ' }, 'EUR'), 'UK.OBIE.Unsupported.Currency'],
      [consent({ Amount: '1.00', Currency: 'USD' }, 'EUR'), 'UK.OBIE.Unsupported.Currency'],
      [consent({ Amount: '1.001', Currency: 'EUR' }), 'UK.OBIE.Field.Invalid'],
      [
        consent({ Amount: '1.00', Currency: 'EUR' }, 'EUR', {
          ExchangeRateInformation: { UnitCurrency: 'GBP', RateType: 'Agreed', ContractIdentification: 'c-1' },
        }),
        'UK.OBIE.Field.Invalid',
      ],
    ];
    for (const [body, code] of cases) {
      const refused = await h.post('/international-payment-consents', body);
      assert.equal(refused.status, 400, refused.text);
      assert.equal(refused.body.Errors?.[0]?.ErrorCode, code, refused.text);
      valid('/international-payment-consents', 'post', refused);
    }
  });
});
