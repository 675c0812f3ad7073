import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkPassword,
  checkTotp,
  hashPassword,
  sandboxCredentialsFor,
  seedCredentials,
  setCredentials,
  totpCode,
  totpUri,
  unlockCredentials,
  verifyPassword,
  type ConsentContext,
  type CredentialPolicy,
} from '../../src/consent/index.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { createTestStore } from '../support/store.ts';

const POLICY: CredentialPolicy = { maxFailures: 3, lockoutSeconds: 600 };
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

async function setup() {
  const store = await createTestStore();
  const clock = new ManualClock('2026-01-01T09:00:00Z');
  const ctx: ConsentContext = { db: store.db, clock };
  await setCredentials(ctx, 'cust-1', { password: 'correct horse battery', totpSecret: SECRET });
  return { ctx, clock };
}

const login = (password: string, customerId: string | undefined = 'cust-1', username = 'alice') => ({
  username,
  customerId,
  password,
});

describe('PSU credentials', () => {
  it('hashes passwords with scrypt and a per-user salt, and verifies them', async () => {
    const a = await hashPassword('s3cret-pass');
    const b = await hashPassword('s3cret-pass');
    assert.match(a, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, b, 'a fresh salt each time');
    assert.equal(await verifyPassword('s3cret-pass', a), true);
    assert.equal(await verifyPassword('s3cret-pasS', a), false);
    assert.equal(await verifyPassword('s3cret-pass', 'garbage'), false);
    assert.equal(await verifyPassword('s3cret-pass', 'scrypt$99999999$8$1$AAAA$AAAA'), false);
  });

  it('counts wrong passwords, reports the attempts left and locks after the limit', async () => {
    const { ctx, clock } = await setup();
    assert.deepEqual(await checkPassword(ctx, login('wrong'), POLICY), {
      ok: false,
      reason: 'invalid',
      remainingAttempts: 2,
    });
    assert.deepEqual(await checkPassword(ctx, login('wrong'), POLICY), {
      ok: false,
      reason: 'invalid',
      remainingAttempts: 1,
    });
    const third = await checkPassword(ctx, login('wrong'), POLICY);
    assert.equal(third.ok, false);
    assert.equal(!third.ok && third.reason, 'locked');
    assert.deepEqual(
      !third.ok && third.reason === 'locked' && third.lockedUntil,
      new Date('2026-01-01T09:10:00Z'),
    );
    // Locked: even the right password is refused.
    const locked = await checkPassword(ctx, login('correct horse battery'), POLICY);
    assert.equal(!locked.ok && locked.reason, 'locked');
    // The lock runs out; the count starts again.
    clock.advance(601_000);
    assert.deepEqual(await checkPassword(ctx, login('correct horse battery'), POLICY), { ok: true });
    assert.deepEqual(await checkPassword(ctx, login('wrong'), POLICY), {
      ok: false,
      reason: 'invalid',
      remainingAttempts: 2,
    });
  });

  it('answers an unknown username exactly as a wrong password, and locks it too', async () => {
    const { ctx } = await setup();
    assert.deepEqual(await checkPassword(ctx, login('x', undefined, 'mallory'), POLICY), {
      ok: false,
      reason: 'invalid',
      remainingAttempts: 2,
    });
    assert.deepEqual(await checkPassword(ctx, login('x', undefined, 'Mallory '), POLICY), {
      ok: false,
      reason: 'invalid',
      remainingAttempts: 1,
    });
    const third = await checkPassword(ctx, login('x', undefined, 'mallory'), POLICY);
    assert.equal(!third.ok && third.reason, 'locked');
  });

  it('accepts the current TOTP code once, refuses it again, and a full login clears the failures', async () => {
    const { ctx, clock } = await setup();
    await checkPassword(ctx, login('wrong'), POLICY);
    const code = totpCode(SECRET, clock.now());
    assert.deepEqual(await checkTotp(ctx, 'cust-1', '000000' === code ? '111111' : '000000', POLICY), {
      ok: false,
      reason: 'invalid',
      remainingAttempts: 1,
    });
    assert.deepEqual(await checkTotp(ctx, 'cust-1', code, POLICY), { ok: true });
    assert.deepEqual(await checkTotp(ctx, 'cust-1', code, POLICY), { ok: false, reason: 'reused' });
    // The previous step's code is older than the one used: refused as a replay too.
    assert.deepEqual(
      await checkTotp(ctx, 'cust-1', totpCode(SECRET, new Date(clock.now().getTime() - 30_000)), POLICY),
      {
        ok: false,
        reason: 'reused',
      },
    );
    // Failures were cleared by the full login.
    assert.deepEqual(await checkPassword(ctx, login('wrong'), POLICY), {
      ok: false,
      reason: 'invalid',
      remainingAttempts: 2,
    });
    clock.advance(30_000);
    assert.deepEqual(await checkTotp(ctx, 'cust-1', totpCode(SECRET, clock.now()), POLICY), { ok: true });
  });

  it('lets only one of two concurrent submissions of the same code through', async () => {
    const { ctx, clock } = await setup();
    const code = totpCode(SECRET, clock.now());
    const results = await Promise.all([
      checkTotp(ctx, 'cust-1', code, POLICY),
      checkTotp(ctx, 'cust-1', code, POLICY),
    ]);
    assert.equal(results.filter((r) => r.ok).length, 1);
  });

  it('locks after wrong codes (shared counter with the password) and unlocks on request', async () => {
    const { ctx, clock } = await setup();
    const wrong = totpCode(SECRET, clock.now()) === '123456' ? '654321' : '123456';
    await checkPassword(ctx, login('wrong'), POLICY);
    assert.deepEqual(await checkTotp(ctx, 'cust-1', wrong, POLICY), {
      ok: false,
      reason: 'invalid',
      remainingAttempts: 1,
    });
    const locked = await checkTotp(ctx, 'cust-1', wrong, POLICY);
    assert.equal(!locked.ok && locked.reason, 'locked');
    const right = await checkTotp(ctx, 'cust-1', totpCode(SECRET, clock.now()), POLICY);
    assert.equal(!right.ok && right.reason, 'locked', 'the right code is refused while locked');
    await unlockCredentials(ctx, 'cust-1');
    assert.deepEqual(await checkTotp(ctx, 'cust-1', totpCode(SECRET, clock.now()), POLICY), { ok: true });
  });

  it('seeds documented sandbox credentials that log in, and keeps existing ones unless reset', async () => {
    const { ctx, clock } = await setup();
    const known = sandboxCredentialsFor('alice');
    assert.equal(known.password, 'sandbox-alice');
    assert.match(known.totpSecret, /^[A-Z2-7]{32}$/);
    assert.deepEqual(sandboxCredentialsFor('alice'), known, 'deterministic');
    assert.notEqual(sandboxCredentialsFor('bob').totpSecret, known.totpSecret);
    const seeded = await seedCredentials(ctx, [
      { id: 'cust-1', username: 'alice' },
      { id: 'cust-2', username: 'bob' },
    ]);
    assert.deepEqual(
      seeded.map((s) => s.id),
      ['cust-2'],
      'cust-1 already had credentials',
    );
    const bob = sandboxCredentialsFor('bob');
    assert.deepEqual(await checkPassword(ctx, login(bob.password, 'cust-2', 'bob')), { ok: true });
    assert.deepEqual(await checkTotp(ctx, 'cust-2', totpCode(bob.totpSecret, clock.now())), { ok: true });
    await seedCredentials(ctx, [{ id: 'cust-1', username: 'alice' }], { reset: true });
    assert.deepEqual(await checkPassword(ctx, login('sandbox-alice')), { ok: true });
    assert.match(
      totpUri(bob.totpSecret, 'bob'),
      /^otpauth:\/\/totp\/obkit%20bank:bob\?secret=[A-Z2-7]{32}&issuer=obkit\+bank/,
    );
  });
});
