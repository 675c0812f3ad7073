/**
 * The double-entry ledger. A posting set (entry) is a list of legs, each a signed amount on one account
 * (positive = credit: the account's balance goes up). Every entry sums to zero per currency and is
 * written in one database transaction together with the cached balances of the accounts it touches,
 * which are locked (`select … for update`, in id order) first, so concurrent debits never overdraw.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, gte, inArray, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { PgInsertValue } from 'drizzle-orm/pg-core';
import type { PreparedStatement, Queryable } from '../store/index.ts';
import { inTransaction, preparedRows, preparedSql, preparedStatement, schema } from '../store/index.ts';
import type { Clock } from '../shared/clock.ts';
import {
  AccountNotEnabledError,
  AccountNotFoundError,
  CurrencyMismatchError,
  DuplicateOriginError,
  EntryNotFoundError,
  InsufficientFundsError,
  InvalidEntryError,
  InvalidStateError,
  UnbalancedEntryError,
} from './errors.ts';
import { currencyExponent, fromMinor } from './money.ts';
import type { Counterparty, CurrencyExchangeDetails } from '../store/schema/bank.ts';
import { rowsOf } from '../shared/result-rows.ts';

const { bankAccounts, bankCards, bankEntries, bankPostings } = schema;

export type EntryStatus = 'Booked' | 'Pending' | 'Rejected';
export type InternalPurpose = 'clearing' | 'suspense' | 'fees' | 'fx' | 'interest';

export interface BankTransactionCode {
  code: string;
  subCode: string;
}

/** What a statement line shows about one leg. All optional. */
export interface PostingDetails {
  transactionReference?: string;
  transactionInformation?: string;
  addressLine?: string;
  bankTransactionCode?: BankTransactionCode;
  proprietaryBankTransactionCode?: { code: string; issuer?: string };
  merchant?: { name?: string; categoryCode?: string };
  cardId?: string;
  cardAuthorisationType?: 'ConsumerDevice' | 'Contactless' | 'None' | 'PIN';
  counterparty?: Counterparty;
  currencyExchange?: CurrencyExchangeDetails;
  chargeMinor?: bigint;
}

export interface PostingLeg {
  accountId: string;
  /** Signed minor units: positive credits the account, negative debits it. Never zero. */
  amountMinor: bigint;
  currency: string;
  details?: PostingDetails;
}

export interface EntryInput {
  /** What kind of movement (`transfer`, `external-credit`, `card-payment`, `fee`, `fx`, …). */
  kind: string;
  legs: PostingLeg[];
  status?: 'Booked' | 'Pending';
  /** Defaults to the clock's now. */
  bookedAt?: Date;
  valueAt?: Date;
  /** The business object that caused it (e.g. `payment:<id>`); a second entry with it is refused. */
  origin?: string;
  /** Id of the entry; a random UUID by default. */
  id?: string;
  /** The caller's writes that go with the entry, in the posting's statement (`postingStatement`). */
  alongside?: PostingAlongside;
}

/**
 * Writes of the caller's that belong with a posting set — e.g. the payment it pays and the payment's event —
 * made by the posting's own statement (one round trip, not two): `statement` is `postingStatement`'s, and
 * `values` gives its placeholders' values once the entry about to be written is known (its id and postings:
 * every check has passed). They are written exactly when the entry is: not when a refusal is thrown before
 * the statement, nor for a repeated origin.
 */
export interface PostingAlongside {
  statement: PostingStatement;
  values(entry: Pick<PostedEntry, 'id' | 'postings'>): Record<string, unknown>;
}

export interface LedgerContext {
  clock: Clock;
}

export interface PostedEntry {
  id: string;
  seq: bigint;
  kind: string;
  status: EntryStatus;
  bookedAt: Date;
  valueAt: Date | null;
  origin: string | null;
  postings: {
    id: string;
    accountId: string;
    amountMinor: bigint;
    currency: string;
    balanceAfterMinor: bigint | null;
  }[];
}

interface LockedAccount {
  id: string;
  currency: string;
  status: string;
  internalPurpose: string | null;
  creditLimitMinor: bigint;
  bookedMinor: bigint;
  pendingDebitMinor: bigint;
  pendingCreditMinor: bigint;
  /** The latest booking time of its Booked postings (customer accounts; null before the first). */
  lastBookedAt: Date | null;
}

const ACCOUNT_COLUMNS = {
  id: bankAccounts.id,
  currency: bankAccounts.currency,
  status: bankAccounts.status,
  internalPurpose: bankAccounts.internalPurpose,
  creditLimitMinor: bankAccounts.creditLimitMinor,
  bookedMinor: bankAccounts.bookedMinor,
  pendingDebitMinor: bankAccounts.pendingDebitMinor,
  pendingCreditMinor: bankAccounts.pendingCreditMinor,
  lastBookedAt: bankAccounts.lastBookedAt,
};

/**
 * Locks the customer accounts' rows in id order (deadlock-free) for the rest of the transaction and
 * reads the internal ones without locking them, in one statement: the bank's clearing/fees/fx accounts
 * take part in every external payment, have no limit to check and keep no cached balance or running
 * balance, so payments of different customers never queue behind one hot row. An internal account not
 * there yet (`internalAccountId`) is created on first use here, so that callers name it without an
 * upsert per posting set. With `origin`, the same statement looks for an entry of that origin
 * (`duplicateOf`); accounts never go away, so a posting set's own accounts are always there to carry it.
 */
async function lockAccounts(
  tx: Queryable,
  ctx: LedgerContext,
  ids: string[],
  origin?: string,
): Promise<{ accounts: Map<string, LockedAccount>; duplicateOf: string | undefined }> {
  const unique = [...new Set(ids)].sort();
  const map = new Map<string, LockedAccount>();
  let duplicateOf: string | undefined;
  for (const { duplicateOf: existing, ...row } of await readForPosting(tx, unique, origin)) {
    map.set(row.id, row);
    duplicateOf ??= existing ?? undefined;
  }
  if (duplicateOf) return { accounts: map, duplicateOf };
  if (map.size < unique.length) {
    let created = false;
    for (const id of unique) {
      const internal = map.has(id) ? undefined : internalAccountOf(id);
      if (!internal) continue;
      await ensureInternalAccount(tx, ctx, internal.purpose, internal.currency);
      created = true;
    }
    if (created)
      for (const { duplicateOf: _, ...row } of await readForPosting(tx, unique)) map.set(row.id, row);
  }
  for (const id of unique) if (!map.has(id)) throw new AccountNotFoundError(id);
  return { accounts: map, duplicateOf: undefined };
}

/**
 * The customer accounts among `ids` locked in id order (a CTE: the lock applies to them alone) and the
 * internal ones read; each row carries the id of an entry of `origin`, if any (null without `origin`).
 * Prepared once: the ids are one array parameter, so the statement's shape does not follow their number.
 */
