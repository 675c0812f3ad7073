import { createHash, type X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { sandboxCredentialsFor } from '../../src/consent/credentials.ts';
import { totpCode } from '../../src/consent/totp.ts';
import type { Clock } from '../../src/shared/clock.ts';

/** Debian's Chromium, installed by `.ci/run`; the browser tests skip (saying why) only when it is missing. */
export const CHROMIUM = '/usr/bin/chromium';

/** `{ skip }` for `describe`: a clear reason when Chromium is not installed, else false. */
export const browserSkip: string | false = existsSync(CHROMIUM)
  ? false
  : `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium); browser tests skipped`;

/** Where reviewers find the screenshots (git-ignored). */
export const ARTEFACTS = join(process.cwd(), 'test-results');

export function artefactPath(name: string): string {
  mkdirSync(ARTEFACTS, { recursive: true });
  return join(ARTEFACTS, name);
}

/**
 * A clock running with the system clock plus an offset the test moves forward. TOTP codes are accepted
 * once per 30-second step (replays are refused), so a test that logs the same customer in several times
 * moves the bank's clock to a fresh step instead of waiting. oidc-provider keeps reading the real time;
 * the few minutes of offset stay far inside every token and interaction lifetime.
 */
export class SteppingClock implements Clock {
  #offset = 0;
  now(): Date {
    return new Date(this.epochMs());
  }
  epochMs(): number {
    return Date.now() + this.#offset;
  }
  advance(milliseconds: number): void {
    this.#offset += milliseconds;
  }
}

/** The sandbox password and a TOTP code valid for a fresh step of `clock` (which it moves 30 s on). */
export function sandboxLogin(
  clock: SteppingClock,
  username: string,
): { password: string; code: () => string } {
  const credentials = sandboxCredentialsFor(username);
  return {
    password: credentials.password,
    code() {
      clock.advance(30_000);
      return totpCode(credentials.totpSecret, clock.now());
    },
  };
}

/** Base64 SHA-256 of the server certificate's SubjectPublicKeyInfo, as Chromium's SPKI allow-list wants it. */
export async function serverSpkiHash(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const certificate = await new Promise<X509Certificate>((resolve, reject) => {
    const socket = connect({
      host: hostname,
      port: Number(port),
      servername: hostname,
      rejectUnauthorized: false,
    });
    socket.once('secureConnect', () => {
      const peer = socket.getPeerX509Certificate();
      socket.end();
      if (peer) resolve(peer);
      else reject(new Error('the server sent no certificate'));
    });
    socket.once('error', reject);
  });
  const spki = certificate.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/**
 * Headless Chromium that trusts exactly the sandbox's server key: instead of ignoring every certificate
 * error, it is launched with `--ignore-certificate-errors-spki-list` naming the SPKI hash of the bank's
 * sandbox server certificate (Chromium takes no CA file from Playwright). Closed when the suite ends.
 */
export async function launchBrowser(bankUrl: string): Promise<Browser> {
  const spki = await serverSpkiHash(bankUrl);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 20_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--ignore-certificate-errors-spki-list=${spki}`,
    ],
  });
  after(() => browser.close());
  return browser;
}

export interface CapturedRedirect {
  /** Resolves with the full URL the bank sent the browser back to (fragment included). */
  url: Promise<URL>;
}

/**
 * The TPP's redirect URI (`https://<name>.example/callback`) does not resolve, and Chromium does not hand
 * a redirect's next hop to `page.route`: so the URL is read from the bank's redirect response itself
 * (its `Location`, fragment included — for `response_type=code id_token` the response is in the
 * fragment, which no request carries). What the browser then shows (a DNS error page) does not matter.
 */
export function captureRedirect(page: Page, redirectUri: string): CapturedRedirect {
  const url = new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the browser was never sent to ${redirectUri}`)), 20_000);
    page.on('response', (response) => {
      const location = response.headers()['location'];
      if (response.status() >= 300 && response.status() < 400 && location) {
        const next = new URL(location, response.url());
        if (next.href.startsWith(redirectUri)) {
          clearTimeout(timer);
          resolve(next);
        }
      }
    });
  });
  return { url };
}

/** A fresh context (own cookies) with a bounded default timeout. */
export async function newContext(
  browser: Browser,
  options: { viewport?: { width: number; height: number } } = {},
): Promise<BrowserContext> {
  const context = await browser.newContext({
    ignoreHTTPSErrors: false,
    locale: 'en-GB',
    ...(options.viewport ? { viewport: options.viewport, isMobile: true, hasTouch: true } : {}),
  });
  context.setDefaultTimeout(10_000);
  return context;
}
