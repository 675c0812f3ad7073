import type { Intent, JsonObject } from './intents.ts';
import { describePermissions, type PermissionGroup } from './permissions.ts';
import { VRP_INTERACTIONS, VRP_KINDS } from './vrp-kinds.ts';

/**
 * An intent in plain English: what the PSU is asked to approve, as the consent page and the dashboard show
 * it. Every value is plain text; the pages escape it.
 */
export interface Fact {
  label: string;
  value: string;
}

export interface IntentDescription {
  /** One sentence naming the TPP and what it asks for. */
  headline: string;
  /** Account access: what data, grouped. */
  groups: PermissionGroup[];
  /** Amount, payee, reference, dates, expiry, charges, … in the order shown. */
  facts: Fact[];
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function obj(value: unknown): JsonObject {
  return isObject(value) ? value : {};
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

const SYMBOLS: Record<string, string> = { GBP: '£', EUR: '€', USD: '$' };

/** `1234.5` GBP → `£1,234.50`; other currencies as `CHF 1,234.50`. Works on the decimal string, no floats. */
export function formatMoney(amount: string, currency: string): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(amount.trim());
  if (!match) return `${amount} ${currency}`;
  const [, sign, whole, fraction = ''] = match;
  const grouped = whole!.replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const decimals = fraction.length <= 2 ? fraction.padEnd(2, '0') : fraction;
  const symbol = SYMBOLS[currency];
  return symbol ? `${sign}${symbol}${grouped}.${decimals}` : `${sign}${currency} ${grouped}.${decimals}`;
}

function money(value: unknown): string | undefined {
  const amount = obj(value);
  const figure = str(amount['Amount']);
  const currency = str(amount['Currency']);
  return figure && currency ? formatMoney(figure, currency) : undefined;
}

const DATE_TIME = new Intl.DateTimeFormat('en-GB', {
  dateStyle: 'long',
  timeStyle: 'short',
  timeZone: 'Europe/London',
});
const DATE = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeZone: 'Europe/London' });

export function formatDateTime(date: Date): string {
  return `${DATE_TIME.format(date)} (UK time)`;
}

export function formatDate(date: Date): string {
  return DATE.format(date);
}

function dateOf(value: unknown, withTime = false): string | undefined {
  const text = str(value);
  if (!text) return undefined;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return text;
  return withTime ? formatDateTime(date) : formatDate(date);
}

/** `UK.OBIE.SortCodeAccountNumber` 12345612345678 → "sort code 12-34-56, account 12345678". */
export function describeAccountIdentification(account: unknown): string | undefined {
  const a = obj(account);
  const scheme = str(a['SchemeName']) ?? '';
  const id = str(a['Identification']);
  if (!id) return undefined;
  let text: string;
  if (/SortCodeAccountNumber$/.test(scheme) && /^\d{14}$/.test(id)) {
    text = `sort code ${id.slice(0, 2)}-${id.slice(2, 4)}-${id.slice(4, 6)}, account ${id.slice(6)}`;
  } else if (/IBAN$/.test(scheme)) {
    text = `IBAN ${id.replace(/(.{4})(?=.)/g, '$1 ')}`;
  } else if (/PAN$/.test(scheme)) {
    text = `card ending ${id.slice(-4)}`;
  } else {
    text = id;
  }
  const secondary = str(a['SecondaryIdentification']);
  return secondary ? `${text} (roll number ${secondary})` : text;
}

function payee(initiation: JsonObject): string | undefined {
  const account = obj(initiation['CreditorAccount']);
  const name = str(account['Name']) ?? str(obj(initiation['Creditor'])['Name']);
  const where = describeAccountIdentification(account);
  if (name && where) return `${name} (${where})`;
  return name ?? where;
}

/**
 * Whom a VRP consent pays, as the consent names them: the creditor account, and the ultimate creditor (the
 * merchant a payment service collects for) when it is another party.
 */
function vrpPayee(initiation: JsonObject): string | undefined {
  const account = payee(initiation);
  const ultimate = str(obj(initiation['UltimateCreditor'])['Name']);
  if (ultimate && account && !account.startsWith(ultimate)) return `${ultimate}, through ${account}`;
  return account ?? ultimate;
}

