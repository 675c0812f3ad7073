import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { totpCode } from '../../src/consent/totp.ts';
import { addOperator, sandboxOperator } from '../../src/operator/index.ts';
import { aisGet, authorise } from '../journey/ais-support.ts';
import { artefactPath, browserSkip, launchBrowser, newContext, SteppingClock } from '../support/browser.ts';
import { startSandbox } from '../support/journey.ts';
import { call, httpsClient } from '../support/platform.ts';

/**
 * Issue 17's must-show, in Chromium against the whole sandbox: the seeded admin logs in with its TOTP
 * code, finds a TPP and suspends it (the TPP's next API call, over mutual TLS, is refused), reinstates it
 * (served again), finds a customer's consent and revokes it (the TPP's token dies), and reads all of it in
 * the audit log; an auditor sees no button and a forged POST is refused; no operator route is served on
 * the customer or TPP listeners.
 */
describe('operator console in Chromium', { skip: browserSkip, timeout: 300_000 }, async () => {
  const clock = new SteppingClock();
  const sandbox = await startSandbox({ clock });
  const { urls } = sandbox.platform;
  const browser: Browser = await launchBrowser(urls.operator);
  const tpp = await sandbox.tpp('console-watched', ['AISP']);
  const orgId = tpp.bundle.summary.organisation.id;
  const consent = await authorise(sandbox, tpp, { permissions: ['ReadAccountsBasic'], username: 'bob' });
  const auditor = await addOperator(sandbox.platform.store.db, clock, { name: 'audrey', role: 'auditor' });

  async function logIn(page: Page, login: { name: string; password: string; totpSecret: string }) {
    await page.goto(`${urls.operator}/console`);
    await page.getByLabel('Operator name').fill(login.name);
    await page.getByLabel('Password').fill(login.password);
    clock.advance(30_000);
    await page.getByLabel('Authenticator code').fill(totpCode(login.totpSecret, clock.now()));
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'TPPs' }).waitFor();
  }

  it('an admin suspends a TPP (its next API call is refused), reinstates it, revokes a consent, and reads the audit log', async () => {
    assert.equal((await aisGet(tpp, consent.accessToken, '/accounts')).status, 200);
    const page = await (await newContext(browser)).newPage();
    await logIn(page, sandboxOperator());
    await page.screenshot({ path: artefactPath('operator-tpps.png'), fullPage: true });

    await page.getByLabel('Organisation, name or client id').fill(tpp.bundle.summary.organisation.name);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: tpp.bundle.summary.organisation.name }).click();
    await page.getByText(tpp.clientId).waitFor();
    await page.getByLabel('Reason').fill('fraud reported by a customer');
    await page.getByRole('button', { name: 'Suspend' }).click();
    await page.locator('#bank-status', { hasText: 'Suspended' }).waitFor();
    await page.screenshot({ path: artefactPath('operator-tpp-suspended.png'), fullPage: true });

    const refused = await aisGet(tpp, consent.accessToken, '/accounts');
    assert.equal(refused.status, 403, refused.text);
    assert.match(refused.text, /suspended by the bank: fraud reported by a customer/);

    await page.getByRole('button', { name: 'Reinstate' }).click();
    await page.locator('#bank-status', { hasText: 'Served' }).waitFor();
    assert.equal((await aisGet(tpp, consent.accessToken, '/accounts')).status, 200);

    await page.getByRole('link', { name: 'Consents' }).click();
    await page.getByLabel('Customer').fill('bob');
    await page.getByLabel('Kind').selectOption('account-access');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: consent.consentId }).click();
    await page.locator('#consent-status', { hasText: 'Authorised' }).waitFor();
    await page.getByLabel('Reason').fill('customer called: lost phone');
    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.locator('#consent-status', { hasText: 'Revoked' }).waitFor();
    await page.screenshot({ path: artefactPath('operator-consent-revoked.png'), fullPage: true });
    const afterRevocation = await aisGet(tpp, consent.accessToken, '/accounts');
    assert.equal(afterRevocation.status, 401, afterRevocation.text);

    await page.getByRole('link', { name: 'Audit log' }).click();
    const log = await page.locator('#audit').innerText();
    await page.screenshot({ path: artefactPath('operator-audit-log.png'), fullPage: true });
    for (const expected of [
      /operator:admin\s+operator\.login/,
      new RegExp(`client:${tpp.clientId}\\s+registration\\.registered\\s+org:${orgId}`),
      new RegExp(`operator:admin\\s+participant\\.suspended\\s+org:${orgId}`),
      new RegExp(`operator:admin\\s+participant\\.reinstated\\s+org:${orgId}`),
      new RegExp(`operator:admin\\s+consent\\.revoked\\s+consent:${consent.consentId}`),
      new RegExp(`system\\s+consent\\.revoked\\s+consent:${consent.consentId}`),
      new RegExp(`consent\\.authorised\\s+consent:${consent.consentId}`),
    ]) {
      assert.match(log, expected);
    }
  });

  it('an auditor reads but has no button to act, and a forged POST is refused 403', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await logIn(page, auditor);
    await page.goto(`${urls.operator}/console/tpps/${encodeURIComponent(orgId)}`);
    await page.getByText(tpp.clientId).waitFor();
    assert.equal(await page.getByRole('button', { name: /Suspend|Reinstate/ }).count(), 0);
    await page.goto(`${urls.operator}/console/consents/${encodeURIComponent(consent.consentId)}`);
    await page.locator('#consent-status').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Revoke' }).count(), 0);
    await page.screenshot({ path: artefactPath('operator-auditor.png'), fullPage: true });

    // A forged form: the auditor's own session and a valid CSRF token (taken from the logout form).
    const csrf = await page.locator('nav input[name=csrf]').getAttribute('value');
    // The page allows no script of its own and no fetch (CSP): the forged form is built in the page and sent.
    const action = `/console/tpps/${encodeURIComponent(orgId)}/suspend`;
    const answered = page.waitForResponse((response) => response.url().endsWith(action));
    await page.evaluate(`(() => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = ${JSON.stringify(action)};
      for (const [name, value] of [['csrf', ${JSON.stringify(csrf ?? '')}], ['reason', 'forged']]) {
        const input = document.createElement('input');
        input.type = 'hidden';
        input.name = name;
        input.value = value;
        form.append(input);
      }
      document.body.append(form);
      form.submit();
    })()`);
    const forged = (await answered).status();
    // The refusal page must have replaced the form's document before the next goto, or Chromium aborts that goto.
    await page.waitForURL((url) => url.pathname === action);
    assert.equal(forged, 403);
    const log = await call(httpsClient([sandbox.rootPem]), `${urls.operator}/console/audit`);
    assert.equal(log.status, 303, 'no session: sent to the login');
    const refusal = await sandbox.platform.store.db.execute(
      sql`select count(*)::int as n from audit_log where actor = 'operator:audrey' and action = 'operator.refused'`,
    );
    assert.equal(
      (refusal as unknown as { rows: { n: number }[] }).rows[0]?.n,
      1,
      'the refusal is in the audit log',
    );
    const tppPage = await page.goto(`${urls.operator}/console/tpps/${encodeURIComponent(orgId)}`);
    assert.equal(tppPage?.status(), 200);
    assert.match(await page.locator('#bank-status').innerText(), /Served/);
  });

  it('the customer and TPP listeners serve no operator route', async () => {
    const identity = {
      certificatePem: tpp.bundle.transportCertificatePem,
      privateKeyPem: tpp.bundle.transportKeyPem,
    };
    const customer = httpsClient([sandbox.rootPem]);
    const tppAgent = httpsClient([sandbox.rootPem], identity);
    for (const path of [
      '/console',
      '/console/login',
      '/console/tpps',
      '/console/audit',
      '/console/assets/console.css',
    ]) {
      assert.equal((await call(customer, `${urls.browser}${path}`)).status, 404, `browser ${path}`);
      assert.equal((await call(tppAgent, `${urls.mtls}${path}`)).status, 404, `mtls ${path}`);
    }
    const post = await call(customer, `${urls.browser}/console/login`, {
      method: 'POST',
      body: 'name=admin',
    });
    assert.equal(post.status, 404);
  });
});
