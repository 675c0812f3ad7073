import { bigint, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The bank's staff (src/operator): their accounts and console sessions, the bank's own suspensions of
 * participants, and the append-only security audit log.
 */

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const operatorAccounts = pgTable('operator_accounts', {
  name: text('name').primaryKey(),
  /** `admin` (may act) or `auditor` (may only read). */
  role: text('role').notNull(),
  /** `scrypt$N$r$p$salt$hash` (base64url), as the PSU's (src/consent/credentials.ts). */
  passwordHash: text('password_hash').notNull(),
  /** RFC 4648 base32, no padding. */
  totpSecret: text('totp_secret').notNull(),
  /** The last accepted TOTP time step: a code is never accepted twice. */
  totpLastStep: bigint('totp_last_step', { mode: 'number' }),
  failedAttempts: integer('failed_attempts').notNull().default(0),
  lockedUntil: ts('locked_until'),
  createdAt: ts('created_at').notNull(),
  updatedAt: ts('updated_at').notNull(),
});

export const operatorSessions = pgTable(
  'operator_sessions',
  {
    /** SHA-256 (base64url) of the cookie value; the cookie itself is never stored. */
    id: text('id').primaryKey(),
    operator: text('operator')
      .notNull()
      .references(() => operatorAccounts.name, { onDelete: 'cascade' }),
    /** `password` (TOTP pending) or `authenticated`. */
    stage: text('stage').notNull(),
    createdAt: ts('created_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
  },
  (table) => [index('operator_sessions_expiry_idx').on(table.expiresAt)],
);

/**
 * Organisations the bank itself has suspended, beside whatever their directory says: a bank cannot edit the
 * Open Banking Directory, but it may stop serving a TPP. The participant status gate consults both.
 */
export const participantSuspensions = pgTable('participant_suspensions', {
  orgId: text('org_id').primaryKey(),
  suspendedAt: ts('suspended_at').notNull(),
  /** The operator who suspended it. */
  suspendedBy: text('suspended_by').notNull(),
  reason: text('reason').notNull(),
});

/**
 * Security-relevant events, appended and never changed: who (an operator, a TPP's client, a customer, the
 * system), what, when and from where. On PostgreSQL a trigger refuses UPDATE and DELETE of rows (migration
 * 0010). Consent lifecycle changes stay in `consent_audit`; the console reads both.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    at: ts('at').notNull(),
    /** e.g. `operator:alice`, `client:<id>`, `system`. */
    actor: text('actor').notNull(),
    /** e.g. `operator.login-failed`, `participant.suspended`, `consent.revoked`. */
    action: text('action').notNull(),
    /** What it was done to: `org:<id>`, `consent:<id>`, `operator:<name>`. */
    subject: text('subject'),
    /** The client address the request came from, when there was one. */
    address: text('address'),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
  },
  (table) => [index('audit_log_at_idx').on(table.at, table.id)],
);
