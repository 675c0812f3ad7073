import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { FastifyRequest } from 'fastify';
import pg from 'pg';
import {
  ChangesOutpacedRequest,
  MAX_ATTEMPTS,
  assertCheckedUnder,
  withDeferredChangeVersion,
} from '../../src/shared/deferred-change-version.ts';
import { ALL_ACCOUNT_PERMISSIONS, apiBaseOf, callApi } from '../../src/tpp/open-banking.ts';
import { startSandbox, type Sandbox, type Tpp } from '../support/journey.ts';
import { AIS_V3_1_11, validateComponent } from '../support/openapi.ts';
import { aisGet, authorise, type AuthorisedConsent } from '../journey/ais-support.ts';

/**
 * A route that reads the store's change version in its own statement checks the request again whenever
 * that version moved. Should it keep moving (announcements faster than a request can be re-checked), the
 * request ends as a transient overload: 503 with Retry-After and the OB error body, never a 500.
 */

/** A request whose deferred version starts at `start` and takes whatever it is advanced to. */
function deferredRequest(start: number) {
  const state = { checkedUnder: start, advances: 0 };
  const request = {
    deferredChangeVersion: {
      get checkedUnder() {
        return state.checkedUnder;
      },
      async advance(version: number) {
        state.checkedUnder = version;
        state.advances += 1;
      },
    },
  } as unknown as FastifyRequest;
  return { request, state };
}

describe('a request re-checked while the change version moves', () => {
  it('is answered once its statement saw the version it was checked under', async () => {
    const { request, state } = deferredRequest(1);
    const seen = [3, 4, 4];
    let rechecks = 0;
    const answer = await withDeferredChangeVersion(
      request,
      async () => {
        const version = seen.shift()!;
        assertCheckedUnder(request, version);
        return `answered under ${version}`;
      },
      async () => {
        rechecks += 1;
      },
    );
    assert.equal(answer, 'answered under 4');
    assert.equal(rechecks, 2);
    assert.equal(state.advances, 2);
  });

  it(`ends as ChangesOutpacedRequest after ${MAX_ATTEMPTS} attempts that each saw a newer version`, async () => {
    const { request } = deferredRequest(1);
    let version = 1;
    let rechecks = 0;
    await assert.rejects(
      async () =>
        withDeferredChangeVersion(
          request,
          async () => assertCheckedUnder(request, ++version),
          async () => {
            rechecks += 1;
          },
        ),
      ChangesOutpacedRequest,
    );
    assert.equal(rechecks, MAX_ATTEMPTS - 1);
  });

  it('answers an attempt answered at once at once, and checks one that threw at once again', async () => {
    const { request, state } = deferredRequest(2);
    let rechecks = 0;
    const checkAgain = () => {
      rechecks += 1;
    };
    // Checked under its statement's version: the very value, no promise.
    const now = withDeferredChangeVersion(
      request,
      () => (assertCheckedUnder(request, 2), 'at once'),
      checkAgain,
    );
    assert.equal(now, 'at once');
    // A newer version thrown at once: checked again under it, then attempted again.
    const seen = [3, 3];
    const later = withDeferredChangeVersion(
      request,
      () => {
        const version = seen.shift()!;
        assertCheckedUnder(request, version);
        return `answered under ${version}`;
      },
      checkAgain,
    );
    assert.equal(await later, 'answered under 3');
    assert.deepEqual([rechecks, state.advances, state.checkedUnder], [1, 1, 3]);
    // Any other failure is thrown as it is, in the same tick.
    const refused = new Error('refused');
    assert.throws(
      () =>
        withDeferredChangeVersion(
          request,
          () => {
            throw refused;
          },
          checkAgain,
        ),
      refused,
    );
    assert.equal(rechecks, 1);
  });
});

describe(
  'an account read whose change version moves on every attempt (PostgreSQL)',
  { skip: process.env.DATABASE_URL ? false : 'the change version is read per request only on PostgreSQL' },
  async () => {
    // Without a cache lease (off, or lapsed): the request is checked under the version its statement saw.
    const sandbox: Sandbox = await startSandbox({ env: { OBKIT_CACHE_LEASE_MS: '0' } });
    let tpp: Tpp;
    let consent: AuthorisedConsent;
    let accountId: string;

    /**
     * Until `stop()`, each statement that reads accounts with the change version folded in is preceded by a
     * change announced through the store (as another instance's revocation would be): the statement always
     * sees a version newer than the one the request was checked under. `limit` attempts at most.
     */
    function advanceBeforeEachAccountRead(limit = Infinity) {
      type Query = (this: unknown, ...args: unknown[]) => unknown;
      const prototype = pg.Client.prototype as unknown as { query: Query };
      const query = prototype.query;
      let advanced = 0;
      prototype.query = function (this: unknown, ...args: unknown[]) {
        const first = args[0];
        const text = typeof first === 'string' ? first : String((first as { text?: unknown })?.text ?? '');
        if (advanced >= limit || !text.includes('store_change_version') || !text.includes('bank_accounts')) {
          return query.apply(this, args);
        }
        advanced += 1;
        const run = sandbox.platform.store
          .notify('obkit_test_change', String(advanced))
          .then(() => query.apply(this, args));
        // pg-pool calls with a callback (the last argument); drizzle's own calls take the promise.
        if (typeof args[args.length - 1] === 'function') {
          run.catch((error: unknown) => (args[args.length - 1] as (error: unknown) => void)(error));
          return undefined;
        }
        return run;
      };
      return {
        stop: () => {
          prototype.query = query;
        },
        advanced: () => advanced,
      };
    }

    before(async () => {
      tpp = await sandbox.tpp('outpaced-reader', ['AISP']);
      consent = await authorise(sandbox, tpp, { permissions: ALL_ACCOUNT_PERMISSIONS });
      const accounts = await aisGet(tpp, consent.accessToken, '/accounts');
      assert.equal(accounts.status, 200, accounts.text);
      accountId = (accounts.json as { Data: { Account: { AccountId: string }[] } }).Data.Account[0]!
        .AccountId;
    });

    it('is checked again and answered when the version moved twice', async () => {
      const advancing = advanceBeforeEachAccountRead(2);
      try {
        const answer = await aisGet(tpp, consent.accessToken, `/accounts/${accountId}`);
        assert.equal(answer.status, 200, answer.text);
        assert.equal(advancing.advanced(), 2);
      } finally {
        advancing.stop();
      }
    });

    it('is answered 503 with Retry-After and the OB error body when it never settles', async () => {
      const advancing = advanceBeforeEachAccountRead();
      let answer;
      try {
        answer = await callApi(
          tpp.bank,
          consent.accessToken,
          `${apiBaseOf(tpp.bank)}/aisp/accounts/${accountId}`,
        );
      } finally {
        advancing.stop();
      }
      assert.equal(answer.status, 503, answer.text);
      assert.ok(advancing.advanced() >= MAX_ATTEMPTS, `advanced ${advancing.advanced()} times`);
      assert.match(String(answer.headers['retry-after']), /^\d+$/);
      const body = validateComponent(AIS_V3_1_11, 'OBErrorResponse1', answer.json);
      assert.ok(body.valid, body.errors.join('\n'));
      assert.equal(
        (answer.json as { Errors: { ErrorCode: string }[] }).Errors[0]!.ErrorCode,
        'UK.OBIE.UnexpectedError',
      );
      // Once the changes stop, the same read is answered.
      const again = await aisGet(tpp, consent.accessToken, `/accounts/${accountId}`);
      assert.equal(again.status, 200, again.text);
    });
  },
);
