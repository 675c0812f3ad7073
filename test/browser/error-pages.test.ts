import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SignJWT, generateKeyPair } from 'jose';
import type { Page } from 'playwright-core';
import { selectParts } from '../../src/server/parts.ts';
import { readBundle } from '../../src/tpp/bundle.ts';
import { onboard } from '../../src/tpp/onboard.ts';
import { registerAtBank } from '../../src/tpp/register.ts';
import { artefactPath, browserSkip, launchBrowser, newContext } from '../support/browser.ts';
import { startTestPlatform } from '../support/platform.ts';

/** Evaluates an expression in the page (a string: this project compiles without the DOM library). */
async function inPage<T>(page: Page, expression: string): Promise<T> {
  return (await page.evaluate(expression)) as T;
}

/**
 * The error pages a person sees, in a real browser (Debian's Chromium, headless): a TPP's authorization
 * request whose request object fails verification stays on the bank's page (no redirect, no state), and an
 * interaction that is no longer live; both styled by the consent app's stylesheet, with the reference.
 */
describe('error pages in Chromium', { skip: browserSkip, timeout: 240_000 }, async () => {
  const platform = await startTestPlatform({ parts: selectParts(['directory', 'auth', 'consent']) });
  const rootPem = readFileSync(join(platform.dataDir, 'pki', 'root-ca.pem'), 'utf8');
  const outDir = join(mkdtempSync(join(tmpdir(), 'obkit-tpp-')), 'errors-tpp');
  const redirectUri = 'https://errors-tpp.example/callback';
  await onboard({
    directoryUrl: platform.urls.browser,
    organisationName: 'Errors TPP',
    clientName: 'Errors TPP',
    roles: ['AISP'],
    redirectUris: [redirectUri],
    certificateProfile: 'obie',
    outDir,
    trust: [rootPem],
  });
  const { clientId } = await registerAtBank(readBundle(outDir), {
    discoveryUrl: `${platform.urls.browser}/.well-known/openid-configuration`,
    trust: [rootPem],
  });
  const browser = await launchBrowser(platform.urls.browser);

  /** Opens the URL in a fresh context; returns the page, its response and every redirect it was sent. */
  async function open(url: string, viewport?: { width: number; height: number }) {
    const context = await newContext(browser, viewport ? { viewport } : {});
    const page = await context.newPage();
    const redirects: string[] = [];
    page.on('response', (response) => {
      const location = response.headers()['location'];
      if (response.status() >= 300 && response.status() < 400 && location) redirects.push(location);
    });
    const response = await page.goto(url);
    assert.ok(response, 'the page loaded');
    return { context, page, response, redirects };
  }

  async function assertStyledWithReference(page: Page, interactionId: string | undefined) {
    assert.equal(await page.locator('#reference').textContent(), interactionId);
    // The consent app's stylesheet applies (the page's CSP lets it load).
    assert.equal(
      await inPage<string>(page, "getComputedStyle(document.querySelector('header')).backgroundColor"),
      'rgb(11, 61, 145)',
    );
    assert.equal(await inPage<string>(page, 'document.documentElement.lang'), 'en');
  }

  it('a request object signed with a key the TPP does not hold: the page, never a redirect, no state', async () => {
    const { privateKey } = await generateKeyPair('PS256');
    const state = `state-${randomBytes(12).toString('hex')}`;
    const now = Math.floor(Date.now() / 1000);
    const requestObject = await new SignJWT({
      iss: clientId,
      aud: platform.urls.browser,
      client_id: clientId,
      response_type: 'code id_token',
      redirect_uri: redirectUri,
      scope: 'openid accounts',
      state,
      nonce: randomUUID(),
      nbf: now,
      exp: now + 300,
      claims: { id_token: { openbanking_intent_id: { value: 'aac-1', essential: true } } },
    })
      .setProtectedHeader({ alg: 'PS256', kid: 'not-the-tpps-key', typ: 'oauth-authz-req+jwt' })
      .sign(privateKey);
    const query = new URLSearchParams({
      client_id: clientId,
      response_type: 'code id_token',
      scope: 'openid accounts',
      redirect_uri: redirectUri,
      state,
      request: requestObject,
    });
    const { context, page, response, redirects } = await open(`${platform.urls.browser}/authorize?${query}`);
    assert.equal(response.status(), 400);
    assert.deepEqual(redirects, [], 'never redirected');
    await page.getByRole('heading', { level: 1, name: 'The app sent a request we cannot accept' }).waitFor();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /could not verify/);
    assert.equal(await page.locator('#error-code').textContent(), 'invalid_request_object');
    await assertStyledWithReference(page, response.headers()['x-fapi-interaction-id']);
    assert.ok(!(await page.content()).includes(state), 'the unverified state is not on the page');
    await page.screenshot({
      path: artefactPath('authorize-error-unverified-request-object.png'),
      fullPage: true,
    });
    await context.close();
  });

  it('an interaction that is no longer live, on a phone-sized screen', async () => {
    const { context, page, response } = await open(
      `${platform.urls.browser}/interaction/${randomBytes(16).toString('base64url')}`,
      { width: 375, height: 667 },
    );
    assert.equal(response.status(), 400);
    await page.getByRole('heading', { level: 1, name: 'This page has expired' }).waitFor();
    await assertStyledWithReference(page, response.headers()['x-fapi-interaction-id']);
    await page.screenshot({ path: artefactPath('interaction-error-expired-phone.png'), fullPage: true });
    await context.close();
  });
});
