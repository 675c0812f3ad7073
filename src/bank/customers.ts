/**
 * Read side of the bank for the consent app and the AIS layer: customers (PSUs), their accounts with
 * balances, and the per-account resources (beneficiaries, direct debits, standing orders, scheduled
 * payments, statements, products, offers, parties).
 */
import { and, asc, desc, eq, exists, gte, inArray, lte, or, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Queryable } from '../store/index.ts';
import { preparedStatement, schema } from '../store/index.ts';
import { fromMinor } from './money.ts';
import type { Counterparty } from '../store/schema/bank.ts';
import { rowsOf } from '../shared/result-rows.ts';

const {
  bankAccountHolders,
  bankAccountParties,
  bankAccounts,
  bankBeneficiaries,
  bankCustomers,
  bankDirectDebits,
  bankOffers,
  bankParties,
  bankProducts,
  bankScheduledPayments,
  bankStandingOrders,
  bankStatements,
} = schema;

export type Customer = typeof bankCustomers.$inferSelect;
export type AccountRecord = typeof bankAccounts.$inferSelect;
export type Party = typeof bankParties.$inferSelect;
export type Product = typeof bankProducts.$inferSelect;
export type Beneficiary = typeof bankBeneficiaries.$inferSelect;
export type DirectDebit = typeof bankDirectDebits.$inferSelect;
export type StandingOrder = typeof bankStandingOrders.$inferSelect;
export type ScheduledPayment = typeof bankScheduledPayments.$inferSelect;
export type Statement = typeof bankStatements.$inferSelect;
export type Offer = typeof bankOffers.$inferSelect;

/** An account as shown to its holder: identifiers plus the current balance as a decimal string. */
export interface CustomerAccount {
  id: string;
  accountType: 'Personal' | 'Business';
  accountSubType: AccountRecord['accountSubType'];
  currency: string;
  status: AccountRecord['status'];
  name: string;
  nickname: string | null;
  description: string | null;
  sortCode: string | null;
  accountNumber: string | null;
  iban: string | null;
  /** Masked for display (last 4 digits), for card accounts. */
  maskedPan: string | null;
  /** Booked balance, decimal string, negative when overdrawn. */
  balance: string;
  /** Booked plus pending debits, decimal string. */
  availableBalance: string;
  creditLimit: string;
}

export function normaliseUsername(username: string): string {
  return username.trim().toLowerCase();
}

export async function listCustomers(db: Queryable): Promise<Customer[]> {
  return db.select().from(bankCustomers).orderBy(asc(bankCustomers.username));
}

export async function getCustomer(db: Queryable, id: string): Promise<Customer | undefined> {
  const [row] = await db.select().from(bankCustomers).where(eq(bankCustomers.id, id));
  return row;
}

/** The customer who logs in with `username` (case-insensitive, surrounding spaces ignored). */
export async function findCustomerByUsername(db: Queryable, username: string): Promise<Customer | undefined> {
  if (typeof username !== 'string') return undefined;
  const [row] = await db
    .select()
    .from(bankCustomers)
    .where(eq(bankCustomers.username, normaliseUsername(username)));
  return row;
}

export function maskPan(pan: string): string {
  return pan.length <= 4 ? pan : `${'*'.repeat(pan.length - 4)}${pan.slice(-4)}`;
}

function toCustomerAccount(row: AccountRecord): CustomerAccount {
  return {
    id: row.id,
    accountType: row.accountType ?? 'Personal',
    accountSubType: row.accountSubType,
    currency: row.currency,
    status: row.status,
    name: row.name,
    nickname: row.nickname,
    description: row.description,
    sortCode: row.sortCode,
    accountNumber: row.accountNumber,
    iban: row.iban,
    maskedPan: row.pan ? maskPan(row.pan) : null,
    balance: fromMinor(row.bookedMinor, row.currency),
    availableBalance: fromMinor(row.bookedMinor + row.pendingDebitMinor, row.currency),
    creditLimit: fromMinor(row.creditLimitMinor, row.currency),
  };
}

