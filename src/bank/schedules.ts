/**
 * Future-dated payments: one-off scheduled payments and standing orders, and their execution when due.
 * Execution is driven by the injected clock (`runDuePayments(db, { clock })`), so tests and the
 * sandbox can move time. Each execution posts through the ledger with a unique `origin`
 * (`scheduled-payment:<id>`, `standing-order:<id>:<n>`), so running the job twice, or on two
 * instances at once, never pays twice.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, eq, lte } from 'drizzle-orm';
import type { Queryable } from '../store/index.ts';
import { schema } from '../store/index.ts';
import type { Counterparty, ExternalTerms } from '../store/schema/bank.ts';
import {
  AccountNotFoundError,
  BankError,
  DuplicateOriginError,
  InvalidEntryError,
  InvalidStateError,
} from './errors.ts';
import {
  findAccountByIdentification,
  type AccountRecord,
  type ScheduledPayment,
  type StandingOrder,
} from './customers.ts';
import {
  internalAccountId,
  postExternalDebit,
  postTransfer,
  type AccountIdentity,
  type LedgerContext,
  type PostedEntry,
  type PostingAlongside,
} from './ledger.ts';
import { currencyExponent } from './money.ts';
import { raisePaymentUpdate } from './payment-events.ts';
import { OB_FREQUENCY } from '../shared/ob-frequency.ts';

const { bankAccounts, bankPayments, bankScheduledPayments, bankStandingOrders } = schema;
const DAY = 86_400_000;

// ---------------------------------------------------------------------------------------------------
// OB frequency codes (see src/shared/ob-frequency.ts), plus NotKnown for orders without a schedule.

export function isValidFrequency(frequency: string): boolean {
  return frequency === 'NotKnown' || OB_FREQUENCY.test(frequency);
}

const dayNumber = (d: Date): number => Math.floor(d.getTime() / DAY);
const isoWeekday = (d: Date): number => ((d.getUTCDay() + 6) % 7) + 1;
const daysInMonth = (y: number, m: number): number => new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
const monthIndex = (d: Date): number => d.getUTCFullYear() * 12 + d.getUTCMonth();

const QUARTER_DAYS: Record<string, [number, number][]> = {
  // English quarter days: Lady Day, Midsummer, Michaelmas, Christmas.
  ENGLISH: [
    [2, 25],
    [5, 24],
    [8, 29],
    [11, 25],
  ],
  // Scottish term and quarter days: Candlemas, Whitsunday, Lammas, Martinmas.
  SCOTTISH: [
    [1, 2],
    [4, 15],
    [7, 1],
    [10, 11],
  ],
};

function matches(frequency: string, day: Date, anchor: Date): boolean {
  const [kind, a, b] = frequency.split(':');
  const dom = day.getUTCDate();
  const dim = daysInMonth(day.getUTCFullYear(), day.getUTCMonth());
  switch (kind) {
    case 'EvryDay':
      return true;
    case 'EvryWorkgDay':
      return isoWeekday(day) <= 5;
    case 'IntrvlDay':
      return (dayNumber(day) - dayNumber(anchor)) % Number(a) === 0;
    case 'IntrvlWkDay': {
      if (isoWeekday(day) !== Number(b)) return false;
      const weekOf = (d: Date) => Math.floor((dayNumber(d) - (isoWeekday(d) - 1)) / 7);
      return (weekOf(day) - weekOf(anchor)) % Number(a) === 0;
    }
    case 'WkInMnthDay': {
      if (isoWeekday(day) !== Number(b)) return false;
      const week = Number(a);
      return week === 5 ? dom + 7 > dim : Math.ceil(dom / 7) === week;
    }
    case 'IntrvlMnthDay': {
      if ((monthIndex(day) - monthIndex(anchor)) % Number(a) !== 0) return false;
      const wanted = Number(b);
      const target = wanted > 0 ? Math.min(wanted, dim) : dim + wanted + 1;
      return dom === target;
    }
    case 'QtrDay': {
      if (a === 'RECEIVED') {
        return (monthIndex(day) - monthIndex(anchor)) % 3 === 0 && dom === Math.min(anchor.getUTCDate(), dim);
      }
      return (QUARTER_DAYS[a ?? ''] ?? []).some(([m, d]) => day.getUTCMonth() === m && dom === d);
    }
    default:
      return false;
  }
}

/**
 * The first occurrence of `frequency` on a day strictly after `after`'s day, at the time of day of
 * `anchor` (the first payment). Undefined for `NotKnown` (no automatic schedule).
 */
