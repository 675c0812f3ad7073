import { z } from 'zod';
import { ADDRESS_TYPES } from '../../ais/v4.0/mapping.ts';
import { ObError } from '../../errors.ts';
import {
  accountSchema,
  creditorAccountSchema,
  currencySchema,
  dateTime,
  instructedAmountSchema,
} from '../validation.ts';
import {
  domesticConsentRequestSchema,
  domesticInitiationSchema,
  postalAddress,
  remittance,
  riskSchema,
  text,
  ultimateParty,
} from './mapping.ts';

/**
 * International payments of Payment Initiation v4.0 on the wire (specs/ob-read-write/v4.0/
 * payment-initiation-openapi.json): OBWriteInternationalConsent5, OBWriteInternationalScheduledConsent5,
 * OBWriteInternationalStandingOrderConsent6 and their submissions, and how a v4.0 standing order's
 * MandateRelatedInformation becomes the bank's schedule.
 */

const consentData = domesticConsentRequestSchema.shape.Data.shape;

const internationalFields = {
  ExtendedPurpose: text(140).optional(),
  ChargeBearer: z.enum(['BorneByCreditor', 'BorneByDebtor', 'FollowingServiceLevel', 'Shared']).optional(),
  CurrencyOfTransfer: currencySchema,
  DestinationCountryCode: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .optional(),
  InstructedAmount: instructedAmountSchema,
  DebtorAccount: accountSchema.optional(),
  Creditor: z
    .strictObject({
      Name: text(350).optional(),
      LEI: ultimateParty.shape.LEI,
      PostalAddress: postalAddress.optional(),
    })
    .optional(),
  CreditorAgent: domesticInitiationSchema.shape.CreditorAgent,
  CreditorAccount: creditorAccountSchema,
  UltimateCreditor: ultimateParty.optional(),
  UltimateDebtor: ultimateParty.optional(),
  RegulatoryReporting: domesticInitiationSchema.shape.RegulatoryReporting,
  RemittanceInformation: remittance.optional(),
  SupplementaryData: z.record(z.string(), z.unknown()).optional(),
};

export const internationalInitiationSchema = z.strictObject({
  InstructionIdentification: text(35),
  EndToEndIdentification: text(35),
  LocalInstrument: z.string().optional(),
  InstructionPriority: z.enum(['Normal', 'Urgent']).optional(),
  ...internationalFields,
  ExchangeRateInformation: z
    .strictObject({
      UnitCurrency: currencySchema,
      ExchangeRate: z.number().optional(),
      RateType: z.enum(['Actual', 'Agreed', 'Indicative']),
      ContractIdentification: text(256).optional(),
    })
    .optional(),
});

export const internationalScheduledInitiationSchema = internationalInitiationSchema.extend({
  EndToEndIdentification: text(35).optional(),
  RequestedExecutionDateTime: dateTime,
});

/** OBFrequency6Code: the ISO frequency codes v4.0 adds beside the v3.1.x schedule patterns. */
const FREQUENCY_CODES = [
  'ADHO',
  'YEAR',
  'DAIL',
  'FRTN',
  'INDA',
  'MNTH',
  'QURT',
  'MIAN',
  'WEEK',
  'WODL',
  'FOWK',
  'TWMH',
  'FOMH',
  'FIMH',
  'ALMH',
  'NONE',
] as const;
const SCHEDULE_PATTERN =
  /^(NotKnown)$|^(EvryDay)$|^(EvryWorkgDay)$|^(IntrvlDay:((0[2-9])|([1-2][0-9])|3[0-1]))$|^(IntrvlWkDay:0[1-9]:0[1-7])$|^(WkInMnthDay:0[1-5]:0[1-7])$|^(IntrvlMnthDay:(0[1-6]|12|24):(-0[1-5]|0[1-9]|[12][0-9]|3[01]))$|^(QtrDay:(ENGLISH|SCOTTISH|RECEIVED))$/;

