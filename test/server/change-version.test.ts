import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createChangeVersion } from '../../src/server/change-version.ts';
import type { Store } from '../../src/store/index.ts';

/**
 * The change version read at the start of each request: requests arriving together share one read, but a
 * request never settles for a read that began before it arrived (that read may predate a revocation).
 */

/** A PostgreSQL store whose change-version reads the test answers one by one. */
function controlledStore() {
  const pending: { resolve(version: number): void; reject(error: Error): void }[] = [];
  const store = {
    backend: 'postgres',
    changeVersion: () =>
      new Promise<number>((resolve, reject) => {
        pending.push({ resolve, reject });
      }),
  } as unknown as Store;
  return { store, pending };
}

describe('change version', () => {
  it('a request arriving while a read is under way waits for the next read, which it shares', async () => {
    const { store, pending } = controlledStore();
    const version = createChangeVersion(store);
    const first = version.refresh();
    const second = version.refresh();
    const third = version.refresh();
    assert.equal(pending.length, 1, 'one read under way');
    pending[0]!.resolve(4);
    await first;
    assert.equal(version.current(), 4);
    // The second and third arrived during the first read: they share a read that starts after it.
    await Promise.resolve();
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(pending.length, 2, 'a second read, shared by the later arrivals');
    pending[1]!.resolve(7);
    await Promise.all([second, third]);
    assert.equal(version.current(), 7);
  });

  it('never goes back, and a failed read fails the requests waiting on it', async () => {
    const { store, pending } = controlledStore();
    const version = createChangeVersion(store);
    const first = version.refresh();
    pending[0]!.resolve(9);
    await first;
    const older = version.refresh();
    pending[1]!.resolve(3);
    await older;
    assert.equal(version.current(), 9);
    const failing = version.refresh();
    pending[2]!.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    await assert.rejects(Promise.resolve(failing), /ECONNREFUSED/);
    const after = version.refresh();
    pending[3]!.resolve(10);
    await after;
    assert.equal(version.current(), 10);
  });

  it('reads nothing on the embedded database, where one process ran every handler', async () => {
    const version = createChangeVersion({ backend: 'pglite' } as unknown as Store);
    await version.refresh();
    assert.equal(version.current(), 0);
  });

  it('says whether a request has a version to read: on PostgreSQL every request, on the embedded database none', () => {
    // The surface adds its change-version step to a request only where there is one to read (surface.ts).
    assert.equal(createChangeVersion(controlledStore().store).readsPerRequest, true);
    assert.equal(createChangeVersion({ backend: 'pglite' } as unknown as Store).readsPerRequest, false);
  });

  it('is up to date without a read on the embedded database, and on PostgreSQL only while a cache lease is held', () => {
    assert.equal(createChangeVersion(controlledStore().store).upToDate(), false);
    assert.equal(createChangeVersion({ backend: 'pglite' } as unknown as Store).upToDate(), true);
    const lease = { held: true, heard: 0 };
    const leased = createChangeVersion(controlledStore().store, {
      held: () => lease.held,
      heard: () => lease.heard,
    });
    assert.equal(leased.upToDate(), true);
    lease.held = false;
    assert.equal(leased.upToDate(), false);
  });

  it('counts every version its cache lease heard announced, and every version it read', async () => {
    const { store, pending } = controlledStore();
    const lease = { held: true, heard: 5 };
    const version = createChangeVersion(store, { held: () => lease.held, heard: () => lease.heard });
    assert.equal(version.current(), 5, 'caches tagged older than what the lease heard are not served');
    const read = version.refresh();
    pending[0]!.resolve(8);
    await read;
    assert.equal(version.current(), 8);
    lease.heard = 11;
    assert.equal(version.current(), 11);
  });
});