/** The accounts a customer holds (alone or jointly), in a stable order, with their current balances. */
export async function listCustomerAccounts(db: Queryable, customerId: string): Promise<CustomerAccount[]> {
  const rows = await db
    .select({ account: bankAccounts })
    .from(bankAccountHolders)
    .innerJoin(bankAccounts, eq(bankAccounts.id, bankAccountHolders.accountId))
    .where(eq(bankAccountHolders.customerId, customerId))
    .orderBy(asc(bankAccounts.openingDate), asc(bankAccounts.id));
  return rows.map(({ account }) => toCustomerAccount(account));
}

/** A customer and the accounts they hold (`listCustomerAccounts`'s order), read together. */
export interface CustomerWithAccounts {
  customer: Customer;
  accounts: CustomerAccount[];
}

/** A customer by `where` left-joined to the accounts they hold: one statement, one row per account. */
function customerWithAccountsWhere(name: string, where: SQL) {
  return preparedStatement((db) =>
    db
      .select({ customer: bankCustomers, account: bankAccounts })
      .from(bankCustomers)
      .leftJoin(bankAccountHolders, eq(bankAccountHolders.customerId, bankCustomers.id))
      .leftJoin(bankAccounts, eq(bankAccounts.id, bankAccountHolders.accountId))
      .where(where)
      .orderBy(asc(bankAccounts.openingDate), asc(bankAccounts.id))
      .prepare(name),
  );
}

const customerWithAccountsByUsername = customerWithAccountsWhere(
  'bank_customer_with_accounts_by_username',
  sql`${bankCustomers.username} = ${sql.placeholder('username')}`,
);
const customerWithAccountsById = customerWithAccountsWhere(
  'bank_customer_with_accounts_by_id',
  sql`${bankCustomers.id} = ${sql.placeholder('id')}`,
);

/**
 * The customer who logs in with `username` (as `findCustomerByUsername`), or the customer `id`, with the
 * accounts they hold (as `listCustomerAccounts`), in one statement: what the consent pages and the
 * sandbox approval read together.
 */
export async function findCustomerWithAccounts(
  db: Queryable,
  by: { username: string } | { id: string },
): Promise<CustomerWithAccounts | undefined> {
  let rows;
  if ('username' in by) {
    if (typeof by.username !== 'string') return undefined;
    rows = await customerWithAccountsByUsername(db).execute({ username: normaliseUsername(by.username) });
  } else {
    rows = await customerWithAccountsById(db).execute({ id: by.id });
  }
  const customer = rows[0]?.customer;
  if (!customer) return undefined;
  return {
    customer,
    accounts: rows.flatMap(({ account }) => (account ? [toCustomerAccount(account)] : [])),
  };
}

/** Prepared once: a holding (a VRP sweeping payment's creditor checked against its PSU). */
const accountHolding = preparedStatement((db) =>
  db
    .select({ accountId: bankAccountHolders.accountId })
    .from(bankAccountHolders)
    .where(
      and(
        eq(bankAccountHolders.customerId, sql.placeholder('customerId')),
        eq(bankAccountHolders.accountId, sql.placeholder('accountId')),
      ),
    )
    .prepare('bank_account_holding'),
);

/** Whether the customer holds the account: what the consent and payment layers check before acting. */
export async function isAccountHolder(
  db: Queryable,
  customerId: string,
  accountId: string,
): Promise<boolean> {
  const rows = await accountHolding(db).execute({ customerId, accountId });
  return rows.length > 0;
}

export async function getAccount(db: Queryable, accountId: string): Promise<AccountRecord | undefined> {
  const [row] = await db.select().from(bankAccounts).where(eq(bankAccounts.id, accountId));
  return row;
}

/** The identifications an account of this bank is found by (`findAccountByIdentification`). */
type IdentificationScheme = 'sort_code' | 'iban' | 'pan';

