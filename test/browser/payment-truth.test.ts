import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { sandboxCredentialsFor, totpCode } from '../../src/consent/index.ts';
import { artefactPath, browserSkip, CHROMIUM, newContext } from '../support/browser.ts';
import { paymentTruthWorld, startInteraction } from '../consent/payment-truth-world.ts';

/**
 * What the customer sees, in Chromium: the dashboard with a rejected payment (Rejected, with the reason)
 * and the international payment consent page with the exchange rate and charges quoted to the TPP.
 * Screenshots: test-results/dashboard-rejected-payment.png, dashboard-rejected-payment-details.png,
 * consent-international-quote.png.
 */
describe('what the customer is told, in Chromium', { skip: browserSkip, timeout: 240_000 }, async () => {
  const w = await paymentTruthWorld();
  // Plain HTTP on localhost, which Chromium treats as a secure context (the pages' cookies are Secure).
  const address = await w.app.listen({ host: '127.0.0.1', port: 0 });
  after(() => w.app.close());
  const base = address.replace('127.0.0.1', 'localhost');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 20_000,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  after(() => browser.close());

  async function logIn(page: Page) {
    const credentials = sandboxCredentialsFor(w.username);
    await page.getByLabel('Username').fill(w.username);
    await page.getByLabel('Password').fill(credentials.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Enter your security code' }).waitFor();
    w.h.clock.advance(30_000);
    await page.getByLabel('Security code').fill(totpCode(credentials.totpSecret, w.h.clock.now()));
    await page.getByRole('button', { name: 'Log in' }).click();
  }

  it('the dashboard shows the rejected £5,000 payment as Rejected, with the reason', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${base}/dashboard`);
    await logIn(page);
    await page.getByRole('heading', { name: 'Your connected apps' }).waitFor();
    const card = page.locator('li.consent', {
      has: page.locator(`a[href="/dashboard/consents/${w.ids.rejected}"]`),
    });
    assert.equal(await card.locator('.state').innerText(), 'Rejected');
    assert.match(
      await card.innerText(),
      /£5,000\.00 rejected on 2 March 2026 at 10:00 \(UK time\): Insufficient funds/,
    );
    assert.doesNotMatch(await page.locator('main').innerText(), /Completed/);
    await page.screenshot({ path: artefactPath('dashboard-rejected-payment.png'), fullPage: true });

    await card.getByRole('link', { name: 'Details and history' }).click();
    await page.getByRole('heading', { name: 'Payments', exact: true }).waitFor();
    const table = await page.getByRole('table', { name: /What the bank did with each payment/ }).innerText();
    assert.match(table, /£5,000\.00\s+Rejected: Insufficient funds/);
    const history = await page.getByRole('table', { name: /Newest first/ }).innerText();
    assert.match(history, /Payment of £5,000\.00 rejected on .*: Insufficient funds/);
    await page.screenshot({ path: artefactPath('dashboard-rejected-payment-details.png'), fullPage: true });
    await context.close();
  });

  it('the international consent page shows the quoted rate and charges', async () => {
    const quote = w.quotes.international;
    const rate = quote.ExchangeRateInformation;
    assert.ok(rate && quote.Charges?.[0]);
    const { uid } = startInteraction(w, w.ids.international);
    const context = await newContext(browser);
    await context.addCookies([{ name: 'test_interaction', value: uid, url: base }]);
    const page = await context.newPage();
    await page.goto(`${base}/interaction/${uid}`);
    await logIn(page);
    // The test bridge sends the browser to the provider's resume URL (/auth/<uid>), which this app does
    // not serve; the provider would hand the browser back to the interaction, now at its consent prompt.
    await page.waitForURL(`${base}/auth/${uid}`);
    await page.goto(`${base}/interaction/${uid}`);
    await page.getByText('Acme Payments asks to make a payment of €100.00 from your account.').waitFor();
    const fact = (label: string) =>
      page.locator('dl.facts div', { has: page.locator(`dt:text-is("${label}")`) }).locator('dd');
    assert.equal(
      await fact('Exchange rate').innerText(),
      `1 ${rate.UnitCurrency} = ${String(rate.ExchangeRate)} EUR (${rate.RateType.toLowerCase()})`,
    );
    assert.equal(await fact('Charges').innerText(), '£5.00, paid by you');
    await page.screenshot({ path: artefactPath('consent-international-quote.png'), fullPage: true });
    await context.close();
  });
});
