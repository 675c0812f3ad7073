import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { request, type Dispatcher } from 'undici';
import { readBundle } from '../../src/tpp/bundle.ts';
import { runCli, spawnCli, waitForExit, type Finished } from '../support/cli.ts';
import { sandboxLogin, SteppingClock } from '../support/browser.ts';
import { CookieJar } from '../support/cookie-jar.ts';
import { browserClient, startSandbox } from '../support/journey.ts';

/** The bank app driven through its HTML forms, as a browser without script would. */
class BankAppForms {
  readonly #agent: Dispatcher;
  readonly #base: string;
  readonly #jar = new CookieJar();
  constructor(agent: Dispatcher, base: string) {
    this.#agent = agent;
    this.#base = base;
  }
  async #send(path: string, form?: Record<string, string | string[]>) {
    const body = form
      ? new URLSearchParams(
          Object.entries(form).flatMap(([key, value]) =>
            (Array.isArray(value) ? value : [value]).map((item): [string, string] => [key, item]),
          ),
        ).toString()
      : undefined;
    const response = await request(`${this.#base}${path}`, {
      dispatcher: this.#agent,
      method: form ? 'POST' : 'GET',
      headers: {
        cookie: this.#jar.header(),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(body ? { body } : {}),
    });
    this.#jar.take(response.headers['set-cookie']);
    return {
      status: response.statusCode,
      location: response.headers.location,
      text: await response.body.text(),
    };
  }
  static csrf(html: string): string {
    const match = /name="csrf" value="([^"]+)"/.exec(html);
    assert.ok(match, 'the page carries a CSRF token');
    return match[1]!;
  }
  async logIn(username: string, password: string) {
    const home = await this.#send('');
    const answer = await this.#send('/login', { csrf: BankAppForms.csrf(home.text), username, password });
    assert.equal(answer.status, 303, answer.text);
  }
  async waitForRequest(timeoutMs = 15_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const list = await this.#send('/pending');
      const match = /\/bank-app\/requests\/([A-Za-z0-9_-]+)"/.exec(list.text);
      if (match) return match[1]!;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error('no request appeared in the bank app');
  }
  async approve(id: string, code: string, expectBinding: string) {
    const review = await this.#send(`/requests/${id}`);
    assert.equal(review.status, 200, review.text);
    assert.match(review.text, new RegExp(`id="binding-message">${expectBinding}<`));
    const accounts = [...review.text.matchAll(/name="accounts"\s+value="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(accounts.length > 0);
    const answer = await this.#send(`/requests/${id}`, {
      csrf: BankAppForms.csrf(review.text),
      accounts,
      code,
      decision: 'approve',
    });
    assert.equal(answer.status, 303, answer.text);
    assert.match(String(answer.location), /done=approved/);
  }
  async deny(id: string) {
    const review = await this.#send(`/requests/${id}`);
    assert.equal(review.status, 200, review.text);
    const answer = await this.#send(`/requests/${id}`, {
      csrf: BankAppForms.csrf(review.text),
      decision: 'deny',
    });
    assert.equal(answer.status, 303, answer.text);
  }
}

/** A CIBA failure as a person sees it: exit 1, the bank's OAuth error and what to try, no stack trace. */
function assertRefused(result: Finished, error: RegExp, hint: RegExp): void {
  assert.equal(result.code, 1, `exit code; stderr: ${result.stderr}`);
  assert.match(result.stderr, error);
  assert.match(result.stderr, hint);
  assert.doesNotMatch(result.stderr, /\n\s+at |ResponseBodyError|checkOAuthBodyError/, result.stderr);
  // Progress lines start with ✓; the failure itself is at most two lines.
  const failure = result.stderr.split('\n').filter((line) => line && !line.startsWith('✓'));
  assert.ok(failure.length <= 2, `one or two lines: ${result.stderr}`);
}

