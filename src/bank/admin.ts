/**
 * Creating customers and opening accounts outside the seeder (tests, operators, later an admin API).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Queryable } from '../store/index.ts';
import { schema } from '../store/index.ts';
import type { PartyAddress } from '../store/schema/bank.ts';
import { InvalidStateError } from './errors.ts';
import type { LedgerContext } from './ledger.ts';
import { currencyExponent } from './money.ts';
import { normaliseUsername, type AccountRecord, type Customer } from './customers.ts';
import { BANK_SORT_CODE, gbIban } from './seed.ts';

const { bankAccountHolders, bankAccountParties, bankAccounts, bankCustomers, bankParties } = schema;

const USERNAME = /^[a-z0-9][a-z0-9._-]{1,62}$/;

export interface NewCustomer {
  username: string;
  displayName: string;
  kind: 'personal' | 'business';
  email?: string;
  address?: PartyAddress;
  id?: string;
}

export async function createCustomer(
  db: Queryable,
  ctx: LedgerContext,
  input: NewCustomer,
): Promise<Customer> {
  const username = normaliseUsername(input.username);
  if (!USERNAME.test(username))
    throw new InvalidStateError(`invalid username: ${JSON.stringify(input.username)}`);
  return db.transaction(async (tx) => {
    const partyId = randomUUID();
    await tx.insert(bankParties).values({
      id: partyId,
      partyType: 'Sole',
      name: input.displayName,
      legalStructure: input.kind === 'business' ? 'UK.OBIE.PrivateLimitedCompany' : 'UK.OBIE.Individual',
      emailAddress: input.email ?? null,
      addresses: input.address ? [input.address] : [],
    });
    const [row] = await tx
      .insert(bankCustomers)
      .values({
        id: input.id ?? randomUUID(),
        username,
        displayName: input.displayName,
        kind: input.kind,
        partyId,
        createdAt: ctx.clock.now(),
      })
      .onConflictDoNothing()
      .returning();
    if (!row) throw new InvalidStateError(`username already taken: ${username}`);
    return row;
  });
}

export interface NewAccount {
  holders: string[];
  currency: string;
  accountType?: 'Personal' | 'Business';
  accountSubType?: AccountRecord['accountSubType'];
  name: string;
  nickname?: string;
  description?: string;
  /** Overdraft or credit limit in minor units (default 0). */
  creditLimitMinor?: bigint;
  productId?: string;
  id?: string;
}

/**
 * Opens an Enabled account with a fresh account number under the bank's sort code and its IBAN. The
 * balance starts at zero: money arrives through the ledger (e.g. `postExternalCredit`).
 */
export async function openAccount(
  db: Queryable,
  ctx: LedgerContext,
  input: NewAccount,
): Promise<AccountRecord> {
  currencyExponent(input.currency);
  if (input.holders.length === 0) throw new InvalidStateError('an account needs a holder');
  const limit = input.creditLimitMinor ?? 0n;
  if (limit < 0n) throw new InvalidStateError('a credit limit cannot be negative');
  const now = ctx.clock.now();
  return db.transaction(async (tx) => {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const accountNumber = String(10_000_000 + Math.floor(Math.random() * 89_999_999));
      const [row] = await tx
        .insert(bankAccounts)
        .values({
          id: input.id ?? randomUUID(),
          accountType: input.accountType ?? 'Personal',
          accountSubType: input.accountSubType ?? 'CurrentAccount',
          currency: input.currency,
          status: 'Enabled',
          statusUpdatedAt: now,
          name: input.name,
          nickname: input.nickname ?? null,
          description: input.description ?? null,
          openingDate: now.toISOString().slice(0, 10),
          sortCode: BANK_SORT_CODE,
          accountNumber,
          iban: gbIban(BANK_SORT_CODE, accountNumber),
          productId: input.productId ?? null,
          creditLimitMinor: limit,
          creditLineType: limit > 0n ? 'Pre-Agreed' : null,
          createdAt: now,
        })
        .onConflictDoNothing()
        .returning();
      if (!row) continue;
      await tx
        .insert(bankAccountHolders)
        .values(input.holders.map((customerId) => ({ accountId: row.id, customerId })));
      const customers = await Promise.all(
        input.holders.map((customerId) =>
          tx.select({ partyId: bankCustomers.partyId }).from(bankCustomers).where(eqId(customerId)),
        ),
      );
      const partyRows = customers.flatMap((rows, ordinal) =>
        rows.map((r) => ({
          accountId: row.id,
          partyId: r.partyId,
          accountRole: ordinal === 0 ? 'UK.OBIE.Principal' : 'UK.OBIE.SecondaryOwner',
          ordinal,
        })),
      );
      if (partyRows.length) await tx.insert(bankAccountParties).values(partyRows);
      return row;
    }
    throw new InvalidStateError('could not allocate an account number');
  });
}

function eqId(customerId: string) {
  return sql`${bankCustomers.id} = ${customerId}`;
}