const accountsForPosting = preparedStatement((db) => {
  const ids = sql`any(${sql.placeholder('ids')}::text[])`;
  const columns = {
    ...ACCOUNT_COLUMNS,
    duplicateOf: sql<
      string | null
    >`(select ${bankEntries.id} from ${bankEntries} where ${bankEntries.origin} = ${sql.placeholder('origin')}::text)`.as(
      'duplicate_of',
    ),
  };
  const customers = db.$with('customers').as(
    db
      .select(columns)
      .from(bankAccounts)
      .where(sql`${bankAccounts.id} = ${ids} and ${bankAccounts.internalPurpose} is null`)
      .orderBy(asc(bankAccounts.id))
      .for('update'),
  );
  return db
    .with(customers)
    .select()
    .from(customers)
    .unionAll(
      db
        .select(columns)
        .from(bankAccounts)
        .where(sql`${bankAccounts.id} = ${ids} and ${bankAccounts.internalPurpose} is not null`),
    )
    .prepare('ledger_accounts_for_posting');
});

async function readForPosting(
  tx: Queryable,
  ids: string[],
  origin?: string,
): Promise<(LockedAccount & { duplicateOf: string | null })[]> {
  return accountsForPosting(tx).execute({ ids, origin: origin ?? null });
}

/**
 * The booking time of a posting set on locked accounts. Booking times never go backwards on a customer
 * account, so listing by booking time and the running balance (in booking order) agree:
 * an explicitly requested time earlier than the account's last booking is refused; the default (the
 * clock's now) is lifted to that last booking, which absorbs clock skew between instances and the
 * gap between reading the clock and getting the lock. Internal accounts do not constrain it. The last
 * booking is the locked row's `lastBookedAt` (kept with the balances): no scan of the postings, however
 * long the account's history.
 */
function bookingTime(accounts: Map<string, LockedAccount>, requested: Date | undefined, now: Date): Date {
  let last: Date | undefined;
  for (const account of accounts.values()) {
    const at = account.internalPurpose === null ? account.lastBookedAt : null;
    if (at && (!last || at.getTime() > last.getTime())) last = at;
  }
  if (requested) {
    if (last && last.getTime() > requested.getTime()) {
      throw new InvalidEntryError(
        `cannot book at ${requested.toISOString()}: the account has later booked postings`,
      );
    }
    return requested;
  }
  return last && last.getTime() > now.getTime() ? last : now;
}

/**
 * The customer accounts' cached balances (and, when postings were booked at `bookedAt`, their latest booking
 * time), one array per column: the placeholders of `cachedBalancesSql`. Internal accounts keep no cache.
 */
function cachedBalanceValues(accounts: Iterable<LockedAccount>, bookedAt: Date | undefined) {
  const values = {
    balanceAccountIds: [] as string[],
    balancesBooked: [] as string[],
    balancesPendingDebit: [] as string[],
    balancesPendingCredit: [] as string[],
    balancesLastBookedAt: [] as (string | null)[],
  };
  for (const account of accounts) {
    if (account.internalPurpose !== null) continue;
    const last = bookedAt ?? account.lastBookedAt;
    values.balanceAccountIds.push(account.id);
    values.balancesBooked.push(account.bookedMinor.toString());
    values.balancesPendingDebit.push(account.pendingDebitMinor.toString());
    values.balancesPendingCredit.push(account.pendingCreditMinor.toString());
    values.balancesLastBookedAt.push(last ? last.toISOString() : null);
  }
  return values;
}

/** Stores the cached balances `cachedBalanceValues` gives, in one statement. */
async function storeCachedBalances(
  tx: Queryable,
  accounts: Iterable<LockedAccount>,
  bookedAt: Date | undefined,
): Promise<void> {
  const values = cachedBalanceValues(accounts, bookedAt);
  if (values.balanceAccountIds.length === 0) return;
  await cachedBalancesUpdate(tx).execute(values);
}

/**
 * The update of `cachedBalanceValues`' arrays: one shape whatever the number of accounts; `also`, a further
 * condition on every row (the posting's statement: only when its entry was written).
 */
const cachedBalancesSql = (also: SQL = sql``) => sql`
    update ${bankAccounts} set booked_minor = v.booked, pending_debit_minor = v.pending_debit,
      pending_credit_minor = v.pending_credit, last_booked_at = v.last_booked_at
    from unnest(${sql.placeholder('balanceAccountIds')}::text[], ${sql.placeholder('balancesBooked')}::bigint[],
      ${sql.placeholder('balancesPendingDebit')}::bigint[], ${sql.placeholder('balancesPendingCredit')}::bigint[],
      ${sql.placeholder('balancesLastBookedAt')}::timestamptz[])
      as v(id, booked, pending_debit, pending_credit, last_booked_at)
    where ${bankAccounts.id} = v.id${also}`;

/** `storeCachedBalances`'s statement, prepared once. */
const cachedBalancesUpdate = preparedSql('ledger_store_cached_balances', cachedBalancesSql());

/** Checks an entry's shape before touching the database: non-empty legs, no zero, balanced per currency. */
export function validateLegs(legs: readonly PostingLeg[]): void {
  if (legs.length < 2) throw new InvalidEntryError('a posting set needs at least two legs');
  const sums = new Map<string, bigint>();
  for (const leg of legs) {
    if (typeof leg.amountMinor !== 'bigint')
      throw new InvalidEntryError('amounts must be bigint minor units');
    if (leg.amountMinor === 0n) throw new InvalidEntryError('a leg of zero is not a posting');
    currencyExponent(leg.currency);
    sums.set(leg.currency, (sums.get(leg.currency) ?? 0n) + leg.amountMinor);
  }
  for (const [currency, sum] of sums) if (sum !== 0n) throw new UnbalancedEntryError(currency, sum);
}

/**
 * Posts one balanced posting set atomically. Refuses (typed errors, nothing written): unbalanced or
 * empty sets, unknown/disabled accounts, a currency other than the account's, a customer account whose
 * available balance (booked + pending debits) would fall below minus its credit limit, and a repeated
 * `origin`. Internal accounts may go negative. Runs in a transaction: the caller's when `db` is one, without
 * a savepoint (`inTransaction`) — every refusal is thrown before the first write, and a repeated origin,
 * even one committed concurrently, is found without a failed statement, so a caller that catches the
 * refusal can go on in its transaction.
 */
