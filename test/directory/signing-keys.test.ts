import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { loadOrCreateMasterKey, MasterKeyError } from '../../src/directory/master-key.ts';
import { call, ManualClock } from '../support/platform.ts';
import { startDirectory } from './support.ts';

const day = 24 * 3600 * 1000;

describe("the directory's SSA-signing keys", async () => {
  const clock = new ManualClock(new Date());
  const directory = await startDirectory({
    clock,
    directory: { signingKeyPolicy: { lifetimeDays: 30, overlapDays: 10 } },
  });
  const jwks = async () => (await call(directory.browser, `${directory.base}/jwks`)).body as JSONWebKeySet;
  const verifies = async (ssa: string) =>
    jwtVerify(ssa, createLocalJWKSet(await jwks()), { algorithms: ['PS256'] }).then(
      () => true,
      () => false,
    );

  it('rotates after its lifetime and keeps the old key listed for the overlap window', async () => {
    const first = (await directory.onboard()).body.ssa;
    const firstKid = decodeProtectedHeader(first).kid;
    assert.deepEqual(
      (await jwks()).keys.map((key) => key.kid),
      [firstKid],
    );

    clock.advance(31 * day);
    const second = (await directory.onboard()).body.ssa;
    const secondKid = decodeProtectedHeader(second).kid;
    assert.notEqual(secondKid, firstKid, 'a new key signs after the lifetime');
    assert.deepEqual(
      (await jwks()).keys.map((key) => key.kid),
      [secondKid, firstKid],
    );
    assert.ok(await verifies(first), 'an SSA of the old key still verifies during the overlap');
    assert.ok(await verifies(second));

    clock.advance(11 * day);
    assert.deepEqual(
      (await jwks()).keys.map((key) => key.kid),
      [secondKid],
    );
    assert.equal(await verifies(first), false, 'after the overlap the old key is gone');
    assert.ok(await verifies(second));
  });

  it('rotates on demand, the retired key staying listed for the overlap', async () => {
    const before = decodeProtectedHeader((await directory.onboard()).body.ssa).kid;
    const newKid = await directory.directory.service.signingKeys.rotate();
    const after = decodeProtectedHeader((await directory.onboard()).body.ssa).kid;
    assert.equal(after, newKid);
    assert.notEqual(after, before);
    assert.deepEqual((await jwks()).keys.map((key) => key.kid).slice(0, 2), [newKid, before]);
  });

  it('publishes each key with its OBSEAL certificate chain', async () => {
    for (const key of (await jwks()).keys) {
      assert.equal(key.use, 'sig');
      assert.equal(key.alg, 'PS256');
      assert.equal(key.kty, 'RSA');
      assert.equal(key.x5c?.length, 2);
      assert.match(String(key['x5t#S256']), /^[A-Za-z0-9_-]{43}$/);
    }
  });

  it('keeps private keys sealed in the database and the master key file at mode 0600', async () => {
    const result = await directory.platform.store.db.execute(
      sql.raw('select sealed_private_key as sealed from directory_signing_keys'),
    );
    const rows = (Array.isArray(result) ? result : (result as { rows: { sealed: string }[] }).rows) as {
      sealed: string;
    }[];
    assert.ok(rows.length >= 2);
    for (const row of rows) {
      assert.match(row.sealed, /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      assert.doesNotMatch(row.sealed, /PRIVATE KEY/);
    }
    const file = join(directory.platform.dataDir, 'directory', 'master.key');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(directory.platform.dataDir, 'directory'))).mode & 0o777, 0o700);
  });
});

describe('the directory master key', () => {
  it('is created once and reopened, seals with a context, and refuses a loose file mode', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'obkit-master-'));
    after(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'directory', 'master.key');
    const first = await loadOrCreateMasterKey(path);
    const again = await loadOrCreateMasterKey(path);
    const sealed = first.seal('secret text', 'context-a');
    assert.equal(again.open(sealed, 'context-a'), 'secret text');
    assert.throws(() => again.open(sealed, 'context-b'), MasterKeyError);
    const other = await loadOrCreateMasterKey(join(dir, 'other', 'master.key'));
    assert.throws(() => other.open(sealed, 'context-a'), /does not open with this master key/);
    await chmod(path, 0o644);
    await assert.rejects(loadOrCreateMasterKey(path), /readable by group or others/);
  });
});
