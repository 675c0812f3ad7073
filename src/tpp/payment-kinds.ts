import { randomUUID } from 'node:crypto';
import { TppUsageError } from './errors.ts';
import type { ReadWriteVersion } from './open-banking.ts';
import { OB_FREQUENCY } from '../shared/ob-frequency.ts';

/**
 * The payment kinds of the PIS API a TPP can initiate from the command line, and how the options of
 * `obkit tpp pay` become one of them at a version (v4.0 or v3.1.11): which endpoints, which id field,
 * which Initiation and Risk. Everything here is checked before the bank is contacted; a bad value or
 * combination is a TppUsageError.
 */
export type PaymentKind =
  | 'domestic-payment'
  | 'domestic-scheduled-payment'
  | 'domestic-standing-order'
  | 'international-payment'
  | 'international-scheduled-payment'
  | 'international-standing-order';

export interface PaymentKindSpec {
  /** What the progress lines and the summary call it. */
  label: string;
  /** Paths under the PISP base. */
  consents: string;
  payments: string;
  /** The payment resource's id field. */
  idField: string;
  /** Scheduled payments and standing orders: the consent carries `Permission: Create`, and the bank's
   * answer to the submission is final at `InitiationCompleted` (it executes the payments when due). */
  futureDated: boolean;
  international: boolean;
}

export const PAYMENT_KINDS: Readonly<Record<PaymentKind, PaymentKindSpec>> = {
  'domestic-payment': {
    label: 'payment',
    consents: '/domestic-payment-consents',
    payments: '/domestic-payments',
    idField: 'DomesticPaymentId',
    futureDated: false,
    international: false,
  },
  'domestic-scheduled-payment': {
    label: 'scheduled payment',
    consents: '/domestic-scheduled-payment-consents',
    payments: '/domestic-scheduled-payments',
    idField: 'DomesticScheduledPaymentId',
    futureDated: true,
    international: false,
  },
  'domestic-standing-order': {
    label: 'standing order',
    consents: '/domestic-standing-order-consents',
    payments: '/domestic-standing-orders',
    idField: 'DomesticStandingOrderId',
    futureDated: true,
    international: false,
  },
  'international-payment': {
    label: 'international payment',
    consents: '/international-payment-consents',
    payments: '/international-payments',
    idField: 'InternationalPaymentId',
    futureDated: false,
    international: true,
  },
  'international-scheduled-payment': {
    label: 'international scheduled payment',
    consents: '/international-scheduled-payment-consents',
    payments: '/international-scheduled-payments',
    idField: 'InternationalScheduledPaymentId',
    futureDated: true,
    international: true,
  },
  'international-standing-order': {
    label: 'international standing order',
    consents: '/international-standing-order-consents',
    payments: '/international-standing-orders',
    idField: 'InternationalStandingOrderId',
    futureDated: true,
    international: true,
  },
};

/** What the PSU is asked to pay, as the command line gives it (strings, unchecked). */
export interface PaymentRequest {
  /** The PIS version whose bodies to build (default 4.0). */
  apiVersion?: ReadWriteVersion | undefined;
  amount: string;
  currency: string;
  /** `SORTCODE/ACCOUNT` of a domestic payee; default: an external sandbox payee. */
  to?: string | undefined;
  /** IBAN of an international payee. */
  toIban?: string | undefined;
  /** International: the currency the payee receives (CurrencyOfTransfer); default `currency`. */
  transferCurrency?: string | undefined;
  payeeName?: string | undefined;
  reference?: string | undefined;
  /** A scheduled payment's execution date-time. */
  at?: string | undefined;
  /** A standing order: OB frequency code, first payment, and an end by count or by date (or none). */
  every?: string | undefined;
  first?: string | undefined;
  count?: string | undefined;
  until?: string | undefined;
}

export interface PaymentPlan {
  kind: PaymentKind;
  apiVersion: ReadWriteVersion;
  spec: PaymentKindSpec;
  /** The consent's `Data` (Initiation, and Permission for future-dated kinds). */
  consentData: Record<string, unknown>;
  initiation: Record<string, unknown>;
  risk: Record<string, unknown>;
}

