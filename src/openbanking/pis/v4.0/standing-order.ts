import { z } from 'zod';
import { ObError } from '../../errors.ts';
import { OB_FREQUENCY } from '../../../shared/ob-frequency.ts';
import {
  creditorAccountSchema,
  dateTime,
  checkStandingOrderSchedule,
  instructedAmountSchema,
  accountSchema,
  standingOrderAmounts,
} from '../validation.ts';
import { domesticInitiationSchema } from './mapping.ts';
import { futureDatedConsentRequestSchema, structuredReference, submissionRequestSchema } from './requests.ts';

/**
 * Domestic standing orders on Payment Initiation v4.0: OBWriteDomesticStandingOrderConsent5 and
 * OBWriteDomesticStandingOrder3, whose schedule moved into MandateRelatedInformation (OBFrequency6: an
 * ISO frequency code, or v3.1's frequency pattern, as its Type), and the mapping of that schedule onto
 * the bank's standing orders.
 */
const text = (max: number) => z.string().min(1).max(max);

/** OBFrequency6Code, as the v4.0 file lists it. */
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

/** Frequency_1: v3.1's frequency patterns, and NotKnown. */
const LEGACY_FREQUENCY = new RegExp(`^(NotKnown)$|${OB_FREQUENCY.source}`);

/** ExternalCategoryPurpose1Code, as the v4.0 file lists it. */
const CATEGORY_PURPOSES = [
  'BONU',
  'CASH',
  'CBLK',
  'CCRD',
  'CGWV',
  'CIPC',
  'CONC',
  'CORT',
  'DCRD',
  'DIVI',
  'DVPM',
  'EPAY',
  'FCDT',
  'FCIN',
  'FCOL',
  'GOVT',
  'GP2P',
  'HEDG',
  'ICCP',
  'IDCP',
  'INTC',
  'INTE',
  'LBOX',
  'LOAN',
  'MP2B',
  'MP2P',
  'OTHR',
  'PENS',
  'RPRE',
  'RRCT',
  'RVPM',
  'SALA',
  'SECU',
  'SSBE',
  'SUPP',
  'SWEP',
  'TAXS',
  'TOPG',
  'TRAD',
  'TREA',
  'VATX',
  'VOST',
  'WHLD',
  'ZABA',
] as const;

// OBFrequency6 and OBMandateRelatedInformation1 are open objects in the file: their named fields are checked.
const frequencySchema = z.looseObject({
  Type: z.union([
    z.enum(FREQUENCY_CODES),
    z.string().regex(LEGACY_FREQUENCY, { message: 'is neither an OBFrequency6Code nor a frequency pattern' }),
  ]),
  CountPerPeriod: z.number().int().optional(),
  PointInTime: z.string().max(2).optional(),
});

export const mandateSchema = z.looseObject({
  MandateIdentification: text(35).optional(),
  Classification: z.enum(['FIXE', 'USGB', 'VARI']).optional(),
  CategoryPurposeCode: z.enum(CATEGORY_PURPOSES).optional(),
  FirstPaymentDateTime: dateTime.optional(),
  RecurringPaymentDateTime: dateTime.optional(),
  FinalPaymentDateTime: dateTime.optional(),
  Frequency: frequencySchema,
  Reason: text(256).optional(),
});

const domestic = domesticInitiationSchema.shape;
export const standingOrderInitiationSchema = z.strictObject({
  RemittanceInformation: domestic.RemittanceInformation,
  NumberOfPayments: text(35).optional(),
  FirstPaymentAmount: instructedAmountSchema,
  RecurringPaymentAmount: instructedAmountSchema.optional(),
  FinalPaymentAmount: instructedAmountSchema.optional(),
  DebtorAccount: accountSchema.optional(),
  CreditorAccount: creditorAccountSchema,
  UltimateCreditor: domestic.UltimateCreditor,
  UltimateDebtor: domestic.UltimateDebtor,
  RegulatoryReporting: domestic.RegulatoryReporting,
  MandateRelatedInformation: mandateSchema,
  SupplementaryData: z.record(z.string(), z.unknown()).optional(),
});
export type StandingOrderInitiationV4 = z.infer<typeof standingOrderInitiationSchema>;

