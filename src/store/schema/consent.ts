import { bigint, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Intents (OB "consents") of every kind, the audit trail of their lifecycle, the PSU's credentials and the
 * consent app's short-lived browser sessions. Owned by src/consent.
 */
export const consentIntents = pgTable(
  'consent_intents',
  {
    /** OB-style: `aac-<uuid>`, `pdc-<uuid>`, … (prefix per kind). */
    id: text('id').primaryKey(),
    kind: text('kind').notNull(),
    /** OAuth client id of the TPP that staged it. */
    clientId: text('client_id').notNull(),
    status: text('status').notNull(),
    statusUpdatedAt: timestamp('status_updated_at', { withTimezone: true }).notNull(),
    /** The OB request's `Data` object, as the TPP sent it. */
    data: jsonb('data').notNull(),
    /** The OB request's `Risk` object. */
    risk: jsonb('risk').notNull(),
    permissions: text('permissions').array().notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    /**
     * A payment consent's `Data.Authorisation.CompletionDateTime`, "the date and time at which the
     * requested authorisation flow must be completed": past it, one still awaiting authorisation (or its
     * file) can never be authorised. Null when the consent gives none. Read from `data` once, at staging.
     */
    authoriseBy: timestamp('authorise_by', { withTimezone: true }),
    customerId: text('customer_id'),
    accountIds: text('account_ids').array(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    authorisedAt: timestamp('authorised_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    /** The Read/Write API version the consent was staged on (`v3.1.11`, `v4.0`): which versions may use it. */
    apiVersion: text('api_version').notNull().default('v3.1.11'),
    /**
     * When the PSU withdrew the TPP's access at the bank (the dashboard) without the consent ending: the
     * profiles' "Access Revocation" of account-access and VRP consents. Its tokens are dead and no new one is
     * issued until the PSU re-authenticates the consent, which clears it. Null otherwise.
     */
    accessWithdrawnAt: timestamp('access_withdrawn_at', { withTimezone: true }),
  },
  (table) => [
    index('consent_intents_client_idx').on(table.clientId),
    index('consent_intents_customer_idx').on(table.customerId),
  ],
);

export const consentAudit = pgTable(
  'consent_audit',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    intentId: text('intent_id')
      .notNull()
      .references(() => consentIntents.id, { onDelete: 'cascade' }),
    at: timestamp('at', { withTimezone: true }).notNull(),
    /** tpp | psu | system */
    actor: text('actor').notNull(),
    /** created | authorised | reauthenticated | rejected | consumed | revoked | access-withdrawn | used | … */
    event: text('event').notNull(),
    fromStatus: text('from_status'),
    toStatus: text('to_status'),
    detail: text('detail'),
  },
  (table) => [index('consent_audit_intent_idx').on(table.intentId, table.id)],
);

/** A PSU's login credentials, keyed by the bank's customer id. */
export const psuCredentials = pgTable('psu_credentials', {
  customerId: text('customer_id').primaryKey(),
  /** `scrypt$N$r$p$salt$hash` (base64url). */
  passwordHash: text('password_hash').notNull(),
  /** RFC 4648 base32, no padding. */
  totpSecret: text('totp_secret').notNull(),
  /** The last accepted TOTP time step: a code is never accepted twice. */
  totpLastStep: bigint('totp_last_step', { mode: 'number' }),
  failedAttempts: integer('failed_attempts').notNull().default(0),
  lockedUntil: timestamp('locked_until', { withTimezone: true }),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
});

/** Failed logins for usernames that match no customer, so they look like any other (keyed by a hash). */
export const psuUnknownLogins = pgTable('psu_unknown_logins', {
  usernameHash: text('username_hash').primaryKey(),
  failedAttempts: integer('failed_attempts').notNull().default(0),
  lockedUntil: timestamp('locked_until', { withTimezone: true }),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
});

/** The consent app's browser session for one interaction: its login stage (CSRF is src/shared/page-security). */
export const consentSessions = pgTable(
  'consent_sessions',
  {
    /** SHA-256 (base64url) of the cookie value; the cookie itself is never stored. */
    id: text('id').primaryKey(),
    interactionUid: text('interaction_uid').notNull(),
    /** start → password (password checked, TOTP pending) → authenticated */
    stage: text('stage').notNull(),
    customerId: text('customer_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (table) => [index('consent_sessions_expiry_idx').on(table.expiresAt)],
);
