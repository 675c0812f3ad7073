/**
 * Money: decimal strings at the edge, integer minor units (bigint) inside. Never a float.
 */
import { BankError } from './errors.ts';

/**
 * ISO 4217 active currencies whose minor unit is not 2. Every other code listed in `ISO_CURRENCIES`
 * has exponent 2.
 */
const EXPONENT_EXCEPTIONS: Readonly<Record<string, number>> = {
  BHD: 3,
  BIF: 0,
  CLF: 4,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  IQD: 3,
  ISK: 0,
  JOD: 3,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  PYG: 0,
  RWF: 0,
  TND: 3,
  UGX: 0,
  UYI: 0,
  UYW: 4,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
};

/** ISO 4217 active currency codes (list one, 2024), funds codes included; precious metals excluded. */
const ISO_CURRENCIES = new Set(
  (
    'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD ' +
    'CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL ' +
    'GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD ' +
    'KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO ' +
    'NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD ' +
    'SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV ' +
    'WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG'
  ).split(' '),
);

export class InvalidAmountError extends BankError {
  constructor(message: string) {
    super('invalid-amount', message);
  }
}

export class UnknownCurrencyError extends BankError {
  readonly currency: string;
  constructor(currency: string) {
    super('unknown-currency', `unknown currency: ${JSON.stringify(currency)}`);
    this.currency = currency;
  }
}

export function isKnownCurrency(currency: string): boolean {
  return ISO_CURRENCIES.has(currency);
}

/** Number of decimal places of a currency's minor unit (GBP 2, JPY 0, BHD 3). */
export function currencyExponent(currency: string): number {
  if (!ISO_CURRENCIES.has(currency)) throw new UnknownCurrencyError(currency);
  return EXPONENT_EXCEPTIONS[currency] ?? 2;
}

/** The OB amount pattern: up to 13 integer digits, up to 5 decimals, no sign, no exponent. */
const AMOUNT = /^(\d{1,13})(?:\.(\d{1,5}))?$/;
const SIGNED_AMOUNT = /^(-?)(\d{1,18})(?:\.(\d{1,18}))?$/;

export interface ParseOptions {
  /** Refuse zero (payments). Default false. */
  positive?: boolean;
}

/**
 * Parses an Open Banking amount string ("12.34") into minor units of `currency`.
 * Refuses: anything but the OB pattern (signs, exponents, spaces, commas), more significant decimals
 * than the currency has (trailing zeros beyond the exponent are value-exact and accepted: "10.50" JPY is
 * refused, "10.00" JPY is 10), unknown currencies, and zero when `positive` is asked.
 */
export function toMinor(amount: string, currency: string, options: ParseOptions = {}): bigint {
  const exponent = currencyExponent(currency);
  if (typeof amount !== 'string') throw new InvalidAmountError('amount must be a decimal string');
  const match = AMOUNT.exec(amount);
  if (!match) throw new InvalidAmountError(`not a valid amount: ${JSON.stringify(amount)}`);
  return digitsToMinor(match[1] ?? '0', match[2] ?? '', exponent, currency, amount, options);
}

/** Like `toMinor` but accepts a leading minus and longer numbers: for internal use (seed data, rates). */
export function signedToMinor(amount: string, currency: string): bigint {
  const exponent = currencyExponent(currency);
  const match = SIGNED_AMOUNT.exec(amount);
  if (!match) throw new InvalidAmountError(`not a valid amount: ${JSON.stringify(amount)}`);
  const value = digitsToMinor(match[2] ?? '0', match[3] ?? '', exponent, currency, amount, {});
  return match[1] === '-' ? -value : value;
}

function digitsToMinor(
  whole: string,
  fraction: string,
  exponent: number,
  currency: string,
  original: string,
  options: ParseOptions,
): bigint {
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > exponent) {
    throw new InvalidAmountError(
      `${JSON.stringify(original)} has more decimal places than ${currency} allows (${exponent})`,
    );
  }
  const value = BigInt(whole) * 10n ** BigInt(exponent) + BigInt(significant.padEnd(exponent, '0') || '0');
  if (options.positive && value <= 0n) throw new InvalidAmountError('amount must be greater than zero');
  return value;
}

/** Minor units to a decimal string with exactly the currency's decimals; negative values keep a "-". */
export function fromMinor(value: bigint, currency: string): string {
  const exponent = currencyExponent(currency);
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent);
  return `${negative ? '-' : ''}${whole}${exponent > 0 ? `.${fraction}` : ''}`;
}

/** Absolute value as an OB amount string plus the Credit/Debit indicator of its sign (zero is Credit). */
export function toCreditDebit(
  value: bigint,
  currency: string,
): { amount: string; creditDebit: 'Credit' | 'Debit' } {
  return {
    amount: fromMinor(value < 0n ? -value : value, currency),
    creditDebit: value < 0n ? 'Debit' : 'Credit',
  };
}

/**
 * Converts minor units of one currency into another at a decimal rate ("1.1650" = 1 unit of `from`
 * buys 1.1650 of `to`), rounding half away from zero to the target's minor unit. Exact: no floats.
 */
export function convertMinor(value: bigint, from: string, to: string, rate: string): bigint {
  const match = /^(\d{1,12})(?:\.(\d{1,12}))?$/.exec(rate);
  if (!match) throw new InvalidAmountError(`not a valid rate: ${JSON.stringify(rate)}`);
  const fraction = match[2] ?? '';
  const rateScaled = BigInt((match[1] ?? '0') + fraction);
  if (rateScaled === 0n) throw new InvalidAmountError('rate must be greater than zero');
  const fromExp = currencyExponent(from);
  const toExp = currencyExponent(to);
  // value * rate * 10^toExp / 10^fromExp, rate = rateScaled / 10^fraction.length
  const numerator = value * rateScaled * 10n ** BigInt(toExp);
  const denominator = 10n ** BigInt(fraction.length + fromExp);
  const negative = numerator < 0n;
  const abs = negative ? -numerator : numerator;
  const rounded = (abs * 2n + denominator) / (denominator * 2n);
  return negative ? -rounded : rounded;
}
