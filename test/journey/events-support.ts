import assert from 'node:assert/strict';
import { request } from 'undici';
import { sandboxCredentialsFor, totpCode } from '../../src/consent/index.ts';
import { CookieJar, csrfOf } from '../support/cookie-jar.ts';
import { browserClient, type Sandbox } from '../support/journey.ts';

/**
 * The customer withdraws consents in the bank's dashboard (browser listener): one login with password and
 * TOTP (a TOTP code is taken once; `now` is the bank's time), then each withdrawal confirmed.
 */
export async function withdrawInDashboard(
  sandbox: Sandbox,
  username: string,
  consentIds: string[],
  now: () => Date = () => new Date(),
) {
  const dispatcher = browserClient(sandbox);
  const jar = new CookieJar();
  let csrf = '';
  const go = async (path: string, fields?: Record<string, string>) => {
    const response = await request(`${sandbox.platform.urls.browser}${path}`, {
      dispatcher,
      method: fields ? 'POST' : 'GET',
      headers: {
        cookie: jar.header(),
        ...(fields ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(fields ? { body: new URLSearchParams({ csrf, ...fields }).toString() } : {}),
    });
    jar.take(response.headers['set-cookie']);
    const body = await response.body.text();
    csrf = csrfOf(body) ?? csrf;
    return response.statusCode;
  };
  const credentials = sandboxCredentialsFor(username);
  await go('/dashboard');
  assert.equal(await go('/dashboard/login', { username, password: credentials.password }), 303);
  await go('/dashboard');
  assert.equal(await go('/dashboard/totp', { code: totpCode(credentials.totpSecret, now()) }), 303);
  for (const consentId of consentIds) {
    await go(`/dashboard/consents/${consentId}/revoke`);
    assert.equal(await go(`/dashboard/consents/${consentId}/revoke`, {}), 303, 'withdrawn');
  }
}