export const standingOrderConsentRequestSchema = futureDatedConsentRequestSchema(
  standingOrderInitiationSchema,
);
export const standingOrderRequestSchema = submissionRequestSchema(standingOrderInitiationSchema);

/** What the bank's standing order is set up with. */
export interface StandingOrderTermsV4 {
  frequency: string;
  currency: string;
  firstPaymentAt: Date;
  firstPaymentMinor: bigint;
  recurringPaymentMinor?: bigint;
  finalPaymentAt?: Date;
  finalPaymentMinor?: bigint;
  numberOfPayments?: number;
  reference?: string;
}

const unsupported = (message: string, path: string) =>
  ObError.single(400, 'UK.OBIE.Unsupported.Frequency', message, path);

/** ISO codes the bank's schedules can follow: as a v3.1 pattern, given the weekday or day of month. */
const WEEKLY: Partial<Record<string, string>> = { WEEK: '01', FRTN: '02' };
const MONTHLY: Partial<Record<string, string>> = { MNTH: '01', QURT: '03', MIAN: '06', YEAR: '12' };

/**
 * OBFrequency6 as the bank's frequency pattern. DAIL pays every day; WEEK and FRTN on the weekday of
 * PointInTime (01 Monday … 07 Sunday), else of the first payment; MNTH, QURT, MIAN and YEAR on the day
 * of month of PointInTime (01–31), else of the first payment. A v3.1 pattern is taken as it is. Codes
 * without a fixed schedule (ADHO, INDA, NONE, NotKnown, …) and counts above one per period are refused.
 */
export function bankFrequency(
  frequency: z.infer<typeof frequencySchema>,
  firstPaymentAt: Date,
  path: string,
): string {
  const type = frequency.Type;
  if (frequency.CountPerPeriod !== undefined && frequency.CountPerPeriod !== 1)
    throw unsupported(
      `${path}.CountPerPeriod: this bank makes one payment per period`,
      `${path}.CountPerPeriod`,
    );
  if (OB_FREQUENCY.test(type)) {
    if (frequency.PointInTime !== undefined)
      throw ObError.single(
        400,
        'UK.OBIE.Field.Unexpected',
        `${path}.PointInTime goes with an OBFrequency6Code, not with the pattern ${type}`,
        `${path}.PointInTime`,
      );
    return type;
  }
  const point = frequency.PointInTime;
  const weekly = WEEKLY[type];
  if (weekly) {
    const weekday = point ?? `0${((firstPaymentAt.getUTCDay() + 6) % 7) + 1}`;
    if (!/^0[1-7]$/.test(weekday))
      throw ObError.single(
        400,
        'UK.OBIE.Field.Invalid',
        `${path}.PointInTime of ${type} is a weekday 01–07`,
        `${path}.PointInTime`,
      );
    return `IntrvlWkDay:${weekly}:${weekday}`;
  }
  const monthly = MONTHLY[type];
  if (monthly) {
    const day = point ?? String(firstPaymentAt.getUTCDate()).padStart(2, '0');
    if (!/^(0[1-9]|[12][0-9]|3[01])$/.test(day))
      throw ObError.single(
        400,
        'UK.OBIE.Field.Invalid',
        `${path}.PointInTime of ${type} is a day of month 01–31`,
        `${path}.PointInTime`,
      );
    return `IntrvlMnthDay:${monthly}:${day}`;
  }
  if (type === 'DAIL') {
    if (point !== undefined)
      throw ObError.single(
        400,
        'UK.OBIE.Field.Unexpected',
        `${path}.PointInTime has no meaning for DAIL`,
        `${path}.PointInTime`,
      );
    return 'EvryDay';
  }
  throw unsupported(
    `${path}.Type ${type} has no fixed schedule this bank can follow (use DAIL, WEEK, FRTN, MNTH, QURT, MIAN, YEAR or a frequency pattern)`,
    `${path}.Type`,
  );
}

