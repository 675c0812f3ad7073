import { integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Request quotas shared by every instance on one PostgreSQL (issue 12): one row per limited key (`mtls:…`,
 * `browser:…`, …) holding the current fixed window's end and how much of its quota instances have claimed.
 * Instances claim quota in small leases, so a request does not cost a round trip (src/server/rate-limits.ts).
 */
export const rateLimits = pgTable('rate_limits', {
  key: text('key').primaryKey(),
  windowEndsAt: timestamp('window_ends_at', { withTimezone: true }).notNull(),
  claimed: integer('claimed').notNull(),
});