export async function postEntry(db: Queryable, ctx: LedgerContext, input: EntryInput): Promise<PostedEntry> {
  validateLegs(input.legs);
  const status = input.status ?? 'Booked';
  if (status !== 'Booked' && status !== 'Pending')
    throw new InvalidEntryError(`cannot post with status ${status}`);
  const now = ctx.clock.now();
  return inTransaction(db, async (tx) => {
    const { accounts, duplicateOf } = await lockAccounts(
      tx,
      ctx,
      input.legs.map((leg) => leg.accountId),
      input.origin,
    );
    // A repeated origin is refused before anything else (the scheduler counts it as done).
    if (duplicateOf) throw new DuplicateOriginError(input.origin ?? '', duplicateOf);
    const net = new Map<string, bigint>();
    for (const leg of input.legs) {
      const account = accounts.get(leg.accountId);
      if (!account) throw new AccountNotFoundError(leg.accountId);
      if (account.currency !== leg.currency)
        throw new CurrencyMismatchError(account.id, account.currency, leg.currency);
      if (account.status !== 'Enabled') throw new AccountNotEnabledError(account.id, account.status);
      net.set(account.id, (net.get(account.id) ?? 0n) + leg.amountMinor);
    }
    const bookedAt =
      status === 'Booked' ? bookingTime(accounts, input.bookedAt, now) : (input.bookedAt ?? now);
    for (const [accountId, delta] of net) {
      const account = accounts.get(accountId);
      if (!account || account.internalPurpose !== null || delta >= 0n) continue;
      const available = account.bookedMinor + account.pendingDebitMinor;
      if (available + delta < -account.creditLimitMinor) {
        throw new InsufficientFundsError(accountId, available, -delta, account.creditLimitMinor);
      }
    }

    const running = new Map<string, LockedAccount>();
    for (const [id, account] of accounts) running.set(id, { ...account });
    const postings: PostedEntry['postings'] = [];
    for (const leg of input.legs) {
      const account = running.get(leg.accountId);
      if (!account) throw new AccountNotFoundError(leg.accountId);
      let balanceAfter: bigint | null = null;
      if (account.internalPurpose !== null) {
        // Internal accounts: balance by sum of postings only (see lockAccounts).
      } else if (status === 'Booked') {
        account.bookedMinor += leg.amountMinor;
        balanceAfter = account.bookedMinor;
      } else if (leg.amountMinor < 0n) account.pendingDebitMinor += leg.amountMinor;
      else account.pendingCreditMinor += leg.amountMinor;
      postings.push({
        id: randomUUID(),
        accountId: leg.accountId,
        amountMinor: leg.amountMinor,
        currency: leg.currency,
        balanceAfterMinor: balanceAfter,
      });
    }

    const entry = {
      id: input.id ?? randomUUID(),
      kind: input.kind,
      status,
      bookedAt,
      valueAt: input.valueAt ?? null,
      origin: input.origin ?? null,
      createdAt: now,
    };
    // The entry, its postings and the cached balances in one statement. A concurrent entry of the same
    // origin committed since the check above: no entry row, so no postings and no balances either, no
    // failed statement.
    const statement = input.alongside?.statement ?? entryWithPostings;
    const [seq] = await statement(tx).execute({
      // The caller's placeholders first: the ledger's own values win any name they share.
      ...input.alongside?.values({ id: entry.id, postings }),
      id: entry.id,
      kind: entry.kind,
      status,
      bookedAt: bookedAt.toISOString(),
      valueAt: entry.valueAt?.toISOString() ?? null,
      origin: entry.origin,
      createdAt: now.toISOString(),
      ...postingValues(input.legs, postings),
      ...cachedBalanceValues(running.values(), status === 'Booked' ? bookedAt : undefined),
    });
    if (seq === undefined) {
      if (input.origin !== undefined) throw new DuplicateOriginError(input.origin, undefined);
      throw new Error('insert returned no row');
    }
    return { ...entry, seq, postings };
  });
}

/**
 * An entry's postings as `newEntryPostingsSql`'s placeholders, one array per column: the rows are `postingRow`'s —
 * every column given — with `postings[i]` the posting of `legs[i]`.
 */
function postingValues(legs: readonly PostingLeg[], postings: PostedEntry['postings']) {
  const column = <T>(value: (leg: PostingLeg, details: PostingDetails, i: number) => T) =>
    legs.map((leg, i) => value(leg, leg.details ?? {}, i));
  const json = (value: object | undefined) => (value === undefined ? null : JSON.stringify(value));
  return {
    ids: postings.map((posting) => posting.id),
    accountIds: column((leg) => leg.accountId),
    amounts: column((leg) => leg.amountMinor.toString()),
    currencies: column((leg) => leg.currency),
    balancesAfter: postings.map((posting) => posting.balanceAfterMinor?.toString() ?? null),
    transactionReferences: column((_, d) => d.transactionReference ?? null),
    transactionInformation: column((_, d) => d.transactionInformation ?? null),
    addressLines: column((_, d) => d.addressLine ?? null),
    bankTransactionCodes: column((_, d) => d.bankTransactionCode?.code ?? null),
    bankTransactionSubCodes: column((_, d) => d.bankTransactionCode?.subCode ?? null),
    proprietaryCodes: column((_, d) => d.proprietaryBankTransactionCode?.code ?? null),
    proprietaryIssuers: column((_, d) => d.proprietaryBankTransactionCode?.issuer ?? null),
    merchantNames: column((_, d) => d.merchant?.name ?? null),
    merchantCategoryCodes: column((_, d) => d.merchant?.categoryCode ?? null),
    cardIds: column((_, d) => d.cardId ?? null),
    cardAuthorisationTypes: column((_, d) => d.cardAuthorisationType ?? null),
    counterparties: column((_, d) => json(d.counterparty)),
    currencyExchanges: column((_, d) => json(d.currencyExchange)),
    charges: column((_, d) => d.chargeMinor?.toString() ?? null),
  };
}

/**
 * The insert of `postingValues`' arrays (`unnest … with ordinality`), one shape for any number of legs — a
 * `values` list would be a statement per leg count — for the entry `new_entry` (`postEntry`'s CTE) wrote. The rows are
 * inserted in leg order (`seq`, and `book_seq` where there is a running balance, follow the legs, as the
 * running balances were computed in that order); a posting without a running balance (Pending, or on an
 * internal account) has no `book_seq`, as `postingRow` writes it.
 */
