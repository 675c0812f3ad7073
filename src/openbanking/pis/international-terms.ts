import { z } from 'zod';
import {
  fromMinor,
  INTERNATIONAL_CHARGE_GBP_MINOR,
  quoteFx,
  quoteFxForTarget,
  SANDBOX_GBP_RATES,
  type AccountRecord,
  type Counterparty,
  type ExternalPayout,
} from '../../bank/index.ts';
import { ObError } from '../errors.ts';
import { creditorOf, namedDebtorAccount, type PaymentsContext } from './common.ts';
import {
  accountSchema,
  amountToMinor,
  checkAccount,
  creditorAccountSchema,
  currencySchema,
  dateTime,
  frequencySchema,
  instructedAmountSchema,
  remittanceSchema,
  riskSchema,
} from './validation.ts';

/**
 * What international payments (single, scheduled, standing orders) share: the Initiation fields, the
 * sandbox's fixed FX table and charge turned into the terms of a payment from an account, and how the
 * terms are shown (Charges, ExchangeRateInformation) and kept with the payment.
 */

const text = (max: number) => z.string().min(1).max(max);
const address = z.record(z.string(), z.unknown());

const internationalFields = {
  Purpose: text(4).optional(),
  ExtendedPurpose: text(140).optional(),
  ChargeBearer: z.enum(['BorneByCreditor', 'BorneByDebtor', 'FollowingServiceLevel', 'Shared']).optional(),
  CurrencyOfTransfer: currencySchema,
  DestinationCountryCode: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .optional(),
  InstructedAmount: instructedAmountSchema,
  DebtorAccount: accountSchema.optional(),
  Creditor: z.strictObject({ Name: text(140).optional(), PostalAddress: address.optional() }).optional(),
  CreditorAgent: z
    .strictObject({
      SchemeName: z.string().optional(),
      Identification: text(35).optional(),
      Name: text(140).optional(),
      PostalAddress: address.optional(),
    })
    .optional(),
  CreditorAccount: creditorAccountSchema,
  SupplementaryData: z.record(z.string(), z.unknown()).optional(),
};

/** OBExchangeRate1: the rate a TPP asks for, the same in v3.1.11 and v4.0. */
export const exchangeRateInformationSchema = z.strictObject({
  UnitCurrency: currencySchema,
  ExchangeRate: z.number().optional(),
  RateType: z.enum(['Actual', 'Agreed', 'Indicative']),
  ContractIdentification: text(256).optional(),
});

export const internationalInitiationSchema = z.strictObject({
  InstructionIdentification: text(35),
  EndToEndIdentification: text(35),
  LocalInstrument: z.string().optional(),
  InstructionPriority: z.enum(['Normal', 'Urgent']).optional(),
  ...internationalFields,
  ExchangeRateInformation: exchangeRateInformationSchema.optional(),
  RemittanceInformation: remittanceSchema.optional(),
});
export type InternationalInitiation = z.infer<typeof internationalInitiationSchema>;

/** OBWriteInternationalConsent5 of v3.1.11. */
export const internationalConsentRequestSchema = z.strictObject({
  Data: z.strictObject({
    ReadRefundAccount: z.enum(['No', 'Yes']).optional(),
    Initiation: internationalInitiationSchema,
    Authorisation: z.unknown().optional(),
    SCASupportData: z.unknown().optional(),
  }),
  Risk: riskSchema,
});

export const internationalScheduledInitiationSchema = internationalInitiationSchema.extend({
  EndToEndIdentification: text(35).optional(),
  RequestedExecutionDateTime: dateTime,
});
export type InternationalScheduledInitiation = z.infer<typeof internationalScheduledInitiationSchema>;

export const internationalStandingOrderInitiationSchema = z.strictObject({
  Frequency: frequencySchema,
  Reference: text(35).optional(),
  NumberOfPayments: text(35).optional(),
  FirstPaymentDateTime: dateTime,
  FinalPaymentDateTime: dateTime.optional(),
  ...internationalFields,
});
export type InternationalStandingOrderInitiation = z.infer<typeof internationalStandingOrderInitiationSchema>;

/** The Initiation fields the terms of an international payment depend on. */
export type TermsInitiation = Pick<
  InternationalInitiation,
  'InstructedAmount' | 'CurrencyOfTransfer' | 'DebtorAccount' | 'CreditorAccount' | 'ChargeBearer'