const AMOUNT = /^\d{1,13}(\.\d{1,5})?$/;
const CURRENCY = /^[A-Z]{3}$/;
const PAYEE = /^(\d{6})\/?(\d{8})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$/;

export function parsePayee(text: string, flag = '--to'): { sortCode: string; accountNumber: string } {
  const match = PAYEE.exec(text.replace(/-/g, ''));
  if (!match?.[1] || !match[2])
    throw new TppUsageError(
      `${flag} must be SORTCODE/ACCOUNT such as 040004/12345678; got ${JSON.stringify(text)}`,
    );
  return { sortCode: match[1], accountNumber: match[2] };
}

/** An IBAN without spaces, upper case, with a valid structure and ISO 13616 check digits (mod 97). */
export function parseIban(text: string): string {
  const iban = text.replace(/\s/g, '').toUpperCase();
  const invalid = () =>
    new TppUsageError(
      `--to-iban must be an IBAN such as DE89370400440532013000 (country, check digits, account); got ${JSON.stringify(text)}`,
    );
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) throw invalid();
  const digits = (iban.slice(4) + iban.slice(0, 4)).replace(/[A-Z]/g, (letter) =>
    String(letter.charCodeAt(0) - 55),
  );
  let remainder = 0;
  for (const digit of digits) remainder = (remainder * 10 + Number(digit)) % 97;
  if (remainder !== 1) throw invalid();
  return iban;
}

/** An OB frequency code such as `EvryDay`, `IntrvlWkDay:01:05` or `IntrvlMnthDay:01:15`. */
export function parseFrequency(text: string): string {
  if (!OB_FREQUENCY.test(text))
    throw new TppUsageError(
      `--every must be an Open Banking frequency code such as EvryDay, EvryWorkgDay, IntrvlWkDay:01:05 ` +
        `(every week, on Friday), IntrvlMnthDay:01:15 (every month, on the 15th) or QtrDay:ENGLISH; got ${JSON.stringify(text)}`,
    );
  return text;
}

/**
 * A date-time as the API wants it (`2025-07-01T09:00:00+01:00`): an ISO 8601 date-time with a zone
 * (seconds optional), or a date alone meaning midnight UTC. Returns the wire text and the instant.
 */
export function parseDateTime(flag: string, text: string): { wire: string; at: Date } {
  const invalid = () =>
    new TppUsageError(
      `${flag} must be an ISO 8601 date-time with a zone such as 2030-07-01T09:00:00+01:00 (or a date, 2030-07-01); got ${JSON.stringify(text)}`,
    );
  const match = DATE_TIME.exec(text.trim());
  if (!match) throw invalid();
  const [, year, month, day, hour = '00', minute = '00', second = '00', zone = 'Z'] = match;
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  const daysInMonth = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (m < 1 || m > 12 || d < 1 || d > daysInMonth) throw invalid();
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) throw invalid();
  const offset = zone === 'Z' ? '+00:00' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  if (Number(offset.slice(1, 3)) > 23 || Number(offset.slice(4, 6)) > 59) throw invalid();
  const wire = `${year}-${month}-${day}T${hour}:${minute}:${second}${offset}`;
  return { wire, at: new Date(wire) };
}

/**
 * The PIS maxLength of what the command line fills in: the reference (v3.1.11's
 * `RemittanceInformation.Reference` and a standing order's `Reference`; v4.0's structured
 * `CreditorReferenceInformation.Reference`: 35 on both), `CreditorAccount.Name` (350); each at least one character. A value
 * the bank would refuse is refused here, never cut short.
 */
const REFERENCE_MAX = 35;
const NAME_MAX = 350;

function withinSpec(flag: string, value: string, max: number): string {
  if (value.length === 0 || value.length > max)
    throw new TppUsageError(
      `${flag} must be 1 to ${max} characters (the Open Banking limit); got ${value.length}`,
    );
  return value;
}