const newEntryPostingsSql = sql`
    insert into ${bankPostings} (id, entry_id, account_id, amount_minor, currency, status, booked_at, value_at,
      book_seq, balance_after_minor, transaction_reference, transaction_information, address_line,
      bank_transaction_code, bank_transaction_sub_code, proprietary_code, proprietary_issuer, merchant_name,
      merchant_category_code, card_id, card_authorisation_type, counterparty, currency_exchange, charge_minor)
    select v.id, new_entry.id, v.account_id, v.amount_minor, v.currency,
      ${sql.placeholder('status')}::text, ${sql.placeholder('bookedAt')}::timestamptz,
      ${sql.placeholder('valueAt')}::timestamptz,
      case when v.balance_after is null then null else nextval('bank_book_seq') end, v.balance_after,
      v.transaction_reference, v.transaction_information, v.address_line, v.bank_transaction_code,
      v.bank_transaction_sub_code, v.proprietary_code, v.proprietary_issuer, v.merchant_name,
      v.merchant_category_code, v.card_id, v.card_authorisation_type, v.counterparty, v.currency_exchange,
      v.charge_minor
    from new_entry cross join unnest(${sql.placeholder('ids')}::text[], ${sql.placeholder('accountIds')}::text[],
      ${sql.placeholder('amounts')}::bigint[], ${sql.placeholder('currencies')}::text[],
      ${sql.placeholder('balancesAfter')}::bigint[], ${sql.placeholder('transactionReferences')}::text[],
      ${sql.placeholder('transactionInformation')}::text[], ${sql.placeholder('addressLines')}::text[],
      ${sql.placeholder('bankTransactionCodes')}::text[], ${sql.placeholder('bankTransactionSubCodes')}::text[],
      ${sql.placeholder('proprietaryCodes')}::text[], ${sql.placeholder('proprietaryIssuers')}::text[],
      ${sql.placeholder('merchantNames')}::text[], ${sql.placeholder('merchantCategoryCodes')}::text[],
      ${sql.placeholder('cardIds')}::text[], ${sql.placeholder('cardAuthorisationTypes')}::text[],
      ${sql.placeholder('counterparties')}::jsonb[], ${sql.placeholder('currencyExchanges')}::jsonb[],
      ${sql.placeholder('charges')}::bigint[])
      with ordinality as v(id, account_id, amount_minor, currency, balance_after, transaction_reference,
        transaction_information, address_line, bank_transaction_code, bank_transaction_sub_code,
        proprietary_code, proprietary_issuer, merchant_name, merchant_category_code, card_id,
        card_authorisation_type, counterparty, currency_exchange, charge_minor, leg)
    order by v.leg`;

/**
 * `postEntry`'s one write, prepared once under `name`: the entry's row (none when an entry of its origin exists:
 * `on conflict (origin) do nothing`), its postings and the customer accounts' cached balances — the latter two
 * only with the entry (they read its CTE), so a repeated origin writes nothing. Answers the entry's `seq`, or
 * nothing. The CTEs' writes are checked (foreign keys, constraints) at the end of the statement, as one.
 *
 * With `alongside`, the caller's writes join the statement (`PostingAlongside`): `ctes`, further CTEs, each a
 * write made only when `new_entry` has its row (they must say so: `exists (select from new_entry)`, since a
 * data-modifying CTE always runs), and `result`, a scalar expression evaluated once with the entry's row (e.g.
 * a NOTIFY of what they wrote). The ledger knows nothing of what they write: a payment and its event are the
 * bank's payments' and the events' to say (src/bank/payments.ts), and the ledger stays below them. A
 * data-modifying `with` must be a statement's top level, so theirs cannot be one CTE of this one: they come as
 * parts. Their placeholders must not be the ledger's names (`postEntry` gives the ledger's values the last word).
 */
export function postingStatement(
  name: string,
  alongside?: (db: Queryable) => { ctes: SQL; result?: SQL },
): PostingStatement {
  return preparedRows(
    name,
    (db) => {
      const extra = alongside?.(db);
      return sql`
    with new_entry as (
      insert into ${bankEntries} (id, kind, status, booked_at, value_at, origin, created_at)
      values (${sql.placeholder('id')}::text, ${sql.placeholder('kind')}::text, ${sql.placeholder('status')}::text,
        ${sql.placeholder('bookedAt')}::timestamptz, ${sql.placeholder('valueAt')}::timestamptz,
        ${sql.placeholder('origin')}::text, ${sql.placeholder('createdAt')}::timestamptz)
      on conflict (origin) do nothing
      returning id, seq
    ),
    postings as (${newEntryPostingsSql}),
    balances as (${cachedBalancesSql(sql` and exists (select from new_entry)`)})${
      extra
        ? sql`,
    ${extra.ctes}`
        : sql``
    }
    select seq${extra?.result ? sql`, ${extra.result}` : sql``} from new_entry`;
    },
    (rows) => rows.map(([seq]) => BigInt(seq as string | bigint)),
  );
}

/** A posting's statement (`postingStatement`): run with the entry's and the caller's values, answers its `seq`. */
export type PostingStatement = (db: Queryable) => PreparedStatement<bigint[]>;

/** The posting's statement with nothing alongside. */
const entryWithPostings = postingStatement('ledger_post_entry');

export function postingRow(
  entryId: string,
  leg: PostingLeg,
  status: EntryStatus,
  bookedAt: Date,
  valueAt: Date | null,
  balanceAfter: bigint | null,
  id: string = randomUUID(),
  bookSeq: bigint | SQL | null = balanceAfter === null ? null : sql`nextval('bank_book_seq')`,
): PgInsertValue<typeof bankPostings> {
  const d = leg.details ?? {};
  return {
    id,
    entryId,
    accountId: leg.accountId,
    amountMinor: leg.amountMinor,
    currency: leg.currency,
    status,
    bookedAt,
    valueAt,
    balanceAfterMinor: balanceAfter,
    bookSeq,
    transactionReference: d.transactionReference ?? null,
    transactionInformation: d.transactionInformation ?? null,
    addressLine: d.addressLine ?? null,
    bankTransactionCode: d.bankTransactionCode?.code ?? null,
    bankTransactionSubCode: d.bankTransactionCode?.subCode ?? null,
    proprietaryCode: d.proprietaryBankTransactionCode?.code ?? null,
    proprietaryIssuer: d.proprietaryBankTransactionCode?.issuer ?? null,
    merchantName: d.merchant?.name ?? null,
    merchantCategoryCode: d.merchant?.categoryCode ?? null,
    cardId: d.cardId ?? null,
    cardAuthorisationType: d.cardAuthorisationType ?? null,
    counterparty: d.counterparty ?? null,
    currencyExchange: d.currencyExchange ?? null,
    chargeMinor: d.chargeMinor ?? null,
  };
}

/**
 * Books a Pending entry (e.g. a card authorisation that clears): its postings become Booked at
 * `bookedAt` (default now) with running balances. No limit check: the funds were reserved when posted.
 */
export async function bookPendingEntry(
  db: Queryable,
  ctx: LedgerContext,
  entryId: string,
  bookedAt?: Date,
): Promise<void> {
  await resolvePending(db, ctx, entryId, 'Booked', bookedAt);
}

/** Rejects a Pending entry: its postings stop counting in any balance and show as Rejected. */
export async function rejectPendingEntry(db: Queryable, ctx: LedgerContext, entryId: string): Promise<void> {
  await resolvePending(db, ctx, entryId, 'Rejected');
}

