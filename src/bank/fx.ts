/**
 * The sandbox's foreign-exchange table: fixed mid-market rates against GBP, so international payments
 * convert deterministically. Cross rates are derived exactly (bigint arithmetic) and quoted to six
 * decimal places. Not market data: a sandbox fixture, documented as such.
 */
import { BankError } from './errors.ts';
import { convertMinor, currencyExponent } from './money.ts';

/** Units of each currency per 1 GBP. */
export const SANDBOX_GBP_RATES: Readonly<Record<string, string>> = {
  GBP: '1',
  EUR: '1.1650',
  USD: '1.2700',
  JPY: '187.23',
  CHF: '1.1180',
  CAD: '1.7250',
  AUD: '1.9350',
  NZD: '2.1020',
  SEK: '13.4200',
  NOK: '13.6100',
  DKK: '8.6900',
  PLN: '5.0400',
  CZK: '28.9500',
  HUF: '455.10',
  INR: '106.30',
  CNY: '9.1800',
  HKD: '9.9200',
  SGD: '1.7050',
  ZAR: '23.4100',
  AED: '4.6640',
  BHD: '0.4788',
  KWD: '0.3897',
};

const SCALE = 12;

function scaled(rate: string): bigint {
  const [whole = '0', fraction = ''] = rate.split('.');
  return BigInt(whole + fraction.padEnd(SCALE, '0').slice(0, SCALE));
}

export class UnsupportedCurrencyPairError extends BankError {
  constructor(from: string, to: string) {
    super('unknown-currency', `the sandbox has no exchange rate for ${from}/${to}`);
  }
}

/** Units of `to` per 1 unit of `from`, as a decimal string with 6 decimals (half away from zero). */
export function sandboxFxRate(from: string, to: string): string {
  currencyExponent(from);
  currencyExponent(to);
  const f = SANDBOX_GBP_RATES[from];
  const t = SANDBOX_GBP_RATES[to];
  if (f === undefined || t === undefined) throw new UnsupportedCurrencyPairError(from, to);
  if (from === to) return '1.000000';
  // (t / f) * 10^6, rounded.
  const numerator = scaled(t) * 10n ** 6n * 2n;
  const denominator = scaled(f);
  const value = (numerator / denominator + 1n) / 2n;
  const digits = value.toString().padStart(7, '0');
  return `${digits.slice(0, -6)}.${digits.slice(-6)}`;
}

export interface FxQuote {
  sourceCurrency: string;
  targetCurrency: string;
  /** The currency of which one unit buys `rate` units of the other (always the source here). */
  unitCurrency: string;
  rate: string;
  sourceMinor: bigint;
  targetMinor: bigint;
}

/** How much `targetCurrency` an amount of `sourceCurrency` buys at the sandbox rate. */
export function quoteFx(sourceMinor: bigint, sourceCurrency: string, targetCurrency: string): FxQuote {
  const rate = sandboxFxRate(sourceCurrency, targetCurrency);
  return {
    sourceCurrency,
    targetCurrency,
    unitCurrency: sourceCurrency,
    rate,
    sourceMinor,
    targetMinor: convertMinor(sourceMinor, sourceCurrency, targetCurrency, rate),
  };
}

/**
 * The source amount needed to deliver `targetMinor` (an instructed amount in the payee's currency),
 * rounded up so the payee never receives less than instructed.
 */
export function quoteFxForTarget(
  targetMinor: bigint,
  sourceCurrency: string,
  targetCurrency: string,
): FxQuote {
  const rate = sandboxFxRate(sourceCurrency, targetCurrency);
  const inverse = sandboxFxRate(targetCurrency, sourceCurrency);
  let sourceMinor = convertMinor(targetMinor, targetCurrency, sourceCurrency, inverse);
  while (convertMinor(sourceMinor, sourceCurrency, targetCurrency, rate) < targetMinor) sourceMinor += 1n;
  return { sourceCurrency, targetCurrency, unitCurrency: sourceCurrency, rate, sourceMinor, targetMinor };
}