> & { ExchangeRateInformation?: InternationalInitiation['ExchangeRateInformation'] };

/** The terms of an international payment from an account in `accountCurrency`. */
export interface Terms {
  /** Debit of the account for the transfer itself (without the charge). */
  debitMinor: bigint;
  /** What the payee receives, in the currency of transfer. */
  transferMinor: bigint;
  transferCurrency: string;
  accountCurrency: string;
  /** Units of the transfer currency per unit of the account currency. */
  rate: string;
  /** The charge to the debtor (0 when the creditor bears the charges). */
  chargeMinor: bigint;
  chargeBearer: string;
}

function refuseCurrency(message: string, path: string): ObError {
  return ObError.single(400, 'UK.OBIE.Unsupported.Currency', message, path);
}

/** Checks an Initiation on its own (staging): currencies the sandbox exchanges, amounts, accounts, no agreed rates. */
function checkInitiation(initiation: TermsInitiation): bigint {
  const path = 'Data.Initiation';
  const amountMinor = amountToMinor(initiation.InstructedAmount, `${path}.InstructedAmount`);
  for (const [currency, where] of [
    [initiation.CurrencyOfTransfer, 'CurrencyOfTransfer'],
    [initiation.InstructedAmount.Currency, 'InstructedAmount.Currency'],
  ] as const) {
    if (SANDBOX_GBP_RATES[currency] === undefined)
      throw refuseCurrency(`the bank does not exchange ${currency}`, `${path}.${where}`);
  }
  checkAccount(initiation.DebtorAccount, `${path}.DebtorAccount`);
  if (!['UK.OBIE.IBAN', 'UK.OBIE.SortCodeAccountNumber'].includes(initiation.CreditorAccount.SchemeName))
    throw ObError.single(
      400,
      'UK.OBIE.Unsupported.Scheme',
      'CreditorAccount.SchemeName must be UK.OBIE.IBAN or UK.OBIE.SortCodeAccountNumber',
      `${path}.CreditorAccount.SchemeName`,
    );
  if (initiation.ExchangeRateInformation?.RateType === 'Agreed')
    throw ObError.single(
      400,
      'UK.OBIE.Field.Invalid',
      'agreed (contracted) exchange rates are not offered; use Actual or Indicative',
      `${path}.ExchangeRateInformation.RateType`,
    );
  return amountMinor;
}

/**
 * The terms from an account in `accountCurrency`: the instructed amount is either in the currency of
 * transfer (the payee receives exactly it) or in the account's currency (the account is debited exactly it).
 */
export function termsFor(initiation: TermsInitiation, accountCurrency: string): Terms {
  const amountMinor = checkInitiation(initiation);
  const transferCurrency = initiation.CurrencyOfTransfer;
  const instructedCurrency = initiation.InstructedAmount.Currency;
  if (SANDBOX_GBP_RATES[accountCurrency] === undefined)
    throw refuseCurrency(`the bank does not exchange ${accountCurrency}`, 'Data.Initiation.DebtorAccount');
  let debitMinor: bigint;
  let transferMinor: bigint;
  let rate: string;
  if (instructedCurrency === transferCurrency) {
    const quote = quoteFxForTarget(amountMinor, accountCurrency, transferCurrency);
    debitMinor = quote.sourceMinor;
    transferMinor = amountMinor;
    rate = quote.rate;
  } else if (instructedCurrency === accountCurrency) {
    const quote = quoteFx(amountMinor, accountCurrency, transferCurrency);
    debitMinor = amountMinor;
    transferMinor = quote.targetMinor;
    rate = quote.rate;
  } else {
    throw refuseCurrency(
      `InstructedAmount must be in the currency of transfer (${transferCurrency}) or of the debtor account (${accountCurrency})`,
      'Data.Initiation.InstructedAmount.Currency',
    );
  }
  if (transferMinor <= 0n || debitMinor <= 0n)
    throw ObError.single(
      400,
      'UK.OBIE.Field.Invalid',
      'the amount is too small to convert',
      'Data.Initiation.InstructedAmount.Amount',
    );
  const chargeBearer = initiation.ChargeBearer ?? 'BorneByDebtor';
  const chargeMinor =
    chargeBearer === 'BorneByCreditor'
      ? 0n
      : quoteFx(INTERNATIONAL_CHARGE_GBP_MINOR, 'GBP', accountCurrency).targetMinor;
  return { debitMinor, transferMinor, transferCurrency, accountCurrency, rate, chargeMinor, chargeBearer };
}

