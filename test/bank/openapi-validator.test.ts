import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AIS_V3_1_11,
  PIS_V3_1_11,
  assertValidResponse,
  responseSchemaPointer,
  validateComponent,
  validateResponse,
} from '../support/openapi.ts';

const goodAccounts = {
  Data: {
    Account: [
      {
        AccountId: 'acc-1',
        Status: 'Enabled',
        StatusUpdateDateTime: '2026-01-01T09:00:00+00:00',
        Currency: 'GBP',
        AccountType: 'Personal',
        AccountSubType: 'CurrentAccount',
        Nickname: 'Bills',
        OpeningDate: '2019-03-14T00:00:00+00:00',
        Account: [
          {
            SchemeName: 'UK.OBIE.SortCodeAccountNumber',
            Identification: '30992176700355',
            Name: 'Alice Walker',
          },
        ],
      },
    ],
  },
  Links: { Self: 'https://bank.example.com/open-banking/v3.1/aisp/accounts' },
  Meta: { TotalPages: 1 },
};

describe('OpenAPI response validator (test/support/openapi.ts)', () => {
  it('accepts a known-good OBReadAccount6 body, by template and by concrete path', () => {
    assertValidResponse(AIS_V3_1_11, '/accounts', 'get', 200, goodAccounts);
    assertValidResponse(AIS_V3_1_11, '/open-banking/v3.1/aisp/accounts/acc-1', 'GET', '200', goodAccounts);
    assertValidResponse(AIS_V3_1_11, '/accounts/{AccountId}', 'get', 200, goodAccounts);
  });

  it('refuses known-bad bodies with readable errors naming the field', () => {
    const noData = validateResponse(AIS_V3_1_11, '/accounts', 'get', 200, { Links: goodAccounts.Links });
    assert.equal(noData.valid, false);
    assert.ok(
      noData.errors.some((e) => e.includes("must have required property 'Data'")),
      noData.errors.join('\n'),
    );

    const extra = structuredClone(goodAccounts) as typeof goodAccounts & {
      Data: { Account: { Colour?: string }[] };
    };
    extra.Data.Account[0]!.Colour = 'blue';
    const extraResult = validateResponse(AIS_V3_1_11, '/accounts', 'get', 200, extra);
    assert.equal(extraResult.valid, false);
    assert.ok(
      extraResult.errors.some((e) => e.includes('/Data/Account/0') && e.includes('"Colour"')),
      extraResult.errors.join('\n'),
    );

    const badBalance = {
      Data: {
        Balance: [
          {
            AccountId: 'acc-1',
            CreditDebitIndicator: 'Credit',
            Type: 'InterimBooked',
            DateTime: 'yesterday',
            Amount: { Amount: '-12.345678', Currency: 'GBP' },
          },
        ],
      },
      Links: { Self: 'https://bank.example.com/balances' },
    };
    const balanceResult = validateResponse(
      AIS_V3_1_11,
      '/accounts/{AccountId}/balances',
      'get',
      200,
      badBalance,
    );
    assert.equal(balanceResult.valid, false);
    const text = balanceResult.errors.join('\n');
    assert.match(text, /\/Data\/Balance\/0\/DateTime must match format "date-time"/);
    assert.match(text, /\/Data\/Balance\/0\/Amount\/Amount must match pattern/);
    assert.throws(
      () => assertValidResponse(AIS_V3_1_11, '/accounts/{AccountId}/balances', 'get', 200, badBalance),
      /does not match .*account-info-openapi\.json/,
    );
  });

  it('resolves responses declared through components/responses and error statuses', () => {
    assert.match(
      responseSchemaPointer(AIS_V3_1_11, '/accounts/{AccountId}/transactions', 'get', 200),
      /^#\/components\/responses\/200AccountsAccountIdTransactionsRead\/content\/application~1json; charset=utf-8\/schema$/,
    );
    const error = {
      Code: '400',
      Message: 'Bad request',
      Errors: [{ ErrorCode: 'UK.OBIE.Field.Invalid', Message: 'bad date', Path: 'fromBookingDateTime' }],
    };
    assertValidResponse(AIS_V3_1_11, '/accounts', 'get', 400, error);
    assert.equal(validateResponse(AIS_V3_1_11, '/accounts', 'get', 400, { Code: '400' }).valid, false);
    assert.throws(() => responseSchemaPointer(AIS_V3_1_11, '/nowhere', 'get', 200), /no path \/nowhere/);
    assert.throws(() => responseSchemaPointer(AIS_V3_1_11, '/accounts', 'patch', 200), /not in the spec/);
  });

  it('works for other spec files and for single component schemas', () => {
    assert.equal(
      validateResponse(PIS_V3_1_11, '/domestic-payments/{DomesticPaymentId}', 'get', 200, {}).valid,
      false,
    );
    assert.deepEqual(
      validateComponent(AIS_V3_1_11, 'OBMerchantDetails1', { MerchantCategoryCode: '5411' }).errors,
      [],
    );
    assert.equal(
      validateComponent(AIS_V3_1_11, 'OBMerchantDetails1', { MerchantCategoryCode: '54' }).valid,
      false,
    );
  });
});
