import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import {
  createCacheLease,
  type CacheLeaseHolder,
  type LeaseConnection,
} from '../../src/store/cache-lease.ts';
import { LISTENER_APPLICATION_NAME } from '../../src/store/database.ts';
import { CHANGE_VERSION_CHANNEL, openStore, type Store } from '../../src/store/index.ts';
import { createTestDatabase } from '../support/store.ts';

const POSTGRES = process.env.DATABASE_URL;

/** A migrated database of its own, and a plain client on it for the test's own looks. */
async function leaseDatabase(): Promise<{ url: string; client: pg.Client }> {
  const url = await createTestDatabase(POSTGRES!);
  const migrating = await openStore({ backend: 'postgres', url, poolSize: 1 });
  await migrating.migrate();
  await migrating.close();
  const client = new pg.Client({ connectionString: url });
  // The database is dropped (with its connections) after the test: that end is expected.
  client.on('error', () => undefined);
  await client.connect();
  after(() => client.end());
  return { url, client };
}

async function openLeasedStore(url: string): Promise<Store> {
  const store = await openStore({ backend: 'postgres', url, poolSize: 2 });
  after(() => store.close());
  return store;
}

/** Checks `condition` until it holds: the event it waits for happens on another connection. */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await delay(5);
}

/** A lease connection whose statements the test answers one by one, in order. */
function controlledConnection(client: pg.Client) {
  const sent: { text: string; answer: () => void }[] = [];
  let arrived: () => void = () => undefined;
  /** Once the test is done: every statement answered as it comes (the lease's release). */
  let answering = false;
  const connection: LeaseConnection = {
    query(text, values) {
      if (answering) return client.query(text, [...values]);
      return new Promise((resolve, reject) => {
        sent.push({
          text,
          answer: () => void client.query(text, [...values]).then(resolve, reject),
        });
        arrived();
      });
    },
  };
  const answerAll = () => {
    answering = true;
    for (const statement of sent) statement.answer();
  };
  /** Waits for the next unanswered statement (the `index`th sent). */
  async function statement(index: number) {
    while (sent.length <= index) await new Promise<void>((resolve) => (arrived = resolve));
    return sent[index]!;
  }
  return { connection, statement, answerAll };
}