describe('obkit tpp register --ciba and obkit tpp authorize --decoupled', { timeout: 120_000 }, async () => {
  const clock = new SteppingClock();
  const sandbox = await startSandbox({ clock });
  const caFile = join(mkdtempSync(join(tmpdir(), 'obkit-ca-')), 'root-ca.pem');
  writeFileSync(caFile, sandbox.rootPem);

  it('registers for CIBA poll, then authorises decoupled: the PSU approves in the bank app, the CLI prints tokens', async () => {
    const tpp = await sandbox.tpp('ciba-cli', ['AISP']);
    const dir = tpp.bundle.dir;
    const registered = await runCli([
      'tpp',
      'register',
      '--bundle',
      dir,
      '--bank',
      sandbox.discoveryUrl,
      '--ca',
      caFile,
      '--ciba',
      'poll',
      '--json',
    ]);
    assert.equal(registered.code, 0, registered.stderr);
    const registration = JSON.parse(registered.stdout) as { clientId: string };
    assert.equal(Object.values(readBundle(dir).summary.registrations)[0]?.clientId, registration.clientId);

    const child = spawnCli([
      'tpp',
      'authorize',
      '--decoupled',
      '--bundle',
      dir,
      '--psu',
      'alice',
      '--hint',
      'login_hint_token',
      '--binding-message',
      'CLI 42',
      '--interval',
      '1',
      '--ca',
      caFile,
      '--json',
    ]);
    const finished = waitForExit(child, 60_000);

    const app = new BankAppForms(browserClient(sandbox), `${sandbox.platform.urls.browser}/bank-app`);
    const login = sandboxLogin(clock, 'alice');
    await app.logIn('alice', login.password);
    const id = await app.waitForRequest();
    await app.approve(id, login.code(), 'CLI 42');

    const result = await finished;
    assert.equal(result.code, 0, result.stderr);
    const printed = JSON.parse(result.stdout) as {
      intentId: string;
      authReqId: string;
      accessToken: string;
      idTokenClaims: { openbanking_intent_id?: string };
    };
    assert.equal(printed.authReqId, id);
    assert.ok(printed.accessToken);
    assert.equal(printed.idTokenClaims.openbanking_intent_id, printed.intentId);
    assert.match(result.stderr, /binding message "CLI 42"/);
  });

  it('usage errors: authorize without --decoupled, ping without an https endpoint', async () => {
    const tpp = await sandbox.tpp('ciba-cli-usage', ['AISP']);
    const without = await runCli(['tpp', 'authorize', '--bundle', tpp.bundle.dir, '--psu', 'alice']);
    assert.equal(without.code, 2, without.stderr);
    assert.match(without.stderr, /--decoupled/);
    const ping = await runCli([
      'tpp',
      'register',
      '--bundle',
      tpp.bundle.dir,
      '--bank',
      sandbox.discoveryUrl,
      '--ca',
      caFile,
      '--ciba',
      'ping',
      '--ciba-notification-endpoint',
      'http://tpp.example/notify',
    ]);
    assert.equal(ping.code, 2, ping.stderr);
    assert.match(ping.stderr, /https --ciba-notification-endpoint/);
  });

  describe("every CIBA failure is one line with the bank's error and what to try", () => {
    const authorize = (dir: string, ...args: string[]) => [
      'tpp',
      'authorize',
      '--decoupled',
      '--bundle',
      dir,
      '--interval',
      '1',
      '--ca',
      caFile,
      ...args,
    ];

    it('a client not registered for CIBA', async () => {
      const tpp = await sandbox.tpp('ciba-cli-none', ['AISP']);
      assertRefused(
        await runCli(authorize(tpp.bundle.dir, '--psu', 'alice')),
        /decoupled authorisation request \(CIBA\) failed with HTTP 400: invalid_request: .*ciba is not allowed for this client/,
        /register the bundle for decoupled authorisation: npx obkit tpp register --bundle <dir> --ciba poll/,
      );
    });

    it('an unknown PSU, a denial and a request nobody answers', async () => {
      const tpp = await sandbox.tpp('ciba-cli-fail', ['AISP'], { ciba: { deliveryMode: 'poll' } });
      const dir = tpp.bundle.dir;
      assertRefused(await runCli(authorize(dir, '--psu', 'nobody-here')), /unknown_user_id/, /check --psu/);

      const denying = waitForExit(
        spawnCli(authorize(dir, '--psu', 'carol', '--binding-message', 'Deny 7')),
        60_000,
      );
      const app = new BankAppForms(browserClient(sandbox), `${sandbox.platform.urls.browser}/bank-app`);
      await app.logIn('carol', sandboxLogin(clock, 'carol').password);
      await app.deny(await app.waitForRequest());
      assertRefused(await denying, /access_denied/, /the customer refused/);

      assertRefused(
        await runCli(authorize(dir, '--psu', 'dave-ltd', '--expiry', '1', '--json')),
        /expired_token/,
        /did not answer in time/,
      );
    });
  });
});
