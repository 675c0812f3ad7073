import { and, asc, gt, gte, lt, sql } from 'drizzle-orm';
import type { Queryable } from '../../store/index.ts';
import { miDowntime, miHourly } from '../../store/schema/mi.ts';
import { unionLength } from './availability.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** One row of the report: one hour of one endpoint and version, as OB's MI template asks for it. */
export interface MiHourRow {
  /** The hour's start, ISO 8601 UTC. */
  hour: string;
  version: string;
  endpoint: string;
  calls: number;
  successes: number;
  businessFailures: number;
  technicalFailures: number;
  /** Mean over the hour's calls, in milliseconds (null without calls). */
  averageFirstByteMs: number | null;
  averageLastByteMs: number | null;
  requestBytes: number;
  responseBytes: number;
  /** Seconds of the hour the endpoint was down (OB's rule, `availability.ts`). */
  downtimeSeconds: number;
  /** 100 × (1 − downtime / the hour). */
  availabilityPercent: number;
}

export interface MiReport {
  from: string;
  to: string;
  rows: MiHourRow[];
}

/**
 * The MI of every instance between `from` and `to` (whole hours: `from` rounded down, `to` up), from the
 * database: one row per hour, endpoint and version that had calls or downtime.
 */
export async function readMiReport(db: Queryable, range: { from: Date; to: Date }): Promise<MiReport> {
  const from = Math.floor(range.from.getTime() / HOUR_MS) * HOUR_MS;
  const to = Math.ceil(range.to.getTime() / HOUR_MS) * HOUR_MS;
  const { hourly, windows } = await readMiRows(db, from, to);
  const downtimeOf = downtimeIntervals(windows, (window) => `${window.version} ${window.endpoint}`);
  const rows = new Map<string, MiHourRow>();
  for (const row of hourly) {
    const key = `${row.hour.getTime()} ${row.version} ${row.endpoint}`;
    rows.set(key, {
      hour: row.hour.toISOString(),
      version: row.version,
      endpoint: row.endpoint,
      calls: row.calls,
      successes: row.successes,
      businessFailures: row.businessFailures,
      technicalFailures: row.technicalFailures,
      averageFirstByteMs: row.calls > 0 ? round(row.firstByteMicros / row.calls / 1000, 3) : null,
      averageLastByteMs: row.calls > 0 ? round(row.lastByteMicros / row.calls / 1000, 3) : null,
      requestBytes: row.requestBytes,
      responseBytes: row.responseBytes,
      downtimeSeconds: 0,
      availabilityPercent: 100,
    });
  }
  // Hours with downtime but no row (an outage whose failures were counted in an earlier hour) get one too.
  for (const [key, intervals] of downtimeOf) {
    const [version = '', ...rest] = key.split(' ');
    const endpoint = rest.join(' ');
    for (let hour = from; hour < to; hour += HOUR_MS) {
      const down = unionLength(intervals, hour, hour + HOUR_MS);
      if (down === 0) continue;
      const rowKey = `${hour} ${key}`;
      const row =
        rows.get(rowKey) ??
        rows
          .set(rowKey, {
            hour: new Date(hour).toISOString(),
            version,
            endpoint,
            calls: 0,
            successes: 0,
            businessFailures: 0,
            technicalFailures: 0,
            averageFirstByteMs: null,
            averageLastByteMs: null,
            requestBytes: 0,
            responseBytes: 0,
            downtimeSeconds: 0,
            availabilityPercent: 100,
          })
          .get(rowKey)!;
      row.downtimeSeconds = round(down / 1000, 3);
      row.availabilityPercent = round(100 * (1 - down / HOUR_MS), 3);
    }
  }
  const sorted = [...rows.values()].sort(
    (a, b) =>
      a.hour.localeCompare(b.hour) ||
      a.version.localeCompare(b.version) ||
      a.endpoint.localeCompare(b.endpoint),
  );
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), rows: sorted };
}

/** The API an endpoint belongs to: its first path segment (`aisp`, `pisp`, `cbpii`, `events`, …). */
export function apiOf(endpoint: string): string {
  return endpoint.split(' ')[1]?.split('/')[1] ?? endpoint;
}

/** One day of one API (all its endpoints) and version: what the console's charts draw. */
export interface MiDay {
  day: string;
  api: string;
  version: string;
  calls: number;
  technicalFailures: number;
  /** Mean time to last byte over the day's calls, in milliseconds (null without calls). */
  averageLastByteMs: number | null;
  /** 100 × (1 − downtime / the day); the API counts as down while any of its endpoints is. */
  availabilityPercent: number;
}

