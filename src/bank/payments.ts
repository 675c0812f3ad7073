/**
 * Payments a TPP initiated (domestic single payments, VRP payments) and their execution on the ledger.
 * A payment is stored with its request and executed in the same database transaction: the ledger posts
 * one balanced posting set whose origin is `payment:<id>` (so no payment is ever posted twice), or the
 * ledger refuses (insufficient funds beyond the overdraft, a disabled account, a currency the account does
 * not hold) and the payment is stored as Rejected with the reason, nothing posted.
 */
import { randomUUID } from 'node:crypto';
import { asc, eq, getTableColumns, sql, type SQL } from 'drizzle-orm';
import { preparedRaiseEvent, raisedEventParts, raisedEventValues } from '../events/index.ts';
import type { Queryable } from '../store/index.ts';
import { inTransaction, preparedRows, preparedSql, schema } from '../store/index.ts';
import type { Counterparty } from '../store/schema/bank.ts';
import { BankError, InvalidEntryError } from './errors.ts';
import type { AccountRecord } from './customers.ts';
import {
  balanceOf,
  postingStatement,
  type AccountIdentity,
  type LedgerContext,
  type PostedEntry,
} from './ledger.ts';
import { currencyExponent } from './money.ts';
import { paymentUpdate } from './payment-events.ts';
import { payCreditor, settlementStatus, type ExternalPayout } from './schedules.ts';

const { bankPayments, bankScheduledPayments, bankStandingOrders } = schema;

export type PaymentRecord = typeof bankPayments.$inferSelect;

/** OB payment statuses the bank sets (a subset of OBExternalStatus). */
export type PaymentStatus =
  | 'Pending'
  | 'AcceptedSettlementCompleted'
  | 'AcceptedCreditSettlementCompleted'
  | 'Rejected'
  /** A future-dated instruction (scheduled payment, standing order) accepted and set up. */
  | 'InitiationCompleted';

export type PaymentKind =
  | 'domestic'
  | 'domestic-vrp'
  | 'domestic-scheduled'
  | 'domestic-standing-order'
  | 'international'
  | 'international-scheduled'
  | 'international-standing-order'
  /** A file (bulk) payment: the resource under its id, each transaction of the file under `<id>:<n>`. */
  | 'file';

export interface NewPayment {
  id?: string;
  kind: PaymentKind;
  consentId: string;
  clientId: string;
  customerId?: string;
  debtorAccountId: string;
  /** The debtor account's row, when the caller has read it in this transaction (not read again). */
  debtorAccount?: AccountIdentity;
  /**
   * The customer account `creditor` names here, when the caller has read it in this transaction with the
   * debtor's (`getHeldAccountWithCreditor`: not looked up again), null when it names none.
   */
  creditorAccount?: AccountRecord | null;
  amountMinor: bigint;
  currency: string;
  creditor: Counterparty;
  /** Shown on both statements (OB RemittanceInformation.Reference, else the end-to-end id). */
  reference?: string;
  /** The request's Data, echoed on reads. */
  request: Record<string, unknown>;
  /**
   * A payment leaving the bank in another currency and/or with a charge (international): posted through
   * clearing (and the FX accounts) with `postExternalDebit`; `amountMinor` is the debit in the account's
   * currency, `instructed` what the payee receives.
   */
  external?: ExternalPayout;
}

/** `pay-<uuid>` fits OB's 40 characters for payment ids. */
const ID_PREFIX: Record<PaymentKind, string> = {
  domestic: 'dp',
  'domestic-vrp': 'vrp',
  'domestic-scheduled': 'dsp',
  'domestic-standing-order': 'dso',
  international: 'ip',
  'international-scheduled': 'isp',
  'international-standing-order': 'iso',
  file: 'fp',
};

export function newPaymentId(kind: PaymentKind): string {
  return `${ID_PREFIX[kind]}-${randomUUID()}`;
}

/**
 * Records a future-dated instruction (a scheduled payment or standing order the bank has set up under
 * the same id) as the TPP's payment resource, status InitiationCompleted. Nothing is posted now: the
 * scheduler executes it when due.
 */
export async function recordInstruction(
  db: Queryable,
  ctx: LedgerContext,
  input: Omit<NewPayment, 'creditor' | 'reference'> & { id: string },
): Promise<PaymentRecord> {
  return insertPayment(db, paymentRow(input.id, input, ctx.clock.now(), { status: 'InitiationCompleted' }));
}