/** OBMandateRelatedInformation1: an open object in the file; its named fields are checked. */
const mandateSchema = z.looseObject({
  MandateIdentification: text(35).optional(),
  Classification: z.enum(['FIXE', 'USGB', 'VARI']).optional(),
  CategoryPurposeCode: z.string().min(3).max(4).optional(),
  FirstPaymentDateTime: dateTime.optional(),
  RecurringPaymentDateTime: dateTime.optional(),
  FinalPaymentDateTime: dateTime.optional(),
  Frequency: z.looseObject({
    Type: z.union([z.enum(FREQUENCY_CODES), z.string().regex(SCHEDULE_PATTERN)]),
    CountPerPeriod: z.number().int().optional(),
    PointInTime: z.string().max(2).optional(),
  }),
  Reason: text(256).optional(),
});

export const internationalStandingOrderInitiationSchema = z.strictObject({
  NumberOfPayments: text(35).optional(),
  ...internationalFields,
  MandateRelatedInformation: mandateSchema,
});

type Initiation = z.infer<typeof internationalInitiationSchema>;
type ScheduledInitiation = z.infer<typeof internationalScheduledInitiationSchema>;
type StandingOrderInitiation = z.infer<typeof internationalStandingOrderInitiationSchema>;

const consentFields = {
  ReadRefundAccount: z.enum(['No', 'Yes']).optional(),
  Authorisation: consentData.Authorisation,
  SCASupportData: consentData.SCASupportData,
};
const permission = z.enum(['Create']);

function submission<I extends z.ZodType>(initiation: I) {
  return z.strictObject({
    Data: z.strictObject({ ConsentId: text(128), Initiation: initiation }),
    Risk: riskSchema,
  });
}

export const consentRequestSchema = z.strictObject({
  Data: z.strictObject({ ...consentFields, Initiation: internationalInitiationSchema }),
  Risk: riskSchema,
});
export const paymentRequestSchema = submission(internationalInitiationSchema);
export const scheduledConsentRequestSchema = z.strictObject({
  Data: z.strictObject({
    Permission: permission,
    ...consentFields,
    Initiation: internationalScheduledInitiationSchema,
  }),
  Risk: riskSchema,
});
export const scheduledPaymentRequestSchema = submission(internationalScheduledInitiationSchema);
export const standingOrderConsentRequestSchema = z.strictObject({
  Data: z.strictObject({
    Permission: permission,
    ...consentFields,
    Initiation: internationalStandingOrderInitiationSchema,
  }),
  Risk: riskSchema,
});
export const standingOrderRequestSchema = submission(internationalStandingOrderInitiationSchema);

/** The reference the statements show: the first structured creditor reference, else the first unstructured line. */
export function creditorReference(
  initiation: Pick<Initiation | ScheduledInitiation | StandingOrderInitiation, 'RemittanceInformation'>,
): string | undefined {
  const information = initiation.RemittanceInformation;
  const structured = information?.Structured?.find((entry) => entry.CreditorReferenceInformation?.Reference)
    ?.CreditorReferenceInformation?.Reference;
  return structured ?? information?.Unstructured?.[0]?.slice(0, 35);
}

const PATH = 'Data.Initiation.MandateRelatedInformation';

/**
 * The bank's schedule (a v3.1.x frequency pattern) of a v4.0 mandate. A schedule pattern is taken as it
 * is; an ISO period code becomes the pattern that pays once a period on the first payment's day (a week
 * on its weekday, a month on its day of the month). Codes without one fixed day a period (ad hoc,
 * intra-day, counts per period) are not offered.
 */
export function bankFrequency(mandate: StandingOrderInitiation['MandateRelatedInformation']): string {
  const type = mandate.Frequency.Type;
  const refuse = (message: string) =>
    ObError.single(400, 'UK.OBIE.Unsupported.Frequency', message, `${PATH}.Frequency.Type`);
  if (type === 'NotKnown') throw refuse('a standing order needs a known frequency');
  if (mandate.Frequency.CountPerPeriod !== undefined && mandate.Frequency.CountPerPeriod !== 1)
    throw ObError.single(
      400,
      'UK.OBIE.Unsupported.Frequency',
      'the bank pays a standing order once a period (CountPerPeriod 1)',
      `${PATH}.Frequency.CountPerPeriod`,
    );
  if (SCHEDULE_PATTERN.test(type)) return type;
  const first = mandate.FirstPaymentDateTime ? new Date(mandate.FirstPaymentDateTime) : undefined;
  if (!first || Number.isNaN(first.getTime()))
    throw ObError.single(
      400,
      'UK.OBIE.Field.Missing',
      `${PATH}.FirstPaymentDateTime is required`,
      `${PATH}.FirstPaymentDateTime`,
    );
  const two = (n: number) => String(n).padStart(2, '0');
  const weekday = two(((first.getUTCDay() + 6) % 7) + 1);
  const day = two(first.getUTCDate());
  const patterns: Partial<Record<string, string>> = {
    DAIL: 'EvryDay',
    WEEK: `IntrvlWkDay:01:${weekday}`,
    FRTN: `IntrvlWkDay:02:${weekday}`,
    MNTH: `IntrvlMnthDay:01:${day}`,
    QURT: `IntrvlMnthDay:03:${day}`,
    MIAN: `IntrvlMnthDay:06:${day}`,
    YEAR: `IntrvlMnthDay:12:${day}`,
  };
  const pattern = patterns[type];
  if (!pattern) throw refuse(`frequency ${type} is not offered for standing orders`);
  return pattern;
}

