import { bigint, pgTable, smallint, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * One row (id 1) counting the store's announced changes: every NOTIFY (a consent revoked, tokens revoked,
 * a certificate revoked, a participant's status changed) advances it in the same statement. An instance
 * reads it (a primary-key point query) at the start of each request — or, holding a cache lease, hears it
 * announced before the writer returns — and serves nothing it cached under an older version — so what was revoked before a call returned is refused by every instance's next request,
 * however late the notification arrives. Absent until the first change: version 0.
 */
export const changeVersion = pgTable('store_change_version', {
  id: smallint('id').primaryKey(),
  version: bigint('version', { mode: 'number' }).notNull(),
});

/**
 * Each instance's cache lease (PostgreSQL; `src/store/cache-lease.ts`): while its row has not expired
 * (`expires_at`, the database's clock), an announcing writer waits until the instance has acknowledged
 * its change (`acked_version`) — so the instance may answer from its caches without reading the change
 * version per request. A renewal extends `expires_at` only while the instance has heard every announced
 * change, so a writer waits at most one lease for an instance that stopped hearing.
 */
export const cacheLeases = pgTable('store_cache_leases', {
  instance: text('instance').primaryKey(),
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  ackedVersion: bigint('acked_version', { mode: 'number' }).notNull(),
});
