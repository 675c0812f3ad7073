/**
 * VRP periodic limits (OB VRP `PeriodicLimits`): which period an instant falls in, for each PeriodType
 * (Day, Week, Fortnight, Month, Half-year, Year) and PeriodAlignment:
 *  - `Calendar`: days start at 00:00, weeks on Monday, fortnights on the 1st and the 15th of the month,
 *    months on the 1st, half-years on 1 January and 1 July, years on 1 January;
 *  - `Consent`: periods of that length counted from the consent's start (ValidFromDateTime, else its
 *    creation); months, half-years and years on the same day of the month (clamped to short months).
 * All boundaries are computed in UTC.
 */
export const PERIOD_TYPES = ['Day', 'Week', 'Fortnight', 'Month', 'Half-year', 'Year'] as const;
export type PeriodType = (typeof PERIOD_TYPES)[number];
export type PeriodAlignment = 'Consent' | 'Calendar';

const DAY = 86_400_000;

export interface Period {
  /** Inclusive. */
  start: Date;
  /** Exclusive. */
  end: Date;
}

function utcDay(date: Date): number {
  return Math.floor(date.getTime() / DAY) * DAY;
}

/** `anchor` moved by `months` calendar months, the day of month clamped to the target month's length. */
function addMonths(anchor: Date, months: number): Date {
  const year = anchor.getUTCFullYear();
  const month = anchor.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(
      year,
      month,
      Math.min(anchor.getUTCDate(), lastDay),
      anchor.getUTCHours(),
      anchor.getUTCMinutes(),
      anchor.getUTCSeconds(),
      anchor.getUTCMilliseconds(),
    ),
  );
}

const MONTHS: Partial<Record<PeriodType, number>> = { Month: 1, 'Half-year': 6, Year: 12 };
const FIXED_DAYS: Partial<Record<PeriodType, number>> = { Day: 1, Week: 7, Fortnight: 14 };

/** The period of `type` and `alignment` that contains `at`. */
export function periodContaining(
  type: PeriodType,
  alignment: PeriodAlignment,
  consentStart: Date,
  at: Date,
): Period {
  if (alignment === 'Consent') {
    const days = FIXED_DAYS[type];
    if (days !== undefined) {
      const length = days * DAY;
      const index = Math.floor((at.getTime() - consentStart.getTime()) / length);
      const start = consentStart.getTime() + index * length;
      return { start: new Date(start), end: new Date(start + length) };
    }
    const months = MONTHS[type] ?? 1;
    // Estimate the index from the month difference, then correct by at most one step either way.
    let index = Math.floor(
      ((at.getUTCFullYear() - consentStart.getUTCFullYear()) * 12 +
        at.getUTCMonth() -
        consentStart.getUTCMonth()) /
        months,
    );
    while (addMonths(consentStart, index * months).getTime() > at.getTime()) index -= 1;
    while (addMonths(consentStart, (index + 1) * months).getTime() <= at.getTime()) index += 1;
    return {
      start: addMonths(consentStart, index * months),
      end: addMonths(consentStart, (index + 1) * months),
    };
  }
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  switch (type) {
    case 'Day': {
      const start = utcDay(at);
      return { start: new Date(start), end: new Date(start + DAY) };
    }
    case 'Week': {
      const weekday = (at.getUTCDay() + 6) % 7; // Monday 0
      const start = utcDay(at) - weekday * DAY;
      return { start: new Date(start), end: new Date(start + 7 * DAY) };
    }
    case 'Fortnight':
      return at.getUTCDate() < 15
        ? { start: new Date(Date.UTC(year, month, 1)), end: new Date(Date.UTC(year, month, 15)) }
        : { start: new Date(Date.UTC(year, month, 15)), end: new Date(Date.UTC(year, month + 1, 1)) };
    case 'Month':
      return { start: new Date(Date.UTC(year, month, 1)), end: new Date(Date.UTC(year, month + 1, 1)) };
    case 'Half-year': {
      const first = month < 6 ? 0 : 6;
      return { start: new Date(Date.UTC(year, first, 1)), end: new Date(Date.UTC(year, first + 6, 1)) };
    }
    case 'Year':
      return { start: new Date(Date.UTC(year, 0, 1)), end: new Date(Date.UTC(year + 1, 0, 1)) };
  }
}

export function isPeriodType(value: unknown): value is PeriodType {
  return typeof value === 'string' && (PERIOD_TYPES as readonly string[]).includes(value);
}