describe(
  'cache leases',
  {
    skip: POSTGRES
      ? false
      : 'cache leases are for instances sharing a PostgreSQL database (set DATABASE_URL)',
  },
  () => {
    it('trusts a lease only after reading the change version after the join committed', async () => {
      const { client } = await leaseDatabase();
      await client.query(`select store_announce('obkit_test_channel', 'before')`);
      const lease = createCacheLease({ leaseMs: 60_000 });
      const { connection, statement, answerAll } = controlledConnection(client);
      after(() => {
        answerAll();
        return lease.release();
      });
      const attaching = lease.attach(connection);
      const join = await statement(0);
      assert.match(join.text, /insert into store_cache_leases/);
      join.answer();
      const read = await statement(1);
      assert.match(read.text, /from "store_change_version"/);
      // The join committed (its row is there); a change announced now by a writer that looked at the
      // leases before that commit would not wait for this instance: not trusted until the read answers.
      const row = await client.query<{ acked: string }>(
        'select acked_version as acked from store_cache_leases where instance = $1',
        [lease.instance],
      );
      assert.equal(row.rows[0]?.acked, '1');
      await client.query(`select store_announce('obkit_test_channel', 'after the join')`);
      assert.equal(lease.held(), false);
      read.answer();
      await attaching;
      assert.equal(lease.held(), true);
      assert.equal(lease.heard(), 2, 'the change after the join is counted before the lease is trusted');
    });

    it('holds an announcement until a lease that never acknowledges it expires, by the database clock', async () => {
      const { url, client } = await leaseDatabase();
      const store = await openLeasedStore(url);
      await client.query(
        `insert into store_cache_leases (instance, expires_at, acked_version)
         values ('deaf instance', now() + interval '1500 milliseconds', 0)`,
      );
      await store.notify('obkit_test_channel', 'revoked');
      const { rows } = await client.query<{ expired: boolean }>(
        `select expires_at <= now() as expired from store_cache_leases where instance = 'deaf instance'`,
      );
      assert.equal(
        rows[0]?.expired,
        true,
        'notify returned before the lease that did not acknowledge expired',
      );
    });

    it(
      'does not extend the lease of an instance behind the store, and takes what it hears before acknowledging',
      { timeout: 20_000 },
      async () => {
        const { url, client } = await leaseDatabase();
        let now = 1_000;
        const lease = createCacheLease({ leaseMs: 60_000, now: () => now });
        after(() => lease.release());
        const leaseClient = new pg.Client({ connectionString: url });
        leaseClient.on('error', () => undefined);
        await leaseClient.connect();
        after(() => leaseClient.end());
        await lease.attach({ query: (text, values) => leaseClient.query(text, [...values]) });
        assert.equal(lease.held(), true);
        const expiry = async () =>
          (
            await client.query<{ expires: Date; acked: string }>(
              'select expires_at as expires, acked_version as acked from store_cache_leases where instance = $1',
              [lease.instance],
            )
          ).rows[0]!;
        const joined = await expiry();
        const announced = Number(
          (
            await client.query<{ version: string }>(
              `select store_announce('obkit_test_channel', 'x') as version`,
            )
          ).rows[0]!.version,
        );
        // Behind: heard nothing of the announcement. The renewal leaves the row as it was.
        await lease.renew();
        assert.deepEqual(await expiry(), joined);
        now += 60_000 * 0.95;
        assert.equal(lease.held(), false, 'the trust lapses before the database lets writers stop waiting');
        // Heard, so acknowledged (the row says so); the renewal after a lapse joins again.
        lease.heardAnnounced(announced);
        await until(async () => (await expiry()).acked === String(announced));
        await lease.renew();
        assert.equal(lease.held(), true);
        assert.ok((await expiry()).expires > joined.expires);
      },
    );

    // Without the lost connection's handling the lease would be trusted for its whole 600 s: failed after 20 s.
    it(
      "stops trusting at once when the listener's connection is lost, and again after it joined anew",
      { timeout: 20_000 },
      async () => {
        const { url, client } = await leaseDatabase();
        const store = await openLeasedStore(url);
        // A lease far longer than the test: only the lost connection can end the trust.
        const lease = (await store.holdCacheLease(600_000))! as CacheLeaseHolder;
        assert.equal(lease.held(), true);
        // Seen as the store detaches the lease, not by polling: on a quiet machine the new connection can
        // LISTEN and join again between two looks, and a poll for the untrusted moment would never see it.
        let trustedAfterDetach: boolean | undefined;
        const detach = lease.detach.bind(lease);
        lease.detach = () => {
          detach();
          trustedAfterDetach = lease.held();
        };
        await client.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and datname = current_database()',
          [LISTENER_APPLICATION_NAME],
        );
        await until(() => trustedAfterDetach !== undefined);
        assert.equal(trustedAfterDetach, false);
        await until(() => lease.held());
        // Joined again on the new connection: it hears, and acknowledges, what is announced now.
        await store.notify('obkit_test_channel', 'after the rejoin');
        const { rows } = await client.query<{ acked: string; version: string }>(
          `select acked_version as acked, (select version from store_change_version) as version
         from store_cache_leases`,
        );
        assert.deepEqual(rows, [{ acked: rows[0]?.version, version: rows[0]?.version }]);
      },
    );

    // The seam a wrapping store (a test's instance that hears late, or not at all) relies on: without it the
    // lease hears on the store's own connection and such an instance is never behind.
    it('hears the announced change versions through the subscription it is given', async () => {
      const { url, client } = await leaseDatabase();
      const store = await openLeasedStore(url);
      const subscribed: { channel: string; handler: (payload: string) => void }[] = [];
      const lease = (await store.holdCacheLease(60_000, undefined, async (channel, handler) => {
        subscribed.push({ channel, handler });
        return async () => undefined;
      }))!;
      assert.deepEqual(
        subscribed.map(({ channel }) => channel),
        [CHANGE_VERSION_CHANNEL],
      );
      assert.equal(lease.held(), true);
      const acked = async () =>
        Number(
          (await client.query<{ acked: string }>('select acked_version as acked from store_cache_leases'))
            .rows[0]?.acked,
        );
      const before = await acked();
      // Announced on another connection: the lease acknowledges it when its subscription delivers it.
      const { rows } = await client.query<{ version: string }>(
        `select store_announce('obkit_test_channel', 'heard late') as version`,
      );
      const announced = Number(rows[0]?.version);
      assert.ok(announced > before);
      subscribed[0]!.handler(String(announced));
      await until(async () => (await acked()) === announced);
    });

    it('deletes its lease row when the store closes', async () => {
      const { url, client } = await leaseDatabase();
      const store = await openStore({ backend: 'postgres', url, poolSize: 1 });
      await store.holdCacheLease(60_000);
      const count = async () => (await client.query('select 1 from store_cache_leases')).rowCount;
      assert.equal(await count(), 1);
      await store.close();
      assert.equal(await count(), 0);
    });
  },
);
