import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { Store } from '../../src/store/index.ts';
import { authorise } from '../journey/ais-support.ts';
import { hearingThrough, startDeployment, startSandbox, type Sandbox, type Tpp } from '../support/journey.ts';
import { call, httpsClient } from '../support/platform.ts';
import { recordSent } from '../support/statements.ts';

/**
 * Two instances on one PostgreSQL, each holding a cache lease: B answers what it has cached without
 * reading the store's change version, yet a token revoked on A is refused by B's very next request —
 * because A's revocation returns only once B has heard it (or B's lease has ended).
 */

const POSTGRES = process.env.DATABASE_URL;

/** Short leases: a writer waits at most this long for an instance that does not hear. */
const LEASES = { OBKIT_CACHE_LEASE_MS: '1500' };

/** A store whose notifications (all of them) the test holds back, then delivers: an instance hearing late. */
function late(store: Store) {
  let holding = false;
  const held: (() => void)[] = [];
  return {
    store: hearingThrough(store, (channel, handler) =>
      store.listen(channel, (payload) => (holding ? held.push(() => handler(payload)) : handler(payload))),
    ),
    hold() {
      holding = true;
    },
    deliver() {
      holding = false;
      for (const notification of held.splice(0)) notification();
    },
  };
}

describe(
  'cache leases across instances',
  { skip: POSTGRES ? false : 'several instances share a database only on PostgreSQL (set DATABASE_URL)' },
  async () => {
    if (!POSTGRES) return;
    const deployment = await startDeployment(POSTGRES, { env: LEASES });
    const a = deployment.instanceA;
    const storeB = late(await deployment.openInstanceStore());
    const b = await startSandbox({
      instanceOf: { dataDir: deployment.dataDir, store: storeB.store },
      env: LEASES,
    });

    async function readOn(instance: Sandbox, tpp: Tpp, token: string, path: string) {
      return call(
        httpsClient([instance.rootPem], {
          certificatePem: tpp.bundle.transportCertificatePem,
          privateKeyPem: tpp.bundle.transportKeyPem,
        }),
        `${instance.platform.urls.mtls}/open-banking/v3.1/aisp${path}`,
        { headers: { authorization: `Bearer ${token}` } },
      );
    }

    /** An account's balances: a route that reads the change version up front when not under a lease. */
    async function balancesOn(instance: Sandbox, tpp: Tpp, token: string, accountId: string) {
      return readOn(instance, tpp, token, `/accounts/${accountId}/balances`);
    }

    /** A consent authorised on A, its first account, and B having served it (so B caches its token and consent). */
    async function warmOnB(name: string) {
      const tpp = await a.tpp(name, ['AISP']);
      const consent = await authorise(a, tpp, { permissions: ['ReadAccountsDetail', 'ReadBalances'] });
      const listed = await readOn(a, tpp, consent.accessToken, '/accounts');
      assert.equal(listed.status, 200, listed.text);
      const accountId = (listed.body as { Data: { Account: { AccountId: string }[] } }).Data.Account[0]!
        .AccountId;
      for (let read = 0; read < 2; read += 1) {
        const answer = await balancesOn(b, tpp, consent.accessToken, accountId);
        assert.equal(answer.status, 200, answer.text);
      }
      return { tpp, consent, accountId };
    }

    it('B answers warm requests without reading the change version, and refuses a token revoked on A on its next request', async () => {
      const { tpp, consent, accountId } = await warmOnB('lease-warm');
      const { result: warm, sent } = await recordSent(() =>
        balancesOn(b, tpp, consent.accessToken, accountId),
      );
      assert.equal(warm.status, 200, warm.text);
      const versionReads = sent.filter((statement) => statement.text.includes('store_change_version'));
      assert.deepEqual(versionReads, [], 'a warm request under a lease reads no change version');

      await oidc.tokenRevocation(tpp.bank.config, consent.accessToken, { token_type_hint: 'access_token' });
      const refused = await balancesOn(b, tpp, consent.accessToken, accountId);
      assert.equal(refused.status, 401, refused.text);
    });

    it('a revocation on A returns only once B, which has not heard it, no longer trusts what it cached', async () => {
      const { tpp, consent, accountId } = await warmOnB('lease-late');
      storeB.hold();
      try {
        // A waits for B's acknowledgement, which does not come: until B's lease lapses (B does not renew it
        // while behind) and B joins again, reading the store's version.
        await oidc.tokenRevocation(tpp.bank.config, consent.accessToken, { token_type_hint: 'access_token' });
        const refused = await balancesOn(b, tpp, consent.accessToken, accountId);
        assert.equal(refused.status, 401, refused.text);
      } finally {
        storeB.deliver();
      }
    });
  },
);
