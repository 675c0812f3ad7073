import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import * as schema from './schema/index.ts';

export type Schema = typeof schema;
/** The Drizzle client every part writes its queries against; the same type on PGlite and PostgreSQL. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle, as given to the callback of `db.transaction`. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
/** Either the database or an open transaction: what a repository function writes through. */
export type Queryable = Database | Transaction;

export type Backend = 'pglite' | 'postgres';

export type NotificationHandler = (payload: string) => void;

export interface Store {
  readonly db: Database;
  readonly backend: Backend;
  /** Throws when the database does not answer; what `/ready` asks. */
  ping(): Promise<void>;
  /** Applies every pending migration; safe to call from many instances at once. */
  migrate(): Promise<void>;
  /**
   * Subscribes to a PostgreSQL NOTIFY channel. On a real server every instance of the bank hears it,
   * which is how a revocation reaches every instance's cache at once.
   */
  listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

export type StoreOptions =
  | { backend: 'pglite'; dataDir: string | undefined; pglite?: PGlite }
  | { backend: 'postgres'; url: string; poolSize?: number };

export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/** Any two instances migrating at once take turns on this advisory lock. */
const MIGRATION_LOCK_ID = 7_265_031_983;

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
const EMBEDDED_START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=32MB'];

async function openPglite(options: { dataDir: string | undefined; pglite?: PGlite }): Promise<Store> {
  if (options.dataDir !== undefined) mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const client = options.pglite ?? new PGlite(options.dataDir, { startParams: EMBEDDED_START_PARAMS });
  await client.waitReady;
  const db = drizzlePglite({ client, schema }) as unknown as Database;
  return {
    db,
    backend: 'pglite',
    async ping() {
      await client.query('select 1');
    },
    async migrate() {
      await migratePglite(drizzlePglite({ client, schema }), { migrationsFolder });
    },
    async listen(channel, handler) {
      assertChannel(channel);
      const unsubscribe = await client.listen(channel, handler);
      return async () => unsubscribe();
    },
    async notify(channel, payload) {
      assertChannel(channel);
      await client.query('select pg_notify($1, $2)', [channel, payload]);
    },
    async close() {
      if (!client.closed) await client.close();
    },
  };
}

async function openPostgres(options: { url: string; poolSize?: number }): Promise<Store> {
  const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10 });
  // An idle client that errors (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const db = drizzlePg({ client: pool, schema }) as unknown as Database;
  const listeners = new Map<string, Set<NotificationHandler>>();
  /** Each channel's LISTEN, so a second listener of a channel also returns only once it is registered. */
  const registered = new Map<string, Promise<void>>();
  let listenClient: pg.Client | undefined;
  let closed = false;

  async function connectListener(): Promise<pg.Client> {
    if (listenClient) return listenClient;
    const client = new pg.Client({ connectionString: options.url });
    await client.connect();
    client.on('notification', (message) => {
      for (const handler of listeners.get(message.channel) ?? []) handler(message.payload ?? '');
    });
    client.on('error', () => {
      listenClient = undefined;
      void client.end().catch(() => undefined);
      if (!closed) void resubscribeAll();
    });
    listenClient = client;
    return client;
  }

  async function resubscribeAll(): Promise<void> {
    for (let attempt = 0; !closed; attempt += 1) {
      try {
        const client = await connectListener();
        for (const channel of listeners.keys()) await client.query(`LISTEN "${channel}"`);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * 2 ** attempt)));
      }
    }
  }

  return {
    db,
    backend: 'postgres',
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
    async listen(channel, handler) {
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
    },
    async notify(channel, payload) {
      assertChannel(channel);
      await db.execute(sql`select pg_notify(${channel}, ${payload})`);
    },
    async close() {
      if (closed) return;
      closed = true;
      await listenClient?.end().catch(() => undefined);
      await pool.end();
    },
  };
}
