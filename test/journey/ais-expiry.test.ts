import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/shared/clock.ts';
import { ALL_ACCOUNT_PERMISSIONS } from '../../src/tpp/open-banking.ts';
import { startSandbox } from '../support/journey.ts';
import { AIS_V3_1_11, assertValidResponse, validateComponent } from '../support/openapi.ts';
import { aisGet, authorise } from './ais-support.ts';

describe('Account Information: an expired consent', async () => {
  const clock = new ManualClock(new Date());
  const sandbox = await startSandbox({ clock });

  it('reads until the consent expires, then every data endpoint refuses it with an OB error', async () => {
    // The bank's clock is frozen since start-up; the TPP signs (DCR, request objects) with the real time:
    // bring them together first, or a slow start-up makes the registration look issued in the future.
    clock.set(new Date());
    const tpp = await sandbox.tpp('ais-expiry', ['AISP']);
    // Again after onboarding, which takes long on a busy machine: the request object's nbf is the real time.
    clock.set(new Date());
    const expires = new Date(clock.now().getTime() + 5 * 60_000);
    const consent = await authorise(sandbox, tpp, {
      permissions: ALL_ACCOUNT_PERMISSIONS,
      expirationDateTime: expires.toISOString(),
    });
    const before = await aisGet(tpp, consent.accessToken, '/accounts');
    assert.equal(before.status, 200, before.text);
    assertValidResponse(AIS_V3_1_11, '/accounts', 'get', 200, before.json);

    clock.advance(6 * 60_000);
    for (const path of ['/accounts', '/balances', '/transactions', '/statements']) {
      const after = await aisGet(tpp, consent.accessToken, path);
      // The token was issued to live no longer than its consent (401), and the consent is expired (403):
      // whichever check the guard reaches first refuses it.
      assert.ok(after.status === 401 || after.status === 403, `${path}: ${after.status} ${after.text}`);
      const body = validateComponent(AIS_V3_1_11, 'OBErrorResponse1', after.json);
      assert.ok(body.valid, body.errors.join('\n'));
      const code = (after.json as { Errors: { ErrorCode: string }[] }).Errors[0]?.ErrorCode;
      assert.ok(
        code === 'UK.OBIE.Header.Invalid' || code === 'UK.OBIE.Resource.InvalidConsentStatus',
        `${path}: ${after.text}`,
      );
    }
  });
});
