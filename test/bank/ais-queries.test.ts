import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { ManualClock } from '../../src/shared/clock.ts';
import { schema, type Store } from '../../src/store/index.ts';
import {
  accountsWithVersionsReader,
  createCustomer,
  getAccount,
  internalAccountId,
  openAccount,
  postExternalCredit,
  type LedgerContext,
} from '../../src/bank/index.ts';
import { createTestStore } from '../support/store.ts';
import { recordStatements } from '../support/statements.ts';

const { bankAccounts } = schema;

/**
 * The accounts' one statement (`accountsWithVersionsReader`): the versions of every account asked for, and
 * the rows only when the reader does not hold them under their current version.
 */
describe('accounts with their row versions', async () => {
  const store: Store = await createTestStore();
  const ctx: LedgerContext = { clock: new ManualClock('2026-03-01T09:00:00Z') };
  const customer = await createCustomer(store.db, ctx, {
    username: 'versions',
    displayName: 'Versions',
    kind: 'personal',
  });
  const first = await openAccount(store.db, ctx, { holders: [customer.id], currency: 'GBP', name: 'One' });
  const second = await openAccount(store.db, ctx, { holders: [customer.id], currency: 'GBP', name: 'Two' });
  await postExternalCredit(store.db, ctx, {
    accountId: first.id,
    amountMinor: 100n,
    currency: 'GBP',
    reference: 'opening',
  });
  const clearing = internalAccountId('clearing', 'GBP');

  it('sends a row only when its version is not the one held, in one statement either way', async () => {
    const read = accountsWithVersionsReader(store.db);
    const ids = [first.id, second.id, clearing, 'no-such-account'];
    const { result: before, statements } = await recordStatements(() => read(ids));
    assert.equal(statements.length, 1);
    assert.equal(typeof before.changeVersion, 'number');
    assert.equal(before.value.get(first.id)?.record?.name, 'One');
    assert.equal(before.value.get(second.id)?.record?.name, 'Two');
    assert.ok(before.value.get(clearing)?.version, 'an internal account has a version …');
    assert.equal(before.value.get(clearing)?.record, undefined, '… and no record');
    assert.equal(before.value.has('no-such-account'), false);

    // Unchanged: the rows held are the answer (the very objects: not sent again).
    const again = await read(ids);
    assert.equal(again.value.get(first.id)?.record, before.value.get(first.id)?.record);
    assert.equal(again.value.get(second.id)?.record, before.value.get(second.id)?.record);

    // One row written (as another instance would): that one is sent, with its new version; the other held.
    await store.db.update(bankAccounts).set({ nickname: 'Renamed' }).where(eq(bankAccounts.id, second.id));
    const { result: after, statements: afterStatements } = await recordStatements(() => read(ids));
    assert.equal(afterStatements.length, 1, 'the changed row comes in the versions statement');
    assert.notEqual(after.value.get(second.id)?.version, before.value.get(second.id)?.version);
    assert.equal(after.value.get(second.id)?.record?.nickname, 'Renamed');
    assert.equal(after.value.get(first.id)?.record, before.value.get(first.id)?.record);
    assert.equal(after.value.get(first.id)?.version, before.value.get(first.id)?.version);

    // A posting moves the account's version (the ledger version of the transactions cache).
    await postExternalCredit(store.db, ctx, {
      accountId: first.id,
      amountMinor: 5n,
      currency: 'GBP',
      reference: 'again',
    });
    const posted = await read([first.id]);
    assert.notEqual(posted.value.get(first.id)?.version, before.value.get(first.id)?.version);
    assert.equal(posted.value.get(first.id)?.record?.bookedMinor, 105n);
  });

  it('gives a changed row exactly as a select of the account gives it', async () => {
    // Every kind of column the row has: text with what JSON and array literals quote, nulls, a date, the
    // timestamps (the last booking's too), the bigint balances.
    await store.db
      .update(bankAccounts)
      .set({
        nickname: 'She said "hi", {ok} \\ back\nslash ✓',
        description: null,
        maturityDate: '2031-02-28',
      })
      .where(eq(bankAccounts.id, first.id));
    const read = accountsWithVersionsReader(store.db);
    const record = (await read([first.id])).value.get(first.id)?.record;
    const selected = await getAccount(store.db, first.id);
    assert.ok(selected?.lastBookedAt instanceof Date, 'the account has a booking');
    assert.deepEqual(record, selected);
  });

  it('answers in full whatever another reader holds, and with no accounts at all', async () => {
    const warm = accountsWithVersionsReader(store.db);
    await warm([first.id]);
    const cold = accountsWithVersionsReader(store.db);
    assert.equal((await cold([first.id])).value.get(first.id)?.record?.id, first.id);
    const none = await cold([]);
    assert.equal(typeof none.changeVersion, 'number');
    assert.equal(none.value.size, 0);
  });
  it('announces a change to what an account answer shows in its own transaction, by plain SQL too; not a posting', async () => {
    // What is heard on the store's notifications, in commit order; a notification of this test's own ends it.
    const heard: string[] = [];
    let endHeard = (): void => undefined;
    const ended = new Promise<void>((resolve) => (endHeard = resolve));
    const stops = [
      await store.listen('bank_accounts_changed', () => heard.push('bank_accounts_changed')),
      await store.listen('test_accounts_end', () => {
        heard.push('end');
        endHeard();
      }),
    ];
    try {
      const before = await store.changeVersion();
      // A posting (ledger_post_entry: the postings and the cached balances in one statement) and a column no
      // account answer shows: nothing announced.
      await postExternalCredit(store.db, ctx, {
        accountId: first.id,
        amountMinor: 7n,
        currency: 'GBP',
        reference: 'not announced',
      });
      await store.db.execute(
        sql`update bank_accounts set credit_limit_minor = credit_limit_minor + 1 where id = ${first.id}`,
      );
      assert.equal(await store.changeVersion(), before, 'balances and credit limit: not announced');
      // A column the answers show, by plain SQL (as a DBA would): the version advanced in the same statement.
      await store.db.execute(sql`update bank_accounts set nickname = 'By SQL' where id = ${first.id}`);
      assert.equal(await store.changeVersion(), before + 1, 'the nickname: announced');
      await store.notify('test_accounts_end', '');
      await ended;
      assert.deepEqual(heard, ['bank_accounts_changed', 'end']);
    } finally {
      for (const stop of stops) await stop();
    }
  });
});
