import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import als from 'oidc-provider/lib/helpers/als.js';
import { createAssertionReplays } from '../../src/auth/assertion-replays.ts';
import {
  StoreAdapter,
  createAdapterFactory,
  revokeIntentTokens,
  sweepExpiredAuthModels,
} from '../../src/auth/adapter.ts';
import { ManualClock, systemClock } from '../../src/shared/clock.ts';
import { schema, type Store } from '../../src/store/index.ts';
import { recordStatements } from '../support/statements.ts';
import { createTestStore } from '../support/store.ts';
import { sql } from 'drizzle-orm';

describe('auth persistence adapter', () => {
  it('upserts, finds, and destroys a model instance', async () => {
    const store = await createTestStore();
    const adapter = new StoreAdapter('AccessToken', store.db);
    await adapter.upsert('at1', { jti: 'at1', kind: 'AccessToken', grantId: 'g1', scope: 'openid' }, 60);
    assert.deepEqual(await adapter.find('at1'), {
      jti: 'at1',
      kind: 'AccessToken',
      grantId: 'g1',
      scope: 'openid',
    });
    // The same id under another model is another object.
    assert.equal(await new StoreAdapter('RefreshToken', store.db).find('at1'), undefined);
    await adapter.upsert(
      'at1',
      { jti: 'at1', kind: 'AccessToken', grantId: 'g1', scope: 'openid accounts' },
      60,
    );
    assert.equal((await adapter.find('at1'))?.scope, 'openid accounts');
    await adapter.destroy('at1');
    assert.equal(await adapter.find('at1'), undefined);
  });

  it("a NUL in a key names nothing, and a payload holding one is the client's invalid_request", async () => {
    const store = await createTestStore();
    const clients = new StoreAdapter('Client', store.db);
    await clients.upsert('client-1', { client_id: 'client-1' });
    assert.equal(await clients.find('client-1\u0000'), undefined);
    assert.equal(await new StoreAdapter('Session', store.db).findByUid('u\u0000'), undefined);
    assert.equal(await new StoreAdapter('DeviceCode', store.db).findByUserCode('\u0000'), undefined);
    await clients.destroy('client-1\u0000');
    assert.equal((await clients.find('client-1'))?.client_id, 'client-1');
    const pushed = new StoreAdapter('PushedAuthorizationRequest', store.db);
    await assert.rejects(
      pushed.upsert('par-1', { request: 'a', params: { state: 'x\u0000' } }, 60),
      errors.InvalidRequest,
    );
    await assert.rejects(pushed.upsert('par\u0000', { request: 'a' }, 60), errors.InvalidRequest);
    await assert.rejects(pushed.upsert('par-2', { ['k\u0000']: 1 }, 60), errors.InvalidRequest);
    await assert.rejects(pushed.consume('par\u0000'), errors.InvalidRequest);
    assert.equal(await pushed.find('par-1'), undefined);
  });

  it('finds sessions by uid and device codes by user code', async () => {
    const store = await createTestStore();
    const sessions = new StoreAdapter('Session', store.db);
    await sessions.upsert('s1', { jti: 's1', uid: 'uid-1', accountId: 'psu' }, 600);
    assert.equal((await sessions.findByUid('uid-1'))?.accountId, 'psu');
    assert.equal(await sessions.findByUid('uid-2'), undefined);
    const devices = new StoreAdapter('DeviceCode', store.db);
    await devices.upsert('d1', { jti: 'd1', userCode: 'ABCD-EFGH' }, 600);
    assert.equal((await devices.findByUserCode('ABCD-EFGH'))?.jti, 'd1');
    assert.equal(await sessions.findByUserCode('ABCD-EFGH'), undefined);
  });

  it('ignores expired rows on find and sweeps them', async () => {
    const store = await createTestStore();
    const clock = new ManualClock('2026-03-01T10:00:00Z');
    const adapter = new StoreAdapter('AuthorizationCode', store.db, clock);
    await adapter.upsert('short', { jti: 'short' }, 60);
    await adapter.upsert('long', { jti: 'long' }, 3600);
    await new StoreAdapter('Client', store.db, clock).upsert('client-1', { client_id: 'client-1' });
    clock.advance(59_000);
    assert.ok(await adapter.find('short'));
    clock.advance(2_000);
    assert.equal(await adapter.find('short'), undefined);
    assert.ok(await adapter.find('long'));
    await assert.rejects(adapter.consume('short'), errors.InvalidGrant);
    assert.equal(await sweepExpiredAuthModels(store.db, clock), 1);
    assert.equal(await sweepExpiredAuthModels(store.db, clock), 0);
    clock.advance(10 * 3600_000);
    assert.equal(await sweepExpiredAuthModels(store.db, clock), 1);
    // Clients have no expiry: never swept.
    assert.ok(await new StoreAdapter('Client', store.db, clock).find('client-1'));
  });

  it('finds a bearer token under its own model only, never expired, both models in one statement', async () => {
    const store = await createTestStore();
    const clock = new ManualClock('2026-03-01T10:00:00Z');
    const factory = createAdapterFactory(store, clock);
    const access = factory('AccessToken');
    const credentials = factory('ClientCredentials');
    await access.upsert('bearer-at', { jti: 'bearer-at', kind: 'AccessToken' }, 60);
    await credentials.upsert('bearer-cc', { jti: 'bearer-cc', kind: 'ClientCredentials' }, 600);
    const both = (id: string) => Promise.all([access.find(id), credentials.find(id)]);
    const { result, statements } = await recordStatements(() => both('bearer-cc'));
    assert.deepEqual(result, [undefined, { jti: 'bearer-cc', kind: 'ClientCredentials' }]);
    assert.equal(statements.length, 1, 'one statement answers both finds');
    assert.deepEqual(await both('bearer-at'), [{ jti: 'bearer-at', kind: 'AccessToken' }, undefined]);
    assert.deepEqual(await both('unknown'), [undefined, undefined]);
    assert.deepEqual(await both('bearer\u0000'), [undefined, undefined]);
    clock.advance(61_000);
    assert.deepEqual(await both('bearer-at'), [undefined, undefined], 'expired');
    assert.ok(await credentials.find('bearer-cc'));
    await credentials.destroy('bearer-cc');
    assert.equal(await credentials.find('bearer-cc'), undefined, 'destroyed (revoked)');
  });

  it('marks a consumed code so that find reports it consumed', async () => {
    const store = await createTestStore();
    const adapter = new StoreAdapter('AuthorizationCode', store.db);
    await adapter.upsert('code1', { jti: 'code1', grantId: 'g1' }, 60);
    assert.equal((await adapter.find('code1'))?.consumed, undefined);
    await adapter.consume('code1');
    const consumed = (await adapter.find('code1'))?.consumed;
    assert.equal(typeof consumed, 'number');
    // A later save does not un-consume it.
    await adapter.upsert('code1', { jti: 'code1', grantId: 'g1' }, 60);
    await assert.rejects(adapter.consume('code1'), errors.InvalidGrant);
  });

  it('atomic consume: of concurrent redemptions of one code exactly one wins and the grant is revoked', async () => {
    const store = await createTestStore();
    const factory = createAdapterFactory(store);
    const codes = factory('AuthorizationCode');
    const tokens = factory('AccessToken');
    const grants = factory('Grant');
    for (let round = 0; round < 5; round += 1) {
      const code = `race-${round}`;
      const grantId = `grant-${round}`;
      await grants.upsert(grantId, { jti: grantId, clientId: 'c' }, 600);
      await codes.upsert(code, { jti: code, grantId }, 60);
      // Each contender does what the provider's token endpoint does: find, check `consumed`, consume.
      const contenders = Array.from({ length: 8 }, async () => {
        const found = await codes.find(code);
        if (!found) throw new errors.InvalidGrant('authorization code not found');
        if (found.consumed) throw new errors.InvalidGrant('authorization code already consumed');
        await codes.consume(code);
        await tokens.upsert(`at-${round}-${Math.random()}`, { jti: 'x', grantId }, 600);
      });
      const results = await Promise.allSettled(contenders);
      const won = results.filter((result) => result.status === 'fulfilled');
      const lost = results.filter((result) => result.status === 'rejected');
      assert.equal(won.length, 1, `round ${round}: exactly one redemption wins`);
      assert.equal(lost.length, 7);
      for (const result of lost) {
        assert.ok((result as PromiseRejectedResult).reason instanceof errors.InvalidGrant);
        assert.equal((result as PromiseRejectedResult).reason.error, 'invalid_grant');
      }
    }
  });

  it('a consume that loses after both contenders saw the code unconsumed revokes the grant', async () => {
    const store = await createTestStore();
    const codes = new StoreAdapter('AuthorizationCode', store.db);
    const grants = new StoreAdapter('Grant', store.db);
    const tokens = new StoreAdapter('AccessToken', store.db);
    await grants.upsert('g1', { jti: 'g1' }, 600);
    await codes.upsert('c1', { jti: 'c1', grantId: 'g1' }, 60);
    const [first, second] = [await codes.find('c1'), await codes.find('c1')];
    assert.equal(first?.consumed, undefined);
    assert.equal(second?.consumed, undefined);
    await codes.consume('c1');
    await tokens.upsert('t1', { jti: 't1', grantId: 'g1' }, 600);
    await assert.rejects(codes.consume('c1'), (error: unknown) => {
      assert.ok(error instanceof errors.InvalidGrant);
      assert.equal(error.error_detail, 'authorization code already consumed');
      return true;
    });
    assert.equal(await grants.find('g1'), undefined);
    assert.equal(await tokens.find('t1'), undefined);
  });

  it('revokeByGrantId removes only that model under that grant', async () => {
    const store = await createTestStore();
    const access = new StoreAdapter('AccessToken', store.db);
    const refresh = new StoreAdapter('RefreshToken', store.db);
    await access.upsert('a1', { jti: 'a1', grantId: 'g1' }, 60);
    await access.upsert('a2', { jti: 'a2', grantId: 'g2' }, 60);
    await refresh.upsert('r1', { jti: 'r1', grantId: 'g1' }, 60);
    await access.revokeByGrantId('g1');
    assert.equal(await access.find('a1'), undefined);
    assert.ok(await access.find('a2'));
    assert.ok(await refresh.find('r1'));
  });

  it('revokeIntentTokens removes every token resting on an intent and their grants', async () => {
    const store = await createTestStore();
    const access = new StoreAdapter('AccessToken', store.db);
    const refresh = new StoreAdapter('RefreshToken', store.db);
    const grants = new StoreAdapter('Grant', store.db);
    const claims = { id_token: { openbanking_intent_id: { value: 'aac-1', essential: true } } };
    await grants.upsert('g1', { jti: 'g1' }, 600);
    await access.upsert('a1', { jti: 'a1', grantId: 'g1', extra: { openbanking_intent_id: 'aac-1' } }, 60);
    await refresh.upsert('r1', { jti: 'r1', grantId: 'g1', claims }, 600);
    await access.upsert(
      'a-other',
      { jti: 'a-other', grantId: 'g2', extra: { openbanking_intent_id: 'aac-2' } },
      60,
    );
    assert.equal(await revokeIntentTokens(store.db, 'aac-1'), 3);
    assert.equal(await access.find('a1'), undefined);
    assert.equal(await refresh.find('r1'), undefined);
    assert.equal(await grants.find('g1'), undefined);
    assert.ok(await access.find('a-other'));
  });

  it('replay detection: of concurrent records of one client assertion jti exactly one succeeds; expired ones may be reused', async () => {
    const store = await createTestStore();
    const clock = new ManualClock('2026-03-01T10:00:00Z');
    const replay = new StoreAdapter('ReplayDetection', store.db, clock);
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => replay.upsert('jti-hash', { jti: 'jti-hash', iss: 'client' }, 60)),
    );
    assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
    for (const result of results.filter((r) => r.status === 'rejected')) {
      assert.ok((result as PromiseRejectedResult).reason instanceof errors.InvalidClientAuth);
    }
    clock.advance(61_000);
    await replay.upsert('jti-hash', { jti: 'jti-hash', iss: 'client' }, 60);
    await assert.rejects(
      replay.upsert('jti-hash', { jti: 'jti-hash', iss: 'client' }, 60),
      errors.InvalidClientAuth,
    );
  });
  it('saves fail-closed models through the async-commit handle and keeps grants, refresh tokens and every consumption or deletion synchronous', async () => {
    const store = await createTestStore();
    // Every statement on a handle is a drizzle builder (`insert`, `update`, `delete`) or a prepared
    // statement bound to the handle's session (`_`, read once per run): each counted as one. The prepared
    // statements are built once, on their first run; that happens here first, outside the count.
    const warm = createAdapterFactory(store);
    await warm('AccessToken').upsert('warm-at', { grantId: 'warm-g' }, 60);
    await warm('AuthorizationCode').upsert('warm-code', { grantId: 'warm-g' }, 60);
    await warm('AuthorizationCode').consume('warm-code');
    await warm('AccessToken').destroy('warm-at');
    const viaAsyncCommit: string[] = [];
    const counted = new Proxy(store.asyncCommitDb, {
      get(target, property, receiver) {
        if (property === 'insert' || property === 'update' || property === 'delete' || property === '_') {
          viaAsyncCommit.push('statement');
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const factory = createAdapterFactory(
      Object.assign(Object.create(store) as Store, { asyncCommitDb: counted }),
    );

    await factory('AccessToken').upsert('at-1', { grantId: 'g-1' }, 60);
    await factory('ReplayDetection').upsert('jti-1', { jti: 'jti-1' }, 60);
    await factory('AuthorizationCode').upsert('code-1', { grantId: 'g-1' }, 60);
    assert.deepEqual(viaAsyncCommit, ['statement', 'statement', 'statement']);

    await factory('RefreshToken').upsert('rt-1', { grantId: 'g-1' }, 60);
    await factory('Grant').upsert('g-1', { accountId: 'psu' }, 60);
    await factory('AuthorizationCode').consume('code-1');
    await factory('AccessToken').destroy('at-1');
    await factory('RefreshToken').revokeByGrantId('g-1');
    assert.deepEqual(
      viaAsyncCommit,
      ['statement', 'statement', 'statement'],
      'nothing else went through the async handle',
    );
    // What went through either handle is visible to the other at once.
    assert.equal(await factory('AccessToken').find('at-1'), undefined);
    assert.ok((await factory('AuthorizationCode').find('code-1'))?.consumed);

    const setting = async (db: Store['db']) => {
      const result = (await db.execute(sql`show synchronous_commit`)) as unknown as {
        rows: { synchronous_commit: string }[];
      };
      return result.rows[0]?.synchronous_commit;
    };
    if (store.backend === 'postgres') {
      assert.equal(await setting(store.asyncCommitDb), 'off');
      assert.equal(await setting(store.db), 'on');
    } else {
      // The embedded database has one connection: both handles are the same client.
      assert.equal(store.asyncCommitDb, store.db);
    }
  });

  it('replay detection: records under way together share one statement, and of one jti among them only one is taken', async () => {
    const store = await createTestStore();
    const replay = new StoreAdapter('ReplayDetection', store.db);
    // The first record is under way alone; the next ones wait and go together, a jti three times among them.
    const first = replay.upsert('jti-first', { jti: 'jti-first', iss: 'client' }, 60);
    const together = await Promise.allSettled([
      replay.upsert('jti-x', { jti: 'jti-x', iss: 'client' }, 60),
      replay.upsert('jti-y', { jti: 'jti-y', iss: 'client' }, 60),
      replay.upsert('jti-x', { jti: 'jti-x', iss: 'client' }, 60),
      replay.upsert('jti-x', { jti: 'jti-x', iss: 'client' }, 60),
    ]);
    await first;
    assert.deepEqual(
      together.map((result) => result.status),
      ['fulfilled', 'fulfilled', 'rejected', 'rejected'],
    );
    for (const result of together.filter((r) => r.status === 'rejected')) {
      assert.ok((result as PromiseRejectedResult).reason instanceof errors.InvalidClientAuth);
    }
    await assert.rejects(
      replay.upsert('jti-y', { jti: 'jti-y', iss: 'client' }, 60),
      errors.InvalidClientAuth,
    );
  });

  it('client_credentials tokens under way together: one prepared statement whatever their number; a jti twice gets one token', async () => {
    const store = await createTestStore();
    const replays = createAssertionReplays(store.asyncCommitDb, systemClock);
    const now = Date.now();
    // One token request as the token endpoint makes it: its context, its held jti, its token's save.
    const request = (jti: string, tokenId: string): Promise<boolean> => {
      const ctx = {
        oidc: { route: 'token', params: { grant_type: 'client_credentials' } },
      } as unknown as KoaContextWithOIDC;
      return als.run(ctx, async () => {
        let saved = false;
        await replays.recordHeldAssertions(ctx, async () => {
          await replays.record({
            model: 'ReplayDetection',
            id: jti,
            payload: { jti, iss: 'client-a', kind: 'ReplayDetection' },
            expiresAt: new Date(now + 300_000),
          });
          saved = await replays.saveWithHeldRecord({
            model: 'ClientCredentials',
            id: tokenId,
            payload: { jti: tokenId, kind: 'ClientCredentials', clientId: 'client-a', scope: 'accounts' },
            expiresAt: new Date(now + 900_000),
          });
        });
        return saved;
      });
    };
    const tokenIds = async () =>
      (
        await store.db
          .select({ id: schema.authModels.id })
          .from(schema.authModels)
          .where(sql`${schema.authModels.model} = 'ClientCredentials'`)
      )
        .map((row) => row.id)
        .sort();
    for (const round of [1, 2]) {
      // The first goes alone; the others, started in the same tick, wait for it and go together.
      const results = await Promise.allSettled([
        request(`jti-${round}-a`, `token-${round}-a`),
        request(`jti-${round}-b`, `token-${round}-b`),
        request(`jti-${round}-c`, `token-${round}-c`),
        request(`jti-${round}-b`, `token-${round}-d`),
        request(`jti-${round}-e`, `token-${round}-e`),
      ]);
      assert.deepEqual(
        results.map((result) => result.status),
        ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
      );
      assert.ok((results[3] as PromiseRejectedResult).reason instanceof errors.InvalidClientAuth);
    }
    assert.deepEqual(await tokenIds(), [
      'token-1-a',
      'token-1-b',
      'token-1-c',
      'token-1-e',
      'token-2-a',
      'token-2-b',
      'token-2-c',
      'token-2-e',
    ]);
    if (store.embedded) {
      // Named statements of the one connection: the token alone, and the batch (one text for any number).
      const prepared = await store.db.execute(
        sql`select count(*)::int as n from pg_prepared_statements where statement like '%"replay"%'`,
      );
      assert.equal((prepared as unknown as { rows: { n: number }[] }).rows[0]?.n, 2);
    }
  });

  it('saves under way together are all kept, and the later of two saves of one row wins', async () => {
    const store = await createTestStore();
    const tokens = new StoreAdapter('AccessToken', store.db);
    const sessions = new StoreAdapter('Session', store.db);
    await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => tokens.upsert(`at${i}`, { jti: `at${i}`, grantId: 'g1' }, 60)),
      sessions.upsert('s1', { uid: 'u1', accountId: 'first' }, 60),
      sessions.upsert('s1', { uid: 'u1', accountId: 'second' }, 60),
      sessions.upsert('s1', { uid: 'u1', accountId: 'third' }, 60),
    ]);
    for (let i = 0; i < 5; i++) assert.equal((await tokens.find(`at${i}`))?.grantId, 'g1');
    assert.equal((await sessions.find('s1'))?.accountId, 'third');
    assert.equal((await sessions.findByUid('u1'))?.accountId, 'third');
  });
});