async function resolvePending(
  db: Queryable,
  ctx: LedgerContext,
  entryId: string,
  to: 'Booked' | 'Rejected',
  at?: Date,
): Promise<void> {
  await db.transaction(async (tx) => {
    const [entry] = await tx.select().from(bankEntries).where(eq(bankEntries.id, entryId)).for('update');
    if (!entry) throw new EntryNotFoundError(entryId);
    if (entry.status !== 'Pending')
      throw new InvalidStateError(`posting set ${entryId} is ${entry.status}, not Pending`);
    const postings = await tx
      .select()
      .from(bankPostings)
      .where(eq(bankPostings.entryId, entryId))
      .orderBy(asc(bankPostings.seq));
    const { accounts } = await lockAccounts(
      tx,
      ctx,
      postings.map((p) => p.accountId),
    );
    const bookedAt = to === 'Booked' ? bookingTime(accounts, at, ctx.clock.now()) : ctx.clock.now();
    for (const posting of postings) {
      const account = accounts.get(posting.accountId);
      if (!account) throw new AccountNotFoundError(posting.accountId);
      if (account.internalPurpose !== null) {
        await tx
          .update(bankPostings)
          .set(to === 'Booked' ? { status: to, bookedAt } : { status: to })
          .where(eq(bankPostings.id, posting.id));
        continue;
      }
      if (posting.amountMinor < 0n) account.pendingDebitMinor -= posting.amountMinor;
      else account.pendingCreditMinor -= posting.amountMinor;
      let balanceAfter: bigint | null = null;
      if (to === 'Booked') {
        account.bookedMinor += posting.amountMinor;
        balanceAfter = account.bookedMinor;
      }
      await tx
        .update(bankPostings)
        .set(
          to === 'Booked'
            ? {
                status: to,
                bookedAt,
                balanceAfterMinor: balanceAfter,
                bookSeq: sql`nextval('bank_book_seq')`,
              }
            : { status: to },
        )
        .where(eq(bankPostings.id, posting.id));
    }
    await storeCachedBalances(tx, accounts.values(), to === 'Booked' ? bookedAt : undefined);
    await tx
      .update(bankEntries)
      .set(to === 'Booked' ? { status: to, bookedAt } : { status: to })
      .where(eq(bankEntries.id, entryId));
  });
}

// ---------------------------------------------------------------------------------------------------
// Internal accounts and the flows issue 6 (payments) builds on.

export function internalAccountId(purpose: InternalPurpose, currency: string): string {
  return `internal-${purpose}-${currency}`;
}

const INTERNAL_PURPOSES: readonly InternalPurpose[] = ['clearing', 'suspense', 'fees', 'fx', 'interest'];

/** The purpose and currency an `internalAccountId` names; undefined for any other id. */
function internalAccountOf(id: string): { purpose: InternalPurpose; currency: string } | undefined {
  const match = /^internal-([a-z]+)-([A-Z]{3})$/.exec(id);
  const purpose = INTERNAL_PURPOSES.find((known) => known === match?.[1]);
  return match && purpose ? { purpose, currency: match[2]! } : undefined;
}

const ensured = new WeakMap<object, Set<string>>();

/** The bank's own account for `purpose` in `currency`, created on first use. */
export async function ensureInternalAccount(
  db: Queryable,
  ctx: LedgerContext,
  purpose: InternalPurpose,
  currency: string,
): Promise<string> {
  currencyExponent(currency);
  const id = internalAccountId(purpose, currency);
  // Per database handle (a transaction's handle dies with it, so a rolled-back insert is never trusted).
  let known = ensured.get(db);
  if (known?.has(id)) return id;
  const now = ctx.clock.now();
  await db
    .insert(bankAccounts)
    .values({
      id,
      internalPurpose: purpose,
      accountType: null,
      accountSubType: 'CurrentAccount',
      currency,
      status: 'Enabled',
      statusUpdatedAt: now,
      name: `Model Bank ${purpose} ${currency}`,
      description: `Internal ${purpose} account (${currency})`,
      openingDate: now.toISOString().slice(0, 10),
      createdAt: now,
    })
    .onConflictDoNothing();
  if (!known) ensured.set(db, (known = new Set()));
  known.add(id);
  return id;
}

/** The bank transaction codes the ledger gives its postings (bench fixtures post the same). */
export const BTC = {
  issuedTransfer: { code: 'IssuedCreditTransfers', subCode: 'DomesticCreditTransfer' },
  receivedTransfer: { code: 'ReceivedCreditTransfers', subCode: 'DomesticCreditTransfer' },
  issuedInternational: { code: 'IssuedCreditTransfers', subCode: 'CrossBorderCreditTransfer' },
  receivedInternational: { code: 'ReceivedCreditTransfers', subCode: 'CrossBorderCreditTransfer' },
  fee: { code: 'Charges', subCode: 'Fees' },
} as const satisfies Record<string, BankTransactionCode>;

export interface TransferInput {
  fromAccountId: string;
  toAccountId: string;
  amountMinor: bigint;
  currency: string;
  /** Shown on both sides (OB `Reference`, max 35 chars on the wire). */
  reference?: string;
  information?: string;
  origin?: string;
  kind?: string;
  bookedAt?: Date;
  valueAt?: Date;
  status?: 'Booked' | 'Pending';
  debitDetails?: PostingDetails;
  creditDetails?: PostingDetails;
  /**
   * Rows of the two accounts the caller has read in this transaction (an account record will do): their
   * names and identifications for each other's statement line, so they are not read again.
   */
  accounts?: readonly (AccountIdentity | undefined)[];
  /** The caller's writes that go with the posting set (`PostingAlongside`). */
  alongside?: PostingAlongside;
}

/** How an account is named to the other side of a payment. */
export interface AccountIdentity {
  id: string;
  name: string;
  sortCode: string | null;
  accountNumber: string | null;
  iban: string | null;
}

/** How each account appears to the other side of a payment (its identification and name). */
async function counterpartiesOf(
  db: Queryable,
  accountIds: string[],
  known: readonly (AccountIdentity | undefined)[] = [],
): Promise<Map<string, Counterparty>> {
  const given = known.filter(
    (row): row is AccountIdentity => row !== undefined && accountIds.includes(row.id),
  );
  const missing = accountIds.filter((id) => !given.some((row) => row.id === id));
  const rows: AccountIdentity[] = [...given];
  if (missing.length > 0)
    rows.push(
      ...(await db
        .select({
          id: bankAccounts.id,
          name: bankAccounts.name,
          sortCode: bankAccounts.sortCode,
          accountNumber: bankAccounts.accountNumber,
          iban: bankAccounts.iban,
        })
        .from(bankAccounts)
        .where(inArray(bankAccounts.id, missing))),
    );
  const map = new Map<string, Counterparty>();
  for (const row of rows) {
    if (row.sortCode && row.accountNumber) {
      map.set(row.id, {
        schemeName: 'UK.OBIE.SortCodeAccountNumber',
        identification: row.sortCode + row.accountNumber,
        name: row.name,
      });
    } else if (row.iban)
      map.set(row.id, { schemeName: 'UK.OBIE.IBAN', identification: row.iban, name: row.name });
    else map.set(row.id, { name: row.name });
  }
  return map;
}

