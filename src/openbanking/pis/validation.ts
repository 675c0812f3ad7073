import { z } from 'zod';
import {
  currencyExponent,
  InvalidAmountError,
  isKnownCurrency,
  toMinor,
  UnknownCurrencyError,
} from '../../bank/index.ts';
import { ObError } from '../errors.ts';
import { OB_FREQUENCY } from '../../shared/ob-frequency.ts';

/**
 * Request bodies of the payment APIs, as zod schemas that follow the v3.1.11 OpenAPI files (strict objects
 * where the spec says `additionalProperties: false`), and the money rules the schema cannot express:
 * known ISO currency, no more decimals than the currency has, greater than zero.
 */
const text = (max: number) => z.string().min(1).max(max);
export const dateTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/, {
    message: 'must be an ISO 8601 date-time with a zone',
  });

export const amountSchema = z.string().regex(/^\d{1,13}$|^\d{1,13}\.\d{1,5}$/, {
  message: 'must be a decimal amount such as "10.50"',
});
export const currencySchema = z.string().regex(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 code' });
export const instructedAmountSchema = z.strictObject({ Amount: amountSchema, Currency: currencySchema });

export const accountSchema = z.strictObject({
  SchemeName: text(40),
  Identification: text(256),
  Name: text(350).optional(),
  SecondaryIdentification: text(34).optional(),
});
export const creditorAccountSchema = accountSchema.extend({ Name: text(350) });

const postalAddress = z.strictObject({
  AddressType: z.string().optional(),
  Department: text(70).optional(),
  SubDepartment: text(70).optional(),
  StreetName: text(70).optional(),
  BuildingNumber: text(16).optional(),
  PostCode: text(16).optional(),
  TownName: text(35).optional(),
  CountrySubDivision: text(35).optional(),
  Country: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .optional(),
  AddressLine: z.array(text(70)).max(7).optional(),
});

export const riskSchema = z.strictObject({
  PaymentContextCode: z
    .enum([
      'BillingGoodsAndServicesInAdvance',
      'BillingGoodsAndServicesInArrears',
      'PispPayee',
      'EcommerceMerchantInitiatedPayment',
      'FaceToFacePointOfSale',
      'TransferToSelf',
      'TransferToThirdParty',
      'BillPayment',
      'EcommerceGoods',
      'EcommerceServices',
      'Other',
      'PartyToParty',
    ])
    .optional(),
  MerchantCategoryCode: z.string().min(3).max(4).optional(),
  MerchantCustomerIdentification: text(70).optional(),
  ContractPresentInidicator: z.boolean().optional(),
  BeneficiaryPrepopulatedIndicator: z.boolean().optional(),
  PaymentPurposeCode: z.string().min(3).max(4).optional(),
  BeneficiaryAccountType: z.string().optional(),
  DeliveryAddress: z
    .strictObject({
      AddressLine: z.array(text(70)).max(2).optional(),
      StreetName: text(70).optional(),
      BuildingNumber: text(16).optional(),
      PostCode: text(16).optional(),
      TownName: text(35),
      CountrySubDivision: text(35).optional(),
      Country: z.string().regex(/^[A-Z]{2}$/),
    })
    .optional(),
});

export const remittanceSchema = z.strictObject({
  Unstructured: text(140).optional(),
  Reference: text(35).optional(),
});

const LOCAL_INSTRUMENTS = ['UK.OBIE.FPS', 'UK.OBIE.BACS', 'UK.OBIE.CHAPS', 'UK.OBIE.Paym'] as const;

export const domesticInitiationSchema = z.strictObject({
  InstructionIdentification: text(35),
  EndToEndIdentification: text(35),
  LocalInstrument: z.string().optional(),
  InstructedAmount: instructedAmountSchema,
  DebtorAccount: accountSchema.optional(),
  CreditorAccount: creditorAccountSchema,
  CreditorPostalAddress: postalAddress.optional(),
  RemittanceInformation: remittanceSchema.optional(),
  SupplementaryData: z.record(z.string(), z.unknown()).optional(),
});
export type DomesticInitiation = z.infer<typeof domesticInitiationSchema>;

/**
 * A payment consent's Authorisation and SCASupportData, one shape on every version; only the SCA exemption
 * codes differ (v3.1.11 lists them, v4.0 takes an OBInternalSCASupportData1Code).
 */
export function consentAuthorisationFields<Exemption extends z.ZodType>(exemptionType: Exemption) {
  return {
    Authorisation: z
      .strictObject({ AuthorisationType: z.enum(['Any', 'Single']), CompletionDateTime: dateTime.optional() })
      .optional(),
    SCASupportData: z
      .strictObject({
        RequestedSCAExemptionType: exemptionType.optional(),
        AppliedAuthenticationApproach: z.enum(['CA', 'SCA']).optional(),
        ReferencePaymentOrderId: text(40).optional(),
      })
      .optional(),
  };
}

const v3ConsentAuthorisation = consentAuthorisationFields(
  z.enum([
    'BillPayment',
    'ContactlessTravel',
    'EcommerceGoods',
    'EcommerceServices',
    'Kiosk',
    'Parking',
    'PartyToParty',
  ]),
);

export const domesticConsentRequestSchema = z.strictObject({
  Data: z.strictObject({
    ReadRefundAccount: z.enum(['No', 'Yes']).optional(),
    Initiation: domesticInitiationSchema,
    ...v3ConsentAuthorisation,
  }),
  Risk: riskSchema,
});

export const domesticPaymentRequestSchema = z.strictObject({
  Data: z.strictObject({ ConsentId: text(128), Initiation: domesticInitiationSchema }),
  Risk: riskSchema,
});

/** Parses `body` with `schema`, or throws the OB error for the first problem (400, Field.* code, path). */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw ObError.single(400, 'UK.OBIE.Resource.InvalidFormat', 'the body must be a JSON object');
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw ObError.single(400, 'UK.OBIE.Field.Invalid', 'the body is invalid');
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.join(', ');
    throw ObError.single(400, 'UK.OBIE.Field.Unexpected', `unexpected field(s) ${keys}`, path || keys);
  }
  let value: unknown = body;
  for (const key of issue.path) {
    value =
      typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  if (value === undefined) throw ObError.single(400, 'UK.OBIE.Field.Missing', `${path} is required`, path);
  throw ObError.single(400, 'UK.OBIE.Field.Invalid', `${path}: ${issue.message}`, path);
}

