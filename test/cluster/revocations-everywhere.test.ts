import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { Store } from '../../src/store/index.ts';
import { apiBaseOf, callApi } from '../../src/tpp/open-banking.ts';
import { approveConsent, authorise, type AuthorisedConsent } from '../journey/ais-support.ts';
import { dashboardSession, withdrawInDashboard } from '../journey/events-support.ts';
import { hearingThrough, startDeployment, startSandbox, type Sandbox, type Tpp } from '../support/journey.ts';
import { AIS_V3_1_11, validateComponent } from '../support/openapi.ts';
import { call, httpsClient } from '../support/platform.ts';

/**
 * Three instances on one PostgreSQL: after a revoking call returns on instance A — a consent deleted, its
 * access withdrawn by the customer at the bank, an access token revoked (RFC 7009), a transport certificate revoked at the directory, an organisation
 * suspended, an account the customer no longer shares — instances B and C refuse on their very next request what they had just served from their
 * caches. B and C are deaf (their stores hear no NOTIFY at all), so nothing but the store's change
 * version, read at the start of each request, can make them refuse: no sleep, no waiting for a message.
 */

const POSTGRES = process.env.DATABASE_URL;

/** A store whose LISTEN hears nothing: an instance whose notifications are late by any amount. */
function deaf(store: Store): Store {
  return hearingThrough(store, async () => async () => undefined);
}

function transportIdentity(tpp: Tpp) {
  return { certificatePem: tpp.bundle.transportCertificatePem, privateKeyPem: tpp.bundle.transportKeyPem };
}