export async function readMiDays(db: Queryable, range: { from: Date; to: Date }): Promise<MiDay[]> {
  const from = Math.floor(range.from.getTime() / DAY_MS) * DAY_MS;
  const to = Math.ceil(range.to.getTime() / DAY_MS) * DAY_MS;
  const { hourly, windows } = await readMiRows(db, from, to);
  const days = new Map<string, MiDay & { lastByteMicros: number; dayStart: number }>();
  const dayOf = (dayStart: number, api: string, version: string) => {
    const key = `${dayStart} ${version} ${api}`;
    let day = days.get(key);
    if (!day) {
      day = {
        day: new Date(dayStart).toISOString().slice(0, 10),
        api,
        version,
        calls: 0,
        technicalFailures: 0,
        averageLastByteMs: null,
        availabilityPercent: 100,
        lastByteMicros: 0,
        dayStart,
      };
      days.set(key, day);
    }
    return day;
  };
  for (const row of hourly) {
    const day = dayOf(Math.floor(row.hour.getTime() / DAY_MS) * DAY_MS, apiOf(row.endpoint), row.version);
    day.calls += row.calls;
    day.technicalFailures += row.technicalFailures;
    day.lastByteMicros += row.lastByteMicros;
  }
  const intervalsOf = downtimeIntervals(windows, (window) => `${window.version} ${apiOf(window.endpoint)}`);
  for (const [key, intervals] of intervalsOf) {
    const [version = '', api = ''] = key.split(' ');
    for (let dayStart = from; dayStart < to; dayStart += DAY_MS) {
      const down = unionLength(intervals, dayStart, dayStart + DAY_MS);
      if (down > 0) dayOf(dayStart, api, version).availabilityPercent = round(100 * (1 - down / DAY_MS), 3);
    }
  }
  return [...days.values()]
    .map(({ lastByteMicros, dayStart: _dayStart, ...day }) => ({
      ...day,
      averageLastByteMs: day.calls > 0 ? round(lastByteMicros / day.calls / 1000, 3) : null,
    }))
    .sort(
      (a, b) =>
        a.day.localeCompare(b.day) || a.version.localeCompare(b.version) || a.api.localeCompare(b.api),
    );
}

/**
 * The hourly rows in `[from, to)` and the downtime windows that overlap it (an open window reaches to its
 * last failure): what both the report and the day view are computed from.
 */
async function readMiRows(db: Queryable, from: number, to: number) {
  const hourly = await db
    .select()
    .from(miHourly)
    .where(and(gte(miHourly.hour, new Date(from)), lt(miHourly.hour, new Date(to))))
    .orderBy(asc(miHourly.hour), asc(miHourly.version), asc(miHourly.endpoint));
  const windows = await db
    .select()
    .from(miDowntime)
    .where(
      and(
        lt(miDowntime.startedAt, new Date(to)),
        gt(sql`coalesce(${miDowntime.endedAt}, ${miDowntime.lastFailureAt})`, new Date(from)),
      ),
    );
  return { hourly, windows };
}

/** Downtime windows as `[start, end]` milliseconds, grouped by `keyOf`. */
function downtimeIntervals(
  windows: readonly (typeof miDowntime.$inferSelect)[],
  keyOf: (window: typeof miDowntime.$inferSelect) => string,
): Map<string, [number, number][]> {
  const intervalsOf = new Map<string, [number, number][]>();
  for (const window of windows) {
    const key = keyOf(window);
    const start = window.startedAt.getTime();
    // A window whose five failures and end fall in one millisecond still counts that millisecond.
    intervalsOf.set(key, [
      ...(intervalsOf.get(key) ?? []),
      [start, Math.max(start, (window.endedAt ?? window.lastFailureAt).getTime())],
    ]);
  }
  return intervalsOf;
}

const CSV_COLUMNS: readonly (keyof MiHourRow)[] = [
  'hour',
  'version',
  'endpoint',
  'calls',
  'successes',
  'businessFailures',
  'technicalFailures',
  'averageFirstByteMs',
  'averageLastByteMs',
  'requestBytes',
  'responseBytes',
  'downtimeSeconds',
  'availabilityPercent',
];

/** RFC 4180 CSV with a header line; empty cells where a mean has no calls. */
export function miReportCsv(report: MiReport): string {
  const cell = (value: unknown) => {
    const text = value === null || value === undefined ? '' : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [
    CSV_COLUMNS.join(','),
    ...report.rows.map((row) => CSV_COLUMNS.map((column) => cell(row[column])).join(',')),
  ]
    .map((line) => `${line}\r\n`)
    .join('');
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