/** A v4.0 standing order's schedule in the terms the bank's standing orders take. */
export function standingOrderSchedule(initiation: StandingOrderInitiation) {
  const mandate = initiation.MandateRelatedInformation;
  if (!mandate.FirstPaymentDateTime)
    throw ObError.single(
      400,
      'UK.OBIE.Field.Missing',
      `${PATH}.FirstPaymentDateTime is required`,
      `${PATH}.FirstPaymentDateTime`,
    );
  return {
    path: PATH,
    frequency: bankFrequency(mandate),
    reference: creditorReference(initiation),
    schedule: {
      FirstPaymentDateTime: mandate.FirstPaymentDateTime,
      ...(mandate.FinalPaymentDateTime ? { FinalPaymentDateTime: mandate.FinalPaymentDateTime } : {}),
      ...(initiation.NumberOfPayments ? { NumberOfPayments: initiation.NumberOfPayments } : {}),
    },
  };
}

type Json = Record<string, unknown>;
const isJson = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A v3.1.11 postal address (OBPostalAddress6) as v4.0's OBPostalAddress7: its type as a code. */
function addressOnV4(address: unknown): unknown {
  if (!isJson(address) || typeof address.AddressType !== 'string') return address;
  return { ...address, AddressType: ADDRESS_TYPES[address.AddressType] ?? address.AddressType };
}

/** A party (Creditor, CreditorAgent) whose postal address v3.1.11 wrote. */
function partyOnV4(party: unknown): unknown {
  if (!isJson(party) || party.PostalAddress === undefined) return party;
  return { ...party, PostalAddress: addressOnV4(party.PostalAddress) };
}

/**
 * What v4.0 writes differently of an international Initiation staged on v3.1.11 (PIS release management:
 * an older consent or payment-order is readable on the newer version): no `Purpose` code (v4.0 keeps
 * ExtendedPurpose only), postal address types as codes, and a standing order's schedule (Frequency,
 * first and final dates) under MandateRelatedInformation with its Reference as a remittance line. The
 * remittance itself is mapped by `initiationOnV4` (mapping.ts); a v4.0 Initiation passes unchanged.
 */
export function internationalInitiationOnV4(initiation: unknown): unknown {
  if (!isJson(initiation)) return initiation;
  const wire: Json = { ...initiation };
  delete wire.Purpose;
  if (wire.Creditor !== undefined) wire.Creditor = partyOnV4(wire.Creditor);
  if (wire.CreditorAgent !== undefined) wire.CreditorAgent = partyOnV4(wire.CreditorAgent);
  if (typeof wire.Frequency !== 'string') return wire;
  const {
    Frequency,
    Reference,
    FirstPaymentDateTime,
    RecurringPaymentDateTime,
    FinalPaymentDateTime,
    ...rest
  } = wire;
  return {
    ...rest,
    ...(typeof Reference === 'string' && rest.RemittanceInformation === undefined
      ? { RemittanceInformation: { Unstructured: [Reference] } }
      : {}),
    MandateRelatedInformation: {
      Frequency: { Type: Frequency },
      ...(FirstPaymentDateTime !== undefined ? { FirstPaymentDateTime } : {}),
      ...(RecurringPaymentDateTime !== undefined ? { RecurringPaymentDateTime } : {}),
      ...(FinalPaymentDateTime !== undefined ? { FinalPaymentDateTime } : {}),
    },
  };
}