describe(
  'revocations are honoured on every instance on the next request',
  { skip: POSTGRES ? false : 'several instances share a database only on PostgreSQL (set DATABASE_URL)' },
  async () => {
    if (!POSTGRES) return;
    const deployment = await startDeployment(POSTGRES);
    const a = deployment.instanceA;
    const others: Sandbox[] = [];
    for (let index = 0; index < 2; index += 1) {
      const store = deaf(await deployment.openInstanceStore());
      others.push(await startSandbox({ instanceOf: { dataDir: deployment.dataDir, store } }));
    }

    /** An AIS resource (`path` under `/aisp`) read on `instance` with the TPP's certificate and `token`. */
    async function readOn(instance: Sandbox, tpp: Tpp, token: string, path: string) {
      return call(
        httpsClient([instance.rootPem], transportIdentity(tpp)),
        `${instance.platform.urls.mtls}/open-banking/v3.1/aisp${path}`,
        { headers: { authorization: `Bearer ${token}` } },
      );
    }

    /** The accounts read on `instance` with the TPP's certificate and `token`. */
    async function readAccounts(instance: Sandbox, tpp: Tpp, token: string) {
      return readOn(instance, tpp, token, '/accounts');
    }

    /** Every other instance serves the consent (so each holds the token, consent and statuses in its caches). */
    async function servedEverywhere(tpp: Tpp, consent: AuthorisedConsent): Promise<void> {
      for (const instance of others) {
        for (let read = 0; read < 2; read += 1) {
          const answer = await readAccounts(instance, tpp, consent.accessToken);
          assert.equal(answer.status, 200, answer.text);
        }
      }
    }

    async function refusedEverywhere(tpp: Tpp, consent: AuthorisedConsent, status: number, message: RegExp) {
      for (const instance of others) {
        const answer = await readAccounts(instance, tpp, consent.accessToken);
        assert.equal(answer.status, status, answer.text);
        const valid = validateComponent(AIS_V3_1_11, 'OBErrorResponse1', answer.body);
        assert.ok(valid.valid, valid.errors.join('\n'));
        const errors = (answer.body as { Errors: { Message: string }[] }).Errors;
        assert.match(errors[0]?.Message ?? '', message);
      }
    }

    it('a consent deleted on A (204) is refused by B and C', async () => {
      const tpp = await a.tpp('cluster-consent-deleted', ['AISP']);
      const consent = await authorise(a, tpp, { permissions: ['ReadAccountsBasic'] });
      await servedEverywhere(tpp, consent);
      const removal = await callApi(
        tpp.bank,
        consent.clientToken,
        `${apiBaseOf(tpp.bank)}/aisp/account-access-consents/${consent.consentId}`,
        { method: 'DELETE' },
      );
      assert.equal(removal.status, 204, removal.text);
      await refusedEverywhere(tpp, consent, 401, /./);
    });

    it('access the customer withdraws on A is refused by B and C; after re-authentication on A the new token works on every instance', async () => {
      const tpp = await a.tpp('cluster-access-withdrawn', ['AISP']);
      // bob: alice's dashboard is another test's, and a TOTP code is taken once.
      const consent = await authorise(a, tpp, { permissions: ['ReadAccountsBasic'], username: 'bob' });
      await servedEverywhere(tpp, consent);
      await withdrawInDashboard(a, 'bob', [consent.consentId]);
      await refusedEverywhere(tpp, consent, 401, /./);

      // The same ConsentId, re-authenticated on A: the new token is served by every instance, the old stays dead.
      const again = {
        ...consent,
        accessToken: await approveConsent(a, tpp, consent.consentId, { username: 'bob' }),
      };
      for (const instance of [a, ...others]) {
        const answer = await readAccounts(instance, tpp, again.accessToken);
        assert.equal(answer.status, 200, answer.text);
      }
      await refusedEverywhere(tpp, consent, 401, /./);
    });

    it('an access token revoked on A (RFC 7009) is refused by B and C', async () => {
      const tpp = await a.tpp('cluster-token-revoked', ['AISP']);
      const consent = await authorise(a, tpp, { permissions: ['ReadAccountsBasic'] });
      await servedEverywhere(tpp, consent);
      await oidc.tokenRevocation(tpp.bank.config, consent.accessToken, { token_type_hint: 'access_token' });
      await refusedEverywhere(tpp, consent, 401, /./);
    });

    it('a transport certificate revoked at the directory on A is refused by B and C', async () => {
      const tpp = await a.tpp('cluster-certificate-revoked', ['AISP']);
      const consent = await authorise(a, tpp, { permissions: ['ReadAccountsBasic'] });
      await servedEverywhere(tpp, consent);
      const software = tpp.bundle.summary.software.id;
      const kid = tpp.bundle.summary.certificates.transport.kid;
      const revoked = await call(
        httpsClient([a.rootPem], transportIdentity(tpp)),
        `${a.platform.urls.mtls}/directory/v1/software/${software}/certificates/${kid}?reason=keyCompromise`,
        { method: 'DELETE' },
      );
      assert.equal(revoked.status, 200, revoked.text);
      await refusedEverywhere(tpp, consent, 401, /revoked/);
    });

    it('an organisation suspended at the directory on A is refused by B and C', async () => {
      const tpp = await a.tpp('cluster-suspended', ['AISP']);
      const consent = await authorise(a, tpp, { permissions: ['ReadAccountsBasic'] });
      await servedEverywhere(tpp, consent);
      const operatorKey = readFileSync(join(deployment.dataDir, 'directory', 'operator.key'), 'utf8').trim();
      const suspended = await call(
        httpsClient([a.rootPem]),
        `${a.platform.urls.browser}/directory/v1/operator/organisations/${tpp.bundle.summary.organisation.id}/status`,
        {
          method: 'PUT',
          headers: { authorization: `Bearer ${operatorKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ status: 'Suspended' }),
        },
      );
      assert.equal(suspended.status, 200, suspended.text);
      await refusedEverywhere(tpp, consent, 403, /is Suspended at the directory/);
    });
    it('an account the customer stops sharing on A is refused by B and C (400 Resource.NotFound); the others still answer', async () => {
      const tpp = await a.tpp('cluster-stop-sharing', ['AISP']);
      const consent = await authorise(a, tpp, { permissions: ['ReadAccountsDetail', 'ReadBalances'] });
      const listed = await readAccounts(a, tpp, consent.accessToken);
      assert.equal(listed.status, 200, listed.text);
      const ids = (listed.body as { Data: { Account: { AccountId: string }[] } }).Data.Account.map(
        (account) => account.AccountId,
      );
      assert.ok(ids.length >= 2, 'alice shares several accounts');
      // B and C serve every account of the consent: each holds the consent (and its accounts) in its caches.
      for (const instance of others) {
        for (const id of ids) {
          const balances = await readOn(instance, tpp, consent.accessToken, `/accounts/${id}/balances`);
          assert.equal(balances.status, 200, balances.text);
        }
      }

      const go = await dashboardSession(a, 'alice');
      assert.equal((await go(`/dashboard/consents/${consent.consentId}`)).status, 200);
      const stopped = await go(`/dashboard/consents/${consent.consentId}/stop-sharing`, { account: ids[0]! });
      assert.equal(stopped.status, 303, stopped.body);

      for (const instance of others) {
        const dropped = await readOn(instance, tpp, consent.accessToken, `/accounts/${ids[0]}/balances`);
        assert.equal(dropped.status, 400, dropped.text);
        const valid = validateComponent(AIS_V3_1_11, 'OBErrorResponse1', dropped.body);
        assert.ok(valid.valid, valid.errors.join('\n'));
        const errors = (dropped.body as { Errors: { ErrorCode: string }[] }).Errors;
        assert.equal(errors[0]?.ErrorCode, 'UK.OBIE.Resource.NotFound');
        // The same token still reads every account the customer kept.
        for (const id of ids.slice(1)) {
          const kept = await readOn(instance, tpp, consent.accessToken, `/accounts/${id}/balances`);
          assert.equal(kept.status, 200, kept.text);
        }
        const remaining = await readAccounts(instance, tpp, consent.accessToken);
        assert.equal(remaining.status, 200, remaining.text);
        assert.deepEqual(
          (remaining.body as { Data: { Account: { AccountId: string }[] } }).Data.Account.map(
            (account) => account.AccountId,
          ),
          ids.slice(1),
        );
      }
    });
  },
);
