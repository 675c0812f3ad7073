import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { openStore, writeSetting } from '../../src/store/index.ts';
import { checkpointWhenDue, walSinceCheckpoint } from '../../src/store/embedded-checkpoints.ts';

const embeddedOnly = { skip: !!process.env.DATABASE_URL };

describe('embedded checkpoints', () => {
  it(
    'checkpoints once the WAL written since the last checkpoint reaches the threshold, not before',
    embeddedOnly,
    async () => {
      const client = new PGlite();
      try {
        await client.exec('create table filler (id serial primary key, body text)');
        while ((await walSinceCheckpoint(client)) < 256 * 1024) {
          await client.query('insert into filler (body) values ($1)', ['x'.repeat(1_000)]);
        }
        const before = await walSinceCheckpoint(client);
        assert.equal(await checkpointWhenDue(client, 64 * 1024 * 1024), false);
        assert.ok((await walSinceCheckpoint(client)) >= before, 'no checkpoint below the threshold');
        assert.equal(await checkpointWhenDue(client, 256 * 1024), true);
        assert.ok((await walSinceCheckpoint(client)) < 4 * 1024, 'the redo point moved to the checkpoint');
      } finally {
        await client.close();
      }
    },
  );

  it('an embedded store checkpoints by itself while it is open', embeddedOnly, async () => {
    const client = new PGlite();
    const store = await openStore({
      backend: 'pglite',
      dataDir: undefined,
      pglite: client,
      checkpoints: { everyMs: 5, walBytes: 64 * 1024 },
    });
    try {
      await store.migrate();
      // Migrations alone write far more than the threshold; the store's own looks must bring it down.
      for (let i = 0; i < 20; i++) await writeSetting(store.db, `filler-${i}`, { body: 'x'.repeat(4_000) });
      let since = await walSinceCheckpoint(client);
      for (let waited = 0; since >= 64 * 1024 && waited < 5_000; waited += 10) {
        await delay(10);
        since = await walSinceCheckpoint(client);
      }
      assert.ok(since < 64 * 1024, `WAL since the last checkpoint: ${since} bytes`);
    } finally {
      await store.close();
    }
    assert.equal(client.closed, true);
  });
});
