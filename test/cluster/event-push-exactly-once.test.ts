import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  claimDueEvents,
  createSubscription,
  EVENT_TYPES,
  getEvent,
  pushDeliveriesOf,
  raiseEvent,
  recordPushAttempt,
  type PushRetryPolicy,
} from '../../src/events/index.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { createTestDatabase } from '../support/store.ts';

/**
 * Three instances claim due event pushes from one PostgreSQL at the same moment, in small batches: every
 * event gets exactly one attempt (the `skip locked` claim and its lease), and each attempt is logged once.
 */

const POSTGRES = process.env.DATABASE_URL;
const INSTANCES = 3;
const EVENTS = 30;
const POLICY: PushRetryPolicy = { maxAttempts: 8, backoffMs: 1_000, maxBackoffMs: 60_000, leaseMs: 30_000 };

describe(
  'event push claims with three instances',
  { skip: POSTGRES ? false : 'several instances share a database only on PostgreSQL (set DATABASE_URL)' },
  async () => {
    if (!POSTGRES) return;
    const url = await createTestDatabase(POSTGRES);
    const stores: Store[] = [];
    for (let index = 0; index < INSTANCES; index += 1) {
      const store = await openStore({ backend: 'postgres', url, poolSize: 4 });
      after(() => store.close());
      stores.push(store);
    }
    await stores[0]!.migrate();
    const clock = new ManualClock('2026-03-02T09:00:00Z');

    it('gives each due event exactly one attempt across the instances', async () => {
      const db = stores[0]!.db;
      await createSubscription(db, clock, 'tpp-push', 'v4.0', {
        version: '4.0',
        callbackUrl: 'https://tpp.example/hook',
        eventTypes: undefined,
      });
      for (let index = 0; index < EVENTS; index += 1) {
        await db.transaction((tx) =>
          raiseEvent(tx, clock, {
            clientId: 'tpp-push',
            type: EVENT_TYPES.consentAuthorizationRevoked,
            subject: { type: 'account-access-consent', id: `aac-${index}`, version: 'v4.0' },
          }),
        );
      }
      const claimedBy = await Promise.all(
        stores.map(async (store) => {
          const mine: string[] = [];
          for (;;) {
            const claimed = await claimDueEvents(store.db, clock, POLICY, 4);
            if (claimed.length === 0) return mine;
            for (const event of claimed) {
              mine.push(event.event.id);
              await recordPushAttempt(store.db, clock, POLICY, event, { status: 202 });
            }
          }
        }),
      );
      const all = claimedBy.flat();
      assert.equal(all.length, EVENTS, 'every event attempted');
      assert.equal(new Set(all).size, EVENTS, 'none attempted twice');
      for (const id of all) {
        assert.ok((await getEvent(db, id))?.deliveredAt);
        assert.equal((await pushDeliveriesOf(db, id)).length, 1);
      }
      assert.deepEqual(await claimDueEvents(db, clock, POLICY, 10), [], 'nothing left to push');
    });
  },
);