/** Moves money between two accounts of this bank in one currency (an on-us payment or own-account transfer). */
export async function postTransfer(
  db: Queryable,
  ctx: LedgerContext,
  input: TransferInput,
): Promise<PostedEntry> {
  if (input.amountMinor <= 0n) throw new InvalidEntryError('a transfer amount must be positive');
  if (input.fromAccountId === input.toAccountId)
    throw new InvalidEntryError('cannot transfer to the same account');
  const parties = await counterpartiesOf(db, [input.fromAccountId, input.toAccountId], input.accounts);
  const payer = parties.get(input.fromAccountId);
  const payee = parties.get(input.toAccountId);
  if (!payer) throw new AccountNotFoundError(input.fromAccountId);
  if (!payee) throw new AccountNotFoundError(input.toAccountId);
  const common = {
    transactionReference: input.reference,
    transactionInformation: input.information ?? input.reference,
  };
  return postEntry(db, ctx, {
    kind: input.kind ?? 'transfer',
    status: input.status,
    bookedAt: input.bookedAt,
    valueAt: input.valueAt,
    origin: input.origin,
    alongside: input.alongside,
    legs: [
      {
        accountId: input.fromAccountId,
        amountMinor: -input.amountMinor,
        currency: input.currency,
        details: {
          ...common,
          bankTransactionCode: BTC.issuedTransfer,
          counterparty: payee,
          ...input.debitDetails,
        },
      },
      {
        accountId: input.toAccountId,
        amountMinor: input.amountMinor,
        currency: input.currency,
        details: {
          ...common,
          bankTransactionCode: BTC.receivedTransfer,
          counterparty: payer,
          ...input.creditDetails,
        },
      },
    ],
  });
}

export interface ExternalInput {
  accountId: string;
  /** Positive minor units in `currency` (the account's currency). */
  amountMinor: bigint;
  currency: string;
  /** Who paid us / whom we pay, outside this bank. */
  counterparty?: Counterparty;
  reference?: string;
  information?: string;
  origin?: string;
  kind?: string;
  bookedAt?: Date;
  valueAt?: Date;
  status?: 'Booked' | 'Pending';
  details?: PostingDetails;
  /** A fee taken from the account in the same posting set (shown as its own line), to the fees account. */
  feeMinor?: bigint;
  /**
   * For a payment out in another currency: the instructed amount in `currency` of the payee, at `rate`
   * (units of instructed currency per unit of the account's currency). The account is debited
   * `amountMinor`; the FX account of each currency takes the other side, clearing of the payee's
   * currency pays out `instructedMinor`.
   */
  instructed?: { amountMinor: bigint; currency: string; rate: string };
  /** The caller's writes that go with the posting set (`PostingAlongside`). */
  alongside?: PostingAlongside;
}

/** Money arriving from outside the bank: clearing (of the currency) → account. */
export async function postExternalCredit(
  db: Queryable,
  ctx: LedgerContext,
  input: ExternalInput,
): Promise<PostedEntry> {
  if (input.amountMinor <= 0n) throw new InvalidEntryError('an amount must be positive');
  // Created by the posting on first use (lockAccounts): no upsert per posting set.
  const clearing = internalAccountId('clearing', input.currency);
  const details: PostingDetails = {
    transactionReference: input.reference,
    transactionInformation: input.information ?? input.reference,
    bankTransactionCode: BTC.receivedTransfer,
    counterparty: input.counterparty,
    ...input.details,
  };
  return postEntry(db, ctx, {
    kind: input.kind ?? 'external-credit',
    status: input.status,
    bookedAt: input.bookedAt,
    valueAt: input.valueAt,
    origin: input.origin,
    legs: [
      { accountId: clearing, amountMinor: -input.amountMinor, currency: input.currency },
      { accountId: input.accountId, amountMinor: input.amountMinor, currency: input.currency, details },
    ],
  });
}

/**
 * Money leaving the bank: account → clearing (of the currency), with an optional fee and an optional
 * currency conversion through the FX accounts. One posting set; refused whole if funds are short.
 */
export async function postExternalDebit(
  db: Queryable,
  ctx: LedgerContext,
  input: ExternalInput,
): Promise<PostedEntry> {
  if (input.amountMinor <= 0n) throw new InvalidEntryError('an amount must be positive');
  if (input.feeMinor !== undefined && input.feeMinor < 0n)
    throw new InvalidEntryError('a fee cannot be negative');
  const legs: PostingLeg[] = [];
  const fx = input.instructed && input.instructed.currency !== input.currency ? input.instructed : undefined;
  const details: PostingDetails = {
    transactionReference: input.reference,
    transactionInformation: input.information ?? input.reference,
    bankTransactionCode: fx ? BTC.issuedInternational : BTC.issuedTransfer,
    counterparty: input.counterparty,
    ...(fx
      ? {
          currencyExchange: {
            sourceCurrency: input.currency,
            targetCurrency: fx.currency,
            unitCurrency: input.currency,
            rate: fx.rate,
            instructedAmount: fromMinor(fx.amountMinor, fx.currency),
            instructedCurrency: fx.currency,
          },
        }
      : {}),
    ...input.details,
  };
  legs.push({
    accountId: input.accountId,
    amountMinor: -input.amountMinor,
    currency: input.currency,
    details,
  });
  if (fx) {
    if (fx.amountMinor <= 0n) throw new InvalidEntryError('an instructed amount must be positive');
    // The internal accounts are created by the posting on first use (lockAccounts).
    const fxSource = internalAccountId('fx', input.currency);
    const fxTarget = internalAccountId('fx', fx.currency);
    const clearing = internalAccountId('clearing', fx.currency);
    legs.push({ accountId: fxSource, amountMinor: input.amountMinor, currency: input.currency });
    legs.push({ accountId: fxTarget, amountMinor: -fx.amountMinor, currency: fx.currency });
    legs.push({ accountId: clearing, amountMinor: fx.amountMinor, currency: fx.currency });
  } else {
    const clearing = internalAccountId('clearing', input.currency);
    legs.push({ accountId: clearing, amountMinor: input.amountMinor, currency: input.currency });
  }
  if (input.feeMinor !== undefined && input.feeMinor > 0n) {
    const fees = internalAccountId('fees', input.currency);
    legs.push({
      accountId: input.accountId,
      amountMinor: -input.feeMinor,
      currency: input.currency,
      details: {
        transactionReference: input.reference,
        transactionInformation: `Charge: ${input.information ?? input.reference ?? 'payment'}`.slice(0, 500),
        bankTransactionCode: BTC.fee,
      },
    });
    legs.push({ accountId: fees, amountMinor: input.feeMinor, currency: input.currency });
  }
  return postEntry(db, ctx, {
    kind: input.kind ?? (fx ? 'external-debit-fx' : 'external-debit'),
    status: input.status,
    bookedAt: input.bookedAt,
    valueAt: input.valueAt,
    origin: input.origin,
    alongside: input.alongside,
    legs,
  });
}

