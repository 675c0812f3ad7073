import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asc, eq, sql } from 'drizzle-orm';
import { ManualClock, systemClock } from '../../src/shared/clock.ts';
import { schema, type Store } from '../../src/store/index.ts';
import {
  AccountNotEnabledError,
  AccountNotFoundError,
  CurrencyMismatchError,
  DuplicateOriginError,
  InsufficientFundsError,
  InvalidEntryError,
  UnbalancedEntryError,
  balanceOf,
  bookPendingEntry,
  confirmFunds,
  createCustomer,
  findAccountByIdentification,
  findAccountsByIdentifications,
  getAccount,
  internalAccountId,
  isIdentifiedBy,
  listTransactions,
  openAccount,
  postEntry,
  postExternalCredit,
  postExternalDebit,
  postTransfer,
  postingStatement,
  rejectPendingEntry,
  toMinor,
  verifyLedger,
  type AccountRecord,
  type LedgerContext,
} from '../../src/bank/index.ts';
import { createTestStore } from '../support/store.ts';
import { assertLedgerInvariants, query } from './helpers.ts';

const HOUR = 3_600_000;

async function counts(store: Store): Promise<{ entries: number; postings: number }> {
  const [row] = await query<{ entries: number; postings: number }>(
    store.db,
    sql`select (select count(*)::int from bank_entries) as entries, (select count(*)::int from bank_postings) as postings`,
  );
  return row ?? { entries: -1, postings: -1 };
}

// One store for the file (created at the top level, so it lives until the file's tests end).
const store: Store = await createTestStore();
const clock = new ManualClock('2026-03-01T09:00:00Z');
const ctx: LedgerContext = { clock };
const customerA = await createCustomer(store.db, ctx, {
  username: 'Test-Alice',
  displayName: 'Alice',
  kind: 'personal',
});
const customerB = await createCustomer(store.db, ctx, {
  username: 'test-bob',
  displayName: 'Bob',
  kind: 'personal',
});
const alice: AccountRecord = await openAccount(store.db, ctx, {
  holders: [customerA.id],
  currency: 'GBP',
  name: 'Alice',
  creditLimitMinor: 10_000n,
});
const aliceEur: AccountRecord = await openAccount(store.db, ctx, {
  holders: [customerA.id],
  currency: 'EUR',
  name: 'Alice',
});
const bob: AccountRecord = await openAccount(store.db, ctx, {
  holders: [customerB.id],
  currency: 'GBP',
  name: 'Bob',
});
await postExternalCredit(store.db, ctx, {
  accountId: alice.id,
  amountMinor: 50_000n,
  currency: 'GBP',
  reference: 'SALARY',
});

