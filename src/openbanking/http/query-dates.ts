import { ObError } from '../errors.ts';

/**
 * The date-time query filters of the Read/Write APIs (`fromBookingDateTime`, `toStatementDateTime`, …).
 * The parameters' description: "The UTC ISO 8601 Date Time to filter … FROM. NB Time component is
 * optional - set to 00:00:00 for just Date. If the Date Time contains a timezone, the ASPSP must ignore
 * the timezone component." The Read/Write Data API Profile, "Date Formats": "An ASPSP must accept all
 * valid ISO-8601 date formats including its permitted variations (e.g. variations in how the timezone is
 * defined, dates with or with a seconds or milliseconds part etc.)".
 *
 * So a complete ISO 8601 date — calendar (`2024-03-01`), ordinal (`2024-061`) or week (`2024-W09-5`) —
 * optionally followed by `T` and a time of day of hours, minutes or seconds with an optional decimal
 * fraction (`.` or `,`), optionally followed by a zone (`Z`, `±hh`, `±hh:mm`), which is read and then
 * ignored: the value is a UTC wall-clock time. Each in the extended form (with `-` and `:`) or the basic
 * one (`20240301T101530`, `2024061`, `2024W095`, offset `±hhmm`), one form throughout, as ISO 8601 asks
 * of a combined date and time. Anything else, or an impossible date or time, is a 400
 * `UK.OBIE.Field.InvalidDate` naming the parameter.
 */
const EXTENDED_DATE = /^(\d{4})-(?:(\d{2})-(\d{2})|(\d{3})|W(\d{2})-([1-7]))$/;
const BASIC_DATE = /^(\d{4})(?:(\d{2})(\d{2})|(\d{3})|W(\d{2})([1-7]))$/;
const EXTENDED_TIME = /^(\d{2})(?::(\d{2})(?::(\d{2}))?)?(?:[.,](\d{1,9}))?(?:Z|[+-]\d{2}(?::\d{2})?)?$/;
const BASIC_TIME = /^(\d{2})(?:(\d{2})(\d{2})?)?(?:[.,](\d{1,9}))?(?:Z|[+-]\d{2}(?:\d{2})?)?$/;
const DAY_MS = 86_400_000;

/** Midnight UTC of a day; unlike Date.UTC, years 0–99 stay years 0–99. */
function utc(year: number, monthIndex: number, day: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  return date.getTime();
}

/** Midnight UTC of an ISO 8601 calendar, ordinal or week date; undefined when it is not on the calendar. */
function dateOf(match: RegExpExecArray): number | undefined {
  const [, y, month, day, ordinal, week, weekday] = match;
  const year = Number(y);
  if (month !== undefined && day !== undefined) {
    const m = Number(month);
    const d = Number(day);
    const time = utc(year, m - 1, d);
    const date = new Date(time);
    // Dates roll 2024-02-30 over into March: refuse what is not on the calendar.
    return m >= 1 && m <= 12 && date.getUTCMonth() === m - 1 && date.getUTCDate() === d ? time : undefined;
  }
  if (ordinal !== undefined) {
    const n = Number(ordinal);
    const time = utc(year, 0, n);
    return n >= 1 && new Date(time).getUTCFullYear() === year ? time : undefined;
  }
  // ISO week dates: week 1 is the week (Monday first) that holds 4 January.
  const fourth = utc(year, 0, 4);
  const mondayOfWeek1 = fourth - ((new Date(fourth).getUTCDay() + 6) % 7) * DAY_MS;
  const w = Number(week);
  const time = mondayOfWeek1 + ((w - 1) * 7 + Number(weekday) - 1) * DAY_MS;
  // A year has 52 or 53 weeks: week 53 exists only when it still holds a Thursday of this year.
  const thursday = new Date(time - ((new Date(time).getUTCDay() + 6) % 7) * DAY_MS + 3 * DAY_MS);
  return w >= 1 && thursday.getUTCFullYear() === year ? time : undefined;
}

/** Milliseconds into the day of an ISO 8601 time of day; undefined when it is no time on a clock. */
function timeOf(match: RegExpExecArray): number | undefined {
  const [, h, mi, s, fraction] = match;
  const hour = Number(h);
  const minute = Number(mi ?? 0);
  const second = Number(s ?? 0);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  // A fraction belongs to the smallest unit given (ISO 8601 §4.2.2.4): 10.5 is half past ten.
  const unit = s !== undefined ? 1000 : mi !== undefined ? 60_000 : 3_600_000;
  const part = fraction ? Math.round(Number(`0.${fraction}`) * unit) : 0;
  return ((hour * 60 + minute) * 60 + second) * 1000 + part;
}

export function parseQueryDateTime(value: unknown, parameter: string): Date | undefined {
  if (value === undefined) return undefined;
  const invalid = () =>
    ObError.single(
      400,
      'UK.OBIE.Field.InvalidDate',
      `${parameter} must be an ISO 8601 date or date-time such as 2024-03-01T00:00:00 or 20240301T000000`,
      parameter,
    );
  if (typeof value !== 'string') throw invalid();
  const [datePart = '', timePart, ...rest] = value.split('T');
  if (rest.length > 0) throw invalid();
  const extended = EXTENDED_DATE.exec(datePart);
  const dateMatch = extended ?? BASIC_DATE.exec(datePart);
  if (!dateMatch) throw invalid();
  const date = dateOf(dateMatch);
  if (date === undefined) throw invalid();
  if (timePart === undefined) return new Date(date);
  const timeMatch = (extended ? EXTENDED_TIME : BASIC_TIME).exec(timePart);
  const time = timeMatch ? timeOf(timeMatch) : undefined;
  if (time === undefined) throw invalid();
  return new Date(date + time);
}

/** A closed time window; either end open. */
export interface TimeWindow {
  from?: Date;
  to?: Date;
}

/**
 * The window both bounds allow (the consent's `TransactionFromDateTime`/`ToDateTime` and the query's
 * filters), or `undefined` when they do not overlap.
 */
export function intersectWindows(a: TimeWindow, b: TimeWindow): TimeWindow | undefined {
  const later = (x?: Date, y?: Date) => (x && y ? (x > y ? x : y) : (x ?? y));
  const earlier = (x?: Date, y?: Date) => (x && y ? (x < y ? x : y) : (x ?? y));
  const from = later(a.from, b.from);
  const to = earlier(a.to, b.to);
  if (from && to && from > to) return undefined;
  return { ...(from ? { from } : {}), ...(to ? { to } : {}) };
}

/** The query parameter's one value: repeated parameters are refused rather than silently picking one. */
export function singleQueryValue(query: unknown, name: string): unknown {
  const value = (query as Record<string, unknown> | undefined)?.[name];
  if (Array.isArray(value)) {
    throw ObError.single(400, 'UK.OBIE.Field.Invalid', `${name} may be given only once`, name);
  }
  return value;
}
