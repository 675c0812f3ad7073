import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { ManualClock } from '../../src/shared/clock.ts';
import type { Store } from '../../src/store/index.ts';
import {
  InsufficientFundsError,
  InvalidStateError,
  SANDBOX_USERNAMES,
  balanceOf,
  bookedBalanceAt,
  findCustomerByUsername,
  fromMinor,
  getCustomer,
  getCustomerParty,
  listAccountParties,
  listAccountProducts,
  listBeneficiaries,
  listCustomerAccounts,
  listCustomers,
  listDirectDebits,
  listOffers,
  listScheduledPayments,
  listStandingOrders,
  listStatements,
  listTransactions,
  postTransfer,
  seedSandbox,
  verifyLedger,
} from '../../src/bank/index.ts';
import { createTestStore } from '../support/store.ts';
import { assertLedgerInvariants, query } from './helpers.ts';

const NOW = '2026-11-21T09:30:00Z';

/** Every bank table's rows, in a stable order, as text: equal dumps mean equal data. */
async function dump(store: Store): Promise<string> {
  const tables = [
    'bank_parties',
    'bank_customers',
    'bank_products',
    'bank_accounts',
    'bank_account_holders',
    'bank_account_parties',
    'bank_cards',
    'bank_entries',
    'bank_postings',
    'bank_beneficiaries',
    'bank_direct_debits',
    'bank_standing_orders',
    'bank_scheduled_payments',
    'bank_statements',
    'bank_offers',
  ];
  const parts: string[] = [];
  for (const table of tables) {
    const rows = await query<{ row: string }>(
      store.db,
      sql`select (to_jsonb(t) - 'seq' - 'book_seq')::text as row from ${sql.identifier(table)} t order by 1`,
    );
    parts.push(`${table}:${rows.length}\n${rows.map((r) => r.row).join('\n')}`);
  }
  return parts.join('\n');
}

const store = await createTestStore();
const clock = new ManualClock(NOW);
const first = await seedSandbox(store.db, { seed: 'sandbox-1', clock });

