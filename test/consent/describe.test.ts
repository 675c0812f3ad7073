import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeFrequency,
  describeIntent,
  describePermissions,
  formatMoney,
  type Intent,
  type IntentKind,
  type JsonObject,
} from '../../src/consent/index.ts';
import { escapeHtml, html } from '../../src/shared/page-kit/index.ts';
import { accountAccessData, fundsConfirmationData, vrpData } from './fixtures.ts';

function intent(kind: IntentKind, data: JsonObject, extra: Partial<Intent> = {}): Intent {
  const now = new Date('2026-01-01T09:00:00Z');
  return {
    id: 'x',
    kind,
    clientId: 'c',
    status: 'AwaitingAuthorisation',
    statusUpdatedAt: now,
    data,
    risk: {},
    permissions: [],
    expiresAt: undefined,
    customerId: undefined,
    accountIds: [],
    createdAt: now,
    authorisedAt: undefined,
    lastUsedAt: undefined,
    ...extra,
  };
}

const facts = (i: Intent) =>
  Object.fromEntries(describeIntent(i, 'Acme').facts.map((f) => [f.label, f.value]));

describe('intents in plain words', () => {
  it('formats money from decimal strings without floats', () => {
    assert.equal(formatMoney('1234567.5', 'GBP'), '£1,234,567.50');
    assert.equal(formatMoney('0.1', 'EUR'), '€0.10');
    assert.equal(formatMoney('-20', 'USD'), '-$20.00');
    assert.equal(formatMoney('10.125', 'CHF'), 'CHF 10.125');
    assert.equal(formatMoney('0012.00', 'JPY'), 'JPY 12.00');
    assert.equal(formatMoney('abc', 'GBP'), 'abc GBP');
  });

  it('says standing-order frequencies in words', () => {
    assert.equal(describeFrequency('EvryWorkgDay'), 'every working day');
    assert.equal(describeFrequency('IntrvlWkDay:01:03'), 'every week on Wednesday');
    assert.equal(describeFrequency('IntrvlWkDay:02:05'), 'every 2 weeks on Friday');
    assert.equal(describeFrequency('IntrvlMnthDay:01:15'), 'every month on the 15th');
    assert.equal(describeFrequency('IntrvlMnthDay:03:-01'), 'every 3 months on the last day');
    assert.equal(describeFrequency('QtrDay:ENGLISH'), 'every quarter (english quarter days)');
    assert.equal(describeFrequency('Sometimes'), 'Sometimes');
  });

  it('groups account permissions into the OB data clusters, each with a sentence', () => {
    const groups = describePermissions([
      'ReadBalances',
      'ReadTransactionsBasic',
      'ReadTransactionsDebits',
      'ReadPartyPSU',
      'ReadDirectDebits',
    ]);
    assert.deepEqual(
      groups.map((g) => g.title),
      [
        'Your account details',
        'Your regular payments',
        'Your account transactions',
        'Contact and party details',
      ],
    );
    assert.deepEqual(groups[2]!.items, ['Your outgoing transactions (money paid out).']);
    const a = describeIntent(
      intent('account-access', accountAccessData(), {
        permissions: ['ReadAccountsBasic'],
        expiresAt: undefined,
      }),
      'Acme',
    );
    assert.equal(
      facts(intent('account-access', {}, { permissions: ['ReadAccountsBasic'] }))['Access lasts'],
      'Until you cancel it',
    );
    assert.equal(
      a.facts.find((f) => f.label === 'Transactions covered'),
      undefined,
      'no transaction range without transaction permissions',
    );
  });

  it('describes a standing order, an international payment, a file, funds confirmation and VRP', () => {
    const so = facts(
      intent('domestic-standing-order', {
        Initiation: {
          Frequency: 'IntrvlMnthDay:01:01',
          Reference: 'Rent',
          NumberOfPayments: '12',
          FirstPaymentDateTime: '2026-02-01T00:00:00+00:00',
          FirstPaymentAmount: { Amount: '900.00', Currency: 'GBP' },
          RecurringPaymentAmount: { Amount: '850.00', Currency: 'GBP' },
          CreditorAccount: {
            SchemeName: 'UK.OBIE.SortCodeAccountNumber',
            Identification: '11223344556677',
            Name: 'Landlord Ltd',
          },
        },
      }),
    );
    assert.equal(so['How often'], 'every month on the 1st');
    assert.equal(so['First payment'], '£900.00');
    assert.equal(so['Regular payment'], '£850.00');
    assert.equal(so['Ends'], 'After 12 payments');
    assert.equal(so['To'], 'Landlord Ltd (sort code 11-22-33, account 44556677)');
    assert.equal(so['Reference'], 'Rent');

    // v4.0: the schedule in MandateRelatedInformation, an ISO frequency, the reference structured.
    const so4 = facts(
      intent('domestic-standing-order', {
        Initiation: {
          RemittanceInformation: { Structured: [{ CreditorReferenceInformation: { Reference: 'Rent' } }] },
          FirstPaymentAmount: { Amount: '900.00', Currency: 'GBP' },
          CreditorAccount: {
            SchemeName: 'UK.OBIE.SortCodeAccountNumber',
            Identification: '11223344556677',
            Name: 'Landlord Ltd',
          },
          MandateRelatedInformation: {
            Frequency: { Type: 'MNTH' },
            FirstPaymentDateTime: '2026-02-01T00:00:00+00:00',
            FinalPaymentDateTime: '2026-12-01T00:00:00+00:00',
          },
        },
      }),
    );
    assert.equal(so4['How often'], 'every month');
    assert.ok(so4['First payment date']);
    assert.ok(so4['Ends'] && so4['Ends'] !== 'When you cancel it', so4['Ends']);
    assert.equal(so4['Reference'], 'Rent');

    const intl = facts(
      intent('international-payment', {
        Initiation: {
          InstructedAmount: { Amount: '100', Currency: 'EUR' },
          CurrencyOfTransfer: 'EUR',
          ExchangeRateInformation: { UnitCurrency: 'GBP', RateType: 'Indicative' },
          Creditor: { Name: 'Hans' },
          CreditorAccount: { SchemeName: 'UK.OBIE.IBAN', Identification: 'DE89370400440532013000' },
        },
        Quote: {
          Charges: [
            {
              ChargeBearer: 'Shared',
              Type: 'UK.OBIE.CHAPSOut',
              Amount: { Amount: '1.50', Currency: 'GBP' },
            },
          ],
          ExchangeRateInformation: { UnitCurrency: 'GBP', ExchangeRate: 1.165, RateType: 'Indicative' },
        },
      }),
    );
    assert.equal(intl['Amount'], '€100.00');
    assert.equal(intl['To'], 'Hans (IBAN DE89 3704 0044 0532 0130 00)');
    assert.equal(intl['Charges'], '£1.50, shared between you and the payee');
    assert.equal(intl['Exchange rate'], '1 GBP = 1.165 EUR (indicative)');
    const unquoted = facts(
      intent('international-payment', {
        Initiation: {
          InstructedAmount: { Amount: '100', Currency: 'GBP' },
          CurrencyOfTransfer: 'GBP',
          CreditorAccount: { SchemeName: 'UK.OBIE.IBAN', Identification: 'DE89370400440532013000' },
        },
        Quote: {},
      }),
    );
    assert.equal(unquoted['Charges'], 'None', 'a quote without charges');
    assert.equal(unquoted['Exchange rate'], undefined, 'no conversion, no rate');

    const file = facts(
      intent('file-payment', {
        Initiation: {
          FileType: 'UK.OBIE.pain.001.001.08',
          NumberOfTransactions: '3',
          ControlSum: 30.5,
          FileReference: 'PAYROLL',
        },
      }),
    );
    assert.equal(file['Number of payments'], '3');
    assert.equal(file['File'], 'PAYROLL');

    const cof = describeIntent(
      intent('funds-confirmation', fundsConfirmationData('30992112345678'), {
        expiresAt: new Date('2026-06-30T00:00:00Z'),
      }),
      'Shop',
    );
    assert.match(cof.headline, /only get a yes or no answer, never your balance/);
    assert.equal(cof.facts[0]!.value, 'sort code 30-99-21, account 12345678');

    const vrp = facts(intent('domestic-vrp', vrpData()));
    assert.equal(vrp['Most per payment'], '£100.00');
    assert.equal(vrp['Most per month'], '£500.00');
    assert.match(
      describeIntent(intent('domestic-vrp', vrpData()), 'Acme').headline,
      /move money between your own accounts/,
    );
  });

  it('says which kind of VRP the customer agrees to, and to whom', () => {
    const sweeping = facts(intent('domestic-vrp', vrpData()));
    assert.equal(sweeping['Kind of payments'], 'Sweeping: moving money between accounts in your own name');
    assert.equal(sweeping['To'], 'Alice savings (sort code 30-99-21, account 12345678)');

    const data = vrpData();
    const control = data['ControlParameters'] as JsonObject;
    control['VRPType'] = ['UK.OBIE.VRPType.CVRP1'];
    control['PSUInteractionTypes'] = ['InSession', 'OffSession'];
    data['Initiation'] = {
      CreditorAccount: {
        SchemeName: 'UK.OBIE.SortCodeAccountNumber',
        Identification: '40400412345678',
        Name: 'Pay Collect Ltd',
      },
      UltimateCreditor: { Name: 'Bright Energy' },
    };
    const cvrp = intent('domestic-vrp', data, { risk: { MerchantCustomerIdentification: 'BE-0042' } });
    const described = describeIntent(cvrp, 'Acme Pay');
    assert.equal(
      described.headline,
      'Acme Pay asks to make commercial payments from your account to Bright Energy, through Pay Collect Ltd ' +
        '(sort code 40-40-04, account 12345678) when needed, within the limits below.',
    );
    const cvrpFacts = facts(cvrp);
    assert.match(
      cvrpFacts['Kind of payments']!,
      /^Commercial variable recurring payments \(CVRP1\): paying a business/,
    );
    assert.equal(cvrpFacts['Your customer reference with them'], 'BE-0042');
    assert.equal(
      cvrpFacts['Payments are made'],
      'while you are using the app or website, or without you being there',
    );
    assert.doesNotMatch(described.headline, /own accounts/);

    control['VRPType'] = ['UK.OBIE.VRPType.CVRP3'];
    assert.match(facts(intent('domestic-vrp', data))['Kind of payments']!, /\(CVRP3\)/);
  });

  it("reads a v4.0 payment's reference from its structured or unstructured remittance", () => {
    const initiation = {
      InstructedAmount: { Amount: '5.00', Currency: 'GBP' },
      CreditorAccount: {
        SchemeName: 'UK.OBIE.SortCodeAccountNumber',
        Identification: '11223344556677',
        Name: 'Bob',
      },
    };
    const structured = facts(
      intent('domestic-payment', {
        Initiation: {
          ...initiation,
          RemittanceInformation: {
            Structured: [{ CreditorReferenceInformation: { Reference: 'INV-7' } }],
            Unstructured: ['rent'],
          },
        },
      }),
    );
    assert.equal(structured['Reference'], 'INV-7');
    const lines = facts(
      intent('domestic-payment', {
        Initiation: { ...initiation, RemittanceInformation: { Unstructured: ['rent for', 'December'] } },
      }),
    );
    assert.equal(lines['Reference'], 'rent for December');
  });

  it('escapes every interpolated value, and only those', () => {
    assert.equal(
      escapeHtml(`<a href="x" onclick='y'>&\``),
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;',
    );
    const inner = html`<b>${'<i>'}</b>`;
    assert.equal(
      html`<p title="${'"q"'}">${inner}${['<', html`<br />`]}${undefined}${null}${false}${0}</p>`.value,
      '<p title="&quot;q&quot;"><b>&lt;i&gt;</b>&lt;<br />0</p>',
    );
  });
});