/** An OB amount in minor units: known currency, not more decimals than it has, above zero. */
export function amountToMinor(amount: { Amount: string; Currency: string }, path: string): bigint {
  if (!isKnownCurrency(amount.Currency))
    throw ObError.single(
      400,
      'UK.OBIE.Unsupported.Currency',
      `${amount.Currency} is not a currency we know`,
      `${path}.Currency`,
    );
  try {
    return toMinor(amount.Amount, amount.Currency, { positive: true });
  } catch (error) {
    if (error instanceof InvalidAmountError || error instanceof UnknownCurrencyError) {
      const exponent = currencyExponent(amount.Currency);
      throw ObError.single(
        400,
        'UK.OBIE.Field.Invalid',
        `${path}.Amount ${error.message} (must be above zero with at most ${exponent} decimals)`,
        `${path}.Amount`,
      );
    }
    throw error;
  }
}

const SUPPORTED_SCHEMES = ['UK.OBIE.SortCodeAccountNumber', 'UK.OBIE.IBAN'] as const;

/** Account identifications we can pay to and from: sort code + account number (14 digits) or IBAN. */
export function checkAccount(
  account: { SchemeName: string; Identification: string } | undefined,
  path: string,
): void {
  if (!account) return;
  if (!(SUPPORTED_SCHEMES as readonly string[]).includes(account.SchemeName))
    throw ObError.single(
      400,
      'UK.OBIE.Unsupported.Scheme',
      `${path}.SchemeName ${account.SchemeName} is not supported (use ${SUPPORTED_SCHEMES.join(' or ')})`,
      `${path}.SchemeName`,
    );
  const id = account.Identification.replace(/\s/g, '');
  const ok =
    account.SchemeName === 'UK.OBIE.SortCodeAccountNumber'
      ? /^\d{14}$/.test(id)
      : /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(id.toUpperCase());
  if (!ok)
    throw ObError.single(
      400,
      'UK.OBIE.Field.Invalid',
      account.SchemeName === 'UK.OBIE.SortCodeAccountNumber'
        ? `${path}.Identification must be a 6-digit sort code followed by an 8-digit account number`
        : `${path}.Identification is not an IBAN`,
      `${path}.Identification`,
    );
}

/** A domestic payment's LocalInstrument, when given, is one of the schemes the bank offers. */
export function checkLocalInstrument(localInstrument: string | undefined, path: string): void {
  if (localInstrument !== undefined && !(LOCAL_INSTRUMENTS as readonly string[]).includes(localInstrument))
    throw ObError.single(
      400,
      'UK.OBIE.Unsupported.LocalInstrument',
      `${localInstrument} is not offered for domestic payments (${LOCAL_INSTRUMENTS.join(', ')})`,
      `${path}.LocalInstrument`,
    );
}

