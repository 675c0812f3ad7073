import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { CHANGE_VERSION_QUERY, changeVersionOf } from './change-version.ts';
import {
  CHANGE_VERSION_CHANNEL,
  createCacheLease,
  leaseWaits,
  type CacheLease,
  type CacheLeaseHolder,
  type LeaseConnection,
} from './cache-lease.ts';
import * as schema from './schema/index.ts';
import { embeddedReadsOf, type EmbeddedReads } from './embedded-reads.ts';
import { forDrizzle } from './embedded-parsers.ts';
import { scheduleEmbeddedCheckpoints, type EmbeddedCheckpointOptions } from './embedded-checkpoints.ts';

export type Schema = typeof schema;
/**
 * The Drizzle client every part writes its queries against; the same type on PGlite and PostgreSQL. Built
 * without drizzle's relational query API (`db.query.<table>`, which no part uses): with the schema given,
 * every transaction handle built one query builder per table (~25 µs and their garbage per transaction).
 */
export type Database = PgDatabase<PgQueryResultHKT>;
/** A transaction handle, as given to the callback of `db.transaction`. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
/** Either the database or an open transaction: what a repository function writes through. */
export type Queryable = Database | Transaction;

export type Backend = 'pglite' | 'postgres';

export type NotificationHandler = (payload: string) => void;

export interface Store {
  readonly db: Database;
  /**
   * The same database, but a COMMIT made through it does not wait for its record to reach the disk
   * (PostgreSQL `synchronous_commit = off`; the embedded database: `db` itself). Visibility, atomicity and
   * ordering are unchanged; only a crash of the database server may lose the last few hundred milliseconds
   * of such commits. Use it only for writes whose loss fails closed — an access token or browser session
   * that stops working and is asked for again — never for money, consent state or a revocation.
   */
  readonly asyncCommitDb: Database;
  readonly backend: Backend;
  /**
   * The embedded database's count of writes and its read-only statements (`embedded-reads.ts`): reads
   * answered again without a statement while nothing was written. Undefined on PostgreSQL, where other
   * instances write too.
   */
  readonly embedded: EmbeddedReads | undefined;
  /** Throws when the database does not answer; what `/ready` asks. */
  ping(): Promise<void>;
  /** Applies every pending migration; safe to call from many instances at once. */
  migrate(): Promise<void>;
  /**
   * Subscribes to a PostgreSQL NOTIFY channel. On a real server every instance of the bank hears it,
   * which is how a revocation reaches every instance's cache at once.
   */
  listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>>;
  /**
   * Announces a change on `channel` and, in the same statement, advances the store's change version
   * (`store_change_version`): every notification is a change that no instance's cache may outlive. On
   * PostgreSQL it then waits until every instance holding a cache lease has acknowledged the change
   * (`src/store/cache-lease.ts`; at most one lease for an instance that does not).
   */
  notify(channel: string, payload: string): Promise<void>;
  /**
   * PostgreSQL: holds a cache lease of `leaseMs` for this store's instance (one per store: a second call
   * answers the first's), renewed on the listener connection until `close` deletes it. While it is held,
   * every change announced before now has been heard, so a request needs no read of the change version.
   * The embedded database needs none (one process): undefined. The lease hears the announced change versions
   * through `hearThrough`: this store's own `listen` unless a store wrapping this one passes its own (a
   * test's instance that hears late, or not at all).
   */
  holdCacheLease(
    leaseMs: number,
    onError?: (error: unknown) => void,
    hearThrough?: Store['listen'],
  ): Promise<CacheLease | undefined>;
  /**
   * The store's change version: how many changes were announced so far (one primary-key read). An
   * instance reading a higher one than it saw last knows that what it cached may have been revoked.
   */
  changeVersion(): Promise<number>;
  /**
   * The connection pool's state (PostgreSQL): connections open, idle, and queries waiting for one. The
   * embedded database has no pool (one in-process connection, queries run one at a time): undefined.
   */
  poolStats(): PoolStats | undefined;
  close(): Promise<void>;
}

export interface PoolStats {
  max: number;
  total: number;
  idle: number;
  waiting: number;
}

export type StoreOptions =
  | {
      backend: 'pglite';
      dataDir: string | undefined;
      pglite?: PGlite;
      /** When the embedded database checkpoints (default `EMBEDDED_CHECKPOINTS`). */
      checkpoints?: EmbeddedCheckpointOptions;
    }
  | { backend: 'postgres'; url: string; poolSize?: number };

export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/** Any two instances migrating at once take turns on this advisory lock. */
const MIGRATION_LOCK_ID = 7_265_031_983;

/**
 * Announces a change and advances the change version in one statement (so in one transaction): the
 * migrations' `store_announce`, which also notifies `store_change_version` with the version it reached.
 */