/**
 * Every rule of a v4.0 standing order beyond its shape, and its terms: amounts in one currency, a first
 * payment date in the future (the bank needs it to start), a final date after it or a number of payments.
 */
export function standingOrderTerms(
  initiation: StandingOrderInitiationV4,
  now: Date,
  path: string,
): StandingOrderTermsV4 {
  const reference =
    structuredReference(initiation.RemittanceInformation) ??
    initiation.MandateRelatedInformation.MandateIdentification;
  return {
    ...mandateSchedule(initiation, now, path),
    ...standingOrderAmounts(initiation, path),
    ...(reference !== undefined ? { reference } : {}),
  };
}

/**
 * The schedule of a v4.0 standing order (domestic or international): a first payment date in the future
 * (the bank needs it to start), a final date after it or a number of payments, and its frequency as the
 * bank's pattern.
 */
export function mandateSchedule(
  initiation: {
    NumberOfPayments?: string | undefined;
    MandateRelatedInformation: z.infer<typeof mandateSchema>;
  },
  now: Date,
  path: string,
): { frequency: string; firstPaymentAt: Date; finalPaymentAt?: Date; numberOfPayments?: number } {
  const mandatePath = `${path}.MandateRelatedInformation`;
  const mandate = initiation.MandateRelatedInformation;
  if (mandate.FirstPaymentDateTime === undefined)
    throw ObError.single(
      400,
      'UK.OBIE.Field.Missing',
      `${mandatePath}.FirstPaymentDateTime is required by this bank: a standing order starts on its first payment date`,
      `${mandatePath}.FirstPaymentDateTime`,
    );
  // The same rules as v3.1.11's schedule, with the dates read from (and named in) MandateRelatedInformation.
  const schedule = checkStandingOrderSchedule(
    {
      FirstPaymentDateTime: mandate.FirstPaymentDateTime,
      ...(mandate.FinalPaymentDateTime !== undefined
        ? { FinalPaymentDateTime: mandate.FinalPaymentDateTime }
        : {}),
      ...(initiation.NumberOfPayments !== undefined ? { NumberOfPayments: initiation.NumberOfPayments } : {}),
    },
    now,
    path,
    {
      first: `${mandatePath}.FirstPaymentDateTime`,
      final: `${mandatePath}.FinalPaymentDateTime`,
      count: `${path}.NumberOfPayments`,
    },
  );
  return {
    frequency: bankFrequency(mandate.Frequency, schedule.firstPaymentAt, `${mandatePath}.Frequency`),
    ...schedule,
  };
}

type Json = Record<string, unknown>;
const isJson = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A standing order Initiation as v4.0 writes it. One staged on v3.1.11 (Frequency, Reference and the
 * payment dates at the top) is read on v4.0 with its schedule in MandateRelatedInformation (its pattern
 * as the Frequency Type, which v4.0 still takes) and its Reference as a structured creditor reference.
 */
export function standingOrderInitiationOnV4(initiation: unknown): unknown {
  if (!isJson(initiation) || typeof initiation.Frequency !== 'string') return initiation;
  const {
    Frequency,
    Reference,
    FirstPaymentDateTime,
    RecurringPaymentDateTime,
    FinalPaymentDateTime,
    ...rest
  } = initiation;
  return {
    ...rest,
    ...(typeof Reference === 'string'
      ? { RemittanceInformation: { Structured: [{ CreditorReferenceInformation: { Reference } }] } }
      : {}),
    MandateRelatedInformation: {
      Frequency: { Type: Frequency },
      ...(FirstPaymentDateTime !== undefined ? { FirstPaymentDateTime } : {}),
      ...(RecurringPaymentDateTime !== undefined ? { RecurringPaymentDateTime } : {}),
      ...(FinalPaymentDateTime !== undefined ? { FinalPaymentDateTime } : {}),
    },
  };
}