describe('sandbox seeder', () => {
  it('creates the documented customers with accounts, months of history and standing data', async () => {
    assert.equal(first.created, true);
    assert.deepEqual(
      (await listCustomers(store.db)).map((c) => c.username),
      ['alice', 'bob', 'carol', 'dave-ltd'],
    );
    assert.deepEqual([...SANDBOX_USERNAMES].sort(), ['alice', 'bob', 'carol', 'dave-ltd']);
    const dave = await findCustomerByUsername(store.db, '  Dave-LTD ');
    assert.equal(dave?.kind, 'business');
    assert.equal((await getCustomer(store.db, dave?.id ?? ''))?.username, 'dave-ltd');
    assert.equal(await findCustomerByUsername(store.db, 'mallory'), undefined);
    assert.equal(
      (await getCustomerParty(store.db, dave?.id ?? ''))?.legalStructure,
      'UK.OBIE.PrivateLimitedCompany',
    );

    const alice = await findCustomerByUsername(store.db, 'alice');
    const accounts = await listCustomerAccounts(store.db, alice?.id ?? '');
    assert.deepEqual(accounts.map((a) => `${a.accountSubType}/${a.currency}`).sort(), [
      'CreditCard/GBP',
      'CurrentAccount/EUR',
      'CurrentAccount/GBP',
      'Savings/GBP',
    ]);
    for (const account of accounts) {
      const balance = await balanceOf(store.db, account.id);
      assert.equal(account.balance, fromMinor(balance.bookedMinor, account.currency));
      assert.match(account.balance, /^-?\d+\.\d{2}$/);
    }
    const current = accounts.find((a) => a.accountSubType === 'CurrentAccount' && a.currency === 'GBP');
    assert.match(current?.sortCode ?? '', /^\d{6}$/);
    assert.match(current?.accountNumber ?? '', /^\d{8}$/);
    assert.match(current?.iban ?? '', /^GB\d{2}OBKT\d{14}$/);
    assert.match(accounts.find((a) => a.accountSubType === 'CreditCard')?.maskedPan ?? '', /^\*{12}\d{4}$/);

    // The joint account is listed for both holders, and has both as parties.
    const bob = await findCustomerByUsername(store.db, 'bob');
    const carol = await findCustomerByUsername(store.db, 'carol');
    const bobIds = (await listCustomerAccounts(store.db, bob?.id ?? '')).map((a) => a.id);
    const joint = (await listCustomerAccounts(store.db, carol?.id ?? '')).find((a) => bobIds.includes(a.id));
    assert.ok(joint, 'bob and carol share an account');
    assert.deepEqual(
      (await listAccountParties(store.db, joint.id)).map((p) => [p.party.name, p.accountRole]),
      [
        ['Bob Singh', 'UK.OBIE.Principal'],
        ['Carol Jones', 'UK.OBIE.SecondaryOwner'],
      ],
    );

    const page = await listTransactions(store.db, current?.id ?? '', { page: { size: 1000 } });
    assert.ok(page.total > 100, `alice has ${page.total} transactions`);
    const oldest = page.items.at(-1)?.bookedAt.getTime() ?? 0;
    assert.ok(Date.parse(NOW) - oldest >= 180 * 86_400_000, 'about six months of history');
    assert.ok(
      page.items.every((t) => t.bookedAt.getTime() <= Date.parse(NOW)),
      'nothing booked in the future',
    );
    const card = page.items.find((t) => t.merchant?.categoryCode);
    assert.match(card?.merchant?.categoryCode ?? '', /^\d{4}$/);
    assert.equal(card?.bankTransactionCode?.code, 'CustomerCardTransactions');
    assert.equal(card?.proprietaryBankTransactionCode?.code, 'POS');
    assert.match(card?.card?.pan ?? '', /^\d{16}$/);
    assert.ok(page.items.some((t) => t.transactionInformation?.includes('SALARY')));
    assert.ok(page.items.some((t) => t.bankTransactionCode?.code === 'IssuedDirectDebits'));
    assert.ok(page.items.every((t) => t.status !== 'Booked' || t.balanceAfterMinor !== null));

    const all = await query<{ n: number }>(
      store.db,
      sql`select count(*)::int as n from bank_postings where status = 'Pending'`,
    );
    assert.ok((all[0]?.n ?? 0) > 0, 'some recent card payments are still pending');

    const ids = (await listCustomerAccounts(store.db, alice?.id ?? '')).map((a) => a.id);
    assert.ok((await listBeneficiaries(store.db, ids)).length >= 3);
    assert.ok((await listDirectDebits(store.db, ids)).length >= 4);
    assert.ok((await listStandingOrders(store.db, ids)).length >= 2);
    assert.ok(
      (await listScheduledPayments(store.db, ids)).every((p) => p.scheduledAt.getTime() > Date.parse(NOW)),
    );
    assert.ok((await listOffers(store.db, ids)).length >= 2);
    assert.equal((await listAccountProducts(store.db, ids)).length, ids.length);
    const statements = await listStatements(store.db, ids);
    assert.ok(statements.length >= 4 * 5);
  });

  it('keeps the ledger invariants: every set balances, every balance is the sum of its postings', async () => {
    const { entries } = await assertLedgerInvariants(store.db);
    assert.equal(entries, first.entries);
    assert.deepEqual(await verifyLedger(store.db), []);
  });

  it('writes statements that agree with the ledger', async () => {
    const alice = await findCustomerByUsername(store.db, 'alice');
    const ids = (await listCustomerAccounts(store.db, alice?.id ?? '')).map((a) => a.id);
    for (const statement of await listStatements(store.db, ids)) {
      assert.equal(
        statement.closingBookedMinor - statement.openingBookedMinor,
        statement.totalCreditsMinor - statement.totalDebitsMinor,
      );
      assert.equal(
        statement.closingBookedMinor,
        await bookedBalanceAt(store.db, statement.accountId, statement.endAt),
      );
      assert.equal(
        statement.openingBookedMinor,
        await bookedBalanceAt(store.db, statement.accountId, new Date(statement.startAt.getTime() - 1)),
      );
    }
  });

  it('is idempotent: a second run with the same seed adds nothing; another seed is refused', async () => {
    const before = await dump(store);
    assert.equal((await seedSandbox(store.db, { seed: 'sandbox-1', clock })).created, false);
    assert.equal(await dump(store), before);
    await assert.rejects(seedSandbox(store.db, { seed: 'other', clock }), InvalidStateError);
    const results = await Promise.all(
      [1, 2, 3].map(() => seedSandbox(store.db, { seed: 'sandbox-1', clock })),
    );
    assert.ok(results.every((r) => !r.created));
    assert.equal(await dump(store), before);
  });

  it('is deterministic: same seed and time give identical data, another seed different data', async () => {
    const twin = await createTestStore();
    await seedSandbox(twin.db, { seed: 'sandbox-1', clock: new ManualClock(NOW) });
    const other = await createTestStore();
    await seedSandbox(other.db, { seed: 'sandbox-2', clock: new ManualClock(NOW) });
    const [a, b, c] = [await dump(store), await dump(twin), await dump(other)];
    assert.ok(a.length > 100_000);
    assert.equal(a, b);
    assert.notEqual(a, c);
  });

  it('lets the ledger continue after seeding, refusing overdrafts', async () => {
    clock.set('2026-11-21T10:00:00Z');
    const carol = await findCustomerByUsername(store.db, 'carol');
    const [current, joint] = await listCustomerAccounts(store.db, carol?.id ?? '');
    assert.ok(current && joint);
    const balance = await balanceOf(store.db, current.id);
    await postTransfer(
      store.db,
      { clock },
      { fromAccountId: current.id, toAccountId: joint.id, amountMinor: 1_000n, currency: 'GBP' },
    );
    await assert.rejects(
      postTransfer(
        store.db,
        { clock },
        {
          fromAccountId: current.id,
          toAccountId: joint.id,
          amountMinor: balance.availableMinor,
          currency: 'GBP',
        },
      ),
      InsufficientFundsError,
    );
    assert.deepEqual(await verifyLedger(store.db), []);
    await assertLedgerInvariants(store.db);
  });
});