// ---------------------------------------------------------------------------------------------------
// Reading the ledger.

export interface Balance {
  accountId: string;
  currency: string;
  /** Sum of Booked postings. */
  bookedMinor: bigint;
  pendingDebitMinor: bigint;
  pendingCreditMinor: bigint;
  /** Booked plus pending debits: what may be spent before the credit limit. */
  availableMinor: bigint;
  creditLimitMinor: bigint;
  creditLineType: string | null;
  /** Decimal strings (signed). */
  booked: string;
  available: string;
}

/** The cached balance of an account (maintained with every posting; `verifyLedger` proves it). */
export async function balanceOf(db: Queryable, accountId: string): Promise<Balance> {
  const [row] = await db
    .select({
      currency: bankAccounts.currency,
      bookedMinor: bankAccounts.bookedMinor,
      pendingDebitMinor: bankAccounts.pendingDebitMinor,
      pendingCreditMinor: bankAccounts.pendingCreditMinor,
      creditLimitMinor: bankAccounts.creditLimitMinor,
      creditLineType: bankAccounts.creditLineType,
      internalPurpose: bankAccounts.internalPurpose,
    })
    .from(bankAccounts)
    .where(eq(bankAccounts.id, accountId));
  if (!row) throw new AccountNotFoundError(accountId);
  const { internalPurpose, ...cached } = row;
  if (internalPurpose !== null) {
    // Internal accounts keep no cache: their balance is the sum of their postings.
    const [sums] = rowsOf<{ booked: string; pending_debit: string; pending_credit: string }>(
      await db.execute(sql`
        select coalesce(sum(amount_minor) filter (where status = 'Booked'), 0)::text as booked,
          coalesce(sum(amount_minor) filter (where status = 'Pending' and amount_minor < 0), 0)::text as pending_debit,
          coalesce(sum(amount_minor) filter (where status = 'Pending' and amount_minor > 0), 0)::text as pending_credit
        from bank_postings where account_id = ${accountId}`),
    );
    cached.bookedMinor = BigInt(sums?.booked ?? '0');
    cached.pendingDebitMinor = BigInt(sums?.pending_debit ?? '0');
    cached.pendingCreditMinor = BigInt(sums?.pending_credit ?? '0');
  }
  const availableMinor = cached.bookedMinor + cached.pendingDebitMinor;
  return {
    accountId,
    ...cached,
    availableMinor,
    booked: fromMinor(cached.bookedMinor, cached.currency),
    available: fromMinor(availableMinor, cached.currency),
  };
}

/**
 * Confirmation of funds: whether `amountMinor` could be debited now (available balance plus the credit
 * limit covers it). Answers for customer accounts in their own currency only.
 */
export async function confirmFunds(
  db: Queryable,
  accountId: string,
  amountMinor: bigint,
  currency: string,
): Promise<boolean> {
  if (amountMinor <= 0n) throw new InvalidEntryError('an amount must be positive');
  const balance = await balanceOf(db, accountId);
  if (balance.currency !== currency) throw new CurrencyMismatchError(accountId, balance.currency, currency);
  return balance.availableMinor + balance.creditLimitMinor >= amountMinor;
}

export interface Transaction {
  /** The posting's id: OB TransactionId. */
  id: string;
  entryId: string;
  accountId: string;
  /** Signed from the account's point of view. */
  amountMinor: bigint;
  currency: string;
  creditDebit: 'Credit' | 'Debit';
  status: EntryStatus;
  bookedAt: Date;
  valueAt: Date | null;
  /** Booked balance right after this transaction; null while Pending or Rejected. */
  balanceAfterMinor: bigint | null;
  transactionReference: string | null;
  transactionInformation: string | null;
  addressLine: string | null;
  bankTransactionCode: BankTransactionCode | null;
  proprietaryBankTransactionCode: { code: string; issuer: string | null } | null;
  merchant: { name: string | null; categoryCode: string | null } | null;
  card: { scheme: string; name: string; pan: string; authorisationType: string | null } | null;
  counterparty: Counterparty | null;
  currencyExchange: CurrencyExchangeDetails | null;
  chargeMinor: bigint | null;
}

export interface TransactionQuery {
  /** Inclusive lower bound on the booking time. */
  from?: Date;
  /** Inclusive upper bound on the booking time. */
  to?: Date;
  creditDebit?: 'Credit' | 'Debit';
  status?: EntryStatus[];
  /** 1-based page number and size (default 1 and 100; size at most 1000). */
  page?: { number?: number; size?: number };
}

export interface TransactionPage {
  items: Transaction[];
  total: number;
  pageNumber: number;
  pageSize: number;
  totalPages: number;
  /** Oldest and newest booking times over the filter (for Meta.FirstAvailableDateTime/LastAvailableDateTime). */
  firstBookedAt: Date | null;
  lastBookedAt: Date | null;
}

/**
 * Transactions (postings) of one or several accounts, newest first (booking time, then posting order).
 */
