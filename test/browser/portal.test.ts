import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import QRCode from 'qrcode';
import { sandboxCredentialsFor, totpUri } from '../../src/consent/index.ts';
import { selectParts } from '../../src/server/parts.ts';
import { artefactPath, browserSkip, launchBrowser, newContext } from '../support/browser.ts';
import { runCli } from '../support/cli.ts';
import { startSandbox } from '../support/journey.ts';
import { call, httpsClient, startTestPlatform } from '../support/platform.ts';

/**
 * The sandbox's developer portal at `/` and the login help on the bank's pages, in Chromium; and that
 * neither exists outside the sandbox.
 */
describe(
  'developer portal and sandbox login help in Chromium',
  { skip: browserSkip, timeout: 300_000 },
  async () => {
    const sandbox = await startSandbox();
    const { urls } = sandbox.platform;
    const browser = await launchBrowser(urls.browser);
    const client = httpsClient([sandbox.rootPem]);

    it('shows what runs where, what discovery says the bank supports, how to onboard, and the customers', async () => {
      const discovery = (await call(client, sandbox.discoveryUrl)).body as Record<string, unknown>;
      const context = await newContext(browser);
      const page = await context.newPage();
      const response = await page.goto(`${urls.browser}/`);
      assert.equal(response?.status(), 200);
      await page.getByRole('heading', { name: 'Build against the obkit sandbox bank' }).waitFor();
      await page.screenshot({ path: artefactPath('portal.png'), fullPage: true });
      const text = await page.locator('main').innerText();

      for (const href of [
        `${urls.browser}/directory/`,
        `${urls.browser}/dashboard`,
        `${urls.browser}/bank-app`,
        // The API docs (test/browser/api-docs.test.ts).
        `${urls.browser}/docs/`,
        sandbox.discoveryUrl,
        // The Read/Write discovery document and every version's bases (v3.1.11 and v4.0).
        `${urls.mtls}/open-banking/discovery`,
        `${urls.mtls}/open-banking/v3.1/aisp`,
        `${urls.mtls}/open-banking/v3.1/pisp`,
        `${urls.mtls}/open-banking/v3.1/cbpii`,
        `${urls.mtls}/open-banking/v4.0/aisp`,
        `${urls.mtls}/open-banking/v4.0/cbpii`,
        // The event APIs live at each version's root.
        `${urls.mtls}/open-banking/v3.1`,
        `${urls.mtls}/open-banking/v4.0`,
      ]) {
        assert.equal((await page.locator(`a[href="${href}"]`).count()) > 0, true, `a link to ${href}`);
      }
      // The supported values are the discovery document's, whatever they are.
      for (const key of [
        'response_types_supported',
        'grant_types_supported',
        'scopes_supported',
        'token_endpoint_auth_methods_supported',
        'request_object_signing_alg_values_supported',
        'id_token_signing_alg_values_supported',
      ]) {
        const values = discovery[key] as string[];
        assert.ok(values.length > 0, key);
        for (const value of values) assert.ok(text.includes(value), `${key}: ${value} on the page`);
      }
      const aliases = discovery['mtls_endpoint_aliases'] as Record<string, string>;
      assert.ok(text.includes(aliases['token_endpoint']!), 'the mTLS token endpoint');
      for (const version of ['v3.1.11', 'v4.0']) {
        assert.ok(text.includes(`account information ${version}`), `${version} is named on the page`);
      }
      assert.equal(
        await page.locator('a[href$="/open-banking/v4.0/pisp"]').count(),
        1,
        'v4.0 serves domestic payments, listed once',
      );
      assert.match(text, /npx obkit tpp onboard/);
      assert.match(text, /npx obkit tpp register --bundle/);
      assert.match(text, /npx obkit sandbox totp <username>/);

      const served = (await response?.text()) ?? '';
      for (const username of ['alice', 'bob', 'carol', 'dave-ltd']) {
        const credentials = sandboxCredentialsFor(username);
        assert.ok(text.includes(credentials.password), `${username}'s password`);
        const expectedUri = totpUri(credentials.totpSecret, username, 'obkit bank');
        const uri = await page.getByLabel(`otpauth URI for ${username}`, { exact: true }).inputValue();
        assert.equal(uri, expectedUri);
        // The QR code is drawn, and it is the code of exactly this URI: the page holds the SVG the
        // library draws for it (a different URI draws different modules).
        const qr = page.getByRole('img', { name: `QR code of the otpauth URI for ${username}` });
        const box = await qr.locator('svg').boundingBox();
        assert.ok(box && box.width >= 100 && box.height >= 100, `${username}'s QR code is drawn: ${box}`);
        const expectedSvg = await QRCode.toString(expectedUri, { type: 'svg' });
        assert.ok(served.includes(expectedSvg), `${username}'s QR code encodes ${expectedUri}`);
        const otherSvg = await QRCode.toString(`${expectedUri}x`, { type: 'svg' });
        assert.ok(!served.includes(otherSvg), 'the comparison tells URIs apart');
      }
      await page
        .getByRole('img', { name: 'QR code of the otpauth URI for alice' })
        .screenshot({ path: artefactPath('portal-qr-alice.png') });
      await context.close();
    });

    it('login pages say how to log in, and the code `obkit sandbox totp` prints logs alice in', async () => {
      const context = await newContext(browser);
      const page = await context.newPage();
      await page.goto(`${urls.browser}/dashboard`);
      await page.getByRole('heading', { name: /Log in to/ }).waitFor();
      const hint = page.getByRole('note');
      assert.match(
        await hint.innerText(),
        /Sandbox: the customers are alice, bob, carol, dave-ltd; .*sandbox-alice/,
      );
      await page.screenshot({ path: artefactPath('login-sandbox-hint.png'), fullPage: true });

      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill('sandbox-alice');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'Enter your security code' }).waitFor();
      assert.match(await page.getByRole('note').innerText(), /npx obkit sandbox totp <username>/);
      await page.screenshot({ path: artefactPath('totp-sandbox-hint.png'), fullPage: true });

      const totp = await runCli(['sandbox', 'totp', 'alice'], { OBKIT_DATA_DIR: sandbox.platform.dataDir });
      assert.equal(totp.code, 0, totp.stderr);
      const [first, uri] = totp.stdout.trim().split('\n');
      const code = /^(\d{6}) {2}\(alice's code, valid for \d+ more seconds; password sandbox-alice\)$/.exec(
        first ?? '',
      )?.[1];
      assert.ok(code, totp.stdout);
      assert.equal(uri, totpUri(sandboxCredentialsFor('alice').totpSecret, 'alice', 'obkit bank'));
      await page.getByLabel('Security code').fill(code);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByText('Logged in as Alice Walker').first().waitFor();
      await context.close();
    });
  },
);

