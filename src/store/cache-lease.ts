import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CHANGE_VERSION_QUERY, changeVersionOf } from './change-version.ts';

/**
 * Cache leases (PostgreSQL). Without one, an instance reads the store's change version at the start of
 * every request, so that a change announced on another instance is never served from its caches — a round
 * trip per request. With one, the writer waits instead: `store_announce` notifies `store_change_version`
 * with the version it reached; each instance holding a lease hears it on its listener connection, takes
 * it (everything cached under an older version is no longer served), then acknowledges it on its lease
 * row; the announcing `store.notify` returns only once no unexpired lease is behind (`waitForLeases`). So
 * while this instance holds a lease it has heard every change whose announcement returned, and a request
 * needs no read of its own. A lease is renewed only while its instance has heard every change, so a writer
 * waits at most one lease for an instance that stopped hearing (partitioned, stuck, killed).
 *
 * The instance trusts its lease until the monotonic time its last renewal was *sent*, plus the lease, less
 * a margin; the database counts the lease from when the renewal *ran*, which is later. So the instance
 * stops trusting before any writer may stop waiting for it; only the clocks' rates matter, not their
 * offsets.
 */
export interface CacheLease {
  /** Whether this instance holds a valid lease now: `heard()` counts every change whose announcement returned. */
  held(): boolean;
  /** The highest change version this instance heard announced, or read when it joined. */
  heard(): number;
}

