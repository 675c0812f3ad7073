import { bigint, pgTable, smallint } from 'drizzle-orm/pg-core';

/**
 * One row (id 1) counting the store's announced changes: every NOTIFY (a consent revoked, tokens revoked,
 * a certificate revoked, a participant's status changed) advances it in the same statement. An instance
 * reads it (a primary-key point query) at the start of each request, and serves nothing it cached under an
 * older version — so what was revoked before a call returned is refused by every instance's next request,
 * however late the notification arrives. Absent until the first change: version 0.
 */
export const changeVersion = pgTable('store_change_version', {
  id: smallint('id').primaryKey(),
  version: bigint('version', { mode: 'number' }).notNull(),
});