const NOTIFY_AND_ADVANCE = 'select store_announce($1, $2) as version';

/**
 * The change version read as a named statement on PostgreSQL: each connection parses and plans it once,
 * then only binds and executes it.
 */
const READ_CHANGE_VERSION = { name: 'store_change_version', text: CHANGE_VERSION_QUERY } as const;

function versionOf(rows: readonly { version?: unknown }[]): number {
  return changeVersionOf(rows[0]?.version);
}

/**
 * How long a request waits for a connection when the server does not answer (down, restarting,
 * unreachable) before it fails — and is answered 503 — rather than hanging.
 */
const CONNECT_TIMEOUT_MS = 5_000;

/** Connections for `asyncCommitDb`: its writes are single short statements. */
const ASYNC_COMMIT_POOL_SIZE = 4;

const CHANNEL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function assertChannel(channel: string): void {
  if (!CHANNEL_NAME.test(channel)) throw new Error(`invalid notification channel name: ${channel}`);
}

export async function openStore(options: StoreOptions): Promise<Store> {
  return options.backend === 'pglite' ? openPglite(options) : openPostgres(options);
}

/**
 * PGlite's own start parameters, with 32 MB of shared buffers instead of PostgreSQL's 128 MB: the embedded
 * database is small and its files stay in the OS page cache, and the WebAssembly heap (so the process)
 * is about 100 MB smaller and starts a little faster (bench/start.ts).
 */
export const EMBEDDED_START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=32MB'];

async function openPglite(options: {
  dataDir: string | undefined;
  pglite?: PGlite;
  checkpoints?: EmbeddedCheckpointOptions;
}): Promise<Store> {
  if (options.dataDir !== undefined) mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const client = options.pglite ?? new PGlite(options.dataDir, { startParams: EMBEDDED_START_PARAMS });
  await client.waitReady;
  // Drizzle's type parsers go into the handle's table once rather than with every statement (embedded-parsers.ts).
  const db = drizzlePglite({ client: forDrizzle(client) }) as unknown as Database;
  // Single-user PostgreSQL takes no checkpoint by itself: without these the WAL would grow for the store's
  // whole life (embedded-checkpoints.ts). A look counts as a write to the embedded reads (once a minute).
  const stopCheckpoints = scheduleEmbeddedCheckpoints(client, options.checkpoints);
  return {
    db,
    asyncCommitDb: db,
    backend: 'pglite',
    embedded: embeddedReadsOf(client),
    async ping() {
      await client.query('select 1');
    },
    async migrate() {
      await migratePglite(drizzlePglite({ client: forDrizzle(client), schema }), { migrationsFolder });
    },
    async listen(channel, handler) {
      assertChannel(channel);
      const unsubscribe = await client.listen(channel, handler);
      return async () => unsubscribe();
    },
    async notify(channel, payload) {
      assertChannel(channel);
      await client.query(NOTIFY_AND_ADVANCE, [channel, payload]);
    },
    async changeVersion() {
      return versionOf((await client.query<{ version: unknown }>(CHANGE_VERSION_QUERY)).rows);
    },
    holdCacheLease: async () => undefined,
    poolStats: () => undefined,
    async close() {
      stopCheckpoints();
      if (!client.closed) await client.close();
    },
  };
}

/**
 * The store's listener connections (the ones that LISTEN, and renew cache leases): background work of the
 * store, not of any request (test/support/statements.ts leaves their statements out).
 */
const LISTENER_CONNECTIONS = new WeakSet<object>();

/** The listener connections' `application_name`. */
export const LISTENER_APPLICATION_NAME = 'obkit listener';

/** Whether `client` is a store's listener connection. */
export function isListenerConnection(client: unknown): boolean {
  return typeof client === 'object' && client !== null && LISTENER_CONNECTIONS.has(client);
}

function leaseConnection(client: pg.Client): LeaseConnection {
  return { query: (text, values) => client.query(text, [...values]) };
}

