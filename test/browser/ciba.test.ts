import assert from 'node:assert/strict';
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { request as undiciRequest } from 'undici';
import { issueServerCertificate, loadOrCreateSandboxAuthorities } from '../../src/pki/index.ts';
import { clientCredentialsToken } from '../../src/tpp/authorization.ts';
import {
  loginHintToken,
  pollDecoupledAuthorization,
  readPing,
  redeemDecoupledAuthorization,
  startDecoupledAuthorization,
} from '../../src/tpp/ciba.ts';
import { apiBaseOf, callApi, createAccountAccessConsent } from '../../src/tpp/open-banking.ts';
import {
  artefactPath,
  browserSkip,
  launchBrowser,
  newContext,
  sandboxLogin,
  SteppingClock,
} from '../support/browser.ts';
import { startSandbox, type Tpp } from '../support/journey.ts';

/**
 * FAPI-CIBA decoupled authorisation: the TPP's signed authentication request over mTLS, the customer's
 * approval in the bank app (a real browser), the TPP polling (poll mode) or being called (ping mode).
 */
describe(
  'CIBA decoupled authorisation with the bank app',
  { skip: browserSkip, timeout: 240_000 },
  async () => {
    const clock = new SteppingClock();
    const sandbox = await startSandbox({ clock });
    const browser = await launchBrowser(sandbox.platform.urls.browser);
    const bankApp = `${sandbox.platform.urls.browser}/bank-app`;

    // The TPP's ping endpoint: HTTPS on localhost under the sandbox CA (the bank trusts it in the sandbox).
    const authorities = await loadOrCreateSandboxAuthorities(join(sandbox.platform.dataDir, 'pki'));
    const serverCertificate = await issueServerCertificate(authorities.issuing, {
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    const pings: { authorization: string | undefined; body: unknown }[] = [];
    const pingWaiters: (() => void)[] = [];
    const receiver = createServer(
      {
        cert: `${serverCertificate.certificatePem.trim()}\n${serverCertificate.chainPem.trim()}\n`,
        key: serverCertificate.privateKeyPem,
      },
      (request, response) => {
        let text = '';
        request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        request.on('end', () => {
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          pings.push({ authorization: request.headers.authorization, body });
          response.writeHead(204).end();
          for (const wake of pingWaiters.splice(0)) wake();
        });
      },
    );
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    after(() => receiver.close());
    const receiverPort = (receiver.address() as { port: number }).port;
    const notificationEndpoint = `https://localhost:${receiverPort}/ciba/notify`;

    const pollTpp = await sandbox.tpp('ciba-poll', ['AISP'], { ciba: { deliveryMode: 'poll' } });
    const pingTpp = await sandbox.tpp('ciba-ping', ['AISP'], {
      ciba: { deliveryMode: 'ping', notificationEndpoint },
    });

    async function stage(tpp: Tpp) {
      const clientToken = (await clientCredentialsToken(tpp.bank, 'accounts')).access_token;
      const consent = await createAccountAccessConsent(tpp.bank, clientToken);
      return { clientToken, consentId: consent.ConsentId };
    }

    async function consentStatus(tpp: Tpp, clientToken: string, consentId: string): Promise<string> {
      const read = await callApi(
        tpp.bank,
        clientToken,
        `${apiBaseOf(tpp.bank)}/aisp/account-access-consents/${consentId}`,
      );
      assert.equal(read.status, 200, read.text);
      return (read.json as { Data: { Status: string } }).Data.Status;
    }

    /** Opens the bank app and logs in with the password (each approval then asks for the code). */
    async function openBankApp(username: string): Promise<{ page: Page; close: () => Promise<void> }> {
      const context = await newContext(browser);
      const page = await context.newPage();
      await page.goto(bankApp);
      await page.getByLabel('Username').fill(username);
      await page.getByLabel('Password').fill(sandboxLogin(clock, username).password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { name: 'Requests to approve' }).waitFor();
      return { page, close: () => context.close() };
    }

    /** Waits for the request to appear in the live list (no reload), opens it, and answers it. */
    async function answer(
      page: Page,
      username: string,
      tppName: string,
      decision: 'approve' | 'deny',
      expectBinding?: string,
      screenshot?: string,
    ) {
      const review = page.getByRole('link', { name: `Review request from ${tppName}` });
      await review.waitFor({ timeout: 10_000 });
      if (screenshot) await page.screenshot({ path: artefactPath('bank-app-list.png'), fullPage: true });
      await review.click();
      if (expectBinding) {
        assert.equal((await page.locator('#binding-message').innerText()).trim(), expectBinding);
      }
      if (decision === 'deny') {
        await page.getByRole('button', { name: 'Deny' }).click();
      } else {
        for (const box of await page.getByRole('checkbox').all()) await box.check();
        await page.getByLabel('Security code').fill(sandboxLogin(clock, username).code());
        if (screenshot) await page.screenshot({ path: artefactPath(screenshot), fullPage: true });
        await page.getByRole('button', { name: 'Approve' }).click();
      }
      await page.getByRole('status').waitFor();
    }

    function thumbprintOf(tpp: Tpp): string {
      return createHash('sha256')
        .update(new X509Certificate(tpp.bundle.transportCertificatePem).raw)
        .digest('base64url');
    }

    let aliceIdToken: string | undefined;

    it('poll mode: signed request with login_hint and binding_message → approved in the bank app → bound token', async () => {
      const { clientToken, consentId } = await stage(pollTpp);
      const app = await openBankApp('alice');
      // The list is live: the request appears in the already open page.
      const started = await startDecoupledAuthorization(pollTpp.bank, {
        intentId: consentId,
        scope: 'accounts',
        hint: { loginHint: 'alice' },
        bindingMessage: 'Ref 4711',
      });
      assert.ok(started.authReqId);
      assert.ok(started.expiresIn > 0 && started.expiresIn <= 600);
      const polled = pollDecoupledAuthorization(pollTpp.bank, started, { intervalSeconds: 1 });
      await answer(app.page, 'alice', 'ciba-poll', 'approve', 'Ref 4711', 'bank-app-review.png');
      await app.close();

      const tokens = await polled;
      aliceIdToken = tokens.id_token;
      assert.equal(tokens.claims()?.['openbanking_intent_id'], consentId);
      assert.equal(tokens.claims()?.['acr'], 'urn:openbanking:psd2:sca');
      const introspection = await oidc.tokenIntrospection(pollTpp.bank.config, tokens.access_token);
      assert.equal(introspection.active, true);
      assert.equal(introspection['openbanking_intent_id'], consentId);
      assert.equal((introspection.cnf as { 'x5t#S256'?: string })['x5t#S256'], thumbprintOf(pollTpp));
      assert.equal(await consentStatus(pollTpp, clientToken, consentId), 'Authorised');
      // Re-authentication is offered in the redirect flow only: the decoupled flow refuses the Authorised
      // consent as before.
      await assert.rejects(
        startDecoupledAuthorization(pollTpp.bank, {
          intentId: consentId,
          scope: 'accounts',
          hint: { loginHint: 'alice' },
        }),
        (error: Error & { error?: string; error_description?: string }) =>
          error.error === 'invalid_request' &&
          /the intent is Authorised, not AwaitingAuthorisation/.test(error.error_description ?? ''),
      );
    });

    it('ping mode: login_hint_token → approved → the bank pings the TPP → auth_req_id redeemed once', async () => {
      const { clientToken, consentId } = await stage(pingTpp);
      const notificationToken = randomBytes(24).toString('base64url');
      const app = await openBankApp('bob');
      const started = await startDecoupledAuthorization(pingTpp.bank, {
        intentId: consentId,
        scope: 'accounts',
        hint: { loginHintToken: await loginHintToken(pingTpp.bank, 'bob') },
        bindingMessage: 'Till 3',
        clientNotificationToken: notificationToken,
      });
      // Before the customer answers, a redemption is refused as pending.
      await assert.rejects(
        redeemDecoupledAuthorization(pingTpp.bank, started.authReqId),
        (error: Error & { error?: string }) => error.error === 'authorization_pending',
      );
      const pinged = new Promise<void>((resolve) => pingWaiters.push(resolve));
      await answer(app.page, 'bob', 'ciba-ping', 'approve', 'Till 3');
      await app.close();
      await pinged;
      const ping = pings.at(-1)!;
      assert.deepEqual(readPing(ping.authorization, ping.body, notificationToken), {
        authReqId: started.authReqId,
      });

      const tokens = await redeemDecoupledAuthorization(pingTpp.bank, started.authReqId);
      const introspection = await oidc.tokenIntrospection(pingTpp.bank.config, tokens.access_token);
      assert.equal(introspection.active, true);
      assert.equal(introspection['openbanking_intent_id'], consentId);
      assert.equal(await consentStatus(pingTpp, clientToken, consentId), 'Authorised');
      await assert.rejects(
        redeemDecoupledAuthorization(pingTpp.bank, started.authReqId),
        (error: Error & { error?: string }) => error.error === 'invalid_grant',
      );
    });

    it('id_token_hint: an earlier ID token names the customer for a new intent', async () => {
      assert.ok(aliceIdToken, 'the poll-mode test issued an ID token');
      const { consentId } = await stage(pollTpp);
      const started = await startDecoupledAuthorization(pollTpp.bank, {
        intentId: consentId,
        scope: 'accounts',
        hint: { idTokenHint: aliceIdToken },
      });
      const app = await openBankApp('alice');
      const polled = pollDecoupledAuthorization(pollTpp.bank, started, { intervalSeconds: 1 });
      await answer(app.page, 'alice', 'ciba-poll', 'approve');
      await app.close();
      const tokens = await polled;
      assert.equal(tokens.claims()?.['openbanking_intent_id'], consentId);
      // The same customer: the same pairwise subject for this TPP.
      assert.equal(tokens.claims()?.sub, decodeJwt(aliceIdToken).sub);
    });

    it('bank app on a 375×667 screen by keyboard only: Tab to the request, Space on accounts, Enter on Approve', async () => {
      const { consentId } = await stage(pollTpp);
      const context = await newContext(browser, { viewport: { width: 375, height: 667 } });
      const page = await context.newPage();
      const login = sandboxLogin(clock, 'dave-ltd');
      await page.goto(bankApp);
      const focusedIs = (selector: string) =>
        page.evaluate(
          `document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`,
        ) as Promise<boolean>;
      async function tabTo(what: string, selector: string) {
        for (let i = 0; i < 20; i += 1) {
          await page.keyboard.press('Tab');
          if (await focusedIs(selector)) return;
        }
        assert.fail(`Tab never reached ${what}`);
      }
      await tabTo('the username', '#username');
      await page.keyboard.type('dave-ltd');
      await page.keyboard.press('Tab');
      await page.keyboard.type(login.password);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Requests to approve' }).waitFor();
      const started = await startDecoupledAuthorization(pollTpp.bank, {
        intentId: consentId,
        scope: 'accounts',
        hint: { loginHint: 'dave-ltd' },
        bindingMessage: 'Kiosk 7',
      });
      const polled = pollDecoupledAuthorization(pollTpp.bank, started, { intervalSeconds: 1 });
      await page.getByRole('link', { name: 'Review request from ciba-poll' }).waitFor();
      await tabTo('the review link', 'a[href*="/bank-app/requests/"]');
      await page.keyboard.press('Enter');
      await page.getByRole('button', { name: 'Approve' }).waitFor();
      const widths = (await page.evaluate(
        '({ document: document.documentElement.scrollWidth, viewport: window.innerWidth })',
      )) as { document: number; viewport: number };
      assert.ok(widths.document <= widths.viewport, `no horizontal scrolling: ${JSON.stringify(widths)}`);
      const boxes = await page.getByRole('checkbox').count();
      for (let index = 0; index < boxes; index += 1) {
        await tabTo(`account ${index + 1}`, `.account:nth-of-type(${index + 1}) input`);
        if (!((await page.evaluate('document.activeElement.checked')) as boolean))
          await page.keyboard.press('Space');
      }
      await tabTo('the security code', '#code');
      await page.keyboard.type(login.code());
      await tabTo('Approve', 'button[value="approve"]');
      await page.keyboard.press('Enter');
      await page.getByRole('status').waitFor();
      await context.close();
      const tokens = await polled;
      assert.equal(tokens.claims()?.['openbanking_intent_id'], consentId);
    });

    it('a denied request → access_denied for the TPP, consent Rejected', async () => {
      const { clientToken, consentId } = await stage(pollTpp);
      const app = await openBankApp('carol');
      const started = await startDecoupledAuthorization(pollTpp.bank, {
        intentId: consentId,
        scope: 'accounts',
        hint: { loginHint: 'carol' },
        bindingMessage: 'Call 2093',
      });
      // The expectation is attached before the customer answers: the poll may reject while we close the page.
      const denied = assert.rejects(
        pollDecoupledAuthorization(pollTpp.bank, started, { intervalSeconds: 1 }),
        (error: Error & { error?: string }) => error.error === 'access_denied',
      );
      await answer(app.page, 'carol', 'ciba-poll', 'deny', 'Call 2093');
      await app.close();
      await denied;
      assert.equal(await consentStatus(pollTpp, clientToken, consentId), 'Rejected');
    });

    it('an expired request → expired_token, and the bank app no longer lists it', async () => {
      const { consentId } = await stage(pollTpp);
      const started = await startDecoupledAuthorization(pollTpp.bank, {
        intentId: consentId,
        scope: 'accounts',
        hint: { loginHint: 'dave-ltd' },
        requestedExpiry: 1,
      });
      assert.equal(started.expiresIn, 1);
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      await assert.rejects(
        redeemDecoupledAuthorization(pollTpp.bank, started.authReqId),
        (error: Error & { error?: string }) => error.error === 'expired_token',
      );
      const app = await openBankApp('dave-ltd');
      assert.match(await app.page.locator('#pending').innerText(), /no requests waiting/);
      await app.close();
    });

    it('refusals: no signed request object, unknown customer, bad binding_message, a client without CIBA', async () => {
      const { consentId } = await stage(pollTpp);
      await assert.rejects(
        oidc.initiateBackchannelAuthentication(pollTpp.bank.config, {
          scope: 'openid accounts',
          login_hint: 'alice',
        }),
        (error: Error & { error?: string }) => error.error === 'invalid_request',
      );
      await assert.rejects(
        startDecoupledAuthorization(pollTpp.bank, {
          intentId: consentId,
          scope: 'accounts',
          hint: { loginHint: 'nobody-here' },
        }),
        (error: Error & { error?: string }) => error.error === 'unknown_user_id',
      );
      await assert.rejects(
        startDecoupledAuthorization(pollTpp.bank, {
          intentId: consentId,
          scope: 'accounts',
          hint: { loginHint: 'alice' },
          bindingMessage: '<script>alert(1)</script>',
        }),
        (error: Error & { error?: string }) => error.error === 'invalid_binding_message',
      );
      const plain = await sandbox.tpp('ciba-none', ['AISP']);
      const other = await stage(plain);
      await assert.rejects(
        startDecoupledAuthorization(plain.bank, {
          intentId: other.consentId,
          scope: 'accounts',
          hint: { loginHint: 'alice' },
        }),
        // oidc-provider answers invalid_request (CIBA §13 would say unauthorized_client) naming the grant.
        (error: Error & { error?: string; error_description?: string }) =>
          error.error === 'invalid_request' &&
          /ciba is not allowed for this client/.test(error.error_description ?? ''),
      );
      // Discovery names the endpoint on the mTLS listener, poll and ping only (FAPI-CIBA: no push).
      const discovery = pollTpp.bank.config.serverMetadata();
      assert.equal(
        discovery.backchannel_authentication_endpoint,
        `${sandbox.platform.urls.mtls}/backchannel`,
      );
      assert.deepEqual(discovery.backchannel_token_delivery_modes_supported, ['poll', 'ping']);
      assert.equal(discovery.backchannel_user_code_parameter_supported, false);
      // The bank app runs no inline script: its CSP allows only same-origin script and fetches.
      const page = await undiciRequest(bankApp, { dispatcher: plain.bank.agent });
      const csp = String(page.headers['content-security-policy']);
      await page.body.dump();
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline/);
      assert.match(csp, /frame-ancestors 'none'/);
      // The endpoint is on the mTLS listener only: the browser listener does not serve it.
      const browserSide = await undiciRequest(`${sandbox.platform.urls.browser}/backchannel`, {
        method: 'POST',
        dispatcher: plain.bank.agent,
      }).catch(() => undefined);
      if (browserSide) {
        assert.notEqual(browserSide.statusCode, 200);
        await browserSide.body.dump();
      }
    });
  },
);
