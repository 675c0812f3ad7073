import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Database } from '../../store/index.ts';
import { miDowntime, miHourly } from '../../store/schema/mi.ts';
import { AvailabilityTracker, type DowntimeWindow } from './availability.ts';

const HOUR_MS = 3_600_000;

/** One hour's figures of one endpoint, as this instance counted them since its last flush. */
interface Bucket {
  hour: number;
  calls: number;
  successes: number;
  businessFailures: number;
  technicalFailures: number;
  firstByteMicros: number;
  lastByteMicros: number;
  requestBytes: number;
  responseBytes: number;
}

/** What is kept per endpoint and version: looked up once per route, so recording a call allocates nothing but a new hour's bucket. */
export interface MiSeries {
  readonly endpoint: string;
  readonly version: string;
  /** The bucket of the hour being counted (most calls fall in it), and the earlier ones not yet flushed. */
  current: Bucket | undefined;
  pending: Bucket[];
  readonly availability: AvailabilityTracker;
}

export interface MiCall {
  /** Epoch milliseconds, from the platform's clock. */
  at: number;
  status: number;
  firstByteMs: number;
  lastByteMs: number;
  requestBytes: number;
  responseBytes: number;
}

/**
 * Counts the Read/Write API calls of one instance per hour, endpoint and version in memory, and adds them
 * to `mi_hourly` every few seconds (one upsert per flush, never on a request's path) and at shutdown. A flush
 * that fails (the database is down) keeps its figures for the next one, so nothing counted is lost while
 * the process lives.
 */
export class MiRecorder {
  readonly #db: Database;
  readonly #series = new Map<string, MiSeries>();
  /** Downtime windows opened, extended or closed since the last flush. */
  readonly #changedWindows = new Map<string, ChangedWindow>();
  #flushing: Promise<void> | undefined;

  constructor(db: Database) {
    this.#db = db;
  }

  series(endpoint: string, version: string): MiSeries {
    const key = `${version} ${endpoint}`;
    let series = this.#series.get(key);
    if (!series) {
      series = {
        endpoint,
        version,
        current: undefined,
        pending: [],
        availability: new AvailabilityTracker(),
      };
      this.#series.set(key, series);
    }
    return series;
  }

  record(series: MiSeries, call: MiCall): void {
    const hour = call.at - (call.at % HOUR_MS);
    let bucket = series.current;
    if (!bucket || bucket.hour !== hour) {
      if (bucket) series.pending.push(bucket);
      bucket = series.current = emptyBucket(hour);
    }
    bucket.calls += 1;
    if (call.status >= 500) bucket.technicalFailures += 1;
    else if (call.status >= 400) bucket.businessFailures += 1;
    else bucket.successes += 1;
    bucket.firstByteMicros += Math.round(call.firstByteMs * 1000);
    bucket.lastByteMicros += Math.round(call.lastByteMs * 1000);
    bucket.requestBytes += call.requestBytes;
    bucket.responseBytes += call.responseBytes;
    const window =
      call.status >= 500
        ? series.availability.failure(call.at, randomUUID)
        : series.availability.answered(call.at);
    if (window) this.#changedWindows.set(window.id, { series, window });
  }

  /** Writes what was counted since the last flush; concurrent callers share one flush. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    this.#flushing = this.#write().finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  async #write(): Promise<void> {
    const buckets: { series: MiSeries; bucket: Bucket }[] = [];
    for (const series of this.#series.values()) {
      // One row per hour: a batch a failed flush kept may share its hour with the current one.
      const byHour = new Map<number, Bucket>();
      for (const bucket of [...series.pending, ...(series.current ? [series.current] : [])]) {
        const same = byHour.get(bucket.hour);
        if (same) addInto(same, bucket);
        else byHour.set(bucket.hour, bucket);
      }
      series.pending = [];
      series.current = undefined;
      for (const bucket of byHour.values()) buckets.push({ series, bucket });
    }
    // Copies: a window still open goes on changing while this flush waits for the database.
    const windows = [...this.#changedWindows.values()].map(({ series, window }) => ({
      series,
      window: { ...window },
    }));
    this.#changedWindows.clear();
    const requeueWindows = () => {
      for (const changed of windows)
        if (!this.#changedWindows.has(changed.window.id))
          this.#changedWindows.set(changed.window.id, changed);
    };
    try {
      if (buckets.length > 0) {
        await this.#db
          .insert(miHourly)
          .values(
            buckets.map(({ series, bucket }) => ({
              hour: new Date(bucket.hour),
              endpoint: series.endpoint,
              version: series.version,
              calls: bucket.calls,
              successes: bucket.successes,
              businessFailures: bucket.businessFailures,
              technicalFailures: bucket.technicalFailures,
              firstByteMicros: bucket.firstByteMicros,
              lastByteMicros: bucket.lastByteMicros,
              requestBytes: bucket.requestBytes,
              responseBytes: bucket.responseBytes,
            })),
          )
          .onConflictDoUpdate({
            target: [miHourly.hour, miHourly.endpoint, miHourly.version],
            set: {
              calls: sql`${miHourly.calls} + excluded.calls`,
              successes: sql`${miHourly.successes} + excluded.successes`,
              businessFailures: sql`${miHourly.businessFailures} + excluded.business_failures`,
              technicalFailures: sql`${miHourly.technicalFailures} + excluded.technical_failures`,
              firstByteMicros: sql`${miHourly.firstByteMicros} + excluded.first_byte_micros`,
              lastByteMicros: sql`${miHourly.lastByteMicros} + excluded.last_byte_micros`,
              requestBytes: sql`${miHourly.requestBytes} + excluded.request_bytes`,
              responseBytes: sql`${miHourly.responseBytes} + excluded.response_bytes`,
            },
          });
      }
    } catch (error) {
      for (const { series, bucket } of buckets) series.pending.push(bucket);
      requeueWindows();
      throw error;
    }
    if (windows.length === 0) return;
    try {
      await this.#db
        .insert(miDowntime)
        .values(
          windows.map(({ series, window }) => ({
            id: window.id,
            endpoint: series.endpoint,
            version: series.version,
            startedAt: new Date(window.startedAt),
            lastFailureAt: new Date(window.lastFailureAt),
            endedAt: window.endedAt === null ? null : new Date(window.endedAt),
          })),
        )
        .onConflictDoUpdate({
          target: miDowntime.id,
          set: { lastFailureAt: sql`excluded.last_failure_at`, endedAt: sql`excluded.ended_at` },
        });
    } catch (error) {
      requeueWindows();
      throw error;
    }
  }
}

interface ChangedWindow {
  series: MiSeries;
  window: DowntimeWindow;
}

function addInto(target: Bucket, source: Bucket): void {
  target.calls += source.calls;
  target.successes += source.successes;
  target.businessFailures += source.businessFailures;
  target.technicalFailures += source.technicalFailures;
  target.firstByteMicros += source.firstByteMicros;
  target.lastByteMicros += source.lastByteMicros;
  target.requestBytes += source.requestBytes;
  target.responseBytes += source.responseBytes;
}

function emptyBucket(hour: number): Bucket {
  return {
    hour,
    calls: 0,
    successes: 0,
    businessFailures: 0,
    technicalFailures: 0,
    firstByteMicros: 0,
    lastByteMicros: 0,
    requestBytes: 0,
    responseBytes: 0,
  };
}
