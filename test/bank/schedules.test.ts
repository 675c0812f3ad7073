import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/shared/clock.ts';
import {
  InvalidEntryError,
  InvalidStateError,
  balanceOf,
  cancelScheduledPayment,
  createCustomer,
  createScheduledPayment,
  createStandingOrder,
  isValidFrequency,
  listScheduledPayments,
  listStandingOrders,
  listTransactions,
  nextOccurrence,
  openAccount,
  postExternalCredit,
  runDuePayments,
  verifyLedger,
  type LedgerContext,
} from '../../src/bank/index.ts';
import { createTestStore } from '../support/store.ts';
import { assertLedgerInvariants } from './helpers.ts';

const d = (s: string) => new Date(s);
const iso = (x: Date | undefined) => x?.toISOString();

const store = await createTestStore();
const clock = new ManualClock('2026-02-01T08:00:00Z');
const ctx: LedgerContext = { clock };
const customer = await createCustomer(store.db, ctx, {
  username: 'planner',
  displayName: 'Planner',
  kind: 'personal',
});
const payer = await openAccount(store.db, ctx, { holders: [customer.id], currency: 'GBP', name: 'Planner' });
const saver = await openAccount(store.db, ctx, {
  holders: [customer.id],
  currency: 'GBP',
  name: 'Planner savings',
});
await postExternalCredit(store.db, ctx, { accountId: payer.id, amountMinor: 100_000n, currency: 'GBP' });
const toSaver = {
  schemeName: 'UK.OBIE.SortCodeAccountNumber',
  identification: `${saver.sortCode}${saver.accountNumber}`,
  name: 'Savings',
};
const outside = {
  schemeName: 'UK.OBIE.SortCodeAccountNumber',
  identification: '40000012345678',
  name: 'Landlord',
};

describe('standing-order frequencies', () => {
  it('validates OB frequency codes', () => {
    for (const ok of [
      'EvryDay',
      'EvryWorkgDay',
      'IntrvlDay:14',
      'IntrvlWkDay:01:03',
      'WkInMnthDay:02:05',
      'IntrvlMnthDay:01:-01',
      'IntrvlMnthDay:12:31',
      'QtrDay:ENGLISH',
      'NotKnown',
    ]) {
      assert.ok(isValidFrequency(ok), ok);
    }
    for (const bad of [
      'Monthly',
      'IntrvlDay:01',
      'IntrvlDay:32',
      'IntrvlWkDay:01:08',
      'IntrvlMnthDay:07:01',
      'IntrvlMnthDay:01:-06',
      'QtrDay:WELSH',
      '',
    ]) {
      assert.equal(isValidFrequency(bad), false, bad);
    }
    assert.throws(
      () => nextOccurrence('Sometimes', d('2026-01-01T09:00:00Z'), d('2026-01-01T09:00:00Z')),
      InvalidStateError,
    );
  });

  it('computes the next payment date for every kind of rule, keeping the time of day', () => {
    const anchor = d('2026-01-15T09:30:00Z'); // a Thursday
    assert.equal(iso(nextOccurrence('EvryDay', anchor, anchor)), '2026-01-16T09:30:00.000Z');
    // Friday 16th → Monday 19th.
    assert.equal(
      iso(nextOccurrence('EvryWorkgDay', anchor, d('2026-01-16T09:30:00Z'))),
      '2026-01-19T09:30:00.000Z',
    );
    assert.equal(iso(nextOccurrence('IntrvlDay:10', anchor, anchor)), '2026-01-25T09:30:00.000Z');
    // Every 2 weeks on Monday, counted from the anchor's week (week of 12 Jan): 26 Jan.
    assert.equal(iso(nextOccurrence('IntrvlWkDay:02:01', anchor, anchor)), '2026-01-26T09:30:00.000Z');
    // Second Tuesday of the month: after 15 Jan → 10 Feb.
    assert.equal(iso(nextOccurrence('WkInMnthDay:02:02', anchor, anchor)), '2026-02-10T09:30:00.000Z');
    // Last Friday of the month ("week 5"): 30 Jan.
    assert.equal(iso(nextOccurrence('WkInMnthDay:05:05', anchor, anchor)), '2026-01-30T09:30:00.000Z');
    assert.equal(iso(nextOccurrence('IntrvlMnthDay:01:15', anchor, anchor)), '2026-02-15T09:30:00.000Z');
    // Day 31 in a short month is its last day; -01 is always the last day.
    assert.equal(
      iso(nextOccurrence('IntrvlMnthDay:01:31', anchor, d('2026-01-31T12:00:00Z'))),
      '2026-02-28T09:30:00.000Z',
    );
    assert.equal(iso(nextOccurrence('IntrvlMnthDay:01:-01', anchor, anchor)), '2026-01-31T09:30:00.000Z');
    assert.equal(
      iso(nextOccurrence('IntrvlMnthDay:01:-02', anchor, d('2026-01-31T00:00:00Z'))),
      '2026-02-27T09:30:00.000Z',
    );
    assert.equal(iso(nextOccurrence('IntrvlMnthDay:03:15', anchor, anchor)), '2026-04-15T09:30:00.000Z');
    assert.equal(iso(nextOccurrence('IntrvlMnthDay:24:15', anchor, anchor)), '2028-01-15T09:30:00.000Z');
    assert.equal(iso(nextOccurrence('QtrDay:ENGLISH', anchor, anchor)), '2026-03-25T09:30:00.000Z');
    assert.equal(iso(nextOccurrence('QtrDay:SCOTTISH', anchor, anchor)), '2026-02-02T09:30:00.000Z');
    assert.equal(iso(nextOccurrence('QtrDay:RECEIVED', anchor, anchor)), '2026-04-15T09:30:00.000Z');
    assert.equal(nextOccurrence('NotKnown', anchor, anchor), undefined);
  });
});