export function nextOccurrence(frequency: string, anchor: Date, after: Date): Date | undefined {
  if (!isValidFrequency(frequency))
    throw new InvalidStateError(`invalid frequency: ${JSON.stringify(frequency)}`);
  if (frequency === 'NotKnown') return undefined;
  const timeOfDay = anchor.getTime() - dayNumber(anchor) * DAY;
  const start = Math.max(dayNumber(after) + 1, dayNumber(anchor));
  for (let n = start; n < start + 800; n += 1) {
    const day = new Date(n * DAY);
    if (matches(frequency, day, anchor)) return new Date(n * DAY + timeOfDay);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Creating and cancelling

async function assertAccount(db: Queryable, accountId: string, currency: string): Promise<void> {
  currencyExponent(currency);
  const [row] = await db
    .select({ currency: bankAccounts.currency, internalPurpose: bankAccounts.internalPurpose })
    .from(bankAccounts)
    .where(eq(bankAccounts.id, accountId));
  if (!row || row.internalPurpose !== null) throw new AccountNotFoundError(accountId);
  if (row.currency !== currency) {
    throw new InvalidEntryError(`account ${accountId} holds ${row.currency}; the payment is in ${currency}`);
  }
}

export interface NewScheduledPayment {
  accountId: string;
  scheduledAt: Date;
  scheduledType?: 'Arrival' | 'Execution';
  amountMinor: bigint;
  currency: string;
  creditor: Counterparty;
  reference?: string;
  debtorReference?: string;
  /** An international payment: paid out through clearing (and FX) with these terms, never on-us. */
  external?: ExternalPayout;
  id?: string;
}

/**
 * How an international future-dated payment leaves the bank, each time it is paid: what the payee
 * receives in the currency of transfer at `rate`, and the charge to the debtor in the account's currency.
 */
export interface ExternalPayout {
  instructed?: { amountMinor: bigint; currency: string; rate: string };
  feeMinor?: bigint;
}

function storedPayout(payout: ExternalPayout | undefined): ExternalTerms | null {
  if (!payout) return null;
  return {
    ...(payout.instructed
      ? { instructed: { ...payout.instructed, amountMinor: String(payout.instructed.amountMinor) } }
      : {}),
    ...(payout.feeMinor !== undefined ? { feeMinor: String(payout.feeMinor) } : {}),
  };
}

function payoutFromStored(stored: ExternalTerms | null): ExternalPayout | undefined {
  if (!stored) return undefined;
  return {
    ...(stored.instructed
      ? { instructed: { ...stored.instructed, amountMinor: BigInt(stored.instructed.amountMinor) } }
      : {}),
    ...(stored.feeMinor !== undefined ? { feeMinor: BigInt(stored.feeMinor) } : {}),
  };
}

export async function createScheduledPayment(
  db: Queryable,
  ctx: LedgerContext,
  input: NewScheduledPayment,
): Promise<ScheduledPayment> {
  if (input.amountMinor <= 0n) throw new InvalidEntryError('an amount must be positive');
  if (!(input.scheduledAt instanceof Date) || Number.isNaN(input.scheduledAt.getTime())) {
    throw new InvalidEntryError('a scheduled date is required');
  }
  await assertAccount(db, input.accountId, input.currency);
  const [row] = await db
    .insert(bankScheduledPayments)
    .values({
      id: input.id ?? randomUUID(),
      accountId: input.accountId,
      scheduledAt: input.scheduledAt,
      scheduledType: input.scheduledType ?? 'Execution',
      reference: input.reference ?? null,
      debtorReference: input.debtorReference ?? null,
      amountMinor: input.amountMinor,
      currency: input.currency,
      creditor: input.creditor,
      external: storedPayout(input.external),
      status: 'Pending',
      createdAt: ctx.clock.now(),
    })
    .returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function cancelScheduledPayment(db: Queryable, id: string): Promise<void> {
  const rows = await db
    .update(bankScheduledPayments)
    .set({ status: 'Cancelled' })
    .where(and(eq(bankScheduledPayments.id, id), eq(bankScheduledPayments.status, 'Pending')))
    .returning({ id: bankScheduledPayments.id });
  if (rows.length === 0) throw new InvalidStateError(`scheduled payment ${id} is not pending`);
}

export interface NewStandingOrder {
  accountId: string;
  frequency: string;
  currency: string;
  creditor: Counterparty;
  reference?: string;
  firstPaymentAt: Date;
  firstPaymentMinor: bigint;
  /** Amount of the payments between the first and the final one (default: the first amount). */
  recurringPaymentMinor?: bigint;
  finalPaymentAt?: Date;
  finalPaymentMinor?: bigint;
  numberOfPayments?: number;
  supplementaryData?: Record<string, unknown>;
  /** An international standing order: every payment leaves through clearing (and FX) on these terms. */
  external?: ExternalPayout;
  id?: string;
}

export async function createStandingOrder(
  db: Queryable,
  ctx: LedgerContext,
  input: NewStandingOrder,
): Promise<StandingOrder> {
  if (!isValidFrequency(input.frequency))
    throw new InvalidEntryError(`invalid frequency: ${input.frequency}`);
  for (const value of [input.firstPaymentMinor, input.recurringPaymentMinor, input.finalPaymentMinor]) {
    if (value !== undefined && value <= 0n) throw new InvalidEntryError('an amount must be positive');
  }
  if (
    input.numberOfPayments !== undefined &&
    (!Number.isInteger(input.numberOfPayments) || input.numberOfPayments < 1)
  ) {
    throw new InvalidEntryError('the number of payments must be a positive integer');
  }
  if (input.numberOfPayments !== undefined && input.finalPaymentAt !== undefined) {
    throw new InvalidEntryError('give either a final payment date or a number of payments, not both');
  }
  await assertAccount(db, input.accountId, input.currency);
  const [row] = await db
    .insert(bankStandingOrders)
    .values({
      id: input.id ?? randomUUID(),
      accountId: input.accountId,
      frequency: input.frequency,
      reference: input.reference ?? null,
      status: 'Active',
      currency: input.currency,
      firstPaymentAt: input.firstPaymentAt,
      firstPaymentMinor: input.firstPaymentMinor,
      nextPaymentAt: input.firstPaymentAt,
      nextPaymentMinor: input.firstPaymentMinor,
      finalPaymentAt: input.finalPaymentAt ?? null,
      finalPaymentMinor: input.finalPaymentMinor ?? null,
      numberOfPayments: input.numberOfPayments ?? null,
      creditor: input.creditor,
      supplementaryData: {
        ...(input.supplementaryData ?? {}),
        ...(input.recurringPaymentMinor !== undefined
          ? { recurringPaymentMinor: String(input.recurringPaymentMinor) }
          : {}),
      },
      external: storedPayout(input.external),
      createdAt: ctx.clock.now(),
    })
    .returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function cancelStandingOrder(db: Queryable, id: string): Promise<void> {
  const rows = await db
    .update(bankStandingOrders)
    .set({ status: 'Inactive', nextPaymentAt: null, nextPaymentMinor: null })
    .where(and(eq(bankStandingOrders.id, id), eq(bankStandingOrders.status, 'Active')))
    .returning({ id: bankStandingOrders.id });
  if (rows.length === 0) throw new InvalidStateError(`standing order ${id} is not active`);
}

// ---------------------------------------------------------------------------------------------------
// Execution

/** Pays `amount` from `accountId` to `creditor`: on-us when the creditor is an account of this bank. */
/**
 * Pays `amount` from `accountId` to `creditor`. With `external` terms (an international payment) the money
 * leaves through clearing, and FX, with the charge; otherwise on-us when the creditor is an account of this
 * bank in the same currency, else through clearing.
 */
export async function payCreditor(
  db: Queryable,
  ctx: LedgerContext,
  input: {
    accountId: string;
    amountMinor: bigint;
    currency: string;
    creditor: Counterparty;
    reference?: string | undefined;
    origin: string;
    kind: string;
    external?: ExternalPayout | undefined;
    /** The debtor account's row, when the caller has read it in this transaction. */
    debtor?: AccountIdentity | undefined;
    /**
     * The customer account `creditor` names here, when the caller has looked it up in this transaction (read
     * with the debtor's: `getHeldAccountWithCreditor`), null when it names none; undefined: looked up here.
     */
    creditorAccount?: AccountRecord | null | undefined;
    /** The caller's writes that go with the posting set, in its statement (`PostingAlongside`). */
    alongside?: PostingAlongside | undefined;
  },
): Promise<PostedEntry> {
  const { external } = input;
  const onUs = external
    ? undefined
    : input.creditorAccount !== undefined
      ? (input.creditorAccount ?? undefined)
      : input.creditor.schemeName && input.creditor.identification
        ? await findAccountByIdentification(db, input.creditor.schemeName, input.creditor.identification)
        : undefined;
  if (onUs && onUs.currency === input.currency) {
    return postTransfer(db, ctx, {
      fromAccountId: input.accountId,
      toAccountId: onUs.id,
      amountMinor: input.amountMinor,
      currency: input.currency,
      reference: input.reference,
      origin: input.origin,
      kind: input.kind,
      accounts: [input.debtor, onUs],
      alongside: input.alongside,
    });
  }
  return postExternalDebit(db, ctx, {
    accountId: input.accountId,
    amountMinor: input.amountMinor,
    currency: input.currency,
    counterparty: input.creditor,
    reference: input.reference,
    origin: input.origin,
    kind: input.kind,
    alongside: input.alongside,
    ...(external?.instructed ? { instructed: external.instructed } : {}),
    ...(external?.feeMinor !== undefined ? { feeMinor: external.feeMinor } : {}),
  });
}

/**
 * The OB status of a payment `payCreditor` paid: AcceptedSettlementCompleted when the money left through
 * clearing (of any currency), AcceptedCreditSettlementCompleted when a creditor here was credited.
 */
export function settlementStatus(
  entry: Pick<PostedEntry, 'postings'>,
): 'AcceptedSettlementCompleted' | 'AcceptedCreditSettlementCompleted' {
  const clearing = internalAccountId('clearing', '');
  return entry.postings.some((posting) => posting.accountId.startsWith(clearing))
    ? 'AcceptedSettlementCompleted'
    : 'AcceptedCreditSettlementCompleted';
}

/**
 * Keeps the outcome of one execution of a future-dated instruction beside the TPP's payment resource of
 * the same id, as `<id>:<n>` (as a file payment keeps its transactions), so that the customer and the TPP
 * can be told what happened to each payment: paid, or rejected with the reason. An instruction set up
 * without a payment resource (not through the API) keeps none.
 */
async function recordExecution(
  tx: Queryable,
  ctx: LedgerContext,
  instructionId: string,
  paymentNumber: number,
  amount: { amountMinor: bigint; currency: string },
  result: Attempt,
): Promise<void> {
  if (result.duplicate) return;
  const [instruction] = await tx.select().from(bankPayments).where(eq(bankPayments.id, instructionId));
  if (!instruction) return;
  const now = ctx.clock.now();
  await tx
    .insert(bankPayments)
    .values({
      id: `${instructionId}:${paymentNumber}`,
      kind: instruction.kind,
      consentId: instruction.consentId,
      clientId: instruction.clientId,
      customerId: instruction.customerId,
      debtorAccountId: instruction.debtorAccountId,
      amountMinor: amount.amountMinor,
      currency: amount.currency,
      status:
        result.status === 'Executed' ? (result.settlement ?? 'AcceptedSettlementCompleted') : 'Rejected',
      statusUpdatedAt: now,
      reason: result.reason ?? null,
      entryId: result.entryId ?? null,
      request: { InstructionId: instructionId, PaymentNumber: paymentNumber },
      createdAt: now,
    })
    .onConflictDoNothing();
  // The TPP's scheduled payment or standing order has a new execution: its resource was updated.
  await raisePaymentUpdate(tx, ctx, instruction);
}

export interface ExecutionOutcome {
  kind: 'scheduled-payment' | 'standing-order';
  /** The scheduled payment's or standing order's id. */
  id: string;
  /** For standing orders: the number of this payment (1-based). */
  paymentNumber?: number;
  status: 'Executed' | 'Rejected';
  entryId?: string;
  /** The bank error code when rejected (e.g. `insufficient-funds`). */
  reason?: string;
}

/**
 * Executes every scheduled payment and standing-order payment due at the clock's now. A payment the
 * ledger refuses (insufficient funds, disabled account, …) is Rejected (a standing order moves on to
 * its next date). Safe to run concurrently: rows are claimed with `for update skip locked` and every
 * posting carries a unique origin.
 */
export async function runDuePayments(
  db: Queryable,
  ctx: LedgerContext,
  limit = 500,
): Promise<ExecutionOutcome[]> {
  const outcomes: ExecutionOutcome[] = [];
  const now = ctx.clock.now();
  const due = await db
    .select({ id: bankScheduledPayments.id })
    .from(bankScheduledPayments)
    .where(and(eq(bankScheduledPayments.status, 'Pending'), lte(bankScheduledPayments.scheduledAt, now)))
    .orderBy(asc(bankScheduledPayments.scheduledAt), asc(bankScheduledPayments.id))
    .limit(limit);
  for (const { id } of due) {
    const outcome = await db.transaction(async (tx) => {
      const [payment] = await tx
        .select()
        .from(bankScheduledPayments)
        .where(and(eq(bankScheduledPayments.id, id), eq(bankScheduledPayments.status, 'Pending')))
        .for('update', { skipLocked: true });
      if (!payment) return undefined;
      const result = await attempt(tx, ctx, {
        accountId: payment.accountId,
        amountMinor: payment.amountMinor,
        currency: payment.currency,
        creditor: payment.creditor,
        reference: payment.reference ?? undefined,
        origin: `scheduled-payment:${payment.id}`,
        kind: 'scheduled-payment',
        external: payoutFromStored(payment.external),
      });
      await tx
        .update(bankScheduledPayments)
        .set({ status: result.status, entryId: result.entryId ?? null })
        .where(eq(bankScheduledPayments.id, id));
      await recordExecution(tx, ctx, id, 1, payment, result);
      return { kind: 'scheduled-payment' as const, id, ...outcomeOf(result) };
    });
    if (outcome) outcomes.push(outcome);
  }

  const orders = await db
    .select({ id: bankStandingOrders.id })
    .from(bankStandingOrders)
    .where(and(eq(bankStandingOrders.status, 'Active'), lte(bankStandingOrders.nextPaymentAt, now)))
    .orderBy(asc(bankStandingOrders.nextPaymentAt), asc(bankStandingOrders.id))
    .limit(limit);
  for (const { id } of orders) {
    // A standing order long overdue (the job did not run) catches up one payment per loop.
    for (let guard = 0; guard < 400; guard += 1) {
      const outcome = await db.transaction(async (tx) => {
        const [order] = await tx
          .select()
          .from(bankStandingOrders)
          .where(and(eq(bankStandingOrders.id, id), eq(bankStandingOrders.status, 'Active')))
          .for('update', { skipLocked: true });
        if (!order || !order.nextPaymentAt || order.nextPaymentAt.getTime() > now.getTime()) return undefined;
        const paymentNumber = order.paymentsMade + 1;
        const amountMinor = order.nextPaymentMinor ?? order.firstPaymentMinor;
        if (amountMinor === null) throw new InvalidStateError(`standing order ${id} has no amount`);
        const result = await attempt(tx, ctx, {
          accountId: order.accountId,
          amountMinor,
          currency: order.currency,
          creditor: order.creditor,
          reference: order.reference ?? undefined,
          origin: `standing-order:${order.id}:${paymentNumber}`,
          kind: 'standing-order',
          external: payoutFromStored(order.external),
        });
        const next = following(order, paymentNumber);
        await tx
          .update(bankStandingOrders)
          .set({
            paymentsMade: paymentNumber,
            ...(result.status === 'Executed' ? { lastPaymentAt: now, lastPaymentMinor: amountMinor } : {}),
            nextPaymentAt: next?.at ?? null,
            nextPaymentMinor: next?.amountMinor ?? null,
            status: next ? 'Active' : 'Inactive',
          })
          .where(eq(bankStandingOrders.id, id));
        await recordExecution(tx, ctx, id, paymentNumber, { amountMinor, currency: order.currency }, result);
        return { kind: 'standing-order' as const, id, paymentNumber, ...outcomeOf(result) };
      });
      if (!outcome) break;
      outcomes.push(outcome);
    }
  }
  return outcomes;
}

/** The payment after number `made` of a standing order, or undefined when it is finished. */
function following(order: StandingOrder, made: number): { at: Date; amountMinor: bigint } | undefined {
  if (order.numberOfPayments !== null && made >= order.numberOfPayments) return undefined;
  const previous = order.nextPaymentAt;
  if (!previous || !order.firstPaymentAt) return undefined;
  if (order.finalPaymentAt && previous.getTime() >= order.finalPaymentAt.getTime()) return undefined;
  let at = nextOccurrence(order.frequency, order.firstPaymentAt, previous);
  if (!at) return undefined;
  const recurring = order.supplementaryData?.recurringPaymentMinor;
  let amountMinor = typeof recurring === 'string' ? BigInt(recurring) : (order.firstPaymentMinor ?? 0n);
  const isLastByCount = order.numberOfPayments !== null && made + 1 === order.numberOfPayments;
  if (order.finalPaymentAt) {
    if (at.getTime() > order.finalPaymentAt.getTime()) {
      // The final payment falls on its own date when the schedule would pass it.
      if (order.finalPaymentAt.getTime() <= previous.getTime()) return undefined;
      at = order.finalPaymentAt;
    }
    if (at.getTime() === order.finalPaymentAt.getTime() && order.finalPaymentMinor !== null) {
      amountMinor = order.finalPaymentMinor;
    }
  } else if (isLastByCount && order.finalPaymentMinor !== null) amountMinor = order.finalPaymentMinor;
  return { at, amountMinor };
}

interface Attempt {
  status: 'Executed' | 'Rejected';
  entryId?: string;
  reason?: string;
  /** How an execution paid now settled (not known for one paid before, `duplicate`). */
  settlement?: ReturnType<typeof settlementStatus>;
  /** The origin had already posted: this payment was paid before. */
  duplicate?: true;
}

function outcomeOf(result: Attempt): Pick<ExecutionOutcome, 'status' | 'entryId' | 'reason'> {
  return {
    status: result.status,
    ...(result.entryId ? { entryId: result.entryId } : {}),
    ...(result.reason ? { reason: result.reason } : {}),
  };
}

async function attempt(
  tx: Queryable,
  ctx: LedgerContext,
  input: Parameters<typeof payCreditor>[2],
): Promise<Attempt> {
  try {
    const entry = await payCreditor(tx, ctx, {
      ...input,
      kind: input.external ? `international-${input.kind}` : input.kind,
    });
    return { status: 'Executed', entryId: entry.id, settlement: settlementStatus(entry) };
  } catch (error) {
    if (error instanceof DuplicateOriginError)
      return { status: 'Executed', duplicate: true, ...(error.entryId ? { entryId: error.entryId } : {}) };
    if (error instanceof BankError) return { status: 'Rejected', reason: error.code };
    throw error;
  }
}