describe('ledger', () => {
  it('posts a transfer as one balanced set and moves both balances', async () => {
    clock.advance(HOUR);
    const entry = await postTransfer(store.db, ctx, {
      fromAccountId: alice.id,
      toAccountId: bob.id,
      amountMinor: toMinor('123.45', 'GBP'),
      currency: 'GBP',
      reference: 'LUNCH',
    });
    assert.equal(entry.postings.length, 2);
    assert.equal(
      entry.postings.reduce((s, p) => s + p.amountMinor, 0n),
      0n,
    );
    assert.equal((await balanceOf(store.db, alice.id)).booked, '376.55');
    assert.equal((await balanceOf(store.db, bob.id)).booked, '123.45');
    const page = await listTransactions(store.db, bob.id);
    assert.equal(page.total, 1);
    const [tx] = page.items;
    assert.equal(tx?.creditDebit, 'Credit');
    assert.equal(tx?.balanceAfterMinor, 12_345n);
    assert.equal(tx?.transactionReference, 'LUNCH');
    assert.equal(tx?.counterparty?.schemeName, 'UK.OBIE.SortCodeAccountNumber');
    assert.equal(tx?.counterparty?.identification, `${alice.sortCode}${alice.accountNumber}`);
    assert.deepEqual(tx?.bankTransactionCode, {
      code: 'ReceivedCreditTransfers',
      subCode: 'DomesticCreditTransfer',
    });
    await assertLedgerInvariants(store.db);
  });

  it('refuses a debit beyond balance + overdraft with a typed error and posts nothing', async () => {
    clock.advance(HOUR);
    const before = await counts(store);
    const balance = await balanceOf(store.db, alice.id);
    // Alice has 376.55 and a 100.00 overdraft: 476.56 is one penny too much.
    await assert.rejects(
      postTransfer(store.db, ctx, {
        fromAccountId: alice.id,
        toAccountId: bob.id,
        amountMinor: 47_656n,
        currency: 'GBP',
      }),
      (error: unknown) =>
        error instanceof InsufficientFundsError &&
        error.code === 'insufficient-funds' &&
        error.availableMinor === 37_655n &&
        error.requestedMinor === 47_656n &&
        error.creditLimitMinor === 10_000n,
    );
    // Bob has no overdraft at all.
    await assert.rejects(
      postExternalDebit(store.db, ctx, { accountId: bob.id, amountMinor: 12_346n, currency: 'GBP' }),
      InsufficientFundsError,
    );
    assert.deepEqual(await counts(store), before);
    assert.equal((await balanceOf(store.db, alice.id)).bookedMinor, balance.bookedMinor);
    // Exactly down to the overdraft limit is allowed, and the balance is negative.
    await postTransfer(store.db, ctx, {
      fromAccountId: alice.id,
      toAccountId: bob.id,
      amountMinor: 47_655n,
      currency: 'GBP',
    });
    assert.equal((await balanceOf(store.db, alice.id)).booked, '-100.00');
    await assert.rejects(
      postTransfer(store.db, ctx, {
        fromAccountId: alice.id,
        toAccountId: bob.id,
        amountMinor: 1n,
        currency: 'GBP',
      }),
      InsufficientFundsError,
    );
    // Money coming in is never refused, even below zero.
    await postTransfer(store.db, ctx, {
      fromAccountId: bob.id,
      toAccountId: alice.id,
      amountMinor: 47_655n,
      currency: 'GBP',
    });
    assert.deepEqual(await verifyLedger(store.db), []);
    await assertLedgerInvariants(store.db);
  });

  it('refuses malformed posting sets before writing anything', async () => {
    const before = await counts(store);
    const gbp = (accountId: string, amountMinor: bigint) => ({ accountId, amountMinor, currency: 'GBP' });
    await assert.rejects(
      postEntry(store.db, ctx, { kind: 't', legs: [gbp(alice.id, 1n), gbp(bob.id, -2n)] }),
      UnbalancedEntryError,
    );
    await assert.rejects(
      postEntry(store.db, ctx, { kind: 't', legs: [gbp(alice.id, 1n)] }),
      InvalidEntryError,
    );
    await assert.rejects(
      postEntry(store.db, ctx, { kind: 't', legs: [gbp(alice.id, 0n), gbp(bob.id, 0n)] }),
      InvalidEntryError,
    );
    await assert.rejects(
      postEntry(store.db, ctx, {
        kind: 't',
        legs: [gbp(bob.id, -1n), { accountId: aliceEur.id, amountMinor: 1n, currency: 'GBP' }],
      }),
      CurrencyMismatchError,
    );
    await assert.rejects(
      postEntry(store.db, ctx, { kind: 't', legs: [gbp(bob.id, -1n), gbp('nope', 1n)] }),
      AccountNotFoundError,
    );
    await assert.rejects(
      postTransfer(store.db, ctx, {
        fromAccountId: bob.id,
        toAccountId: bob.id,
        amountMinor: 1n,
        currency: 'GBP',
      }),
      InvalidEntryError,
    );
    await assert.rejects(
      postTransfer(store.db, ctx, {
        fromAccountId: bob.id,
        toAccountId: alice.id,
        amountMinor: -5n,
        currency: 'GBP',
      }),
      InvalidEntryError,
    );
    await store.db.execute(sql`update bank_accounts set status = 'Disabled' where id = ${alice.id}`);
    await assert.rejects(
      postTransfer(store.db, ctx, {
        fromAccountId: bob.id,
        toAccountId: alice.id,
        amountMinor: 1n,
        currency: 'GBP',
      }),
      AccountNotEnabledError,
    );
    await store.db.execute(sql`update bank_accounts set status = 'Enabled' where id = ${alice.id}`);
    // Booking times never go backwards on an account.
    await assert.rejects(
      postTransfer(store.db, ctx, {
        fromAccountId: bob.id,
        toAccountId: alice.id,
        amountMinor: 1n,
        currency: 'GBP',
        bookedAt: new Date('2020-01-01T00:00:00Z'),
      }),
      /later booked postings/,
    );
    assert.deepEqual(await counts(store), before);
  });

  it('never books backwards on an account: a lagging clock is lifted, shared internal accounts do not constrain', async () => {
    clock.advance(HOUR);
    const later = clock.now();
    await postExternalCredit(store.db, ctx, { accountId: bob.id, amountMinor: 100n, currency: 'GBP' });
    // Another instance whose clock is a minute behind.
    const behind: LedgerContext = {
      clock: { now: () => new Date(later.getTime() - 60_000), epochMs: () => later.getTime() - 60_000 },
    };
    const lifted = await postExternalDebit(store.db, behind, {
      accountId: bob.id,
      amountMinor: 100n,
      currency: 'GBP',
    });
    assert.equal(lifted.bookedAt.getTime(), later.getTime());
    // An account with no later bookings of its own books at the lagging time, though clearing has later ones.
    const fresh = await postExternalCredit(store.db, behind, {
      accountId: aliceEur.id,
      amountMinor: 100n,
      currency: 'EUR',
    });
    assert.equal(fresh.bookedAt.getTime(), later.getTime() - 60_000);
    const [first, second] = (await listTransactions(store.db, bob.id, { page: { size: 2 } })).items;
    assert.equal(
      first?.id,
      lifted.postings.find((p) => p.accountId === bob.id)?.id,
      'the lifted debit lists first',
    );
    assert.equal(first?.balanceAfterMinor, (second?.balanceAfterMinor ?? 0n) - 100n);
    assert.deepEqual(await verifyLedger(store.db), []);
  });

  it('posts one origin at most once', async () => {
    clock.advance(HOUR);
    const input = {
      fromAccountId: bob.id,
      toAccountId: alice.id,
      amountMinor: 100n,
      currency: 'GBP',
      origin: 'payment:p-1',
    };
    const first = await postTransfer(store.db, ctx, input);
    await assert.rejects(
      postTransfer(store.db, ctx, input),
      (e: unknown) => e instanceof DuplicateOriginError && e.entryId === first.id,
    );
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => postTransfer(store.db, ctx, { ...input, origin: 'payment:p-2' })),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results)
      if (r.status === 'rejected') assert.ok(r.reason instanceof DuplicateOriginError, String(r.reason));
    await assertLedgerInvariants(store.db);
  });

  it("writes the caller's alongside writes exactly with the entry: not when refused, not for a repeated origin", async () => {
    clock.advance(HOUR);
    // A caller's write (a settings row per attempt) and a result column, in the posting's statement.
    const withMark = postingStatement('test_ledger_post_entry_with_mark', () => ({
      ctes: sql`mark as (insert into settings (key, value) select ${sql.placeholder('markKey')}::text,
        to_jsonb(new_entry.id) from new_entry)`,
      result: sql`${sql.placeholder('markKey')}::text`,
    }));
    const prefix = `alongside-${clock.now().getTime()}-`;
    let attempt = 0;
    const alongside = {
      statement: withMark,
      values: () => ({ markKey: `${prefix}${(attempt += 1)}`, id: 'not the entry id' }),
    };
    const marks = async () =>
      query<{ key: string; value: string }>(
        store.db,
        sql`select key, value #>> '{}' as value from settings where key like ${`${prefix}%`} order by key`,
      );
    const input = { fromAccountId: bob.id, toAccountId: alice.id, currency: 'GBP', alongside };
    await assert.rejects(
      postTransfer(store.db, ctx, { ...input, amountMinor: 10n ** 15n }),
      InsufficientFundsError,
    );
    assert.deepEqual(await marks(), []);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        postTransfer(store.db, ctx, { ...input, amountMinor: 5n, origin: `${prefix}racing` }),
      ),
    );
    const posted = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    assert.equal(posted.length, 1);
    for (const r of results)
      if (r.status === 'rejected') assert.ok(r.reason instanceof DuplicateOriginError, String(r.reason));
    // One mark, naming the entry written (the ledger's own `id` placeholder won over the caller's).
    const written = await marks();
    assert.equal(written.length, 1);
    assert.equal(written[0]?.value, posted[0]?.id);
    await assertLedgerInvariants(store.db);
  });

  it("posts in the caller's transaction: a refusal leaves it usable, and its writes commit with it", async () => {
    clock.advance(HOUR);
    const before = await counts(store);
    const aliceBefore = (await balanceOf(store.db, alice.id)).bookedMinor;
    await store.db.transaction(async (tx) => {
      const input = { fromAccountId: bob.id, toAccountId: alice.id, currency: 'GBP' };
      await assert.rejects(
        postTransfer(tx, ctx, { ...input, amountMinor: 10n ** 15n }),
        InsufficientFundsError,
      );
      await postTransfer(tx, ctx, { ...input, amountMinor: 7n, origin: 'payment:in-caller-tx' });
      await assert.rejects(
        postTransfer(tx, ctx, { ...input, amountMinor: 7n, origin: 'payment:in-caller-tx' }),
        DuplicateOriginError,
      );
      // Still usable: the refusals failed no statement.
      await postTransfer(tx, ctx, { ...input, amountMinor: 3n });
    });
    assert.deepEqual(await counts(store), {
      entries: before.entries + 2,
      postings: before.postings + 4,
    });
    assert.equal((await balanceOf(store.db, alice.id)).bookedMinor, aliceBefore + 10n);
    assert.deepEqual(await verifyLedger(store.db), []);
  });

  it('holds pending debits against the available balance, then books or rejects them', async () => {
    clock.advance(HOUR);
    const start = await balanceOf(store.db, bob.id);
    const auth = await postExternalDebit(store.db, ctx, {
      accountId: bob.id,
      amountMinor: 2_000n,
      currency: 'GBP',
      status: 'Pending',
      details: { merchant: { name: 'TESCO', categoryCode: '5411' } },
    });
    let now = await balanceOf(store.db, bob.id);
    assert.equal(now.bookedMinor, start.bookedMinor);
    assert.equal(now.availableMinor, start.availableMinor - 2_000n);
    const [pending] = (await listTransactions(store.db, bob.id, { status: ['Pending'] })).items;
    assert.equal(pending?.status, 'Pending');
    assert.equal(pending?.balanceAfterMinor, null);
    // The held amount cannot be spent twice.
    await assert.rejects(
      postExternalDebit(store.db, ctx, {
        accountId: bob.id,
        amountMinor: start.availableMinor - 1_999n,
        currency: 'GBP',
      }),
      InsufficientFundsError,
    );
    clock.advance(HOUR);
    await bookPendingEntry(store.db, ctx, auth.id);
    now = await balanceOf(store.db, bob.id);
    assert.equal(now.bookedMinor, start.bookedMinor - 2_000n);
    assert.equal(now.availableMinor, start.availableMinor - 2_000n);
    const [booked] = (await listTransactions(store.db, bob.id)).items;
    assert.equal(booked?.status, 'Booked');
    assert.equal(booked?.balanceAfterMinor, now.bookedMinor);
    await assert.rejects(bookPendingEntry(store.db, ctx, auth.id), /not Pending/);

    const second = await postExternalDebit(store.db, ctx, {
      accountId: bob.id,
      amountMinor: 500n,
      currency: 'GBP',
      status: 'Pending',
    });
    await rejectPendingEntry(store.db, ctx, second.id);
    assert.equal((await balanceOf(store.db, bob.id)).availableMinor, now.availableMinor);
    assert.deepEqual(await verifyLedger(store.db), []);
    await assertLedgerInvariants(store.db);
  });

  it('stores every leg as given, in leg order: details, JSON with awkward text, running balances, booking order', async () => {
    clock.advance(HOUR);
    const start = (await balanceOf(store.db, alice.id)).bookedMinor;
    const awkward = 'Quote " back\\slash, {brace} ünïcode\ttab NULL';
    const entry = await postEntry(store.db, ctx, {
      kind: 'transfer',
      origin: `round-trip-${clock.now().getTime()}`,
      legs: [
        {
          accountId: alice.id,
          amountMinor: -30n,
          currency: 'GBP',
          details: {
            transactionReference: awkward,
            transactionInformation: 'first',
            addressLine: 'NULL',
            bankTransactionCode: { code: 'PMNT', subCode: 'ICDT' },
            proprietaryBankTransactionCode: { code: 'FPS', issuer: 'obkit' },
            merchant: { name: awkward, categoryCode: '5411' },
            cardAuthorisationType: 'Contactless',
            counterparty: { schemeName: 'UK.OBIE.IBAN', identification: 'GB00', name: awkward },
            currencyExchange: {
              sourceCurrency: 'GBP',
              targetCurrency: 'EUR',
              unitCurrency: 'GBP',
              rate: '1.1650',
              instructedAmount: '0.35',
              instructedCurrency: 'EUR',
            },
            chargeMinor: 7n,
          },
        },
        { accountId: bob.id, amountMinor: 100n, currency: 'GBP' },
        {
          accountId: alice.id,
          amountMinor: -70n,
          currency: 'GBP',
          details: { transactionInformation: 'second' },
        },
      ],
    });
    const rows = await store.db
      .select()
      .from(schema.bankPostings)
      .where(eq(schema.bankPostings.entryId, entry.id))
      .orderBy(asc(schema.bankPostings.seq));
    assert.deepEqual(
      rows.map((row) => [row.id, row.accountId, row.amountMinor, row.balanceAfterMinor]),
      entry.postings.map((posting) => [
        posting.id,
        posting.accountId,
        posting.amountMinor,
        posting.balanceAfterMinor,
      ]),
    );
    const [first, credit, second] = rows;
    assert.equal(first?.balanceAfterMinor, start - 30n);
    assert.equal(second?.balanceAfterMinor, start - 100n);
    assert.ok(
      first!.bookSeq! < credit!.bookSeq! && credit!.bookSeq! < second!.bookSeq!,
      'booking order is leg order',
    );
    assert.equal(first?.status, 'Booked');
    assert.equal(first?.bookedAt.getTime(), entry.bookedAt.getTime());
    assert.equal(first?.valueAt, null);
    assert.equal(first?.transactionReference, awkward);
    assert.equal(first?.transactionInformation, 'first');
    assert.equal(first?.addressLine, 'NULL');
    assert.equal(first?.bankTransactionCode, 'PMNT');
    assert.equal(first?.bankTransactionSubCode, 'ICDT');
    assert.equal(first?.proprietaryCode, 'FPS');
    assert.equal(first?.proprietaryIssuer, 'obkit');
    assert.equal(first?.merchantName, awkward);
    assert.equal(first?.merchantCategoryCode, '5411');
    assert.equal(first?.cardAuthorisationType, 'Contactless');
    assert.deepEqual(first?.counterparty, {
      schemeName: 'UK.OBIE.IBAN',
      identification: 'GB00',
      name: awkward,
    });
    assert.equal(first?.currencyExchange?.rate, '1.1650');
    assert.equal(first?.chargeMinor, 7n);
    assert.equal(credit?.counterparty, null);
    assert.equal(credit?.transactionReference, null);
    assert.equal(credit?.chargeMinor, null);
    assert.equal(second?.transactionInformation, 'second');
    // The entry answered is the row stored (the entry, its postings and balances are one statement that
    // answers only the entry's seq: the rest is what was written).
    const { postings: _, ...answered } = entry;
    const [stored] = await store.db
      .select()
      .from(schema.bankEntries)
      .where(eq(schema.bankEntries.id, entry.id));
    assert.deepEqual(answered, stored);
    assert.equal((await balanceOf(store.db, alice.id)).bookedMinor, start - 100n);
    await assertLedgerInvariants(store.db);
  });

  it('pays out abroad through FX and fee accounts in one set balanced per currency', async () => {
    clock.advance(HOUR);
    const before = await balanceOf(store.db, alice.id);
    const internal = async (purpose: 'clearing' | 'fees', currency: string) =>
      (await balanceOf(store.db, internalAccountId(purpose, currency)).catch(() => ({ bookedMinor: 0n })))
        .bookedMinor;
    const clearingEur = await internal('clearing', 'EUR');
    const feesGbp = await internal('fees', 'GBP');
    const entry = await postExternalDebit(store.db, ctx, {
      accountId: alice.id,
      amountMinor: 10_000n,
      currency: 'GBP',
      instructed: { amountMinor: 11_650n, currency: 'EUR', rate: '1.1650' },
      feeMinor: 250n,
      counterparty: {
        schemeName: 'UK.OBIE.IBAN',
        identification: 'FR7630006000011234567890189',
        name: 'Hotel',
      },
      reference: 'HOTEL',
    });
    const byCurrency = new Map<string, bigint>();
    for (const p of entry.postings)
      byCurrency.set(p.currency, (byCurrency.get(p.currency) ?? 0n) + p.amountMinor);
    assert.deepEqual([...byCurrency.values()], [0n, 0n]);
    assert.equal((await balanceOf(store.db, alice.id)).bookedMinor, before.bookedMinor - 10_250n);
    assert.equal((await internal('clearing', 'EUR')) - clearingEur, 11_650n);
    assert.equal((await internal('fees', 'GBP')) - feesGbp, 250n);
    const [fee, payment] = (await listTransactions(store.db, alice.id, { page: { size: 2 } })).items;
    assert.equal(fee?.amountMinor, -250n);
    assert.equal(payment?.currencyExchange?.rate, '1.1650');
    assert.equal(payment?.currencyExchange?.instructedAmount, '116.50');
    await assertLedgerInvariants(store.db);
  });

  it('filters and pages transactions', async () => {
    const all = await listTransactions(store.db, alice.id, { page: { size: 1000 } });
    assert.ok(all.total >= 6);
    const credits = await listTransactions(store.db, alice.id, {
      creditDebit: 'Credit',
      page: { size: 1000 },
    });
    const debits = await listTransactions(store.db, alice.id, { creditDebit: 'Debit', page: { size: 1000 } });
    assert.ok(credits.items.every((t) => t.amountMinor > 0n && t.creditDebit === 'Credit'));
    assert.ok(debits.items.every((t) => t.amountMinor < 0n && t.creditDebit === 'Debit'));
    assert.equal(credits.total + debits.total, all.total);
    const times = all.items.map((t) => t.bookedAt.getTime());
    assert.deepEqual(
      times,
      [...times].sort((x, y) => y - x),
      'newest first',
    );
    const page2 = await listTransactions(store.db, alice.id, { page: { size: 2, number: 2 } });
    assert.equal(page2.totalPages, Math.ceil(all.total / 2));
    assert.deepEqual(
      page2.items.map((t) => t.id),
      all.items.slice(2, 4).map((t) => t.id),
    );
    const from = new Date('2026-03-01T11:00:00Z');
    const to = new Date('2026-03-01T12:00:00Z');
    const window = await listTransactions(store.db, alice.id, { from, to, page: { size: 1000 } });
    assert.ok(window.items.length > 0);
    assert.ok(window.items.every((t) => t.bookedAt >= from && t.bookedAt <= to));
    assert.equal(window.items.length, all.items.filter((t) => t.bookedAt >= from && t.bookedAt <= to).length);
    assert.equal((await listTransactions(store.db, [], {})).total, 0);
    await assert.rejects(
      listTransactions(store.db, alice.id, { from: new Date('nonsense') }),
      InvalidEntryError,
    );
    await assert.rejects(
      listTransactions(store.db, alice.id, { page: { number: Number.NaN } }),
      InvalidEntryError,
    );
    const beyond = await listTransactions(store.db, alice.id, { page: { size: 5, number: 10_000 } });
    assert.deepEqual(beyond.items, []);
    assert.equal(beyond.total, all.total);
  });

  it('confirms funds against available balance plus overdraft', async () => {
    const balance = await balanceOf(store.db, alice.id);
    const headroom = balance.availableMinor + 10_000n;
    assert.equal(await confirmFunds(store.db, alice.id, headroom, 'GBP'), true);
    assert.equal(await confirmFunds(store.db, alice.id, headroom + 1n, 'GBP'), false);
    await assert.rejects(confirmFunds(store.db, alice.id, 1n, 'EUR'), CurrencyMismatchError);
    await assert.rejects(confirmFunds(store.db, alice.id, 0n, 'GBP'), InvalidEntryError);
    await assert.rejects(confirmFunds(store.db, 'nope', 1n, 'GBP'), AccountNotFoundError);
  });

  it('finds accounts by sort code + account number and IBAN', async () => {
    assert.equal(
      (
        await findAccountByIdentification(
          store.db,
          'UK.OBIE.SortCodeAccountNumber',
          `${bob.sortCode}${bob.accountNumber}`,
        )
      )?.id,
      bob.id,
    );
    assert.equal(
      (await findAccountByIdentification(store.db, 'UK.OBIE.IBAN', (bob.iban ?? '').toLowerCase()))?.id,
      bob.id,
    );
    assert.equal(
      await findAccountByIdentification(store.db, 'UK.OBIE.SortCodeAccountNumber', '12'),
      undefined,
    );
    assert.equal(await findAccountByIdentification(store.db, 'UK.OBIE.Wallet', 'x'), undefined);
  });

  it('tells whether a row is the account an identification names, as the look-up finds it', async () => {
    // A payment's named debtor is checked on the row already read (`isIdentifiedBy`), not looked up again:
    // it must answer exactly what `findAccountByIdentification` would.
    const clearing = await getAccount(store.db, internalAccountId('clearing', 'GBP'));
    const rows = [alice, aliceEur, bob, ...(clearing ? [clearing] : [])];
    const scan = (account: AccountRecord) => `${account.sortCode}${account.accountNumber}`;
    const identifications: [string, string][] = [
      ...rows.flatMap((account): [string, string][] => [
        ['UK.OBIE.SortCodeAccountNumber', scan(account)],
        [
          'SortCodeAccountNumber',
          `${scan(account).slice(0, 2)}-${scan(account).slice(2, 4)} ${scan(account).slice(4)}`,
        ],
        ['UK.OBIE.IBAN', String(account.iban)],
        [
          'UK.OBIE.IBAN',
          ` ${String(account.iban)
            .toLowerCase()
            .replace(/(.{4})/g, '$1 ')}`,
        ],
        ['UK.OBIE.PAN', String(account.pan)],
      ]),
      ['UK.OBIE.SortCodeAccountNumber', '12'],
      ['UK.OBIE.Wallet', scan(bob)],
    ];
    // And all of them in one statement, in their order (a file's payees).
    const all = await findAccountsByIdentifications(
      store.db,
      identifications.map(([schemeName, identification]) => ({ schemeName, identification })),
    );
    assert.equal(all.length, identifications.length);
    for (const [at, [scheme, identification]] of identifications.entries())
      assert.equal(
        all[at]?.id,
        (await findAccountByIdentification(store.db, scheme, identification))?.id,
        `${scheme} ${identification} in the list`,
      );
    for (const account of rows)
      for (const [scheme, identification] of identifications) {
        const found = await findAccountByIdentification(store.db, scheme, identification);
        assert.equal(
          isIdentifiedBy(account, scheme, identification),
          found?.id === account.id,
          `${account.id} by ${scheme} ${identification}`,
        );
      }
  });

  it('never overdraws under concurrent transfers from one account', async () => {
    clock.advance(HOUR);
    const c = await createCustomer(store.db, ctx, {
      username: 'race',
      displayName: 'Race',
      kind: 'personal',
    });
    const source = await openAccount(store.db, ctx, { holders: [c.id], currency: 'GBP', name: 'Race' });
    const sink = await openAccount(store.db, ctx, { holders: [c.id], currency: 'GBP', name: 'Sink' });
    await postExternalCredit(store.db, ctx, { accountId: source.id, amountMinor: 10_000n, currency: 'GBP' });
    // 50 transfers of 7.00 race for 100.00: exactly 14 fit.
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () =>
        postTransfer(store.db, ctx, {
          fromAccountId: source.id,
          toAccountId: sink.id,
          amountMinor: 700n,
          currency: 'GBP',
        }),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    for (const r of results)
      if (r.status === 'rejected') assert.ok(r.reason instanceof InsufficientFundsError, String(r.reason));
    assert.equal(ok, 14);
    assert.equal((await balanceOf(store.db, source.id)).bookedMinor, 200n);
    assert.equal((await balanceOf(store.db, sink.id)).bookedMinor, 9_800n);
    // Opposite directions at once must not deadlock.
    await Promise.all([
      ...Array.from({ length: 10 }, () =>
        postTransfer(store.db, ctx, {
          fromAccountId: sink.id,
          toAccountId: source.id,
          amountMinor: 100n,
          currency: 'GBP',
        }),
      ),
      ...Array.from({ length: 10 }, () =>
        postTransfer(store.db, ctx, {
          fromAccountId: source.id,
          toAccountId: sink.id,
          amountMinor: 10n,
          currency: 'GBP',
        }),
      ),
    ]);
    assert.equal((await balanceOf(store.db, source.id)).bookedMinor, 200n + 1_000n - 100n);
    // With a real, moving clock, a transfer that read the time before waiting for the lock is not refused.
    const real: LedgerContext = { clock: systemClock };
    const moving = await Promise.allSettled(
      Array.from({ length: 30 }, () =>
        postTransfer(store.db, real, {
          fromAccountId: sink.id,
          toAccountId: source.id,
          amountMinor: 1n,
          currency: 'GBP',
        }),
      ),
    );
    assert.deepEqual(
      moving.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
      [],
    );
    assert.deepEqual(await verifyLedger(store.db), []);
    await assertLedgerInvariants(store.db);
  });
});
