import { isNull, sql } from 'drizzle-orm';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { pushBacklog } from '../../events/index.ts';
import type { Clock } from '../../shared/clock.ts';
import type { CertificateCheckResult, Telemetry } from '../../shared/telemetry.ts';
import type { Store } from '../../store/index.ts';
import { bankPayments, consentIntents } from '../../store/schema/index.ts';
import { endedByTimeRows } from '../../consent/index.ts';
import { ACCESS_WITHDRAWN, EXPIRED, operatorConsentState } from '../queries.ts';

/** Seconds; 0.75 is OB's benchmark for AIS and PIS responses. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10];
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
/** Each certificate check result's place among the held counts (`HeldCounts`). */
const CHECK_RESULT_INDEX: Record<CertificateCheckResult, number> = {
  good: 0,
  revoked: 1,
  unavailable: 2,
  foreign_issuer: 3,
};
const CHECK_RESULTS = Object.keys(CHECK_RESULT_INDEX) as CertificateCheckResult[];
/** Latencies one route holds before handing them to its histogram (besides at every scrape): 2 KB a route. */
const LATENCIES_HELD = 256;

/** The labels of one route's request figures: its pattern, method and API version. */
export interface RouteLabels {
  route: string;
  method: string;
  version: string;
}

/** One route's request count and latency: resolved once per route, so recording an answer hashes no labels. */
export interface RequestSeries {
  /** An answer with `status`, its last byte `seconds` after the request. */
  answered(status: number, seconds: number): void;
}

export interface OperatorMetrics {
  /** This platform instance's registry: what `/metrics` serves (never prom-client's global one). */
  readonly registry: Registry;
  readonly telemetry: Telemetry;
  /** The series of one route's labels (the same one for the same labels; resolve it once per route). */
  requestSeries(labels: RouteLabels): RequestSeries;
}

/**
 * Counts by the value of one label, held as plain numbers and handed to the counter's children when the
 * registry is read (`countHeld`, from the counter's `collect`, which prom-client runs before every read: each
 * scrape). Why: prom-client joins a child's label values into a hash string and looks it up on every `inc`
 * (~0.6 µs, session 15), on every request here; a scrape still reads every count, from prom-client's counter.
 */
class HeldCounts {
  /** Counts not yet handed over, by the value's index. */
  readonly #held: number[];
  readonly #children: (Counter.Internal | undefined)[] = [];
  /** The counter's child of the value at an index (asked once per value, the first time one is counted). */
  readonly #childOf: (index: number) => Counter.Internal;

  constructor(values: number, childOf: (index: number) => Counter.Internal) {
    this.#held = new Array<number>(values).fill(0);
    this.#childOf = childOf;
  }

  add(index: number): void {
    this.#held[index]! += 1;
  }

  countHeld(): void {
    for (let index = 0; index < this.#held.length; index++) {
      const count = this.#held[index]!;
      if (count === 0) continue;
      this.#held[index] = 0;
      (this.#children[index] ??= this.#childOf(index)).inc(count);
    }
  }
}

/**
 * A route's answers: counted by status class (`HeldCounts`), and latencies held in a `Float64Array` handed to
 * the route's histogram child when the registry is read (its `collect`) and whenever `LATENCIES_HELD` are held
 * (prom-client's `observe` hashes the labels too, ~0.8 µs); the same buckets, sum and count at every scrape.
 */
class HeldRequestSeries implements RequestSeries {
  readonly counts: HeldCounts;
  readonly #latency: Histogram.Internal<'route' | 'method' | 'version'>;
  readonly #latencies = new Float64Array(LATENCIES_HELD);
  #held = 0;

  constructor(
    labels: RouteLabels,
    requests: Counter<'route' | 'method' | 'version' | 'status_class'>,
    latency: Histogram<'route' | 'method' | 'version'>,
  ) {
    this.counts = new HeldCounts(STATUS_CLASSES.length, (index) =>
      requests.labels({ ...labels, status_class: STATUS_CLASSES[index]! }),
    );
    this.#latency = latency.labels(labels);
  }