async function openPostgres(options: { url: string; poolSize?: number }): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // An idle client that errors (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  // Nor one in use: a client emits 'error' when its connection breaks even while a query or transaction
  // holds it (the query itself fails too, and is answered 503); released, the broken client is dropped.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = drizzlePg({ client: pool }) as unknown as Database;
  // A commit waits ~5 ms for the disk flush on this class of machine: most of a token request on PostgreSQL.
  // Its own small pool, every connection opened with synchronous_commit off (a startup option, no extra
  // round trip per statement).
  const asyncCommitPool = new pg.Pool({
    connectionString: options.url,
    max: ASYNC_COMMIT_POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    options: '-c synchronous_commit=off',
  });
  asyncCommitPool.on('error', () => undefined);
  asyncCommitPool.on('connect', (client) => client.on('error', () => undefined));
  const asyncCommitDb = drizzlePg({ client: asyncCommitPool }) as unknown as Database;
  const listeners = new Map<string, Set<NotificationHandler>>();
  /** Each channel's LISTEN, so a second listener of a channel also returns only once it is registered. */
  const registered = new Map<string, Promise<void>>();
  let listenClient: pg.Client | undefined;
  let closed = false;
  /** Set while a lost listener connection is being replaced: the lease joins again once it is. */
  let resubscribing = false;
  let lease: CacheLeaseHolder | undefined;
  let leaseHolding: Promise<CacheLease> | undefined;
  const waitForLeases = leaseWaits({
    query: (statement) => pool.query<{ wait_ms?: unknown }>(statement),
    listen: (channel, handler) => listen(channel, handler),
  });

  async function connectListener(): Promise<pg.Client> {
    if (listenClient) return listenClient;
    const client = new pg.Client({
      connectionString: options.url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      // Named for the operator (pg_stat_activity): it LISTENs and renews the cache lease.
      application_name: LISTENER_APPLICATION_NAME,
    });
    // A connection that fails before it is up is not ours to replace: the caller retries.
    client.on('error', () => undefined);
    await client.connect();
    LISTENER_CONNECTIONS.add(client);
    client.on('notification', (message) => {
      for (const handler of listeners.get(message.channel) ?? []) handler(message.payload ?? '');
    });
    // The server restarted or the connection broke: LISTEN again on a new one. Notifications sent in the
    // gap are lost, which costs nothing but their early cache drop: without a lease every request reads
    // the change version first, and a gap's changes advanced it; the lease is no longer trusted from now
    // on, and is joined again (reading the version) once the new connection LISTENs.
    const lost = () => {
      if (listenClient !== client) return;
      listenClient = undefined;
      lease?.detach();
      void client.end().catch(() => undefined);
      if (!closed) {
        resubscribing = true;
        void resubscribeAll();
      }
    };
    client.on('error', lost);
    client.on('end', lost);
    listenClient = client;
    return client;
  }

  async function resubscribeAll(): Promise<void> {
    for (let attempt = 0; !closed; attempt += 1) {
      try {
        const client = await connectListener();
        for (const channel of listeners.keys()) await client.query(`LISTEN "${channel}"`);
        resubscribing = false;
        if (lease && listenClient === client) await lease.attach(leaseConnection(client));
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * 2 ** attempt)));
      }
    }
  }

  async function listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>> {
    assertChannel(channel);
    let handlers = listeners.get(channel);
    if (!handlers) {
      handlers = new Set();
      listeners.set(channel, handlers);
      registered.set(
        channel,
        connectListener().then(async (client) => {
          await client.query(`LISTEN "${channel}"`);
        }),
      );
    }
    handlers.add(handler);
    await registered.get(channel);
    return async () => {
      handlers.delete(handler);
      if (handlers.size === 0 && listeners.get(channel) === handlers) {
        listeners.delete(channel);
        registered.delete(channel);
        await listenClient?.query(`UNLISTEN "${channel}"`).catch(() => undefined);
      }
    };
  }

  return {
    db,
    asyncCommitDb,
    backend: 'postgres',
    embedded: undefined,
    async ping() {
      await pool.query('select 1');
    },
    async migrate() {
      const client = new pg.Client({ connectionString: options.url });
      await client.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
        await migratePg(drizzlePg({ client, schema }), { migrationsFolder });
      } finally {
        await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
        await client.end();
      }
    },
    listen,
    async notify(channel, payload) {
      assertChannel(channel);
      const version = versionOf((await pool.query(NOTIFY_AND_ADVANCE, [channel, payload])).rows);
      await waitForLeases(version);
    },
    holdCacheLease(leaseMs, onError, hearThrough = listen) {
      leaseHolding ??= (async () => {
        const holder = createCacheLease({ leaseMs, ...(onError ? { onError } : {}) });
        lease = holder;
        // LISTEN before the lease is joined: a change announced after the join is heard.
        await hearThrough(CHANGE_VERSION_CHANNEL, (payload) =>
          holder.heardAnnounced(changeVersionOf(payload)),
        );
        const client = await connectListener();
        // Being replaced: `resubscribeAll` joins once the new connection LISTENs.
        if (!resubscribing) await holder.attach(leaseConnection(client));
        return holder;
      })();
      return leaseHolding;
    },
    async changeVersion() {
      return versionOf((await pool.query<{ version: unknown }>(READ_CHANGE_VERSION)).rows);
    },
    poolStats: () => ({
      max: options.poolSize ?? 10,
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
    }),
    async close() {
      if (closed) return;
      closed = true;
      await lease?.release();
      await listenClient?.end().catch(() => undefined);
      await Promise.all([pool.end(), asyncCommitPool.end()]);
    },
  };
}
