import { isNull, sql } from 'drizzle-orm';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { pushBacklog } from '../../events/index.ts';
import type { Clock } from '../../shared/clock.ts';
import type { CertificateCheckResult, Telemetry } from '../../shared/telemetry.ts';
import type { Store } from '../../store/index.ts';
import { bankPayments, consentIntents } from '../../store/schema/index.ts';
import { expiredIntentRows } from '../../consent/index.ts';
import { ACCESS_WITHDRAWN, EXPIRED, operatorConsentState } from '../queries.ts';

/** Seconds; 0.75 is OB's benchmark for AIS and PIS responses. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10];
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export interface OperatorMetrics {
  /** This platform instance's registry: what `/metrics` serves (never prom-client's global one). */
  readonly registry: Registry;
  readonly telemetry: Telemetry;
  readonly requests: Counter<'route' | 'method' | 'version' | 'status_class'>;
  readonly latency: Histogram<'route' | 'method' | 'version'>;
}

/**
 * The Prometheus metrics of one platform instance. Request counts, latencies, tokens issued and certificate
 * checks are counters of this process (Prometheus sums instances). Consents, payments and the event backlog
 * are read from the database when scraped, one grouped query each: they are the state of the whole bank,
 * the same whichever instance is scraped, survive restarts, and cost nothing on the request path.
 */
export function createOperatorMetrics(options: {
  store: Store;
  clock: Clock;
  onCollectError: (error: unknown) => void;
}): OperatorMetrics {
  const { store, clock } = options;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'obkit_' });
  const requests = new Counter({
    name: 'obkit_http_requests_total',
    help: 'Requests answered on the mutual-TLS listener, by route pattern, method, API version and status class.',
    labelNames: ['route', 'method', 'version', 'status_class'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'obkit_http_request_duration_seconds',
    help: 'Time from the request to the last byte of the answer on the mutual-TLS listener.',
    labelNames: ['route', 'method', 'version'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const tokens = new Counter({
    name: 'obkit_tokens_issued_total',
    help: 'Token requests answered with tokens, by grant type.',
    labelNames: ['grant_type'] as const,
    registers: [registry],
  });
  const certificateChecks = new Counter({
    name: 'obkit_certificate_status_checks_total',
    help: 'Client certificate revocation status checks on mutual-TLS requests, by result.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const fromDatabase = async (read: () => Promise<void>): Promise<void> => {
    try {
      await read();
    } catch (error) {
      options.onCollectError(error);
    }
  };
  const databaseUp = new Gauge({
    name: 'obkit_database_up',
    help: '1 when the database answered the scrape, 0 when it did not.',
    labelNames: ['backend'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        await store.ping();
        this.set({ backend: store.backend }, 1);
      } catch {
        this.set({ backend: store.backend }, 0);
      }
    },
  });
  void databaseUp;
  /** A gauge of rows by kind and status, set from one grouped count per scrape (`read`). */
  const kindStatusGauge = (
    name: string,
    help: string,
    read: () => Promise<{ kind: string; status: string; count: number }[]>,
  ): Gauge<'kind' | 'status'> =>
    new Gauge({
      name,
      help,
      labelNames: ['kind', 'status'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        await fromDatabase(async () => {
          for (const row of await read()) this.inc({ kind: row.kind, status: row.status }, row.count);
        });
      },
    });
  kindStatusGauge(
    'obkit_consents',
    `Consents (intents) in the database, by kind and status; an Authorised consent whose access the customer withdrew at the bank counts as ${ACCESS_WITHDRAWN}, not Authorised, until re-authenticated, and one past its expiry counts as ${EXPIRED} (withdrawn or not), as does one still awaiting authorisation past its expiry, which can no longer be authorised.`,
    async () => {
      const now = clock.now();
      // One group per kind, status, whether withdrawn and whether expired at `now`: the group's latest
      // withdrawal and expiry say which, to the same rule (`operatorConsentState`, `isExpired`).
      const rows = await store.db
        .select({
          kind: consentIntents.kind,
          status: consentIntents.status,
          accessWithdrawnAt: sql<Date | null>`max(${consentIntents.accessWithdrawnAt})`.mapWith(
            consentIntents.accessWithdrawnAt,
          ),
          expiresAt: sql<Date | null>`max(${consentIntents.expiresAt})`.mapWith(consentIntents.expiresAt),
          count: sql<number>`count(*)::int`,
        })
        .from(consentIntents)
        .groupBy(
          consentIntents.kind,
          consentIntents.status,
          isNull(consentIntents.accessWithdrawnAt),
          expiredIntentRows(now),
        );
      return rows.map((row) => ({
        kind: row.kind,
        status: operatorConsentState(row, now),
        count: Number(row.count),
      }));
    },
  );
  kindStatusGauge(
    'obkit_payments',
    'Payments in the database, by kind and status (their outcome so far).',
    async () =>
      (
        await store.db
          .select({ kind: bankPayments.kind, status: bankPayments.status, count: sql<number>`count(*)::int` })
          .from(bankPayments)
          .groupBy(bankPayments.kind, bankPayments.status)
      ).map((row) => ({ ...row, count: Number(row.count) })),
  );
  new Gauge({
    name: 'obkit_event_push_backlog',
    help: 'Event notifications waiting for a push attempt: all of them, and those due now.',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await fromDatabase(async () => {
        const backlog = await pushBacklog(store.db, clock);
        this.set({ state: 'waiting' }, backlog.waiting);
        this.set({ state: 'due' }, backlog.due);
      });
    },
  });
  new Gauge({
    name: 'obkit_database_pool_connections',
    help: 'PostgreSQL connection pool of this instance: max, open (total), idle; the embedded database has no pool.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const stats = store.poolStats();
      if (!stats) return;
      this.set({ state: 'max' }, stats.max);
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
    },
  });
  new Gauge({
    name: 'obkit_database_pool_waiting',
    help: 'Queries of this instance waiting for a PostgreSQL connection.',
    registers: [registry],
    collect() {
      const stats = store.poolStats();
      if (stats) this.set(stats.waiting);
    },
  });
  // Children looked up once per label value: recording a token or a check allocates nothing.
  const tokenChildren = new Map<string, Counter.Internal>();
  const checkChildren = new Map<CertificateCheckResult, Counter.Internal>();
  const telemetry: Telemetry = {
    tokenIssued(grantType) {
      let child = tokenChildren.get(grantType);
      if (!child) tokenChildren.set(grantType, (child = tokens.labels(grantType)));
      child.inc();
    },
    certificateStatusChecked(result) {
      let child = checkChildren.get(result);
      if (!child) checkChildren.set(result, (child = certificateChecks.labels(result)));
      child.inc();
    },
  };
  return { registry, telemetry, requests, latency };
}