/** OBRemittanceInformation2 (v4.0): the reference as the creditor's structured reference. */
export function structuredReference(reference: string) {
  return { Structured: [{ CreditorReferenceInformation: { Reference: reference } }] };
}

function identification(): string {
  return `obkit-${randomUUID().slice(0, 12)}`;
}

/** Checks the options and their combination, and builds the consent and submission bodies' parts. */
export function planPayment(request: PaymentRequest): PaymentPlan {
  const apiVersion = request.apiVersion ?? '4.0';
  const v4 = apiVersion === '4.0';
  if (!AMOUNT.test(request.amount) || Number(request.amount) <= 0) {
    throw new TppUsageError(
      `--amount must be a positive decimal such as 12.34; got ${JSON.stringify(request.amount)}`,
    );
  }
  if (!CURRENCY.test(request.currency))
    throw new TppUsageError(
      `--currency must be an ISO 4217 code such as GBP; got ${JSON.stringify(request.currency)}`,
    );
  if (request.to !== undefined && request.toIban !== undefined)
    throw new TppUsageError(
      'give one payee: --to SORTCODE/ACCOUNT (domestic) or --to-iban IBAN (international), not both',
    );
  if (request.transferCurrency !== undefined && request.toIban === undefined)
    throw new TppUsageError('--transfer-currency is for international payments: give --to-iban too');
  const standingOrder =
    request.every !== undefined ||
    request.first !== undefined ||
    request.count !== undefined ||
    request.until !== undefined;
  if (request.at !== undefined && standingOrder)
    throw new TppUsageError(
      '--at schedules one payment; --every/--first/--count/--until set up a standing order: give one or the other',
    );
  if (standingOrder) {
    if (request.every === undefined)
      throw new TppUsageError('a standing order needs --every <frequency> (with --first <date-time>)');
    if (request.first === undefined)
      throw new TppUsageError('--every needs --first <date-time>: when the first payment is made');
    if (request.count !== undefined && request.until !== undefined)
      throw new TppUsageError('end a standing order by --count or by --until, not both');
  }

  const amount = { Amount: request.amount, Currency: request.currency };
  const reference = withinSpec('--reference', request.reference ?? 'obkit payment', REFERENCE_MAX);
  const payeeName = withinSpec('--payee-name', request.payeeName ?? 'Payee', NAME_MAX);
  const international = request.toIban !== undefined;
  const creditorAccount = international
    ? { SchemeName: 'UK.OBIE.IBAN', Identification: parseIban(request.toIban ?? ''), Name: payeeName }
    : (() => {
        const payee = parsePayee(request.to ?? '040004/00000001');
        return {
          SchemeName: 'UK.OBIE.SortCodeAccountNumber',
          Identification: `${payee.sortCode}${payee.accountNumber}`,
          Name: payeeName,
        };
      })();
  let transfer: Record<string, unknown> = {};
  if (international) {
    const currencyOfTransfer = request.transferCurrency ?? request.currency;
    if (!CURRENCY.test(currencyOfTransfer))
      throw new TppUsageError(
        `--transfer-currency must be an ISO 4217 code such as EUR; got ${JSON.stringify(currencyOfTransfer)}`,
      );
    transfer = {
      CurrencyOfTransfer: currencyOfTransfer,
      DestinationCountryCode: creditorAccount.Identification.slice(0, 2),
    };
  }

  let kind: PaymentKind;
  let initiation: Record<string, unknown>;
  if (standingOrder) {
    const frequency = parseFrequency(request.every ?? '');
    const first = parseDateTime('--first', request.first ?? '');
    let end: Record<string, string> = {};
    if (request.count !== undefined) {
      if (!/^[1-9]\d{0,4}$/.test(request.count))
        throw new TppUsageError(
          `--count must be a whole number of payments from 1 to 99999; got ${JSON.stringify(request.count)}`,
        );
      end = { NumberOfPayments: request.count };
    } else if (request.until !== undefined) {
      const until = parseDateTime('--until', request.until);
      if (until.at.getTime() < first.at.getTime())
        throw new TppUsageError(`--until (${until.wire}) is before --first (${first.wire})`);
      end = { FinalPaymentDateTime: until.wire };
    }
    kind = international ? 'international-standing-order' : 'domestic-standing-order';
    const payments = international
      ? { ...transfer, InstructedAmount: amount }
      : { FirstPaymentAmount: amount };
    initiation = v4
      ? {
          // v4.0 moves the schedule into MandateRelatedInformation (its Frequency an OBFrequency6 whose
          // Type may be the v3.1.11 code) and the reference into structured remittance.
          RemittanceInformation: structuredReference(reference),
          ...(end.NumberOfPayments ? { NumberOfPayments: end.NumberOfPayments } : {}),
          ...payments,
          CreditorAccount: creditorAccount,
          MandateRelatedInformation: {
            Frequency: { Type: frequency },
            FirstPaymentDateTime: first.wire,
            ...(end.FinalPaymentDateTime ? { FinalPaymentDateTime: end.FinalPaymentDateTime } : {}),
          },
        }
      : {
          Frequency: frequency,
          Reference: reference,
          ...end,
          FirstPaymentDateTime: first.wire,
          ...payments,
          CreditorAccount: creditorAccount,
        };
  } else {
    const at = request.at === undefined ? undefined : parseDateTime('--at', request.at).wire;
    kind = international
      ? at
        ? 'international-scheduled-payment'
        : 'international-payment'
      : at
        ? 'domestic-scheduled-payment'
        : 'domestic-payment';
    initiation = {
      InstructionIdentification: identification(),
      EndToEndIdentification: identification(),
      ...(international ? {} : { LocalInstrument: 'UK.OBIE.FPS' }),
      ...(at ? { RequestedExecutionDateTime: at } : {}),
      InstructedAmount: amount,
      ...transfer,
      CreditorAccount: creditorAccount,
      RemittanceInformation: v4 ? structuredReference(reference) : { Reference: reference },
    };
  }
  const spec = PAYMENT_KINDS[kind];
  return {
    kind,
    apiVersion,
    spec,
    consentData: { ...(spec.futureDated ? { Permission: 'Create' } : {}), Initiation: initiation },
    initiation,
    // v4.0 dropped PartyToParty from OBRisk1's PaymentContextCode: a payment to another party is TransferToThirdParty.
    risk: { PaymentContextCode: v4 ? 'TransferToThirdParty' : 'PartyToParty' },
  };
}

