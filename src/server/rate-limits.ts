import { normalizeIP, type FastifyRateLimitStore, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { createRequire } from 'node:module';
import { sql } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { ObError, obErrorBodyFor } from '../openbanking/errors.ts';
import { clientCertificateOf } from '../shared/client-certificate.ts';
import type { Clock } from '../shared/clock.ts';
import { schema, type Store } from '../store/index.ts';
import { normaliseAddress, trustedProxyMatcher } from './client-certificate.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { pageSecurityHeaders } from '../shared/page-kit/index.ts';

/**
 * Request rate limits (issue 12, README "Rate limits"), counted by @fastify/rate-limit: per client on the
 * mutual-TLS listener, per IP address on the browser listener, and tighter per IP on the PSU's login steps
 * and at the OCSP responder. A refusal is a 429 in the family's format with `Retry-After`, and every limited
 * answer carries the `RateLimit-Policy` and `RateLimit` fields that Read/Write v4.0.1 names (the structured
 * fields of draft-ietf-httpapi-ratelimit-headers: `"mtls";q=100000;w=60` and `"mtls";r=99999;t=60`).
 */
export type RateLimitName = 'mtls' | 'browser' | 'login' | 'ocsp';

export interface RateLimitPolicy {
  name: RateLimitName;
  /** Requests allowed per window. */
  quota: number;
  windowSeconds: number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route counted against a tighter per-IP limit of its own besides (login) or instead of (ocsp) the listener's. */
    throttle?: 'login' | 'ocsp';
  }
}

/** The configured limits; a quota of 0 turns that limit off. */
export function rateLimitPolicies(config: Config): RateLimitPolicy[] {
  const quotas: Record<RateLimitName, number> = {
    mtls: config.rateLimitMtls,
    browser: config.rateLimitBrowser,
    login: config.rateLimitLogin,
    ocsp: config.rateLimitOcsp,
  };
  return (Object.keys(quotas) as RateLimitName[])
    .filter((name) => quotas[name] > 0)
    .map((name) => ({ name, quota: quotas[name], windowSeconds: config.rateLimitWindowSeconds }));
}

/** Where counts live: this process (embedded store), or shared by every instance (PostgreSQL). */
export interface RateLimitCounters {
  /** A store's class (one per limit), in @fastify/rate-limit's store interface; undefined: its in-process store. */
  store: FastifyRateLimitStoreCtor | undefined;
  close(): Promise<void>;
}

export function rateLimitCounters(store: Store, clock: Clock, logger: Logger): RateLimitCounters {
  if (store.backend !== 'postgres') return { store: undefined, close: async () => undefined };
  const quotas = new SharedQuotas(store, () => clock.now().getTime(), logger);
  return { store: quotas.storeClass(), close: async () => quotas.stop() };
}

export interface SurfaceRateLimits {
  policies: readonly RateLimitPolicy[];
  counters: RateLimitCounters;
  /** Configured proxies whose `X-Forwarded-For` names the real client address. */
  trustedProxies: readonly string[];
}

/** What counting one request against a limit gave: requests left in the window, and when it ends. */
interface Outcome {
  remaining: number;
  ttlInSeconds: number;
  isExceeded: boolean;
}

/** One limit as a surface counts it: its `RateLimit-Policy` member written once, not per request. */
interface CountedLimit {
  policy: RateLimitPolicy;
  /** Counts the request; `counted` is called in the same tick when the count is in memory. */
  count(request: FastifyRequest, counted: (outcome: Outcome) => void): void;
  policyField: string;
}

/**
 * Counts a request against its limits, in fastify's `onRequest` callback form: `done` once counted (in the
 * same tick when the counts are in memory), or the 429 answered and `done` never called.
 */
export type RequestCounter = (
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
) => void;

/** Entries per limit kept by the in-process store (least recently used beyond that are forgotten). */
const LOCAL_KEYS = 100_000;

/**
 * @fastify/rate-limit's own in-process store (its LRU of fixed windows), which its plugin uses when given
 * none; counted through here directly (below). Not in the package's types: its constructor is
 * `(continueExceeding, exponentialBackoff, cache)`.
 */
const LocalStore = createRequire(import.meta.url)('@fastify/rate-limit/store/LocalStore.js') as new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  cache: number,
) => FastifyRateLimitStore;