export async function listTransactions(
  db: Queryable,
  accountId: string | readonly string[],
  query: TransactionQuery = {},
): Promise<TransactionPage> {
  const ids = typeof accountId === 'string' ? [accountId] : [...accountId];
  for (const [name, value] of [
    ['from', query.from],
    ['to', query.to],
  ] as const) {
    if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime()))) {
      throw new InvalidEntryError(`${name} is not a valid date-time`);
    }
  }
  for (const value of [query.page?.number, query.page?.size]) {
    if (value !== undefined && !Number.isFinite(value))
      throw new InvalidEntryError('page number and size must be numbers');
  }
  const pageSize = Math.min(Math.max(Math.trunc(query.page?.size ?? 100), 1), 1000);
  const pageNumber = Math.max(Math.trunc(query.page?.number ?? 1), 1);
  if (ids.length === 0) {
    return {
      items: [],
      total: 0,
      pageNumber,
      pageSize,
      totalPages: 1,
      firstBookedAt: null,
      lastBookedAt: null,
    };
  }
  const conditions: SQL[] = [inArray(bankPostings.accountId, ids)];
  if (query.from) conditions.push(gte(bankPostings.bookedAt, query.from));
  if (query.to) conditions.push(lte(bankPostings.bookedAt, query.to));
  if (query.creditDebit === 'Credit') conditions.push(sql`${bankPostings.amountMinor} > 0`);
  if (query.creditDebit === 'Debit') conditions.push(lt(bankPostings.amountMinor, 0n));
  if (query.status) conditions.push(inArray(bankPostings.status, query.status));
  const where = and(...conditions);
  const [stats] = await db
    .select({
      total: sql<number>`count(*)::int`,
      first: sql<string | null>`min(${bankPostings.bookedAt})`,
      last: sql<string | null>`max(${bankPostings.bookedAt})`,
    })
    .from(bankPostings)
    .where(where);
  const rows = await db
    .select({ posting: bankPostings, card: bankCards })
    .from(bankPostings)
    .leftJoin(bankCards, eq(bankCards.id, bankPostings.cardId))
    .where(where)
    .orderBy(
      desc(bankPostings.bookedAt),
      sql`${bankPostings.bookSeq} desc nulls first`,
      desc(bankPostings.seq),
    )
    .limit(pageSize)
    .offset((pageNumber - 1) * pageSize);
  const total = stats?.total ?? 0;
  return {
    items: rows.map(({ posting: p, card }) => ({
      id: p.id,
      entryId: p.entryId,
      accountId: p.accountId,
      amountMinor: p.amountMinor,
      currency: p.currency,
      creditDebit: p.amountMinor < 0n ? 'Debit' : 'Credit',
      status: p.status,
      bookedAt: p.bookedAt,
      valueAt: p.valueAt,
      balanceAfterMinor: p.balanceAfterMinor,
      transactionReference: p.transactionReference,
      transactionInformation: p.transactionInformation,
      addressLine: p.addressLine,
      bankTransactionCode:
        p.bankTransactionCode && p.bankTransactionSubCode
          ? { code: p.bankTransactionCode, subCode: p.bankTransactionSubCode }
          : null,
      proprietaryBankTransactionCode: p.proprietaryCode
        ? { code: p.proprietaryCode, issuer: p.proprietaryIssuer }
        : null,
      merchant:
        p.merchantName || p.merchantCategoryCode
          ? { name: p.merchantName, categoryCode: p.merchantCategoryCode }
          : null,
      card: card
        ? {
            scheme: card.scheme,
            name: card.nameOnCard,
            pan: card.pan,
            authorisationType: p.cardAuthorisationType,
          }
        : null,
      counterparty: p.counterparty,
      currencyExchange: p.currencyExchange,
      chargeMinor: p.chargeMinor,
    })),
    total,
    pageNumber,
    pageSize,
    totalPages: Math.max(1, Math.ceil(total / pageSize)),
    firstBookedAt: stats?.first ? new Date(stats.first) : null,
    lastBookedAt: stats?.last ? new Date(stats.last) : null,
  };
}

/** Booked balance of an account at an instant (sum of Booked postings booked at or before it). */
export async function bookedBalanceAt(db: Queryable, accountId: string, at: Date): Promise<bigint> {
  const [row] = await db
    .select({ sum: sql<string>`coalesce(sum(${bankPostings.amountMinor}), 0)::text` })
    .from(bankPostings)
    .where(
      and(
        eq(bankPostings.accountId, accountId),
        eq(bankPostings.status, 'Booked'),
        lte(bankPostings.bookedAt, at),
      ),
    );
  return BigInt(row?.sum ?? '0');
}

export interface LedgerProblem {
  kind: 'cache-mismatch' | 'unbalanced-entry' | 'below-limit' | 'running-balance';
  subject: string;
  detail: string;
}

/**
 * Checks the whole ledger: every entry sums to zero per currency; every customer account's cached balances
 * equal the sums of its postings and its cached latest booking time their latest; no customer account is
 * below minus its credit limit; every Booked posting's running balance (customer accounts) equals the sum of
 * the account's Booked postings up to it. Returns the problems found (empty when sound). Meant for tests and
 * an operator's health check, not a hot path.
 */
export async function verifyLedger(db: Queryable): Promise<LedgerProblem[]> {
  const problems: LedgerProblem[] = [];
  const unbalanced = rowsOf<{ entry_id: string; currency: string; total: string }>(
    await db.execute(sql`
    select entry_id, currency, sum(amount_minor)::text as total from bank_postings
    group by entry_id, currency having sum(amount_minor) <> 0`),
  );
  for (const row of unbalanced) {
    problems.push({
      kind: 'unbalanced-entry',
      subject: row.entry_id,
      detail: `${row.currency} sums to ${row.total}`,
    });
  }
  const caches = rowsOf<{
    id: string;
    internal_purpose: string | null;
    booked_minor: string;
    pending_debit_minor: string;
    pending_credit_minor: string;
    credit_limit_minor: string;
    booked_sum: string;
    pending_debit_sum: string;
    pending_credit_sum: string;
    last_booked_at: string | null;
    last_booked: string | null;
  }>(
    await db.execute(sql`
    select a.id, a.internal_purpose, a.booked_minor::text, a.pending_debit_minor::text, a.pending_credit_minor::text,
      a.credit_limit_minor::text,
      coalesce(sum(p.amount_minor) filter (where p.status = 'Booked'), 0)::text as booked_sum,
      coalesce(sum(p.amount_minor) filter (where p.status = 'Pending' and p.amount_minor < 0), 0)::text as pending_debit_sum,
      coalesce(sum(p.amount_minor) filter (where p.status = 'Pending' and p.amount_minor > 0), 0)::text as pending_credit_sum,
      a.last_booked_at::text, (max(p.booked_at) filter (where p.status = 'Booked'))::text as last_booked
    from bank_accounts a left join bank_postings p on p.account_id = a.id
    group by a.id`),
  );
  for (const row of caches) {
    if (
      row.internal_purpose === null &&
      (row.booked_minor !== row.booked_sum ||
        row.pending_debit_minor !== row.pending_debit_sum ||
        row.pending_credit_minor !== row.pending_credit_sum)
    ) {
      problems.push({
        kind: 'cache-mismatch',
        subject: row.id,
        detail: `cached ${row.booked_minor}/${row.pending_debit_minor}/${row.pending_credit_minor}, postings ${row.booked_sum}/${row.pending_debit_sum}/${row.pending_credit_sum}`,
      });
    }
    if (row.internal_purpose === null && row.last_booked_at !== row.last_booked) {
      problems.push({
        kind: 'cache-mismatch',
        subject: row.id,
        detail: `cached latest booking ${row.last_booked_at}, postings' ${row.last_booked}`,
      });
    }
    if (
      row.internal_purpose === null &&
      BigInt(row.booked_sum) + BigInt(row.pending_debit_sum) < -BigInt(row.credit_limit_minor)
    ) {
      problems.push({
        kind: 'below-limit',
        subject: row.id,
        detail: `available below -${row.credit_limit_minor}`,
      });
    }
  }
  const running = rowsOf<{ id: string; balance_after_minor: string; expected: string }>(
    await db.execute(sql`
    select id, balance_after_minor::text, expected::text from (
      select id, balance_after_minor,
        sum(amount_minor) over (partition by account_id order by book_seq rows unbounded preceding) as expected
      from bank_postings p where status = 'Booked'
        and exists (select 1 from bank_accounts a where a.id = p.account_id and a.internal_purpose is null)) t
    where balance_after_minor is distinct from expected`),
  );
  for (const row of running) {
    problems.push({
      kind: 'running-balance',
      subject: row.id,
      detail: `running balance ${row.balance_after_minor}, postings up to it sum to ${row.expected}`,
    });
  }
  return problems;
}
