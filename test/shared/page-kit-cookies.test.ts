import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expiredCookie, sessionCookie } from '../../src/shared/page-kit/index.ts';

/**
 * page-kit's session cookie lines, byte for byte: the default (SameSite=Lax) is what the consent app's
 * callers (interaction/scope.ts, cookie-session.ts) have always sent; `sameSite: 'Strict'` is what the
 * operator console wrote by hand before it used these helpers.
 */
describe('page-kit session cookies', () => {
  it('keeps the default lines byte-identical (Lax), with or without an empty options object', () => {
    const lax = 'obkit-consent=tok; Path=/consent/abc; Max-Age=600; Secure; HttpOnly; SameSite=Lax';
    assert.equal(sessionCookie('obkit-consent', '/consent/abc', 'tok', 600), lax);
    assert.equal(sessionCookie('obkit-consent', '/consent/abc', 'tok', 600, {}), lax);
    const gone = 'obkit-consent=; Path=/consent/abc; Max-Age=0; Secure; HttpOnly; SameSite=Lax';
    assert.equal(expiredCookie('obkit-consent', '/consent/abc'), gone);
    assert.equal(expiredCookie('obkit-consent', '/consent/abc', { sameSite: 'Lax' }), gone);
  });

  it('writes SameSite=Strict when asked: the operator console lines as it wrote them by hand', () => {
    assert.equal(
      sessionCookie('__Host-obkit-operator', '/', 'tok', 28_800, { sameSite: 'Strict' }),
      '__Host-obkit-operator=tok; Path=/; Max-Age=28800; Secure; HttpOnly; SameSite=Strict',
    );
    assert.equal(
      expiredCookie('__Host-obkit-operator', '/', { sameSite: 'Strict' }),
      '__Host-obkit-operator=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict',
    );
  });
});
