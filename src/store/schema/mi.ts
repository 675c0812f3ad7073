import { bigint, index, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Open Banking MI (issue 17), owned by src/operator. `mi_hourly` holds one row per hour, endpoint and API
 * version with additive counters: every instance upserts its batch (`calls = calls + excluded.calls`), so
 * the figures of all instances add up. `mi_downtime` holds each window in which an endpoint was down (five
 * consecutive technical failures within 30 s); instances write their own windows and the report takes their
 * union, so two instances seeing the same outage do not count it twice.
 */
const ts = (name: string) => timestamp(name, { withTimezone: true });
const counter = (name: string) => bigint(name, { mode: 'number' }).notNull().default(0);

export const miHourly = pgTable(
  'mi_hourly',
  {
    /** The start of the hour (UTC). */
    hour: ts('hour').notNull(),
    /** `GET /aisp/accounts/{AccountId}/transactions`: method and route pattern below the version's base. */
    endpoint: text('endpoint').notNull(),
    /** Major.minor as OB MI reports versions (`v3.1`, `v4.0`). */
    version: text('version').notNull(),
    calls: counter('calls'),
    /** 1xx–3xx. */
    successes: counter('successes'),
    /** 4xx: the TPP's request refused. */
    businessFailures: counter('business_failures'),
    /** 5xx: the bank failed. */
    technicalFailures: counter('technical_failures'),
    /** Sums in microseconds, over every call: the averages are sum / calls. */
    firstByteMicros: counter('first_byte_micros'),
    lastByteMicros: counter('last_byte_micros'),
    requestBytes: counter('request_bytes'),
    responseBytes: counter('response_bytes'),
  },
  (t) => [primaryKey({ columns: [t.hour, t.endpoint, t.version] })],
);

export const miDowntime = pgTable(
  'mi_downtime',
  {
    /** Chosen by the instance that saw the window. */
    id: text('id').primaryKey(),
    endpoint: text('endpoint').notNull(),
    version: text('version').notNull(),
    /** The first of the five consecutive technical failures. */
    startedAt: ts('started_at').notNull(),
    /** The latest failure seen in the window: its end while no success has been seen. */
    lastFailureAt: ts('last_failure_at').notNull(),
    /** The first success after it; null while the window is open (or the instance stopped inside it). */
    endedAt: ts('ended_at'),
  },
  (t) => [index('mi_downtime_started_ix').on(t.startedAt)],
);