/** Every rule of a domestic Initiation beyond its shape. Returns the amount in minor units. */
export function checkDomesticInitiation(
  initiation: Pick<
    DomesticInitiation,
    'LocalInstrument' | 'DebtorAccount' | 'CreditorAccount' | 'InstructedAmount'
  >,
  path: string,
): bigint {
  checkLocalInstrument(initiation.LocalInstrument, path);
  checkAccount(initiation.DebtorAccount, `${path}.DebtorAccount`);
  checkAccount(initiation.CreditorAccount, `${path}.CreditorAccount`);
  return amountToMinor(initiation.InstructedAmount, `${path}.InstructedAmount`);
}

/** JSON with sorted keys: two objects are the same instruction when their canonical forms are equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const permission = z.enum(['Create']);

export const scheduledInitiationSchema = domesticInitiationSchema.extend({
  EndToEndIdentification: text(35).optional(),
  RequestedExecutionDateTime: dateTime,
});
export type ScheduledInitiation = z.infer<typeof scheduledInitiationSchema>;

/** The consent request of a future-dated payment (Permission Create) with its kind's Initiation. */
export function futureDatedConsentRequestSchema<I extends z.ZodType>(initiation: I) {
  return z.strictObject({
    Data: z.strictObject({
      Permission: permission,
      ReadRefundAccount: z.enum(['No', 'Yes']).optional(),
      Initiation: initiation,
      ...v3ConsentAuthorisation,
    }),
    Risk: riskSchema,
  });
}

/** The submission request of a payment with its kind's Initiation. */
export function submissionRequestSchema<I extends z.ZodType>(initiation: I) {
  return z.strictObject({
    Data: z.strictObject({ ConsentId: text(128), Initiation: initiation }),
    Risk: riskSchema,
  });
}

export const scheduledConsentRequestSchema = futureDatedConsentRequestSchema(scheduledInitiationSchema);
export const scheduledPaymentRequestSchema = submissionRequestSchema(scheduledInitiationSchema);

export const frequencySchema = z.string().regex(OB_FREQUENCY, { message: 'is not an OB frequency code' });

export const standingOrderInitiationSchema = z.strictObject({
  Frequency: frequencySchema,
  Reference: text(35).optional(),
  NumberOfPayments: text(35).optional(),
  FirstPaymentDateTime: dateTime,
  RecurringPaymentDateTime: dateTime.optional(),
  FinalPaymentDateTime: dateTime.optional(),
  FirstPaymentAmount: instructedAmountSchema,
  RecurringPaymentAmount: instructedAmountSchema.optional(),
  FinalPaymentAmount: instructedAmountSchema.optional(),
  DebtorAccount: accountSchema.optional(),
  CreditorAccount: creditorAccountSchema,
  SupplementaryData: z.record(z.string(), z.unknown()).optional(),
});
export type StandingOrderInitiation = z.infer<typeof standingOrderInitiationSchema>;

export const standingOrderConsentRequestSchema = futureDatedConsentRequestSchema(
  standingOrderInitiationSchema,
);
export const standingOrderRequestSchema = submissionRequestSchema(standingOrderInitiationSchema);

export function futureDate(value: string, now: Date, path: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw ObError.single(400, 'UK.OBIE.Field.InvalidDate', `${path} is not a valid date-time`, path);
  if (date.getTime() <= now.getTime())
    throw ObError.single(400, 'UK.OBIE.Field.InvalidDate', `${path} must be in the future`, path);
  return date;
}

/** A scheduled payment's rules: a domestic Initiation whose execution date is in the future. */
export function checkScheduledInitiation(
  initiation: ScheduledInitiation,
  now: Date,
  path: string,
): { amountMinor: bigint; executeAt: Date } {
  const amountMinor = checkDomesticInitiation(initiation, path);
  return {
    amountMinor,
    executeAt: futureDate(initiation.RequestedExecutionDateTime, now, `${path}.RequestedExecutionDateTime`),
  };
}

export interface StandingOrderTerms extends StandingOrderSchedule {
  currency: string;
  firstPaymentMinor: bigint;
  recurringPaymentMinor?: bigint;
  finalPaymentMinor?: bigint;
}

