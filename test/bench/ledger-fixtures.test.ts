import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createCustomer,
  listTransactions,
  openAccount,
  postExternalCredit,
  verifyLedger,
} from '../../src/bank/index.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { addTransactions } from '../../bench/support/ledger.ts';
import { assertLedgerInvariants } from '../bank/helpers.ts';
import { createTestStore } from '../support/store.ts';

describe('bench ledger fixtures (bulk)', () => {
  it('book transactions as the ledger would: balanced, running balances, cached balance, details; the ledger posts on top', async () => {
    const store = await createTestStore();
    const ctx = { clock: new ManualClock(new Date()) };
    const customer = await createCustomer(store.db, ctx, {
      username: 'grow',
      displayName: 'Grow',
      kind: 'personal',
    });
    const account = await openAccount(store.db, ctx, {
      holders: [customer.id],
      currency: 'GBP',
      name: 'Grow',
    });
    await postExternalCredit(store.db, ctx, {
      accountId: account.id,
      amountMinor: 500n,
      currency: 'GBP',
      reference: 'BEFORE',
    });
    await addTransactions(store, account.id, 30, { amountMinor: 7n });
    await addTransactions(store, account.id, 5);
    // After the bulk postings, whose booking times are the database's now() when they were made: a second
    // past the real time now, not past when the clock was made (the statements above may take longer than that
    // on a loaded machine, and then the ledger books at the last booking read back at millisecond precision,
    // before the bulk's microsecond-spaced ones).
    ctx.clock.set(new Date(Date.now() + 1000));
    await postExternalCredit(store.db, ctx, {
      accountId: account.id,
      amountMinor: 1n,
      currency: 'GBP',
      reference: 'AFTER',
    });
    assert.deepEqual(await verifyLedger(store.db), []);
    await assertLedgerInvariants(store.db);
    const page = await listTransactions(store.db, account.id, { page: { number: 1, size: 100 } });
    assert.equal(page.total, 37);
    const booked = page.items.map((t) => t.amountMinor);
    assert.equal(
      booked.reduce((sum, amount) => sum + amount, 0n),
      500n + 30n * 7n + 5n * 100n + 1n,
    );
    const bench = page.items.find((t) => t.transactionReference === 'BENCH 3');
    assert.ok(bench, 'a bulk transaction carries its reference');
    assert.equal(bench.bankTransactionCode?.code, 'ReceivedCreditTransfers');
    assert.equal(bench.counterparty?.name, 'Bench Payer Ltd');
  });
});