/** One of `make`'s per identification scheme (a statement's shape follows the scheme's condition). */
function perScheme<T>(make: (scheme: IdentificationScheme) => T): Record<IdentificationScheme, T> {
  return { sort_code: make('sort_code'), iban: make('iban'), pan: make('pan') };
}

/** The accounts again, as a payment's creditor's (read with its debtor's). */
const creditorAccounts = alias(bankAccounts, 'creditor');

/**
 * The condition naming a customer account of `accounts` (the table or an alias of it) by `scheme`, its values
 * placeholders (`identificationLookup`'s): internal accounts are never found by an identification.
 */
function customerAccountIdentifiedBy(
  accounts: typeof bankAccounts | typeof creditorAccounts,
  scheme: IdentificationScheme,
): SQL {
  const identified =
    scheme === 'sort_code'
      ? and(
          eq(accounts.sortCode, sql.placeholder('sortCode')),
          eq(accounts.accountNumber, sql.placeholder('accountNumber')),
        )!
      : scheme === 'iban'
        ? eq(accounts.iban, sql.placeholder('iban'))
        : eq(accounts.pan, sql.placeholder('pan'));
  return and(identified, sql`${accounts.internalPurpose} is null`)!;
}

/**
 * What an Open Banking identification looks up: `UK.OBIE.SortCodeAccountNumber` (14 digits, spaces and dashes
 * ignored), `UK.OBIE.IBAN` (spaces ignored, case-insensitive) or `UK.OBIE.PAN` (spaces ignored); undefined for
 * anything else, which names no account here.
 */
function identificationLookup(
  schemeName: string,
  identification: string,
): { scheme: IdentificationScheme; values: Record<string, string> } | undefined {
  const scheme = schemeName.replace(/^UK\.OBIE\./, '');
  if (scheme === 'SortCodeAccountNumber') {
    const digits = identification.replace(/[\s-]/g, '');
    if (!/^\d{14}$/.test(digits)) return undefined;
    return {
      scheme: 'sort_code',
      values: { sortCode: digits.slice(0, 6), accountNumber: digits.slice(6) },
    };
  }
  if (scheme === 'IBAN')
    return { scheme: 'iban', values: { iban: identification.replace(/\s/g, '').toUpperCase() } };
  if (scheme === 'PAN') return { scheme: 'pan', values: { pan: identification.replace(/\s/g, '') } };
  return undefined;
}

/** The condition on an account's row: it is `accountId` and `customerId` is one of its holders (placeholders). */
function heldAccountWhere(db: Queryable) {
  return and(
    eq(bankAccounts.id, sql.placeholder('accountId')),
    exists(
      db
        .select({ one: sql`1` })
        .from(bankAccountHolders)
        .where(
          and(
            eq(bankAccountHolders.customerId, sql.placeholder('customerId')),
            eq(bankAccountHolders.accountId, sql.placeholder('accountId')),
          ),
        ),
    ),
  );
}

/** Prepared once: every payment submission reads its debtor account so. */
const heldAccount = preparedStatement((db) =>
  db.select().from(bankAccounts).where(heldAccountWhere(db)).prepare('bank_held_account'),
);

/** The account, when `customerId` is one of its holders (one statement: the row and the holding). */
export async function getHeldAccount(
  db: Queryable,
  customerId: string,
  accountId: string,
): Promise<AccountRecord | undefined> {
  const [row] = await heldAccount(db).execute({ customerId, accountId });
  return row;
}

/**
 * The debtor account read with the creditor's account here, when the creditor names one: what a payment
 * submission needs of both before it posts (`payCreditor` takes the creditor's as `creditorAccount`).
 */
export interface HeldAccountWithCreditor {
  account: AccountRecord;
  /** The customer account the creditor's identification names (as `findAccountByIdentification`); null when none. */
  creditorAccount: AccountRecord | null;
}

