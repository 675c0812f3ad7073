import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { selectParts } from '../../src/server/parts.ts';
import { idempotencyKeys } from '../../src/store/index.ts';
import { authModels } from '../../src/store/schema/auth.ts';
import { obIdempotency } from '../../src/store/schema/openbanking.ts';
import { startTestPlatform } from '../support/platform.ts';

/**
 * The periodic sweeps are wired into a running platform: every five minutes the openbanking part deletes
 * expired idempotency keys and the auth part expired provider rows (each sweep's own rules are tested with
 * its store functions; this is that the parts start them, and on the platform's clock).
 */
describe('sweepers of a running platform', () => {
  it('delete expired idempotency keys and provider rows every five minutes', async (t) => {
    // Only intervals are mocked: nothing else of the platform's timing changes.
    t.mock.timers.enable({ apis: ['setInterval'] });
    const platform = await startTestPlatform({ parts: selectParts('all') });
    const db = platform.store.db;
    const now = new Date();
    const dayAgo = new Date(now.getTime() - 24 * 3600_000 - 60_000);
    assert.ok(
      await idempotencyKeys.claim(db, {
        clientId: 'client-swept',
        key: 'expired-key',
        endpoint: 'POST /domestic-payments',
        bodyHash: 'hash',
        status: 201,
        bodyJson: '{}',
        createdAt: dayAgo,
        expiresAt: new Date(now.getTime() - 60_000),
      }),
    );
    await db.insert(authModels).values({
      model: 'AccessToken',
      id: 'expired-token',
      payload: {},
      expiresAt: new Date(now.getTime() - 60_000),
    });
    const keyLeft = async () =>
      (await db.select().from(obIdempotency).where(eq(obIdempotency.clientId, 'client-swept'))).length;
    const tokenLeft = async () =>
      (
        await db
          .select()
          .from(authModels)
          .where(and(eq(authModels.model, 'AccessToken'), eq(authModels.id, 'expired-token')))
      ).length;

    t.mock.timers.tick(299_999);
    assert.equal(await keyLeft(), 1, 'nothing is swept before five minutes');
    assert.equal(await tokenLeft(), 1);
    t.mock.timers.tick(1);
    // The sweeps run on the database: wait for them (a bounded number of turns of the event loop, no sleep).
    for (let turn = 0; turn < 10_000 && ((await keyLeft()) > 0 || (await tokenLeft()) > 0); turn++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    assert.equal(await keyLeft(), 0, 'the expired idempotency key is swept');
    assert.equal(await tokenLeft(), 0, 'the expired provider row is swept');
  });
});