describe('outside the sandbox', { timeout: 300_000 }, async () => {
  it('there is no portal, no login hint, and `sandbox totp` refuses', async () => {
    const platform = await startTestPlatform({
      parts: selectParts(['bank', 'auth', 'consent', 'openbanking', 'portal']),
      env: { OBKIT_SANDBOX: 'false' },
    });
    const client = httpsClient(platform.tls.ca);
    const landing = await call(client, `${platform.urls.browser}/`);
    assert.equal(landing.status, 404);
    assert.doesNotMatch(landing.text, /<svg|otpauth:/);
    const login = await call(client, `${platform.urls.browser}/dashboard`);
    assert.equal(login.status, 200);
    assert.match(login.text, /Log in to/);
    assert.doesNotMatch(login.text, /[Ss]andbox/);

    const refused = await runCli(['sandbox', 'totp', 'alice'], { OBKIT_SANDBOX: 'false' });
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /`sandbox totp` exists only in the sandbox, and OBKIT_SANDBOX \(sandbox\) is false/,
    );
    assert.doesNotMatch(refused.stderr, /\n\s+at /);
    assert.equal(refused.stdout, '');
    const unknown = await runCli(['sandbox', 'totp', 'mallory']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /"mallory" is not a sandbox customer; they are alice, bob, carol, dave-ltd/);
  });
});
