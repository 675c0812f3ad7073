import assert from 'node:assert/strict';
import { eq, sql } from 'drizzle-orm';
import { describe, it } from 'node:test';
import type { Store } from '../../src/store/index.ts';
import { bankAccounts } from '../../src/store/schema/bank.ts';
import { authorise } from '../journey/ais-support.ts';
import { startTwoInstances, type Sandbox, type Tpp } from '../support/journey.ts';
import { call, httpsClient } from '../support/platform.ts';
import { recordSent } from '../support/statements.ts';

/**
 * Two instances on one PostgreSQL, each holding a cache lease (the default): B answers `/accounts/{id}`
 * again without any statement, and an account detail written by plain SQL through A's database handle (as a
 * DBA would: no hook of either instance runs; migration 0018's trigger announces it) is shown by B's next
 * read once the change's notification has reached B.
 */

const POSTGRES = process.env.DATABASE_URL;

/** Resolves once `store` has been notified of a change version at least `at` (listening when this returns). */
async function versionNotified(store: Store) {
  let highest = 0;
  const waiting = new Set<{ at: number; resolve: () => void }>();
  const stop = await store.listen('store_change_version', (payload) => {
    highest = Math.max(highest, Number(payload));
    for (const waiter of waiting) {
      if (highest < waiter.at) continue;
      waiting.delete(waiter);
      waiter.resolve();
    }
  });
  return {
    until: (at: number) =>
      new Promise<void>((resolve) => {
        if (highest >= at) return resolve();
        waiting.add({ at, resolve });
      }),
    stop,
  };
}

describe(
  'account answers under cache leases, across instances',
  { skip: POSTGRES ? false : 'several instances share a database only on PostgreSQL (set DATABASE_URL)' },
  async () => {
    if (!POSTGRES) return;
    const { instanceA: a, instanceB: b, storeA, storeB } = await startTwoInstances(POSTGRES);

    async function readOn(instance: Sandbox, tpp: Tpp, token: string, path: string) {
      const client = httpsClient([instance.rootPem], {
        certificatePem: tpp.bundle.transportCertificatePem,
        privateKeyPem: tpp.bundle.transportKeyPem,
      });
      const answer = await call(client, `${instance.platform.urls.mtls}/open-banking/v3.1/aisp${path}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(answer.status, 200, answer.text);
      return answer.body as { Data: { Account: { AccountId: string; Nickname?: string }[] } };
    }

    it("B answers an account again without a statement, and shows a detail written by SQL on A's database once heard", async () => {
      const tpp = await a.tpp('leased-accounts', ['AISP']);
      const consent = await authorise(a, tpp, { permissions: ['ReadAccountsDetail'] });
      const accountId = (await readOn(a, tpp, consent.accessToken, '/accounts')).Data.Account[0]!.AccountId;
      const path = `/accounts/${accountId}`;
      assert.ok(b.platform.changeVersion.upToDate(), 'B holds a cache lease');
      await readOn(b, tpp, consent.accessToken, path);
      await readOn(b, tpp, consent.accessToken, path);
      const { sent } = await recordSent(() => readOn(b, tpp, consent.accessToken, path));
      assert.deepEqual(
        sent.map(({ text }) => text),
        [],
        'B, under its lease: no statement',
      );

      const [{ nickname: was = null } = {}] = await storeA.db
        .select({ nickname: bankAccounts.nickname })
        .from(bankAccounts)
        .where(eq(bankAccounts.id, accountId));
      const nickname = `Leased ${Date.now()}`;
      const notified = await versionNotified(storeB);
      try {
        await storeA.db.execute(sql`update bank_accounts set nickname = ${nickname} where id = ${accountId}`);
        const version = await storeA.changeVersion();
        // B's lease takes each version before this test's listener of B's store hears it (listened first).
        await notified.until(version);
        assert.ok(b.platform.changeVersion.current() >= version, 'B has heard the change');
        const { result: after, sent: afterSent } = await recordSent(() =>
          readOn(b, tpp, consent.accessToken, path),
        );
        assert.equal(after.Data.Account[0]?.Nickname, nickname, 'B shows the change');
        assert.equal(
          afterSent.filter(({ text }) => text.includes('"bank_accounts"')).length,
          1,
          'B read the account again, once',
        );
        const { sent: againSent } = await recordSent(() => readOn(b, tpp, consent.accessToken, path));
        assert.deepEqual(againSent, [], 'then answered again without one');
      } finally {
        await storeA.db.execute(sql`update bank_accounts set nickname = ${was} where id = ${accountId}`);
        await notified.stop();
      }
    });
  },
);