describe('scheduled payments and standing orders on the ledger', () => {
  it('refuses bad schedules', async () => {
    await assert.rejects(
      createScheduledPayment(store.db, ctx, {
        accountId: payer.id,
        scheduledAt: d('2026-02-10T09:00:00Z'),
        amountMinor: 0n,
        currency: 'GBP',
        creditor: outside,
      }),
      InvalidEntryError,
    );
    await assert.rejects(
      createScheduledPayment(store.db, ctx, {
        accountId: payer.id,
        scheduledAt: d('2026-02-10T09:00:00Z'),
        amountMinor: 1n,
        currency: 'EUR',
        creditor: outside,
      }),
      /holds GBP/,
    );
    await assert.rejects(
      createStandingOrder(store.db, ctx, {
        accountId: payer.id,
        frequency: 'Monthly',
        currency: 'GBP',
        creditor: outside,
        firstPaymentAt: d('2026-02-10T09:00:00Z'),
        firstPaymentMinor: 1n,
      }),
      InvalidEntryError,
    );
  });

  it('executes a scheduled payment once when due, on-us or out of the bank', async () => {
    const onUs = await createScheduledPayment(store.db, ctx, {
      accountId: payer.id,
      scheduledAt: d('2026-02-05T09:00:00Z'),
      amountMinor: 5_000n,
      currency: 'GBP',
      creditor: toSaver,
      reference: 'SAVE',
    });
    const away = await createScheduledPayment(store.db, ctx, {
      accountId: payer.id,
      scheduledAt: d('2026-02-06T09:00:00Z'),
      amountMinor: 7_000n,
      currency: 'GBP',
      creditor: outside,
    });
    const cancelled = await createScheduledPayment(store.db, ctx, {
      accountId: payer.id,
      scheduledAt: d('2026-02-05T09:00:00Z'),
      amountMinor: 1_000n,
      currency: 'GBP',
      creditor: outside,
    });
    await cancelScheduledPayment(store.db, cancelled.id);
    await assert.rejects(cancelScheduledPayment(store.db, cancelled.id), InvalidStateError);
    assert.deepEqual(await runDuePayments(store.db, ctx), [], 'nothing due yet');

    clock.set('2026-02-05T10:00:00Z');
    const first = await runDuePayments(store.db, ctx);
    assert.deepEqual(
      first.map((o) => [o.id, o.status]),
      [[onUs.id, 'Executed']],
    );
    assert.equal((await balanceOf(store.db, saver.id)).bookedMinor, 5_000n);

    clock.set('2026-02-07T10:00:00Z');
    const [a, b] = await Promise.all([runDuePayments(store.db, ctx), runDuePayments(store.db, ctx)]);
    assert.equal([...(a ?? []), ...(b ?? [])].length, 1, 'two runners at once pay once');
    assert.equal((await balanceOf(store.db, payer.id)).bookedMinor, 100_000n - 12_000n);
    assert.deepEqual(await listScheduledPayments(store.db, payer.id), [], 'none pending any more');
    assert.equal((await listTransactions(store.db, payer.id)).items[0]?.counterparty?.name, 'Landlord');
    assert.equal(away.status, 'Pending');
    await assertLedgerInvariants(store.db);
  });

  it('rejects a due payment the account cannot afford, posting nothing', async () => {
    const big = await createScheduledPayment(store.db, ctx, {
      accountId: payer.id,
      scheduledAt: d('2026-02-08T09:00:00Z'),
      amountMinor: 1_000_000n,
      currency: 'GBP',
      creditor: outside,
    });
    const before = await balanceOf(store.db, payer.id);
    clock.set('2026-02-08T10:00:00Z');
    const outcomes = await runDuePayments(store.db, ctx);
    assert.deepEqual(outcomes, [
      { kind: 'scheduled-payment', id: big.id, status: 'Rejected', reason: 'insufficient-funds' },
    ]);
    assert.equal((await balanceOf(store.db, payer.id)).bookedMinor, before.bookedMinor);
    assert.deepEqual(await runDuePayments(store.db, ctx), []);
  });

  it('runs a standing order on its dates, with first, recurring and final amounts, then stops', async () => {
    const order = await createStandingOrder(store.db, ctx, {
      accountId: payer.id,
      frequency: 'IntrvlMnthDay:01:10',
      currency: 'GBP',
      creditor: outside,
      reference: 'RENT',
      firstPaymentAt: d('2026-02-10T06:00:00Z'),
      firstPaymentMinor: 3_000n,
      recurringPaymentMinor: 2_000n,
      finalPaymentMinor: 500n,
      numberOfPayments: 4,
    });
    const balance = async () => (await balanceOf(store.db, payer.id)).bookedMinor;
    const start = await balance();
    clock.set('2026-02-10T07:00:00Z');
    assert.deepEqual(
      (await runDuePayments(store.db, ctx)).map((o) => [o.paymentNumber, o.status]),
      [[1, 'Executed']],
    );
    let [row] = await listStandingOrders(store.db, payer.id);
    assert.equal(row?.nextPaymentAt?.toISOString(), '2026-03-10T06:00:00.000Z');
    assert.equal(row?.nextPaymentMinor, 2_000n);
    assert.equal(row?.lastPaymentMinor, 3_000n);
    // The job did not run for three months: it catches up payments 2, 3 and 4, then the order ends.
    clock.set('2026-06-01T00:00:00Z');
    const caught = await runDuePayments(store.db, ctx);
    assert.deepEqual(
      caught.map((o) => [o.paymentNumber, o.status]),
      [
        [2, 'Executed'],
        [3, 'Executed'],
        [4, 'Executed'],
      ],
    );
    assert.equal(await balance(), start - 3_000n - 2_000n - 2_000n - 500n);
    [row] = await listStandingOrders(store.db, payer.id);
    assert.equal(row?.id, order.id);
    assert.equal(row?.status, 'Inactive');
    assert.equal(row?.nextPaymentAt, null);
    assert.deepEqual(await runDuePayments(store.db, ctx), []);
    assert.deepEqual(await verifyLedger(store.db), []);
    await assertLedgerInvariants(store.db);
  });
});