export interface Quote {
  ExchangeRateInformation?: { UnitCurrency?: string; ExchangeRate?: number; RateType?: string };
  Charges?: { ChargeBearer?: string; Amount?: { Amount?: string; Currency?: string } }[];
}

/**
 * The bank's quote on an international consent, in words: its exchange rate (when it converts) and its
 * charges; undefined for domestic kinds.
 */
export function describeQuote(plan: PaymentPlan, consent: Quote): string | undefined {
  if (!plan.spec.international) return undefined;
  const transfer = String(plan.initiation['CurrencyOfTransfer']);
  const rate = consent.ExchangeRateInformation;
  const parts: string[] = [];
  if (rate?.ExchangeRate !== undefined)
    parts.push(
      `${(rate.RateType ?? 'quoted').toLowerCase()} exchange rate 1 ${rate.UnitCurrency ?? '?'} = ${rate.ExchangeRate} ${transfer}`,
    );
  else if (plan.kind === 'international-standing-order')
    parts.push('no exchange rate quoted for a standing order');
  else parts.push(`no currency exchange (paid in ${transfer})`);
  const charges = (consent.Charges ?? []).map(
    (charge) =>
      `charge ${charge.Amount?.Amount ?? '?'} ${charge.Amount?.Currency ?? ''} (${charge.ChargeBearer ?? 'BorneByDebtor'})`,
  );
  parts.push(...(charges.length > 0 ? charges : ['no charge']));
  return `the bank quotes: ${parts.join(', ')}`;
}
