import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import {
  clientCredentialsToken,
  completeAuthorization,
  startAuthorization,
  type PendingAuthorization,
} from '../../src/tpp/authorization.ts';
import { apiBaseOf, callApi, createAccountAccessConsent } from '../../src/tpp/open-banking.ts';
import {
  artefactPath,
  browserSkip,
  captureRedirect,
  launchBrowser,
  newContext,
  sandboxLogin,
  SteppingClock,
} from '../support/browser.ts';
import { startSandbox, type Tpp } from '../support/journey.ts';

/** Evaluates an expression in the page (a string: this project compiles without the DOM library). */
async function inPage<T>(page: Page, expression: string): Promise<T> {
  return (await page.evaluate(expression)) as T;
}

/**
 * The customer's side in a real browser (Debian's Chromium, headless): from the TPP's authorisation URL
 * through login, TOTP, account selection and approval back to the redirect URI; the reject path; the
 * dashboard withdrawal; keyboard-only operation and a phone-sized screen.
 */
describe('consent journey in Chromium', { skip: browserSkip, timeout: 240_000 }, async () => {
  const clock = new SteppingClock();
  const sandbox = await startSandbox({ clock });
  const browser = await launchBrowser(sandbox.platform.urls.browser);

  async function stagedAuthorization(tpp: Tpp) {
    const clientToken = await clientCredentialsToken(tpp.bank, 'accounts');
    const consent = await createAccountAccessConsent(tpp.bank, clientToken.access_token);
    const pending = await startAuthorization(tpp.bank, {
      intentId: consent.ConsentId,
      scope: 'accounts',
      redirectUri: tpp.redirectUri,
    });
    return { clientToken: clientToken.access_token, consentId: consent.ConsentId, pending };
  }

  /** Login and TOTP pages, by mouse-free form filling (labels located as a screen reader would). */
  async function logIn(page: Page, username: string) {
    const login = sandboxLogin(clock, username);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(login.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Enter your security code' }).waitFor();
    await page.getByLabel('Security code').fill(login.code());
    await page.getByRole('button', { name: 'Log in' }).click();
  }

  async function readConsent(tpp: Tpp, clientToken: string, consentId: string) {
    const read = await callApi(
      tpp.bank,
      clientToken,
      `${apiBaseOf(tpp.bank)}/aisp/account-access-consents/${consentId}`,
    );
    assert.equal(read.status, 200, read.text);
    return (read.json as { Data: { Status: string } }).Data.Status;
  }

  async function approveInBrowser(
    tpp: Tpp,
    pending: PendingAuthorization,
    username: string,
    screenshot?: string,
  ) {
    const context = await newContext(browser);
    const page = await context.newPage();
    const back = captureRedirect(page, tpp.redirectUri);
    await page.goto(pending.url.href);
    await page.getByRole('heading', { name: /Log in to/ }).waitFor();
    await logIn(page, username);
    await page.getByRole('button', { name: 'Approve' }).waitFor();
    if (screenshot) await page.screenshot({ path: artefactPath(screenshot), fullPage: true });
    const boxes = page.getByRole('checkbox');
    assert.ok((await boxes.count()) > 0, 'the consent page lists accounts to choose');
    await boxes.first().check();
    await page.getByRole('button', { name: 'Approve' }).click();
    const url = await back.url;
    await context.close();
    return url;
  }

  it('redirect journey: authorise URL → login → TOTP → accounts → approve → redirect URI → token', async () => {
    const tpp = await sandbox.tpp('browser-journey', ['AISP']);
    const { pending, consentId, clientToken } = await stagedAuthorization(tpp);

    const context = await newContext(browser);
    const page = await context.newPage();
    const back = captureRedirect(page, tpp.redirectUri);
    await page.goto(pending.url.href);
    await page.getByRole('heading', { name: 'Log in to obkit bank' }).waitFor();
    assert.match(await page.locator('.tpp').innerText(), /Requested by browser-journey/);
    await logIn(page, 'alice');

    // The consent page: the intent in plain words, the TPP's name, accounts with balances.
    await page.getByRole('button', { name: 'Approve' }).waitFor();
    const text = await page.locator('main').innerText();
    assert.match(text, /browser-journey/);
    assert.match(text, /Balance £/);
    await page.screenshot({ path: artefactPath('consent-page.png'), fullPage: true });
    const accounts = page.getByRole('checkbox');
    assert.ok((await accounts.count()) >= 1);
    for (const box of await accounts.all()) await box.check();
    await page.getByRole('button', { name: 'Approve' }).click();

    const redirected = await back.url;
    assert.ok(redirected.hash.includes('code='), `the response is in the fragment: ${redirected.href}`);
    await context.close();

    const tokens = await completeAuthorization(tpp.bank, pending, redirected);
    assert.equal(tokens.claims()?.['openbanking_intent_id'], consentId);
    const introspection = await oidc.tokenIntrospection(tpp.bank.config, tokens.access_token);
    assert.equal(introspection.active, true);
    assert.equal(await readConsent(tpp, clientToken, consentId), 'Authorised');
  });

  it('reject path: the PSU rejects → access_denied at the redirect URI, consent Rejected', async () => {
    const tpp = await sandbox.tpp('browser-reject', ['AISP']);
    const { pending, consentId, clientToken } = await stagedAuthorization(tpp);
    const context = await newContext(browser);
    const page = await context.newPage();
    const back = captureRedirect(page, tpp.redirectUri);
    await page.goto(pending.url.href);
    await logIn(page, 'bob');
    await page.getByRole('button', { name: 'Reject' }).click();
    const redirected = await back.url;
    await context.close();
    const response = new URLSearchParams(redirected.hash.slice(1) || redirected.search.slice(1));
    assert.equal(response.get('error'), 'access_denied');
    await assert.rejects(
      completeAuthorization(tpp.bank, pending, redirected),
      (error: Error & { error?: string }) => error.error === 'access_denied',
    );
    assert.equal(await readConsent(tpp, clientToken, consentId), 'Rejected');
  });

  it('dashboard withdraw with confirmation: the consent stays Authorised (v3.1.11 access revocation), the token inactive and refused', async () => {
    const tpp = await sandbox.tpp('browser-withdraw', ['AISP']);
    const { pending, consentId, clientToken } = await stagedAuthorization(tpp);
    const tokens = await completeAuthorization(
      tpp.bank,
      pending,
      await approveInBrowser(tpp, pending, 'carol'),
    );
    const accountsUrl = `${apiBaseOf(tpp.bank)}/aisp/accounts`;
    const before = await callApi(tpp.bank, tokens.access_token, accountsUrl);

    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${sandbox.platform.urls.browser}/dashboard`);
    await logIn(page, 'carol');
    await page.getByRole('heading', { name: 'Your connected apps' }).waitFor();
    const section = page.getByRole('region', { name: 'browser-withdraw' });
    assert.match(await section.innerText(), /Active/);
    await page.screenshot({ path: artefactPath('dashboard.png'), fullPage: true });
    await section.getByRole('link', { name: /Details, history and withdrawal/ }).click();
    await page.getByRole('link', { name: 'Withdraw access' }).click();
    // The confirmation: nothing is withdrawn until the PSU says yes.
    await page.getByRole('heading', { name: /Withdraw browser-withdraw.s access\?/ }).waitFor();
    assert.equal(await readConsent(tpp, clientToken, consentId), 'Authorised');
    await page.getByRole('button', { name: 'Yes, withdraw access' }).click();
    await page.getByRole('status').waitFor();
    assert.match(await page.getByRole('status').innerText(), /withdrawn browser-withdraw/);
    await context.close();

    // "The status of the account-access-consent must remain unchanged" (v3.1.11 Access Revocation).
    assert.equal(await readConsent(tpp, clientToken, consentId), 'Authorised');
    const introspection = await oidc.tokenIntrospection(tpp.bank.config, tokens.access_token);
    assert.equal(introspection.active, false);
    // The AIS data endpoint answered the token before; after the withdrawal the token itself is gone
    // (withdrawing access deletes every token resting on it), so the API refuses it as invalid: 401.
    assert.equal(before.status, 200, before.text);
    const after = await callApi(tpp.bank, tokens.access_token, accountsUrl);
    assert.equal(after.status, 401, `GET /accounts after withdrawal: ${after.status} ${after.text}`);
    assert.match(after.text, /invalid, expired or revoked/);
  });

  it('SCA failure: a wrong security code is announced with the attempts left, then the right one continues', async () => {
    const tpp = await sandbox.tpp('browser-wrong-code', ['AISP']);
    const { pending } = await stagedAuthorization(tpp);
    const context = await newContext(browser);
    const page = await context.newPage();
    const back = captureRedirect(page, tpp.redirectUri);
    await page.goto(pending.url.href);
    const login = sandboxLogin(clock, 'bob');
    await page.getByLabel('Username').fill('bob');
    await page.getByLabel('Password').fill(login.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    const right = login.code();
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    await page.getByLabel('Security code').fill(wrong);
    await page.getByRole('button', { name: 'Log in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /That security code is wrong\. You have 4 attempts left/);
    await page.screenshot({ path: artefactPath('consent-wrong-code.png'), fullPage: true });
    await page.getByLabel('Security code').fill(right);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Reject' }).click();
    const redirected = await back.url;
    await context.close();
    assert.match(redirected.hash, /error=access_denied/);
  });

  it('keyboard only: Tab/Space/Enter reach Approve with a visible focus style', async () => {
    const tpp = await sandbox.tpp('browser-keyboard', ['AISP']);
    const { pending } = await stagedAuthorization(tpp);
    const context = await newContext(browser);
    const page = await context.newPage();
    const back = captureRedirect(page, tpp.redirectUri);
    await page.goto(pending.url.href);
    const login = sandboxLogin(clock, 'dave-ltd');

    /** Presses Tab until the focused element matches, at most `limit` times. */
    async function tabTo(describe: string, matches: () => Promise<boolean>, limit = 15) {
      for (let i = 0; i < limit; i += 1) {
        await page.keyboard.press('Tab');
        if (await matches()) return;
      }
      assert.fail(`Tab never reached ${describe}`);
    }
    const focused = (selector: string) => () =>
      inPage<boolean>(page, `document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`);

    await tabTo('the username field', focused('#username'));
    // The focused control shows a visible focus indicator (outline or box-shadow from :focus-visible).
    const style = await inPage<{ focusVisible: boolean; outline: string; shadow: string }>(
      page,
      `(() => {
        const element = document.activeElement;
        const computed = getComputedStyle(element);
        return {
          focusVisible: element.matches(':focus-visible'),
          outline: computed.outlineStyle + ' ' + computed.outlineWidth,
          shadow: computed.boxShadow,
        };
      })()`,
    );
    assert.equal(style.focusVisible, true);
    assert.ok(
      (!style.outline.startsWith('none') && !style.outline.endsWith(' 0px')) || style.shadow !== 'none',
      `a visible focus style: outline ${style.outline}, box-shadow ${style.shadow}`,
    );
    await page.keyboard.type('dave-ltd');
    await page.keyboard.press('Tab');
    assert.ok(await focused('#password')());
    await page.keyboard.type(login.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Enter your security code' }).waitFor();
    await tabTo('the security code field', focused('#code'));
    await page.keyboard.type(login.code());
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Approve' }).waitFor();

    // Each account by Tab and Space, then Tab on to Approve and Enter.
    const boxes = await page.getByRole('checkbox').count();
    for (let index = 0; index < boxes; index += 1) {
      await tabTo(`account ${index + 1}`, focused(`.account:nth-of-type(${index + 1}) input`));
      if (!(await inPage<boolean>(page, 'document.activeElement.checked'))) {
        await page.keyboard.press('Space');
      }
    }
    await tabTo('Approve', focused('button[value="approve"]'));
    await page.keyboard.press('Enter');
    const redirected = await back.url;
    await context.close();
    const tokens = await completeAuthorization(tpp.bank, pending, redirected);
    assert.ok(tokens.access_token);
  });

  it('a phone-sized screen (375×667): the journey completes with nothing wider than the screen', async () => {
    const tpp = await sandbox.tpp('browser-phone', ['AISP']);
    const { pending } = await stagedAuthorization(tpp);
    const context = await newContext(browser, { viewport: { width: 375, height: 667 } });
    const page = await context.newPage();
    const back = captureRedirect(page, tpp.redirectUri);
    await page.goto(pending.url.href);
    await logIn(page, 'alice');
    await page.getByRole('button', { name: 'Approve' }).waitFor();
    const widths = await inPage<{ document: number; viewport: number }>(
      page,
      '({ document: document.documentElement.scrollWidth, viewport: window.innerWidth })',
    );
    assert.ok(widths.document <= widths.viewport, `no horizontal scrolling: ${JSON.stringify(widths)}`);
    const approve = await page.getByRole('button', { name: 'Approve' }).boundingBox();
    assert.ok(approve && approve.height >= 44, 'a touch-sized Approve button');
    await page.screenshot({ path: artefactPath('consent-page-375.png'), fullPage: true });
    await page.getByRole('checkbox').first().check();
    await page.getByRole('button', { name: 'Approve' }).tap();
    const redirected = await back.url;
    await context.close();
    const tokens = await completeAuthorization(tpp.bank, pending, redirected);
    assert.ok(tokens.access_token);
  });
});