/** The amounts of a standing order (any version), all in the first payment's currency, and its accounts checked. */
export function standingOrderAmounts(
  initiation: {
    DebtorAccount?: { SchemeName: string; Identification: string } | undefined;
    CreditorAccount: { SchemeName: string; Identification: string };
    FirstPaymentAmount: { Amount: string; Currency: string };
    RecurringPaymentAmount?: { Amount: string; Currency: string } | undefined;
    FinalPaymentAmount?: { Amount: string; Currency: string } | undefined;
  },
  path: string,
): Omit<StandingOrderTerms, keyof StandingOrderSchedule> {
  checkAccount(initiation.DebtorAccount, `${path}.DebtorAccount`);
  checkAccount(initiation.CreditorAccount, `${path}.CreditorAccount`);
  const currency = initiation.FirstPaymentAmount.Currency;
  const amount = (value: { Amount: string; Currency: string } | undefined, field: string) => {
    if (!value) return undefined;
    if (value.Currency !== currency)
      throw ObError.single(
        400,
        'UK.OBIE.Field.Invalid',
        `${path}.${field} must be in ${currency}, the currency of the first payment`,
        `${path}.${field}.Currency`,
      );
    return amountToMinor(value, `${path}.${field}`);
  };
  const firstPaymentMinor = amountToMinor(initiation.FirstPaymentAmount, `${path}.FirstPaymentAmount`);
  const recurringPaymentMinor = amount(initiation.RecurringPaymentAmount, 'RecurringPaymentAmount');
  const finalPaymentMinor = amount(initiation.FinalPaymentAmount, 'FinalPaymentAmount');
  return {
    currency,
    firstPaymentMinor,
    ...(recurringPaymentMinor !== undefined ? { recurringPaymentMinor } : {}),
    ...(finalPaymentMinor !== undefined ? { finalPaymentMinor } : {}),
  };
}

/** A standing order's rules: amounts in one currency, and its schedule (`checkStandingOrderSchedule`). */
export function checkStandingOrderInitiation(
  initiation: StandingOrderInitiation,
  now: Date,
  path: string,
): StandingOrderTerms {
  const amounts = standingOrderAmounts(initiation, path);
  return { ...amounts, ...checkStandingOrderSchedule(initiation, now, path) };
}

export interface StandingOrderSchedule {
  firstPaymentAt: Date;
  finalPaymentAt?: Date;
  numberOfPayments?: number;
}

/** Where a standing order's schedule fields stand in the request, for the errors that name them. */
export interface StandingOrderSchedulePaths {
  first: string;
  final: string;
  count: string;
}

/**
 * When a standing order pays: first (and final) dates in order and in the future, an end by date or count.
 * v3.1.11 has the three fields in the Initiation (`path`); v4.0 keeps the dates in its
 * MandateRelatedInformation, so it names where each field stands (`at`).
 */
export function checkStandingOrderSchedule(
  initiation: { FirstPaymentDateTime: string; FinalPaymentDateTime?: string; NumberOfPayments?: string },
  now: Date,
  path: string,
  at: StandingOrderSchedulePaths = {
    first: `${path}.FirstPaymentDateTime`,
    final: `${path}.FinalPaymentDateTime`,
    count: `${path}.NumberOfPayments`,
  },
): StandingOrderSchedule {
  const firstPaymentAt = futureDate(initiation.FirstPaymentDateTime, now, at.first);
  const finalPaymentAt =
    initiation.FinalPaymentDateTime === undefined
      ? undefined
      : futureDate(initiation.FinalPaymentDateTime, now, at.final);
  if (finalPaymentAt && finalPaymentAt.getTime() < firstPaymentAt.getTime())
    throw ObError.single(
      400,
      'UK.OBIE.Field.InvalidDate',
      `${at.final} is before the first payment`,
      at.final,
    );
  let numberOfPayments: number | undefined;
  if (initiation.NumberOfPayments !== undefined) {
    if (!/^[1-9]\d{0,4}$/.test(initiation.NumberOfPayments))
      throw ObError.single(
        400,
        'UK.OBIE.Field.Invalid',
        `${at.count} must be a whole number from 1 to 99999`,
        at.count,
      );
    numberOfPayments = Number(initiation.NumberOfPayments);
    if (finalPaymentAt)
      throw ObError.single(
        400,
        'UK.OBIE.Field.Unexpected',
        `give either ${at.count} or ${at.final}, not both`,
        at.count,
      );
  }
  return {
    firstPaymentAt,
    ...(finalPaymentAt ? { finalPaymentAt } : {}),
    ...(numberOfPayments !== undefined ? { numberOfPayments } : {}),
  };
}