function reference(initiation: JsonObject): string | undefined {
  const remittance = obj(initiation['RemittanceInformation']);
  // v4.0 carries the reference in Structured[].CreditorReferenceInformation and lines in Unstructured[].
  const structured = Array.isArray(remittance['Structured']) ? remittance['Structured'] : [];
  const structuredReference = structured
    .map((entry) => str(obj(obj(entry)['CreditorReferenceInformation'])['Reference']))
    .find((found) => found !== undefined);
  const unstructured = Array.isArray(remittance['Unstructured'])
    ? str(remittance['Unstructured'].map(str).filter(Boolean).join(' '))
    : str(remittance['Unstructured']);
  return str(remittance['Reference']) ?? structuredReference ?? str(initiation['Reference']) ?? unstructured;
}

const WEEKDAYS = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

function ordinal(n: number): string {
  const suffix =
    n % 10 === 1 && n !== 11
      ? 'st'
      : n % 10 === 2 && n !== 12
        ? 'nd'
        : n % 10 === 3 && n !== 13
          ? 'rd'
          : 'th';
  return `${n}${suffix}`;
}

/** v4.0's ISO frequency codes (OBFrequency6Code) in words. */
const ISO_FREQUENCIES: Readonly<Record<string, string>> = {
  DAIL: 'every day',
  WEEK: 'every week',
  FRTN: 'every two weeks',
  MNTH: 'every month',
  QURT: 'every quarter',
  MIAN: 'every six months',
  YEAR: 'every year',
};

/** OB standing-order frequency codes in words (falls back to the code). */
export function describeFrequency(code: string): string {
  const iso = ISO_FREQUENCIES[code];
  if (iso) return iso;
  if (code === 'EvryDay') return 'every day';
  if (code === 'EvryWorkgDay') return 'every working day';
  let m = /^IntrvlWkDay:(\d{2}):(\d{2})$/.exec(code);
  if (m) {
    const weeks = Number(m[1]);
    const day = WEEKDAYS[Number(m[2])] ?? `day ${m[2]}`;
    return weeks === 1 ? `every week on ${day}` : `every ${weeks} weeks on ${day}`;
  }
  m = /^WkInMnthDay:(\d{2}):(\d{2})$/.exec(code);
  if (m) return `every month, in week ${Number(m[1])} on ${WEEKDAYS[Number(m[2])] ?? `day ${m[2]}`}`;
  m = /^IntrvlMnthDay:(\d{2}):(-?\d{2})$/.exec(code);
  if (m) {
    const months = Number(m[1]);
    const day = Number(m[2]);
    const dayText =
      day < 0 ? (day === -1 ? 'the last day' : `${ordinal(-day)} from last day`) : `the ${ordinal(day)}`;
    return months === 1 ? `every month on ${dayText}` : `every ${months} months on ${dayText}`;
  }
  m = /^QtrDay:(ENGLISH|SCOTTISH|RECEIVED)$/.exec(code);
  if (m) return `every quarter (${m[1]!.toLowerCase()} quarter days)`;
  return code;
}

function push(facts: Fact[], label: string, value: string | undefined): void {
  if (value) facts.push({ label, value });
}

const CHARGE_BEARERS: Record<string, string> = {
  BorneByDebtor: 'paid by you',
  BorneByCreditor: 'paid by the payee',
  Shared: 'shared between you and the payee',
  FollowingServiceLevel: 'as the payment scheme sets',
};

/**
 * The charges the bank quoted to the TPP when it staged the consent (`Data.Quote.Charges`, kept with the
 * intent); "None" when it quoted none. Domestic and file payments carry no quote and no charge.
 */
function chargesOf(data: JsonObject): string {
  const charges = obj(data['Quote'])['Charges'];
  if (!Array.isArray(charges) || charges.length === 0) return 'None';
  return charges
    .map((charge) => {
      const c = obj(charge);
      const amount = money(c['Amount']) ?? 'an amount';
      const bearer = str(c['ChargeBearer']);
      return bearer ? `${amount}, ${CHARGE_BEARERS[bearer] ?? bearer}` : amount;
    })
    .join('; ');
}

