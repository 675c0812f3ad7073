import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { openStore, readSetting, writeSetting } from '../../src/store/index.ts';
import { waitForExit } from '../support/cli.ts';
import { createTestStore } from '../support/store.ts';

describe('store', () => {
  it('writes and reads back a value, and overwrites it', async () => {
    const store = await createTestStore();
    await writeSetting(store.db, 'greeting', { text: 'hello' });
    assert.deepEqual(await readSetting(store.db, 'greeting'), { text: 'hello' });
    await writeSetting(store.db, 'greeting', { text: 'again' });
    assert.deepEqual(await readSetting(store.db, 'greeting'), { text: 'again' });
    assert.equal(await readSetting(store.db, 'missing'), undefined);
  });

  it('answers ping and migrates idempotently', async () => {
    const store = await createTestStore();
    await store.ping();
    await store.migrate();
    await store.migrate();
  });

  it('rolls a failed transaction back', async () => {
    const store = await createTestStore();
    await assert.rejects(
      store.db.transaction(async (tx) => {
        await writeSetting(tx, 'half', 1);
        throw new Error('abort');
      }),
      /abort/,
    );
    assert.equal(await readSetting(store.db, 'half'), undefined);
  });

  it('delivers a NOTIFY to a listener', async () => {
    const store = await createTestStore();
    let hear: (payload: string) => void = () => undefined;
    const heard = new Promise<string>((resolve) => (hear = resolve));
    // listen() resolves once LISTEN is registered: a NOTIFY sent after it cannot be missed.
    await store.listen('obkit_test_channel', (payload) => hear(payload));
    await store.notify('obkit_test_channel', 'ping-42');
    assert.equal(await heard, 'ping-42');
  });

  // A store that does not announce the version would leave this waiting: failed after 10 s, not hung.
  it(
    'announces each change with the version it reached, after the change itself',
    { timeout: 10_000 },
    async () => {
      const store = await createTestStore();
      const heard: string[] = [];
      let second: () => void = () => undefined;
      const bothHeard = new Promise<void>((resolve) => (second = resolve));
      const hear = (what: string) => {
        heard.push(what);
        if (heard.length === 4) second();
      };
      await store.listen('obkit_test_channel', (payload) => hear(`change ${payload}`));
      await store.listen('store_change_version', (payload) => hear(`version ${payload}`));
      const before = await store.changeVersion();
      await store.notify('obkit_test_channel', 'first');
      await store.notify('obkit_test_channel', 'second');
      await bothHeard;
      assert.deepEqual(heard, [
        'change first',
        `version ${before + 1}`,
        'change second',
        `version ${before + 2}`,
      ]);
      assert.equal(await store.changeVersion(), before + 2);
    },
  );

  it('refuses a channel name that is not an identifier', async () => {
    const store = await createTestStore();
    await assert.rejects(store.notify('bad channel"; drop', 'x'), /invalid notification channel/);
  });

  it(
    'keeps data across a restart of the embedded database',
    { skip: !!process.env.DATABASE_URL },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'obkit-pglite-'));
      try {
        const first = await openStore({ backend: 'pglite', dataDir: dir });
        await first.migrate();
        await writeSetting(first.db, 'survives', { n: 7 });
        await first.close();
        const second = await openStore({ backend: 'pglite', dataDir: dir });
        await second.migrate();
        assert.deepEqual(await readSetting(second.db, 'survives'), { n: 7 });
        await second.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it(
    'keeps every committed row of a killed process, named statements in and out of transactions included',
    { skip: !!process.env.DATABASE_URL },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'obkit-pglite-killed-'));
      try {
        const writer = spawn(
          process.execPath,
          [
            '--import',
            fileURLToPath(new URL('../support/module-loading.js', import.meta.url)),
            fileURLToPath(new URL('./support/killed-writer.ts', import.meta.url)),
            dir,
          ],
          { env: process.env },
        );
        const exited = await waitForExit(writer, 120_000);
        assert.equal(exited.signal, 'SIGKILL', exited.stderr);
        assert.equal(exited.stdout, 'committed\n');
        // Started again on the folder the killed process left: recovery replays what its commits wrote.
        const reopened = await openStore({ backend: 'pglite', dataDir: dir });
        try {
          const { rows } = (await reopened.db.execute(
            sql`select key from ob_idempotency order by key`,
          )) as unknown as { rows: { key: string }[] };
          assert.deepEqual(
            rows.map((row) => row.key),
            ['alone', 'in-transaction-1', 'in-transaction-2'],
          );
          assert.deepEqual(await readSetting(reopened.db, 'last'), { n: 3 });
        } finally {
          await reopened.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