/** The payment resource's row: what the TPP asked for, with the status it has when it is first stored. */
function paymentRow(
  id: string,
  input: Omit<NewPayment, 'creditor' | 'reference'>,
  now: Date,
  outcome: { status: PaymentStatus; reason?: string | null; entryId?: string | null },
): PaymentRecord {
  return {
    id,
    kind: input.kind,
    consentId: input.consentId,
    clientId: input.clientId,
    customerId: input.customerId ?? null,
    debtorAccountId: input.debtorAccountId,
    amountMinor: input.amountMinor,
    currency: input.currency,
    status: outcome.status,
    statusUpdatedAt: now,
    reason: outcome.reason ?? null,
    entryId: outcome.entryId ?? null,
    request: input.request,
    createdAt: now,
  };
}

async function insertPayment(db: Queryable, values: PaymentRecord): Promise<PaymentRecord> {
  const [row] = await db.insert(bankPayments).values(values).returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

const PAYMENT_COLUMNS = Object.keys(getTableColumns(bankPayments)) as (keyof PaymentRecord)[];

/**
 * The insert of a payment's row, every column a placeholder `payment_<column>` (`paymentValues`), cast to the
 * column's type (an `insert … select`: so that `onlyIf`, a condition on the statement it is part of, can
 * decide whether the row is written).
 */
function paymentInsertSql(onlyIf?: SQL): SQL {
  const names = PAYMENT_COLUMNS.map((key) => sql.identifier(bankPayments[key].name));
  const values = PAYMENT_COLUMNS.map(
    (key) => sql`${sql.placeholder(`payment_${key}`)}::${sql.raw(bankPayments[key].getSQLType())}`,
  );
  return sql`insert into ${bankPayments} (${sql.join(names, sql`, `)}) select ${sql.join(values, sql`, `)}${
    onlyIf ? sql` where ${onlyIf}` : sql``
  }`;
}

/** `paymentInsertSql`'s values: the row's, encoded by the columns' own encoders (what drizzle's insert applies). */
function paymentValues(row: PaymentRecord): Record<string, unknown> {
  return Object.fromEntries(
    PAYMENT_COLUMNS.map((column) => {
      const value = row[column];
      return [`payment_${column}`, value === null ? null : bankPayments[column].mapToDriverValue(value)];
    }),
  );
}

/**
 * The payment's row and its `resource-update` event, one statement prepared once: a payment rejected (nothing
 * posted) stores itself so.
 */
const insertPaymentWithEvent = preparedRaiseEvent('bank_payment_with_event', () => paymentInsertSql());

/**
 * The posting of a payment paid now with the payment's row and its `resource-update` event, one statement
 * (`postingStatement`: the ledger takes them as parts and knows nothing of payments or events — DESIGN.md's
 * arrows: the bank's payments know the events, the ledger only the store). Both are written only with the
 * entry (`exists (select from new_entry)`): a repeated origin writes neither, and the payment is then stored
 * as Rejected by `bank_payment_with_event`, as any payment the ledger refuses. The event's NOTIFY (a push
 * subscriber's deliverers woken on commit) is the statement's second column.
 */
const paymentPosted = postingStatement('bank_payment_posted', () => {
  const posted = sql`exists (select from new_entry)`;
  const event = raisedEventParts(posted);
  return { ctes: sql`payment as (${paymentInsertSql(posted)}), ${event.cte}`, result: event.notify };
});

/**
 * The posting of a file's transaction with its payment row (`<id>:<n>`), one statement: `paymentPosted` without
 * the event (the file payment raises the file's outcome), written only with the entry as there.
 */
const fileTransactionPosted = postingStatement('bank_file_transaction_posted', () => ({
  ctes: sql`payment as (${paymentInsertSql(sql`exists (select from new_entry)`)})`,
}));

/**
 * Stores and executes a payment now, atomically. Returns the stored payment: AcceptedCreditSettlementCompleted
 * when the creditor is an account of this bank (credited in the same posting set), AcceptedSettlementCompleted
 * when the money left through clearing, Rejected (with `reason`, the bank error code) when the ledger refused.
 */
export async function executePayment(
  db: Queryable,
  ctx: LedgerContext,
  input: NewPayment,
): Promise<PaymentRecord> {
  if (input.amountMinor <= 0n) throw new InvalidEntryError('a payment amount must be positive');
  currencyExponent(input.currency);
  const id = input.id ?? newPaymentId(input.kind);
  const now = ctx.clock.now();
  // A file's transaction (`<id>:<n>`) is no resource of its own: the file payment raises its outcome.
  const raisesEvent = !id.includes(':');
  /** The payment's row when `entry` pays it (the same whenever it is asked). */
  const paidBy = (entry: Pick<PostedEntry, 'id' | 'postings'>) =>
    paymentRow(id, input, now, { status: settlementStatus(entry), entryId: entry.id });
  // The caller's transaction when there is one (no savepoint): a refusal of the ledger is thrown before
  // it writes anything, and every other error rolls the caller back.
  return inTransaction(db, async (tx) => {
    let reason: string;
    try {
      const entry = await payCreditor(tx, ctx, {
        accountId: input.debtorAccountId,
        amountMinor: input.amountMinor,
        currency: input.currency,
        creditor: input.creditor,
        reference: input.reference,
        origin: `payment:${id}`,
        kind: input.external
          ? `${input.kind}-payment`
          : input.kind === 'domestic-vrp'
            ? 'vrp-payment'
            : 'payment',
        external: input.external,
        debtor: input.debtorAccount?.id === input.debtorAccountId ? input.debtorAccount : undefined,
        creditorAccount: input.creditorAccount,
        // Paid: the payment's row, with its outcome, and its event (a file's transaction: none) are written
        // by the posting's statement.
        alongside: raisesEvent
          ? {
              statement: paymentPosted,
              values: (posting) => {
                const row = paidBy(posting);
                return { ...paymentValues(row), ...raisedEventValues(ctx.clock, paymentUpdate(row)) };
              },
            }
          : { statement: fileTransactionPosted, values: (posting) => paymentValues(paidBy(posting)) },
      });
      return paidBy(entry);
    } catch (error) {
      if (!(error instanceof BankError)) throw error;
      reason = error.code;
    }
    // Rejected: nothing posted. Written once, with its outcome.
    const row = paymentRow(id, input, now, { status: 'Rejected', reason });
    if (!raisesEvent) return insertPayment(tx, row);
    // The payment's row and its event in one statement. Every column is given, so the row stored is `row`.
    await insertPaymentWithEvent(tx, ctx.clock, paymentUpdate(row), paymentValues(row));
    return row;
  });
}

export async function getPayment(db: Queryable, id: string): Promise<PaymentRecord | undefined> {
  const [row] = await db.select().from(bankPayments).where(eq(bankPayments.id, id));
  return row;
}

export async function listPaymentsForConsent(db: Queryable, consentId: string): Promise<PaymentRecord[]> {
  return db
    .select()
    .from(bankPayments)
    .where(eq(bankPayments.consentId, consentId))
    .orderBy(asc(bankPayments.createdAt), asc(bankPayments.id));
}

/** Why the bank rejected a payment (its `reason`, a bank error code), in words for the customer and the TPP. */
export function describeRejection(reason: string | null | undefined): string {
  switch (reason) {
    case 'insufficient-funds':
      return 'Insufficient funds: there was not enough money in the account';
    case 'account-not-enabled':
      return 'The account cannot make payments';
    case 'currency-mismatch':
      return 'The account does not hold the payment currency';
    default:
      return `Rejected by the bank${reason ? ` (${reason})` : ''}`;
  }
}

/** What became of a payment, in the customer's terms. */
export type PaymentOutcomeStatus = 'Paid' | 'Pending' | 'Rejected' | 'Scheduled' | 'Cancelled';

export interface PaymentOutcome {
  /** The payment, or the execution of a future-dated instruction or a file's transaction (`<id>:<n>`). */
  id: string;
  kind: PaymentKind;
  amountMinor: bigint;
  currency: string;
  status: PaymentOutcomeStatus;
  /** Rejected: the bank error code (see `describeRejection`). */
  reason: string | undefined;
  /** When it was paid, rejected or last changed; Scheduled and Cancelled: when it is (was) due. */
  at: Date;
}

const FUTURE_DATED: readonly string[] = [
  'domestic-scheduled',
  'international-scheduled',
  'domestic-standing-order',
  'international-standing-order',
];

/**
 * Every payment made or due under a consent, from the bank's records, oldest first: each payment's real
 * status (paid, pending, rejected with the reason), each execution of a scheduled payment or standing
 * order, each transaction of a file, and the next payment a scheduled payment or standing order will make.
 */
export async function paymentOutcomesUnderConsent(
  db: Queryable,
  consentId: string,
): Promise<PaymentOutcome[]> {
  const rows = await listPaymentsForConsent(db, consentId);
  const ids = new Set(rows.map((row) => row.id));
  const outcomes: PaymentOutcome[] = [];
  for (const row of rows) {
    const base = { id: row.id, kind: row.kind as PaymentKind, currency: row.currency };
    const execution = row.id.includes(':');
    if (!execution && row.kind === 'file') continue; // the file itself: its transactions are the payments
    if (!execution && FUTURE_DATED.includes(row.kind)) {
      if (row.kind.endsWith('scheduled')) {
        const [scheduled] = await db
          .select()
          .from(bankScheduledPayments)
          .where(eq(bankScheduledPayments.id, row.id));
        if (!scheduled || ids.has(`${row.id}:1`)) continue;
        const status: PaymentOutcomeStatus | undefined =
          scheduled.status === 'Pending'
            ? 'Scheduled'
            : scheduled.status === 'Cancelled'
              ? 'Cancelled'
              : scheduled.status === 'Executed'
                ? 'Paid'
                : 'Rejected';
        outcomes.push({
          ...base,
          amountMinor: scheduled.amountMinor,
          status,
          reason: undefined,
          at: scheduled.scheduledAt,
        });
      } else {
        const [order] = await db.select().from(bankStandingOrders).where(eq(bankStandingOrders.id, row.id));
        const amountMinor = order?.nextPaymentMinor ?? order?.firstPaymentMinor;
        if (order?.status === 'Active' && order.nextPaymentAt && amountMinor)
          outcomes.push({
            ...base,
            id: `${row.id}:${order.paymentsMade + 1}`,
            amountMinor,
            status: 'Scheduled',
            reason: undefined,
            at: order.nextPaymentAt,
          });
      }
      continue;
    }
    outcomes.push({
      ...base,
      amountMinor: row.amountMinor,
      status:
        row.status === 'Rejected'
          ? 'Rejected'
          : row.status.startsWith('Accepted') && row.status.endsWith('SettlementCompleted')
            ? 'Paid'
            : 'Pending',
      reason: row.status === 'Rejected' ? (row.reason ?? undefined) : undefined,
      at: row.statusUpdatedAt,
    });
  }
  // The next payment of a standing order comes after those it made.
  return outcomes.sort((a, b) => Number(a.status === 'Scheduled') - Number(b.status === 'Scheduled'));
}

/**
 * Whether `amountMinor` of `currency` could be paid from the account now: its available balance (booked
 * plus pending debits) plus its credit limit covers it. False for an account in another currency.
 */
export async function fundsAvailable(
  db: Queryable,
  accountId: string,
  amountMinor: bigint,
  currency: string,
): Promise<boolean> {
  const balance = await balanceOf(db, accountId);
  if (balance.currency !== currency) return false;
  return balance.availableMinor + balance.creditLimitMinor >= amountMinor;
}

/** Prepared once: every VRP payment reads what each periodic limit of its consent has used, in one statement. */
const paidUnderConsentByPeriod = preparedRows(
  'bank_paid_under_consent',
  sql`select coalesce(sum(${bankPayments.amountMinor}), 0)::text
    from unnest(${sql.placeholder('starts')}::timestamptz[], ${sql.placeholder('ends')}::timestamptz[])
      with ordinality as period(starts, ends, at)
    left join ${bankPayments} on ${bankPayments.consentId} = ${sql.placeholder('consentId')}::text
      and ${bankPayments.currency} = ${sql.placeholder('currency')}::text and ${bankPayments.status} <> 'Rejected'
      and ${bankPayments.createdAt} >= period.starts and ${bankPayments.createdAt} < period.ends
    group by period.at
    order by period.at`,
  (rows) => rows.map(([sum]) => BigInt(sum as string)),
);

/**
 * Sums of the non-rejected payments under a consent created in each period [start, end), in the order given:
 * what a VRP consent's periodic limits have used (one statement for all of them).
 */
export async function paidUnderConsent(
  db: Queryable,
  consentId: string,
  currency: string,
  periods: readonly { start: Date; end: Date }[],
): Promise<bigint[]> {
  if (periods.length === 0) return [];
  return paidUnderConsentByPeriod(db).execute({
    consentId,
    currency,
    starts: periods.map(({ start }) => start.toISOString()),
    ends: periods.map(({ end }) => end.toISOString()),
  });
}

/** Prepared once: every VRP payment takes it first. */
const consentPaymentsLock = preparedSql<Record<string, unknown>>(
  'bank_lock_consent_payments',
  sql`select pg_advisory_xact_lock(hashtextextended(${sql.placeholder('lock')}, 0))`,
);

/**
 * Serialises payments under one consent for the rest of the transaction (a transaction-scoped advisory
 * lock), so two concurrent VRP payments cannot both fit under a limit only one of them fits.
 */
export async function lockConsentPayments(tx: Queryable, consentId: string): Promise<void> {
  await consentPaymentsLock(tx).execute({ lock: `payments:${consentId}` });
}

/** The bank's charge for an international payment: GBP 5.00, converted at the sandbox rate for other currencies. */
export const INTERNATIONAL_CHARGE_GBP_MINOR = 500n;