/** Prepared once per scheme: the debtor held by the customer, and the creditor's customer account if any. */
const heldAccountWithCreditor = perScheme((scheme) =>
  preparedStatement((db) =>
    db
      .select({ account: bankAccounts, creditorAccount: creditorAccounts })
      .from(bankAccounts)
      .leftJoin(creditorAccounts, customerAccountIdentifiedBy(creditorAccounts, scheme))
      .where(heldAccountWhere(db))
      .prepare(`bank_held_account_with_creditor_by_${scheme}`),
  ),
);

/**
 * `getHeldAccount` and `findAccountByIdentification` of the creditor in one statement (a payment's payer and
 * payee: one round trip, not two). Undefined when the customer does not hold the account; `creditorAccount`
 * null when the creditor names no customer account of this bank (a payment to another bank, or an
 * identification that names none: `findAccountByIdentification`'s rules).
 */
export async function getHeldAccountWithCreditor(
  db: Queryable,
  customerId: string,
  accountId: string,
  creditor: Pick<Counterparty, 'schemeName' | 'identification'>,
): Promise<HeldAccountWithCreditor | undefined> {
  const lookup = identificationLookup(creditor.schemeName ?? '', creditor.identification ?? '');
  if (!lookup) {
    const account = await getHeldAccount(db, customerId, accountId);
    return account ? { account, creditorAccount: null } : undefined;
  }
  const [row] = await heldAccountWithCreditor[lookup.scheme](db).execute({
    customerId,
    accountId,
    ...lookup.values,
  });
  return row;
}

/** Customer accounts by id, in the order asked (unknown and internal ids are left out). */
export async function getAccounts(db: Queryable, accountIds: readonly string[]): Promise<AccountRecord[]> {
  if (accountIds.length === 0) return [];
  const rows = await db
    .select()
    .from(bankAccounts)
    .where(and(inArray(bankAccounts.id, [...accountIds]), sql`${bankAccounts.internalPurpose} is null`));
  const byId = new Map(rows.map((row) => [row.id, row]));
  return accountIds.flatMap((id) => byId.get(id) ?? []);
}

/**
 * Whether `account` is the customer account an Open Banking identification names: what
 * `findAccountByIdentification` answers for it, decided on a row already read, without a statement (the same
 * `identificationLookup` and the columns `customerAccountIdentifiedBy` compares; each identification names at
 * most one account: `bank_accounts_scan_uq`, `_iban_uq`, `_pan_uq`). A payment's named debtor is checked so.
 */
export function isIdentifiedBy(account: AccountRecord, schemeName: string, identification: string): boolean {
  const lookup = identificationLookup(schemeName, identification);
  if (!lookup || account.internalPurpose !== null) return false;
  const { values } = lookup;
  switch (lookup.scheme) {
    case 'sort_code':
      return account.sortCode === values.sortCode && account.accountNumber === values.accountNumber;
    case 'iban':
      return account.iban === values.iban;
    case 'pan':
      return account.pan === values.pan;
  }
}

/** Prepared once per scheme (a creditor not read with its debtor): a customer account by its identification. */
const accountIdentified = perScheme((scheme) =>
  preparedStatement((db) =>
    db
      .select()
      .from(bankAccounts)
      .where(customerAccountIdentifiedBy(bankAccounts, scheme))
      .prepare(`bank_account_by_${scheme}`),
  ),
);

/**
 * Finds a customer account of this bank by an Open Banking identification (`identificationLookup`'s schemes).
 * Undefined when it is not ours (a payment to another bank).
 */
export async function findAccountByIdentification(
  db: Queryable,
  schemeName: string,
  identification: string,
): Promise<AccountRecord | undefined> {
  const lookup = identificationLookup(schemeName, identification);
  if (!lookup) return undefined;
  const [row] = await accountIdentified[lookup.scheme](db).execute(lookup.values);
  return row;
}

/**
 * Prepared once: the customer accounts a list of identifications names, one row per identification in its order
 * (`identificationLookup`'s values, each in its scheme's array, null in the others; none matches a row of nulls).
 */
