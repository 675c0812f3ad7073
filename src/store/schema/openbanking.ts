import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

/**
 * Payments and their HTTP plumbing (issue 6). `bank_payments` is the bank core's record of every payment
 * a TPP initiated (domestic, VRP, …) and of what the ledger made of it; `ob_idempotency` remembers the
 * answer given to each `x-idempotency-key` for 24 hours. Owned by the payments engineer.
 */
const ts = (name: string) => timestamp(name, { withTimezone: true });

export const bankPayments = pgTable(
  'bank_payments',
  {
    /**
     * The OB payment id (DomesticPaymentId, DomesticVRPId, …), at most 40 characters; `<id>:<n>` for a file's
     * transaction n, or the n-th execution of a scheduled payment or standing order (never an API resource).
     */
    id: text('id').primaryKey(),
    /** `domestic` | `domestic-vrp` | … */
    kind: text('kind').notNull(),
    /** The consent (intent) it was made under. */
    consentId: text('consent_id').notNull(),
    clientId: text('client_id').notNull(),
    customerId: text('customer_id'),
    debtorAccountId: text('debtor_account_id').notNull(),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: text('currency').notNull(),
    /** OB payment status: Pending, AcceptedSettlementCompleted, Rejected, … */
    status: text('status').notNull(),
    statusUpdatedAt: ts('status_updated_at').notNull(),
    /** Why the bank rejected it (bank error code), when it did. */
    reason: text('reason'),
    /** The posting set that moved the money, once posted. */
    entryId: text('entry_id'),
    /** The request's Data as submitted (Initiation, Instruction, …), echoed on reads. */
    request: jsonb('request').$type<Record<string, unknown>>().notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    index('bank_payments_consent_ix').on(t.consentId, t.createdAt),
    check('bank_payments_amount_ck', sql`${t.amountMinor} > 0`),
  ],
);

export const obIdempotency = pgTable(
  'ob_idempotency',
  {
    clientId: text('client_id').notNull(),
    key: text('key').notNull(),
    /** Method and route template, e.g. `POST /domestic-payments`. */
    endpoint: text('endpoint').notNull(),
    /** SHA-256 (hex) of the exact request body bytes. */
    bodyHash: text('body_hash').notNull(),
    status: integer('status').notNull(),
    body: jsonb('body').notNull(),
    createdAt: ts('created_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.clientId, t.key, t.endpoint] }),
    index('ob_idempotency_expires_ix').on(t.expiresAt),
  ],
);

/**
 * The file a TPP uploaded to a file-payment consent (`POST /file-payment-consents/{ConsentId}/file`), kept
 * as sent: checked against the consent's FileHash, NumberOfTransactions and ControlSum at upload, handed
 * back on `GET …/file`, and executed transaction by transaction when the file payment is submitted.
 */
export const obPaymentFiles = pgTable('ob_payment_files', {
  consentId: text('consent_id').primaryKey(),
  clientId: text('client_id').notNull(),
  /** The media type it was uploaded as (e.g. `application/json`), echoed on download. */
  contentType: text('content_type').notNull(),
  /** The exact bytes, UTF-8 (the file types we take are text). */
  content: text('content').notNull(),
  /** Base64 SHA-256 of the bytes: the consent's FileHash. */
  sha256: text('sha256').notNull(),
  uploadedAt: ts('uploaded_at').notNull(),
});
