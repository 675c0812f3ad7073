import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { idempotencyKeys, type IdempotencyAnswer } from '../../src/store/index.ts';
import { obIdempotency } from '../../src/store/schema/openbanking.ts';
import { createTestStore } from '../support/store.ts';

/**
 * Expired idempotency keys are swept: a key counts for 24 hours, and one a TPP never sends again would
 * otherwise stay in `ob_idempotency` for good. Live keys stay and still answer; a backlog goes in batches.
 */
describe('idempotency keys: the sweep', async () => {
  const store = await createTestStore();
  after(() => store.close());
  const db = store.db;
  const now = new Date('2026-12-06T12:00:00Z');
  const hours = (n: number) => new Date(now.getTime() + n * 3600_000);
  const answer = (key: string, createdAt: Date): IdempotencyAnswer => ({
    clientId: 'client-sweep',
    key,
    endpoint: 'POST /domestic-payments',
    bodyHash: 'hash',
    status: 201,
    bodyJson: JSON.stringify({ Data: { key } }),
    createdAt,
    expiresAt: new Date(createdAt.getTime() + 24 * 3600_000),
  });

  it('deletes every expired key, batch by batch, and keeps the live ones answering', async () => {
    const expired = ['old-1', 'old-2', 'old-3', 'old-4', 'old-5'];
    for (const [i, key] of expired.entries())
      assert.ok(await idempotencyKeys.claim(db, answer(key, hours(-48 - i))));
    // Expiring exactly now counts as expired (`stored` no longer answers it either).
    assert.ok(await idempotencyKeys.claim(db, answer('edge', hours(-24))));
    for (const key of ['live-1', 'live-2'])
      assert.ok(await idempotencyKeys.claim(db, answer(key, hours(-1))));

    assert.equal(await idempotencyKeys.sweep(db, now, 2), 6);
    assert.equal(await idempotencyKeys.sweep(db, now, 2), 0);
    for (const key of ['live-1', 'live-2']) {
      const stored = await idempotencyKeys.stored(
        db,
        { clientId: 'client-sweep', key, endpoint: 'POST /domestic-payments' },
        now,
      );
      assert.deepEqual(stored, { bodyHash: 'hash', status: 201, body: { Data: { key } } });
    }
    const left = await db
      .select({ key: obIdempotency.key })
      .from(obIdempotency)
      .where(eq(obIdempotency.clientId, 'client-sweep'))
      .orderBy(obIdempotency.key);
    const keys = left.map((row) => row.key);
    assert.deepEqual(keys, ['live-1', 'live-2']);
    // A day later the live ones have expired too.
    assert.equal(await idempotencyKeys.sweep(db, hours(24)), 2);
  });
});