/**
 * What counts every request of a surface: an `onRequest` hook in callback form, which the surface runs as
 * the last step of its own hook, after the client certificate's (so that an mTLS client is known by its
 * certificate) and before any parsing or database work. Undefined when no limit applies to the surface.
 *
 * Counted in @fastify/rate-limit's stores (its in-process store, or `SharedQuotas` on PostgreSQL), but
 * through the store's `incr` directly rather than the plugin's `createRateLimit`: its `applyRateLimit`
 * is `async` and awaits the key, the store's callback and the count (7 promises per request with this
 * `async` hook and fastify's wrapping of it; bench/README.md, session 15), where the count is in memory
 * and answers in the same tick. What it computed is computed here the same way (`remaining`, the window's
 * rest in whole seconds, `isExceeded`; a store's error admits the request, as its `skipOnError` did).
 */
export function rateLimitCounter(
  kind: 'browser' | 'mtls',
  options: SurfaceRateLimits,
  /** Requests never counted (the load balancer's liveness and readiness probes). */
  exempt: (request: FastifyRequest) => boolean,
): RequestCounter | undefined {
  const addressOf = clientAddressResolver(options.trustedProxies);
  const SharedStore = options.counters.store;
  const limiters = new Map<RateLimitName, CountedLimit>();
  for (const policy of options.policies) {
    const keyOf =
      policy.name === 'mtls'
        ? (request: FastifyRequest) => {
            // Every access token is bound to its client's certificate (RFC 8705) and client authentication
            // rides on it, so the certificate is the client's identity on this listener.
            const certificate = clientCertificateOf(request.raw);
            return certificate ? `mtls:${certificate.thumbprintS256}` : `mtls-ip:${addressOf(request)}`;
          }
        : (request: FastifyRequest) => `${policy.name}:${addressOf(request)}`;
    // A store per limit, as the plugin made one (`child`) per limiter.
    const store = SharedStore ? new SharedStore({}) : new LocalStore(false, false, LOCAL_KEYS);
    const max = policy.quota;
    const timeWindow = policy.windowSeconds * 1000;
    limiters.set(policy.name, {
      policy,
      count(request, counted) {
        store.incr(
          keyOf(request),
          (error, result) => {
            // A store that failed (PostgreSQL unreachable) admits the request: counted as none so far.
            const { current, ttl } = error || !result ? { current: 0, ttl: 0 } : result;
            counted({
              remaining: Math.max(0, max - current),
              ttlInSeconds: Math.ceil(ttl / 1000),
              isExceeded: current > max,
            });
          },
          timeWindow,
          max,
        );
      },
      policyField: `"${policy.name}";q=${policy.quota};w=${policy.windowSeconds}`,
    });
  }

  // Which limits count a request, resolved once per kind of route rather than per request.
  const limitsOf = (...names: RateLimitName[]): CountedLimit[] =>
    names.flatMap((name) => limiters.get(name) ?? []);
  const applicable = {
    mtls: limitsOf('mtls'),
    ocsp: limitsOf('ocsp'),
    login: limitsOf('browser', 'login'),
    browser: limitsOf('browser'),
  };
  const appliesTo = (request: FastifyRequest): CountedLimit[] => {
    if (kind === 'mtls') return applicable.mtls;
    const throttle = request.routeOptions.config.throttle;
    if (throttle === 'ocsp') return applicable.ocsp;
    return throttle === 'login' ? applicable.login : applicable.browser;
  };

  /** After every limit counted the request: the RateLimit fields, and the refusal when one is exceeded. */
  const conclude = (
    request: FastifyRequest,
    reply: FastifyReply,
    outcomes: readonly { policy: RateLimitPolicy; policyField: string; outcome: Outcome }[],
    done: HookHandlerDoneFunction,
  ): void => {
    let policyField = '';
    let rateField = '';
    let exceeded: { policy: RateLimitPolicy; outcome: Outcome }[] | undefined;
    for (const { policy, policyField: field, outcome } of outcomes) {
      if (outcome.isExceeded) (exceeded ??= []).push({ policy, outcome });
      const separator = policyField === '' ? '' : ', ';
      policyField += separator + field;
      rateField += `${separator}"${policy.name}";r=${outcome.remaining};t=${outcome.ttlInSeconds}`;
    }
    // On the reply only: a hijacked one (oidc-provider's answers) carries them by `hijackKeepingHeaders`.
    reply.header('ratelimit-policy', policyField);
    reply.header('ratelimit', rateField);
    if (!exceeded) {
      done();
      return;
    }
    const retryAfter = Math.max(1, ...exceeded.map(({ outcome }) => outcome.ttlInSeconds));
    request.log.info(
      { limits: exceeded.map(({ policy }) => policy.name), retryAfter },
      'request refused: rate limit reached',
    );
    reply.header('retry-after', String(retryAfter));
    // Answered here: a hook in callback form that sends its reply does not call `done`.
    if (kind === 'mtls') refuseWithObError(request, reply, retryAfter);
    else refuseWithPage(reply, retryAfter);
  };

  if (limiters.size === 0) return undefined;
  // Callback form, and the limits counted one after another with the store's callbacks: a count in
  // memory (every request but a PostgreSQL lease's renewal) passes the request on in the same tick, no
  // promise made (two limits apply only to login pages).
  return (request, reply, done) => {
    if (exempt(request)) return done();
    const limits = appliesTo(request);
    if (limits.length === 0) return done();
    const outcomes: { policy: RateLimitPolicy; policyField: string; outcome: Outcome }[] = [];
    const countFrom = (at: number): void => {
      const limit = limits[at];
      if (!limit) return conclude(request, reply, outcomes, done);
      let counted = false;
      try {
        limit.count(request, (outcome) => {
          counted = true;
          outcomes.push({ policy: limit.policy, policyField: limit.policyField, outcome });
          countFrom(at + 1);
        });
      } catch (error) {
        // The key or the store failed (a request the limit could not count); what the hooks after this
        // one threw is theirs.
        if (counted) throw error;
        done(error as Error);
      }
    };
    countFrom(0);
  };
}

