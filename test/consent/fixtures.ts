import type { JsonObject } from '../../src/consent/index.ts';

/** OB v3.1.11 request bodies' `Data`, as a TPP would post them. */
export function accountAccessData(expiration = '2026-06-30T00:00:00+00:00'): JsonObject {
  return {
    Permissions: [
      'ReadAccountsDetail',
      'ReadBalances',
      'ReadTransactionsDetail',
      'ReadTransactionsCredits',
      'ReadTransactionsDebits',
    ],
    ExpirationDateTime: expiration,
    TransactionFromDateTime: '2025-01-01T00:00:00+00:00',
    TransactionToDateTime: '2025-12-31T23:59:59+00:00',
  };
}

export function domesticPaymentData(debtor?: { SchemeName: string; Identification: string }): JsonObject {
  return {
    Initiation: {
      InstructionIdentification: 'ACME412',
      EndToEndIdentification: 'FRESCO.21302.GFX.20',
      InstructedAmount: { Amount: '165.88', Currency: 'GBP' },
      CreditorAccount: {
        SchemeName: 'UK.OBIE.SortCodeAccountNumber',
        Identification: '08080021325698',
        Name: 'ACME Inc',
        SecondaryIdentification: '0002',
      },
      ...(debtor ? { DebtorAccount: debtor } : {}),
      RemittanceInformation: { Reference: 'FRESCO-101', Unstructured: 'Internal ops code 5120101' },
    },
  };
}

export function fundsConfirmationData(
  identification: string,
  expiration = '2026-06-30T00:00:00+00:00',
): JsonObject {
  return {
    ExpirationDateTime: expiration,
    DebtorAccount: {
      SchemeName: 'UK.OBIE.SortCodeAccountNumber',
      Identification: identification,
      Name: 'Alice',
    },
  };
}

export function vrpData(validTo = '2026-12-31T00:00:00+00:00'): JsonObject {
  return {
    ControlParameters: {
      VRPType: ['UK.OBIE.VRPType.Sweeping'],
      PSUAuthenticationMethods: ['UK.OBIE.SCANotRequired'],
      ValidFromDateTime: '2026-01-01T00:00:00+00:00',
      ValidToDateTime: validTo,
      MaximumIndividualAmount: { Amount: '100.00', Currency: 'GBP' },
      PeriodicLimits: [
        { PeriodType: 'Month', PeriodAlignment: 'Calendar', Amount: '500.00', Currency: 'GBP' },
      ],
    },
    Initiation: {
      CreditorAccount: {
        SchemeName: 'UK.OBIE.SortCodeAccountNumber',
        Identification: '30992112345678',
        Name: 'Alice savings',
      },
      RemittanceInformation: { Reference: 'Sweep' },
    },
  };
}