  answered(status: number, seconds: number): void {
    this.counts.add(Math.min(Math.max(Math.floor(status / 100), 1), 5) - 1);
    this.#latencies[this.#held++] = seconds;
    if (this.#held === LATENCIES_HELD) this.observeHeld();
  }

  observeHeld(): void {
    for (let at = 0; at < this.#held; at++) this.#latency.observe(this.#latencies[at]!);
    this.#held = 0;
  }
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
  const seriesByLabels = new Map<string, HeldRequestSeries>();
  const requests = new Counter({
    name: 'obkit_http_requests_total',
    help: 'Requests answered on the mutual-TLS listener, by route pattern, method, API version and status class.',
    labelNames: ['route', 'method', 'version', 'status_class'] as const,
    registers: [registry],
    collect() {
      for (const series of seriesByLabels.values()) series.counts.countHeld();
    },
  });
  const latency = new Histogram({
    name: 'obkit_http_request_duration_seconds',
    help: 'Time from the request to the last byte of the answer on the mutual-TLS listener.',
    labelNames: ['route', 'method', 'version'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
    collect() {
      for (const series of seriesByLabels.values()) series.observeHeld();
    },
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
    collect() {
      checks.countHeld();
    },
  });
  /** Asked on every mTLS request, so held as request counts are. */
  const checks = new HeldCounts(CHECK_RESULTS.length, (index) =>
    certificateChecks.labels(CHECK_RESULTS[index]!),
  );
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
    `Consents (intents) in the database, by kind and status; an Authorised consent whose access the customer withdrew at the bank counts as ${ACCESS_WITHDRAWN}, not Authorised, until re-authenticated, and one past its expiry counts as ${EXPIRED} (withdrawn or not), as does one still awaiting authorisation past its expiry or (a payment consent) its authorisation window (CompletionDateTime), which can no longer be authorised.`,
    async () => {
      const now = clock.now();
      // One group per kind, status, whether withdrawn and whether time has ended it at `now`
      // (`endedByTimeRows`): the group's latest withdrawal and earliest expiry and authorisation deadline say
      // which, to the same rule (`operatorConsentState`, `endedByTime`): in an ended group the earliest has
      // passed, in the others none has.
      const rows = await store.db
        .select({
          kind: consentIntents.kind,
          status: consentIntents.status,
          accessWithdrawnAt: sql<Date | null>`max(${consentIntents.accessWithdrawnAt})`.mapWith(
            consentIntents.accessWithdrawnAt,
          ),
          expiresAt: sql<Date | null>`min(${consentIntents.expiresAt})`.mapWith(consentIntents.expiresAt),
          authoriseBy: sql<Date | null>`min(${consentIntents.authoriseBy})`.mapWith(
            consentIntents.authoriseBy,
          ),
          count: sql<number>`count(*)::int`,
        })
        .from(consentIntents)
        .groupBy(
          consentIntents.kind,
          consentIntents.status,
          isNull(consentIntents.accessWithdrawnAt),
          endedByTimeRows(now),
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
  // Children looked up once per label value: recording a token allocates nothing.
  const tokenChildren = new Map<string, Counter.Internal>();
  const telemetry: Telemetry = {
    tokenIssued(grantType) {
      let child = tokenChildren.get(grantType);
      if (!child) tokenChildren.set(grantType, (child = tokens.labels(grantType)));
      child.inc();
    },
    certificateStatusChecked(result) {
      checks.add(CHECK_RESULT_INDEX[result]);
    },
  };
  return {
    registry,
    telemetry,
    requestSeries(labels) {
      // One per label set, however often asked: what is held stays bounded by the routes, not the callers.
      const key = `${labels.method} ${labels.version} ${labels.route}`;
      let series = seriesByLabels.get(key);
      if (!series) {
        series = new HeldRequestSeries(labels, requests, latency);
        seriesByLabels.set(key, series);
      }
      return series;
    },
  };
}