function refuseWithObError(request: FastifyRequest, reply: FastifyReply, retryAfter: number): FastifyReply {
  const error = ObError.single(
    429,
    'UK.OBIE.UnexpectedError',
    `too many requests from this client; retry after ${retryAfter} seconds`,
  );
  return reply.status(429).type('application/json; charset=utf-8').send(obErrorBodyFor(error, request));
}

function refuseWithPage(reply: FastifyReply, retryAfter: number): FastifyReply {
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Too many requests</title></head>
<body><h1>Too many requests</h1>
<p>There have been too many requests from your network in a short time. Please wait ${retryAfter} seconds and try again.</p>
</body></html>
`;
  return reply.status(429).headers(pageSecurityHeaders()).type('text/html; charset=utf-8').send(page);
}

/**
 * The address a request came from: the socket's peer, or — when the peer is one of the configured proxies —
 * the nearest address in `X-Forwarded-For` that is not itself a proxy. IPv6 clients are counted by /64.
 */
function clientAddressResolver(trustedProxies: readonly string[]): (request: FastifyRequest) => string {
  const isTrustedProxy = trustedProxyMatcher(trustedProxies);
  return (request) => {
    let address = normaliseAddress(request.raw.socket.remoteAddress ?? '');
    if (trustedProxies.length > 0 && isTrustedProxy(address)) {
      const forwarded = request.headers['x-forwarded-for'];
      const hops = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? ''))
        .split(',')
        .map((hop) => hop.trim())
        .filter(Boolean);
      while (hops.length > 0 && isTrustedProxy(address)) address = normaliseAddress(hops.pop() ?? '');
    }
    try {
      return normalizeIP(address);
    } catch {
      return address;
    }
  };
}

interface Lease {
  /** End of the window the lease belongs to (ms since the epoch). */
  windowEndsAt: number;
  /** Requests this instance may still admit without asking the database. */
  left: number;
  /** Quota claimed by all instances in this window, as of our last claim (at most the quota). */
  claimedTotal: number;
  /** No quota was left to claim: refuse until the window ends. */
  exhausted: boolean;
}

/**
 * Quotas shared by every instance through the `rate_limits` table, without a database round trip per
 * request: an instance claims a lease of 1 % of a key's quota (at least 1) in one upsert and admits that many
 * requests from memory, then claims again; once the window's quota is all claimed it refuses until the window
 * ends, again without asking. The total admitted never exceeds the quota; an instance's unspent lease is lost
 * to the others for the rest of the window (at most 1 % of the quota per instance). Windows are fixed and
 * start at a key's first claim.
 */
class SharedQuotas {
  readonly #store: Store;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #leases = new Map<string, Lease>();
  readonly #claims = new Map<string, Promise<void>>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(store: Store, now: () => number, logger: Logger) {
    this.#store = store;
    this.#now = now;
    this.#logger = logger;
    // Rows of windows that have ended are dead weight; any instance may remove them.
    this.#sweeper = setInterval(() => void this.#sweep(), 10 * 60_000);
    this.#sweeper.unref();
  }

  stop(): void {
    clearInterval(this.#sweeper);
  }

  /** The class @fastify/rate-limit instantiates: its custom store interface over these quotas. */
  storeClass(): FastifyRateLimitStoreCtor {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the plugin constructs the class itself
    const quotas = this;
    return class SharedQuotaStore implements FastifyRateLimitStore {
      incr(
        key: string,
        callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
        timeWindow: number,
        max: number,
      ): void {
        // From the lease in memory (every request but a lease's renewal): answered in the same tick.
        const leased = quotas.takeFromLease(key, max);
        if (leased) return callback(null, leased);
        quotas.take(key, timeWindow, max).then(
          (result) => callback(null, result),
          (error: unknown) => {
            quotas.#logger.error(
              { err: error, key },
              'rate limit quota could not be claimed; request admitted',
            );
            callback(error instanceof Error ? error : new Error(String(error)));
          },
        );
      }
      child(): FastifyRateLimitStore {
        return this; // keys carry their limit's name, so every limit shares one table
      }
    };
  }

  /** Counts one request of `key`; `current` above `max` means refused, `ttl` is the window's rest in ms. */
  async take(key: string, windowMs: number, max: number): Promise<{ current: number; ttl: number }> {
    for (;;) {
      const leased = this.takeFromLease(key, max);
      if (leased) return leased;
      await this.#claim(key, windowMs, max, this.#now());
    }
  }

  /** `take` answered by this instance's lease of the window, or undefined when it must claim first. */
  takeFromLease(key: string, max: number): { current: number; ttl: number } | undefined {
    const now = this.#now();
    const lease = this.#leases.get(key);
    if (!lease || lease.windowEndsAt <= now) return undefined;
    const ttl = lease.windowEndsAt - now;
    if (lease.left > 0) {
      lease.left -= 1;
      return { current: lease.claimedTotal - lease.left, ttl };
    }
    return lease.exhausted ? { current: max + 1, ttl } : undefined;
  }

  /** One claim per key at a time; concurrent requests of the key wait for it and then take from the lease. */
  #claim(key: string, windowMs: number, max: number, now: number): Promise<void> {
    let pending = this.#claims.get(key);
    if (!pending) {
      pending = this.#claimFromDatabase(key, windowMs, max, now).finally(() => this.#claims.delete(key));
      this.#claims.set(key, pending);
    }
    return pending;
  }

  async #claimFromDatabase(key: string, windowMs: number, max: number, now: number): Promise<void> {
    const lease = Math.max(1, Math.floor(max / 100));
    const table = schema.rateLimits;
    const nowText = new Date(now).toISOString();
    const ended = sql`${table.windowEndsAt} <= ${nowText}::timestamptz`;
    const [row] = await this.#store.db
      .insert(table)
      .values({ key, windowEndsAt: new Date(now + windowMs), claimed: lease })
      .onConflictDoUpdate({
        target: table.key,
        set: {
          claimed: sql`case when ${ended} then ${lease} else ${table.claimed} + ${lease} end`,
          windowEndsAt: sql`case when ${ended} then excluded.window_ends_at else ${table.windowEndsAt} end`,
        },
      })
      .returning({ claimed: table.claimed, windowEndsAt: table.windowEndsAt });
    if (!row) throw new Error('the rate limit upsert returned no row');
    const granted = Math.max(0, Math.min(lease, max - (row.claimed - lease)));
    const windowEndsAt = row.windowEndsAt.getTime();
    const previous = this.#leases.get(key);
    const unspent = previous && previous.windowEndsAt === windowEndsAt ? previous.left : 0;
    if (this.#leases.size >= LOCAL_KEYS) this.#forgetEnded(now);
    this.#leases.set(key, {
      windowEndsAt,
      left: unspent + granted,
      claimedTotal: Math.min(row.claimed, max),
      exhausted: granted === 0,
    });
  }

  #forgetEnded(now: number): void {
    for (const [key, lease] of this.#leases) if (lease.windowEndsAt <= now) this.#leases.delete(key);
    // Still full of live keys (an attack from many addresses): forget the oldest; they claim afresh.
    for (const key of this.#leases.keys()) {
      if (this.#leases.size < LOCAL_KEYS) break;
      this.#leases.delete(key);
    }
  }

  async #sweep(): Promise<void> {
    const table = schema.rateLimits;
    await this.#store.db
      .delete(table)
      .where(sql`${table.windowEndsAt} < ${new Date(this.#now()).toISOString()}::timestamptz`)
      .catch((error: unknown) => this.#logger.warn({ err: error }, 'ended rate limit windows not swept'));
  }
}