const accountsIdentified = preparedStatement((db) =>
  db
    .select({ account: bankAccounts })
    .from(
      sql`unnest(${sql.placeholder('sortCodes')}::text[], ${sql.placeholder('accountNumbers')}::text[],
        ${sql.placeholder('ibans')}::text[], ${sql.placeholder('pans')}::text[])
        with ordinality as wanted(sort_code, account_number, iban, pan, at)`,
    )
    .leftJoin(
      bankAccounts,
      and(
        or(
          and(
            sql`${bankAccounts.sortCode} = wanted.sort_code`,
            sql`${bankAccounts.accountNumber} = wanted.account_number`,
          ),
          sql`${bankAccounts.iban} = wanted.iban`,
          sql`${bankAccounts.pan} = wanted.pan`,
        ),
        sql`${bankAccounts.internalPurpose} is null`,
      ),
    )
    .orderBy(sql`wanted.at`)
    .prepare('bank_accounts_by_identifications'),
);

/**
 * `findAccountByIdentification` of each of `identifications` in one statement (a file's payees): the customer
 * account each names here, in their order, null where it names none.
 */
export async function findAccountsByIdentifications(
  db: Queryable,
  identifications: readonly { schemeName: string; identification: string }[],
): Promise<(AccountRecord | null)[]> {
  if (identifications.length === 0) return [];
  const lookups = identifications.map(({ schemeName, identification }) =>
    identificationLookup(schemeName, identification),
  );
  const column = (scheme: IdentificationScheme, key: string) =>
    lookups.map((lookup) => (lookup?.scheme === scheme ? (lookup.values[key] ?? null) : null));
  const rows = await accountsIdentified(db).execute({
    sortCodes: column('sort_code', 'sortCode'),
    accountNumbers: column('sort_code', 'accountNumber'),
    ibans: column('iban', 'iban'),
    pans: column('pan', 'pan'),
  });
  return rows.map(({ account }) => account);
}

// ---------------------------------------------------------------------------------------------------
// Per-account resources. Every list takes several account ids (the bulk endpoints) and orders stably.

function ids(accountIds: string | readonly string[]): string[] {
  return typeof accountIds === 'string' ? [accountIds] : [...accountIds];
}

export async function listBeneficiaries(
  db: Queryable,
  accountIds: string | readonly string[],
): Promise<Beneficiary[]> {
  const list = ids(accountIds);
  if (list.length === 0) return [];
  return db
    .select()
    .from(bankBeneficiaries)
    .where(inArray(bankBeneficiaries.accountId, list))
    .orderBy(asc(bankBeneficiaries.accountId), asc(bankBeneficiaries.createdAt), asc(bankBeneficiaries.id));
}

export async function listDirectDebits(
  db: Queryable,
  accountIds: string | readonly string[],
): Promise<DirectDebit[]> {
  const list = ids(accountIds);
  if (list.length === 0) return [];
  return db
    .select()
    .from(bankDirectDebits)
    .where(inArray(bankDirectDebits.accountId, list))
    .orderBy(asc(bankDirectDebits.accountId), asc(bankDirectDebits.name), asc(bankDirectDebits.id));
}

export async function listStandingOrders(
  db: Queryable,
  accountIds: string | readonly string[],
): Promise<StandingOrder[]> {
  const list = ids(accountIds);
  if (list.length === 0) return [];
  return db
    .select()
    .from(bankStandingOrders)
    .where(inArray(bankStandingOrders.accountId, list))
    .orderBy(
      asc(bankStandingOrders.accountId),
      asc(bankStandingOrders.createdAt),
      asc(bankStandingOrders.id),
    );
}

/** Scheduled payments still to be made (status Pending), soonest first. */
export async function listScheduledPayments(
  db: Queryable,
  accountIds: string | readonly string[],
): Promise<ScheduledPayment[]> {
  const list = ids(accountIds);
  if (list.length === 0) return [];
  return db
    .select()
    .from(bankScheduledPayments)
    .where(and(inArray(bankScheduledPayments.accountId, list), eq(bankScheduledPayments.status, 'Pending')))
    .orderBy(asc(bankScheduledPayments.scheduledAt), asc(bankScheduledPayments.id));
}