/** The lease's side of the store's listener connection (`src/store/database.ts`). */
export interface LeaseConnection {
  query(text: string, values: readonly unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** The channel each lease acknowledges a change version on (payload: the version acknowledged). */
export const LEASE_ACKED_CHANNEL = 'store_cache_lease_acked';
/** The channel `store_announce` announces each change version on (payload: the version). */
export const CHANGE_VERSION_CHANNEL = 'store_change_version';

/** How long before the database's end of a lease this instance stops trusting it, as a share of the lease. */
const SAFETY_MARGIN_SHARE = 0.1;

/**
 * Takes (or takes again) the lease: `expires_at` from the database's clock; `acked_version` at least the
 * version this statement's snapshot saw, which the instance reads again after the commit and takes before
 * it trusts the lease (`join`). Announces the acknowledgement, so that writers waiting for it look again.
 */
const JOIN = `with joined as (
  insert into store_cache_leases (instance, expires_at, acked_version)
  values ($1, now() + $2::float8 * interval '1 millisecond', coalesce((${CHANGE_VERSION_QUERY}), 0))
  on conflict (instance) do update set expires_at = excluded.expires_at,
    acked_version = greatest(store_cache_leases.acked_version, excluded.acked_version)
  returning acked_version)
select pg_notify('${LEASE_ACKED_CHANNEL}', acked_version::text) from joined`;

/**
 * Extends a lease that has not expired, and only while the instance has heard every announced change ($3,
 * at least the store's version in this statement's snapshot), which it acknowledges too: an instance that
 * stopped hearing loses its lease within one lease, and every extension acknowledges the store's version,
 * so a writer never waits longer than one lease for any instance.
 */
const RENEW = `update store_cache_leases set expires_at = now() + $2::float8 * interval '1 millisecond',
    acked_version = greatest(acked_version, $3)
  where instance = $1 and expires_at > now() and $3 >= coalesce((${CHANGE_VERSION_QUERY}), 0)
  returning 1 as renewed`;

/** Acknowledges a change version heard (never lowering it), and announces that to waiting writers. */
const ACK = `with acked as (
  update store_cache_leases set acked_version = $2 where instance = $1 and acked_version < $2
  returning acked_version)
select pg_notify('${LEASE_ACKED_CHANNEL}', acked_version::text) from acked`;

const RELEASE = 'delete from store_cache_leases where instance = $1';

export interface CacheLeaseHolder extends CacheLease {
  /** The instance's row in `store_cache_leases`. */
  readonly instance: string;
  /** A change version heard on `store_change_version`: taken at once, then acknowledged. */
  heardAnnounced(version: number): void;
  /**
   * The listener connection is up and LISTENs `store_change_version`: joins on it (again). Resolves when
   * the join has been tried (trusted or not; renewals try again).
   */
  attach(connection: LeaseConnection): Promise<void>;
  /** Renews now (the lease's timer does, every third of a lease); joins again when the trust lapsed. */
  renew(): Promise<void>;
  /** The listener connection was lost: stops trusting at once, until `attach` joined again. */
  detach(): void;
  /** Stops renewing and deletes the lease row (when the connection still answers). */
  release(): Promise<void>;
}

export function createCacheLease(options: {
  leaseMs: number;
  /** Monotonic milliseconds (tests may drive it); `performance.now` by default. */
  now?: () => number;
  /** Called when a statement of the lease fails (the lease then lapses, and is tried again). */
  onError?: (error: unknown) => void;
}): CacheLeaseHolder {
  const { leaseMs } = options;
  const now = options.now ?? (() => performance.now());
  const onError = options.onError ?? (() => undefined);
  const instance = randomUUID();
  const trustedFor = leaseMs * (1 - SAFETY_MARGIN_SHARE);
  let heard = 0;
  let validUntil = 0;
  let connection: LeaseConnection | undefined;
  /** Advances with every attach and detach: a statement's answer from an older connection changes nothing. */
  let epoch = 0;
  let released = false;
  let acked = 0;
  let acking = false;
  let renewing: Promise<void> | undefined;

  async function join(on: LeaseConnection, at: number): Promise<void> {
    const sent = now();
    await on.query(JOIN, [instance, leaseMs]);
    // Only after the upsert committed: a writer whose change committed after the upsert's snapshot, but
    // whose look at the leases ran before the upsert committed, did not see this lease and does not wait
    // for it — and its notification may not have reached this connection yet. Its change committed before
    // that look, so before this read: the read counts it. A writer looking later sees the lease and waits.
    const rows = (await on.query(CHANGE_VERSION_QUERY, [])).rows;
    if (epoch !== at || released) return;
    take(changeVersionOf(rows[0]?.version));
    validUntil = sent + trustedFor;
  }

  async function renew(on: LeaseConnection, at: number): Promise<void> {
    if (now() >= validUntil) return join(on, at);
    const sent = now();
    const seen = heard;
    const { rows } = await on.query(RENEW, [instance, leaseMs, seen]);
    // Renewed only if the row had not expired: then every writer since the last renewal saw it and waited
    // for this instance's acknowledgement. Not renewed (behind, or expired): the trust lapses by itself.
    if (rows.length > 0 && epoch === at && !released) validUntil = sent + trustedFor;
  }

  /** Runs a renewal or a join as the one under way; a failed one lapses (`onError`), tried again later. */
  function underWay(work: Promise<void>): Promise<void> {
    const running = work.catch(onError).finally(() => {
      if (renewing === running) renewing = undefined;
    });
    renewing = running;
    return running;
  }

  /** One renewal at a time; a renewal asked for while one runs is that one. */
  function renewNow(): Promise<void> {
    const on = connection;
    if (!on || released) return Promise.resolve();
    return renewing ?? underWay(renew(on, epoch));
  }

  const timer = setInterval(() => void renewNow(), Math.max(1, Math.floor(leaseMs / 3)));
  timer.unref();

  function take(version: number): void {
    if (version > heard) heard = version;
  }

  /** One acknowledgement at a time on the connection; versions heard meanwhile are acknowledged together. */
  function acknowledge(): void {
    const on = connection;
    if (!on || acking || acked >= heard || released) return;
    acking = true;
    const version = heard;
    on.query(ACK, [instance, version]).then(
      () => {
        if (version > acked) acked = version;
        acking = false;
        acknowledge();
      },
      (error: unknown) => {
        // Not again at once (the connection may be gone): the next version heard, the next join, or the
        // next renewal (which acknowledges what was heard too) does it.
        acking = false;
        onError(error);
      },
    );
  }

  return {
    instance,
    held: () => now() < validUntil,
    heard: () => heard,
    renew: renewNow,
    heardAnnounced(version) {
      take(version);
      acknowledge();
    },
    async attach(on) {
      if (released) return;
      epoch += 1;
      connection = on;
      acked = 0;
      const at = epoch;
      await renewing;
      // Detached (or attached anew) meanwhile: this connection is no longer the lease's.
      if (epoch !== at || released) return;
      await (renewing ?? underWay(join(on, at)));
      acknowledge();
    },
    detach() {
      epoch += 1;
      validUntil = 0;
      connection = undefined;
    },
    async release() {
      if (released) return;
      released = true;
      validUntil = 0;
      clearInterval(timer);
      await renewing;
      await connection?.query(RELEASE, [instance]).catch(onError);
      connection = undefined;
    },
  };
}

/**
 * The leases behind `$1`: unexpired (the database's clock) and not yet acknowledging that version. Answers
 * how long until the first of them expires (milliseconds), or null when none is behind.
 */
const LEASES_BEHIND = {
  name: 'store_cache_leases_behind',
  text: `select extract(epoch from min(expires_at) - now()) * 1000 as wait_ms from store_cache_leases
  where expires_at > now() and acked_version < $1`,
} as const;

/** What `waitForLeases` needs of the store. */
export interface LeaseWaitStore {
  query(statement: {
    name: string;
    text: string;
    values: unknown[];
  }): Promise<{ rows: { wait_ms?: unknown }[] }>;
  listen(channel: string, handler: (payload: string) => void): Promise<unknown>;
}

/**
 * The writer's side: after announcing `version`, waits until no unexpired lease is behind it — woken by
 * each acknowledgement of at least that version, and by a timer at the first such lease's end (as the
 * database computes it). Bounded by one lease: a lease that does not acknowledge is not renewed.
 */
export function leaseWaits(store: LeaseWaitStore): (version: number) => Promise<void> {
  const waiters = new Set<{ version: number; wake: () => void }>();
  let listening: Promise<unknown> | undefined;
  const acknowledged = (payload: string): void => {
    const version = Number(payload);
    for (const waiter of waiters) if (waiter.version <= version) waiter.wake();
  };
  return async function waitForLeases(version) {
    // Without the acknowledgements' channel (the listener connection is down), the timers alone end the wait.
    listening ??= store.listen(LEASE_ACKED_CHANNEL, acknowledged).catch(() => {
      listening = undefined;
    });
    await listening;
    for (;;) {
      let wake = (): void => undefined;
      const woken = new Promise<void>((resolve) => (wake = resolve));
      // Waiting before the look: an acknowledgement arriving between the look and the wait is not missed.
      const waiter = { version, wake };
      waiters.add(waiter);
      let timer: NodeJS.Timeout | undefined;
      try {
        const { rows } = await store.query({ ...LEASES_BEHIND, values: [version] });
        const waitMs = rows[0]?.wait_ms;
        if (waitMs === null || waitMs === undefined) return;
        const expired = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.max(1, Math.ceil(Number(waitMs))));
        });
        await Promise.race([woken, expired]);
      } finally {
        clearTimeout(timer);
        waiters.delete(waiter);
      }
    }
  };
}