/**
 * The exchange rate as quoted to the TPP (`Data.Quote.ExchangeRateInformation`): "1 GBP = 1.165 EUR
 * (indicative)". Without a quoted rate (no conversion), the rate type the TPP asked for, if any.
 */
function exchangeRateOf(data: JsonObject, initiation: JsonObject): string | undefined {
  const quoted = obj(obj(data['Quote'])['ExchangeRateInformation']);
  const rate = quoted['ExchangeRate'];
  const unit = str(quoted['UnitCurrency']);
  const to = str(initiation['CurrencyOfTransfer']);
  if ((typeof rate === 'number' || typeof rate === 'string') && unit && to) {
    const type = str(quoted['RateType']);
    return `1 ${unit} = ${String(rate)} ${to}${type ? ` (${type.toLowerCase()})` : ''}`;
  }
  if (data['Quote'] !== undefined) return undefined;
  const asked = obj(initiation['ExchangeRateInformation']);
  const askedType = str(asked['RateType']);
  const askedRate = asked['ExchangeRate'];
  return typeof askedRate === 'number' || typeof askedRate === 'string'
    ? `${String(askedRate)} (${askedType ?? 'agreed'})`
    : askedType && `${askedType} rate`;
}

function expirySentence(expiresAt: Date | undefined): string {
  return expiresAt ? `Until ${formatDateTime(expiresAt)}` : 'Until you cancel it';
}