/** Charges (and, unless `withRate` is false, ExchangeRateInformation) of a consent or payment resource. */
export function quoteFields(terms: Terms, rateType: 'Indicative' | 'Actual', withRate = true) {
  return {
    ...(terms.chargeMinor > 0n
      ? {
          Charges: [
            {
              ChargeBearer: terms.chargeBearer,
              Type: 'UK.OBIE.InternationalPayment',
              Amount: {
                Amount: fromMinor(terms.chargeMinor, terms.accountCurrency),
                Currency: terms.accountCurrency,
              },
            },
          ],
        }
      : {}),
    ...(withRate && terms.transferCurrency !== terms.accountCurrency
      ? {
          ExchangeRateInformation: {
            UnitCurrency: terms.accountCurrency,
            ExchangeRate: Number(terms.rate),
            RateType: rateType,
          },
        }
      : {}),
  };
}

/** The debtor's currency for an indicative quote at staging: the named debtor account's, else GBP. */
export async function stagingCurrency(
  context: Pick<PaymentsContext, 'db'>,
  initiation: Pick<TermsInitiation, 'DebtorAccount'>,
): Promise<string> {
  return (await namedDebtorAccount(context.db, initiation.DebtorAccount))?.currency ?? 'GBP';
}

/** The payee as the ledger records it: account and, when given, the creditor's agent (bank). */
export function internationalCreditor(
  initiation: Pick<TermsInitiation, 'CreditorAccount'> & {
    CreditorAgent?: InternationalInitiation['CreditorAgent'];
  },
): Counterparty {
  const account = initiation.CreditorAccount;
  const agent = initiation.CreditorAgent;
  return {
    ...creditorOf(account),
    ...(agent?.Identification
      ? {
          agent: {
            ...(agent.SchemeName ? { schemeName: agent.SchemeName } : {}),
            identification: agent.Identification,
          },
        }
      : {}),
  };
}

/**
 * The terms a consent quotes now: from the account the PSU chose once authorised, else from the named
 * debtor account's currency (or GBP); none when they cannot be met from that account's currency.
 */
export async function currentTerms(
  context: Pick<PaymentsContext, 'db'>,
  initiation: TermsInitiation,
  debtor: AccountRecord | undefined,
): Promise<Terms | undefined> {
  try {
    return termsFor(initiation, debtor?.currency ?? (await stagingCurrency(context, initiation)));
  } catch {
    return undefined;
  }
}

/** How the payment leaves the bank on these terms (the ledger's view). */
export function payoutOf(terms: Terms): ExternalPayout {
  return {
    ...(terms.transferCurrency !== terms.accountCurrency
      ? {
          instructed: {
            amountMinor: terms.transferMinor,
            currency: terms.transferCurrency,
            rate: terms.rate,
          },
        }
      : {}),
    feeMinor: terms.chargeMinor,
  };
}

/** The terms as kept in a payment's stored request (`request.Terms`), JSON-safe. */
export function storedTerms(terms: Terms): Record<string, string> {
  return {
    debitMinor: String(terms.debitMinor),
    transferMinor: String(terms.transferMinor),
    transferCurrency: terms.transferCurrency,
    accountCurrency: terms.accountCurrency,
    rate: terms.rate,
    chargeMinor: String(terms.chargeMinor),
    chargeBearer: terms.chargeBearer,
  };
}

/** The terms kept with a payment by `storedTerms`, if any. */
export function termsOfStoredRequest(request: Record<string, unknown>, currency: string): Terms | undefined {
  const stored = request['Terms'] as Record<string, string> | undefined;
  if (!stored) return undefined;
  return {
    debitMinor: BigInt(stored['debitMinor'] ?? '0'),
    transferMinor: BigInt(stored['transferMinor'] ?? '0'),
    transferCurrency: stored['transferCurrency'] ?? currency,
    accountCurrency: stored['accountCurrency'] ?? currency,
    rate: stored['rate'] ?? '1',
    chargeMinor: BigInt(stored['chargeMinor'] ?? '0'),
    chargeBearer: stored['chargeBearer'] ?? 'BorneByDebtor',
  };
}
