import { ObError } from '../errors.ts';

/**
 * The date-time query filters of the Read/Write APIs (`fromBookingDateTime`, `toStatementDateTime`, …).
 * The specification: "The UTC ISO 8601 Date Time to filter … FROM. NB Time component is optional - set
 * to 00:00:00 for just Date. If the Date Time contains a timezone, the ASPSP must ignore the timezone
 * component." So `2024-03-01`, `2024-03-01T10:15`, `2024-03-01T10:15:30.5` and `2024-03-01T10:15:30+02:00`
 * are all read as UTC wall-clock times; anything else, or an impossible calendar date, is a 400
 * `UK.OBIE.Field.InvalidDate` naming the parameter.
 */
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

export function parseQueryDateTime(value: unknown, parameter: string): Date | undefined {
  if (value === undefined) return undefined;
  const invalid = () =>
    ObError.single(
      400,
      'UK.OBIE.Field.InvalidDate',
      `${parameter} must be an ISO 8601 date or date-time such as 2024-03-01T00:00:00`,
      parameter,
    );
  if (typeof value !== 'string') throw invalid();
  const match = DATE_TIME.exec(value);
  if (!match) throw invalid();
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = ''] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const millis = Number(fraction.slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) throw invalid();
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis));
  // Date.UTC rolls 2024-02-30 over into March: refuse what is not on the calendar.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day)
    throw invalid();
  return date;
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