/** The intent as the PSU reads it, with the TPP's name. */
export function describeIntent(intent: Intent, tppName: string): IntentDescription {
  const data = intent.data;
  const initiation = obj(data['Initiation']);
  const facts: Fact[] = [];
  switch (intent.kind) {
    case 'account-access': {
      const from = dateOf(data['TransactionFromDateTime']);
      const to = dateOf(data['TransactionToDateTime']);
      const range =
        from && to ? `From ${from} to ${to}` : from ? `From ${from} onwards` : to ? `Up to ${to}` : undefined;
      const readsTransactions = intent.permissions.some((p) => p.startsWith('ReadTransactions'));
      if (readsTransactions) push(facts, 'Transactions covered', range ?? 'All your transaction history');
      push(facts, 'Access lasts', expirySentence(intent.expiresAt));
      return {
        headline: `${tppName} asks to see information about your accounts.`,
        groups: describePermissions(intent.permissions),
        facts,
      };
    }
    case 'domestic-payment':
    case 'domestic-scheduled-payment':
    case 'international-payment':
    case 'international-scheduled-payment': {
      const amount = money(initiation['InstructedAmount']);
      push(facts, 'Amount', amount);
      if (intent.kind.startsWith('international')) {
        push(facts, 'Paid in', str(initiation['CurrencyOfTransfer']));
        push(facts, 'Exchange rate', exchangeRateOf(data, initiation));
      }
      push(facts, 'To', payee(initiation));
      push(facts, 'Reference', reference(initiation));
      push(
        facts,
        'Date',
        intent.kind.includes('scheduled')
          ? dateOf(initiation['RequestedExecutionDateTime'], true)
          : 'Straight away',
      );
      push(facts, 'Charges', chargesOf(data));
      const what = intent.kind.includes('scheduled') ? 'schedule a payment' : 'make a payment';
      return {
        headline: `${tppName} asks to ${what}${amount ? ` of ${amount}` : ''} from your account.`,
        groups: [],
        facts,
      };
    }
    case 'domestic-standing-order':
    case 'international-standing-order': {
      // v4.0 keeps the schedule in MandateRelatedInformation, its Frequency an object with a Type.
      const schedule = isObject(initiation['MandateRelatedInformation'])
        ? initiation['MandateRelatedInformation']
        : initiation;
      const frequency = str(schedule['Frequency']) ?? str(obj(schedule['Frequency'])['Type']);
      push(facts, 'How often', frequency && describeFrequency(frequency));
      push(
        facts,
        'First payment',
        money(initiation['FirstPaymentAmount']) ?? money(initiation['InstructedAmount']),
      );
      push(facts, 'First payment date', dateOf(schedule['FirstPaymentDateTime']));
      push(facts, 'Regular payment', money(initiation['RecurringPaymentAmount']));
      push(facts, 'Final payment', money(initiation['FinalPaymentAmount']));
      if (intent.kind === 'international-standing-order') {
        push(facts, 'Paid in', str(initiation['CurrencyOfTransfer']));
        push(facts, 'Exchange rate', exchangeRateOf(data, initiation));
      }
      const count = initiation['NumberOfPayments'];
      push(
        facts,
        'Ends',
        dateOf(schedule['FinalPaymentDateTime']) ??
          (count !== undefined ? `After ${String(count)} payments` : 'When you cancel it'),
      );
      push(facts, 'To', payee(initiation));
      push(facts, 'Reference', reference(initiation));
      push(facts, 'Charges', chargesOf(data));
      return { headline: `${tppName} asks to set up a standing order from your account.`, groups: [], facts };
    }
    case 'file-payment': {
      push(
        facts,
        'Number of payments',
        initiation['NumberOfTransactions'] !== undefined
          ? String(initiation['NumberOfTransactions'])
          : undefined,
      );
      push(
        facts,
        'Total',
        initiation['ControlSum'] !== undefined ? String(initiation['ControlSum']) : undefined,
      );
      push(facts, 'File', str(initiation['FileReference']));
      push(facts, 'File type', str(initiation['FileType']));
      push(facts, 'Date', dateOf(initiation['RequestedExecutionDateTime'], true) ?? 'Straight away');
      push(facts, 'Charges', chargesOf(data));
      return {
        headline: `${tppName} asks to make a batch of payments from your account.`,
        groups: [],
        facts,
      };
    }
    case 'funds-confirmation': {
      push(facts, 'Account', describeAccountIdentification(data['DebtorAccount']));
      push(facts, 'Access lasts', expirySentence(intent.expiresAt));
      return {
        headline: `${tppName} asks to check, when you buy something, whether your account has enough money to pay for it. It will only get a yes or no answer, never your balance.`,
        groups: [],
        facts,
      };
    }
    case 'domestic-vrp': {
      const control = obj(data['ControlParameters']);
      const types = (Array.isArray(control['VRPType']) ? control['VRPType'] : []).flatMap(
        (type) => VRP_KINDS[String(type)] ?? [],
      );
      const regime = types[0]?.regime ?? 'other';
      const paidTo = vrpPayee(initiation);
      push(facts, 'Kind of payments', types.map((kind) => kind.words).join('; ') || undefined);
      push(facts, 'To', paidTo);
      push(facts, 'Your customer reference with them', str(intent.risk['MerchantCustomerIdentification']));
      push(facts, 'Reference', reference(initiation));
      push(facts, 'Most per payment', money(control['MaximumIndividualAmount']));
      const limits = Array.isArray(control['PeriodicLimits']) ? control['PeriodicLimits'] : [];
      for (const limit of limits) {
        const l = obj(limit);
        const period = str(l['PeriodType']);
        const amount = formatMoney(str(l['Amount']) ?? '0', str(l['Currency']) ?? '');
        if (period) push(facts, `Most per ${period.toLowerCase()}`, amount);
      }
      const interactions = Array.isArray(control['PSUInteractionTypes'])
        ? control['PSUInteractionTypes']
        : [];
      push(
        facts,
        'Payments are made',
        interactions.length > 0
          ? interactions.map((type) => VRP_INTERACTIONS[String(type)] ?? String(type)).join(', or ')
          : undefined,
      );
      push(facts, 'Starts', dateOf(control['ValidFromDateTime']) ?? 'Now');
      push(facts, 'Access lasts', expirySentence(intent.expiresAt));
      const to = paidTo ? ` to ${paidTo}` : '';
      return {
        headline:
          regime === 'sweeping'
            ? `${tppName} asks to move money between your own accounts when needed, within the limits below.`
            : regime === 'commercial'
              ? `${tppName} asks to make commercial payments from your account${to} when needed, within the limits below.`
              : `${tppName} asks to make payments from your account${to} when needed, within the limits below.`,
        groups: [],
        facts,
      };
    }
  }
}
