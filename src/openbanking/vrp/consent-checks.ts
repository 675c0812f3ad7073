import { ObError } from '../errors.ts';
import type { Db } from '../http/idempotency.ts';
import { namedDebtorAccount } from '../pis/common.ts';
import { amountToMinor, checkAccount } from '../pis/validation.ts';
import type { ControlParameters } from './validation.ts';

/**
 * What a VRP consent request must satisfy beyond its version's schema, as a table of named checks run in
 * order on the parsed request: the first refusal is the answer (an ObError naming the field). A version
 * lists the checks its specification asks for; a further rule set (commercial VRP) is a list of checks
 * appended to a version's list, never an edit of the handlers.
 */
export interface VrpConsentRequest {
  Data: {
    ReadRefundAccount?: 'Yes' | 'No' | undefined;
    ControlParameters: ControlParameters;
    Initiation: {
      DebtorAccount?: { SchemeName: string; Identification: string } | undefined;
      CreditorAccount?: { SchemeName: string; Identification: string } | undefined;
    };
  };
  Risk: Record<string, unknown>;
}

export interface ConsentCheckContext {
  db: Db;
}

export interface VrpConsentCheck {
  /** What it checks, in words (shown in test names and the README's table). */
  name: string;
  run(request: VrpConsentRequest, context: ConsentCheckContext): void | Promise<void>;
}

const CONTROL = 'Data.ControlParameters';

/** Every amount positive with the currency's decimals, all in the currency of MaximumIndividualAmount. */
export const amountsInOneCurrency: VrpConsentCheck = {
  name: 'control parameter amounts are valid and in one currency',
  run({ Data: { ControlParameters: control } }) {
    const currency = control.MaximumIndividualAmount.Currency;
    amountToMinor(control.MaximumIndividualAmount, `${CONTROL}.MaximumIndividualAmount`);
    control.PeriodicLimits.forEach((limit, index) => {
      amountToMinor(limit, `${CONTROL}.PeriodicLimits.${index}`);
      if (limit.Currency !== currency)
        throw ObError.single(
          400,
          'UK.OBIE.Field.Invalid',
          `every limit must be in ${currency}, the currency of MaximumIndividualAmount`,
          `${CONTROL}.PeriodicLimits.${index}.Currency`,
        );
    });
  },
};

export const validityWindowInOrder: VrpConsentCheck = {
  name: 'ValidFromDateTime is before ValidToDateTime',
  run({ Data: { ControlParameters: control } }) {
    if (
      control.ValidFromDateTime !== undefined &&
      control.ValidToDateTime !== undefined &&
      Date.parse(control.ValidFromDateTime) >= Date.parse(control.ValidToDateTime)
    )
      throw ObError.single(
        400,
        'UK.OBIE.Field.Invalid',
        'ValidFromDateTime must be before ValidToDateTime',
        `${CONTROL}.ValidFromDateTime`,
      );
  },
};

export const accountsWellFormed: VrpConsentCheck = {
  name: 'debtor and creditor accounts use a supported scheme and a valid identification',
  run({ Data: { Initiation: initiation } }) {
    checkAccount(initiation.DebtorAccount, 'Data.Initiation.DebtorAccount');
    checkAccount(initiation.CreditorAccount, 'Data.Initiation.CreditorAccount');
  },
};

export const debtorAccountOfThisBank: VrpConsentCheck = {
  name: 'a named debtor account is an account of this bank',
  async run({ Data: { Initiation: initiation } }, { db }) {
    await namedDebtorAccount(db, initiation.DebtorAccount);
  },
};

/**
 * v4.0's OBDomesticVRPControlParameters: "As the ISO calendar does not support or provide any guidance on
 * when a fortnight should start, a PeriodType of Fortnight the PeriodAlignment must be Consent."
 */
export const fortnightAlignedToConsent: VrpConsentCheck = {
  name: 'a fortnight limit is aligned to the consent',
  run({ Data: { ControlParameters: control } }) {
    const index = control.PeriodicLimits.findIndex(
      (limit) => limit.PeriodType === 'Fortnight' && limit.PeriodAlignment !== 'Consent',
    );
    if (index >= 0)
      throw ObError.single(
        400,
        'UK.OBIE.Field.Invalid',
        'a Fortnight limit must have PeriodAlignment Consent: the ISO calendar has no fortnights',
        `${CONTROL}.PeriodicLimits.${index}.PeriodAlignment`,
      );
  },
};

/**
 * v4.0 domestic-vrp-consents, POST: "The ASPSP must reject a consent request that has
 * Data.ControlParameters.SupplementaryData that it cannot process." This bank processes none.
 */
export const noUnprocessableSupplementaryData: VrpConsentCheck = {
  name: 'no ControlParameters.SupplementaryData (the bank processes none)',
  run({ Data: { ControlParameters: control } }) {
    if (control.SupplementaryData !== undefined && Object.keys(control.SupplementaryData).length > 0)
      throw ObError.single(
        400,
        'UK.OBIE.Field.Unexpected',
        'this bank processes no ControlParameters.SupplementaryData',
        `${CONTROL}.SupplementaryData`,
      );
  },
};

/** v3.1.11's checks. */
export const VRP_CONSENT_CHECKS_V3: readonly VrpConsentCheck[] = [
  amountsInOneCurrency,
  validityWindowInOrder,
  accountsWellFormed,
  debtorAccountOfThisBank,
];

/** v4.0's checks: v3.1.11's, and the rules v4.0 adds. */
export const VRP_CONSENT_CHECKS_V4: readonly VrpConsentCheck[] = [
  ...VRP_CONSENT_CHECKS_V3,
  fortnightAlignedToConsent,
  noUnprocessableSupplementaryData,
];

/** Runs `checks` in order on a parsed consent request; the first refusal is thrown. */
export async function runConsentChecks(
  checks: readonly VrpConsentCheck[],
  request: VrpConsentRequest,
  context: ConsentCheckContext,
): Promise<void> {
  for (const check of checks) await check.run(request, context);
}