/** Statements, newest first, optionally those overlapping [from, to]. */
export async function listStatements(
  db: Queryable,
  accountIds: string | readonly string[],
  range: { from?: Date; to?: Date } = {},
): Promise<Statement[]> {
  const list = ids(accountIds);
  if (list.length === 0) return [];
  const conditions = [inArray(bankStatements.accountId, list)];
  if (range.from) conditions.push(gte(bankStatements.endAt, range.from));
  if (range.to) conditions.push(lte(bankStatements.startAt, range.to));
  return db
    .select()
    .from(bankStatements)
    .where(and(...conditions))
    .orderBy(desc(bankStatements.startAt), asc(bankStatements.accountId));
}

export async function getStatement(
  db: Queryable,
  accountId: string,
  statementId: string,
): Promise<Statement | undefined> {
  const [row] = await db
    .select()
    .from(bankStatements)
    .where(and(eq(bankStatements.accountId, accountId), eq(bankStatements.id, statementId)));
  return row;
}

export async function listOffers(db: Queryable, accountIds: string | readonly string[]): Promise<Offer[]> {
  const list = ids(accountIds);
  if (list.length === 0) return [];
  return db
    .select()
    .from(bankOffers)
    .where(inArray(bankOffers.accountId, list))
    .orderBy(asc(bankOffers.accountId), asc(bankOffers.id));
}

/** The product of each account that has one. */
export async function listAccountProducts(
  db: Queryable,
  accountIds: string | readonly string[],
): Promise<{ accountId: string; product: Product }[]> {
  const list = ids(accountIds);
  if (list.length === 0) return [];
  const rows = await db
    .select({ accountId: bankAccounts.id, product: bankProducts })
    .from(bankAccounts)
    .innerJoin(bankProducts, eq(bankProducts.id, bankAccounts.productId))
    .where(inArray(bankAccounts.id, list))
    .orderBy(asc(bankAccounts.id));
  return rows;
}

/** The parties of an account with their roles (GET /accounts/{id}/parties). */
export async function listAccountParties(
  db: Queryable,
  accountId: string,
): Promise<{ party: Party; accountRole: string }[]> {
  return db
    .select({ party: bankParties, accountRole: bankAccountParties.accountRole })
    .from(bankAccountParties)
    .innerJoin(bankParties, eq(bankParties.id, bankAccountParties.partyId))
    .where(eq(bankAccountParties.accountId, accountId))
    .orderBy(asc(bankAccountParties.ordinal), asc(bankParties.id));
}

/** The PSU's own party (GET /party). */
export async function getCustomerParty(db: Queryable, customerId: string): Promise<Party | undefined> {
  const [row] = await db
    .select({ party: bankParties })
    .from(bankCustomers)
    .innerJoin(bankParties, eq(bankParties.id, bankCustomers.partyId))
    .where(eq(bankCustomers.id, customerId));
  return row?.party;
}

/** Credit and debit totals of the account's Booked postings in [from, to], for statements. */
export async function bookedTotals(
  db: Queryable,
  accountId: string,
  from: Date,
  to: Date,
): Promise<{ creditsMinor: bigint; debitsMinor: bigint }> {
  const [row] = rowsOf<{ credits: string; debits: string }>(
    await db.execute(sql`
    select coalesce(sum(amount_minor) filter (where amount_minor > 0), 0)::text as credits,
           coalesce(-sum(amount_minor) filter (where amount_minor < 0), 0)::text as debits
    from bank_postings where account_id = ${accountId} and status = 'Booked'
      and booked_at >= ${from.toISOString()} and booked_at <= ${to.toISOString()}`),
  );
  return { creditsMinor: BigInt(row?.credits ?? '0'), debitsMinor: BigInt(row?.debits ?? '0') };
}
