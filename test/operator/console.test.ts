import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inArray, sql } from 'drizzle-orm';
import {
  authorise,
  checkIntentAuthorisable,
  createIntent,
  formatDateTime,
  reauthenticate,
  withdrawAccess,
  type IntentKind,
  type JsonObject,
} from '../../src/consent/index.ts';
import { totpCode } from '../../src/consent/totp.ts';
import {
  addOperator,
  bankSuspensionOf,
  latestAudit,
  OPERATOR_COOKIE,
  type NewOperator,
} from '../../src/operator/index.ts';
import { selectParts } from '../../src/server/parts.ts';
import { consentIntents } from '../../src/store/schema/consent.ts';
import { SteppingClock } from '../support/browser.ts';
import {
  accountAccessData,
  domesticPaymentData,
  fundsConfirmationData,
  vrpData,
} from '../consent/fixtures.ts';
import { CookieJar, csrfOf } from '../support/cookie-jar.ts';
import { call, httpsClient, startTestPlatform } from '../support/platform.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The console over HTTP, without a browser: login failures and lock-out (recorded in the audit log), TOTP
 * codes accepted once, CSRF refusal, the admin and auditor roles, pages without a session, and the audit
 * log refusing to be changed.
 */
describe('operator console over HTTP', async () => {
  const clock = new SteppingClock();
  const platform = await startTestPlatform({ parts: selectParts(['operator']), clock });
  const db = platform.store.db;
  const agent = httpsClient([readFileSync(join(platform.dataDir, 'pki', 'root-ca.pem'), 'utf8')]);
  const base = `${platform.urls.operator}/console`;
  const unique = Math.random().toString(36).slice(2, 8);
  const admin = await addOperator(db, clock, { name: `admin-${unique}`, role: 'admin' });
  const auditor = await addOperator(db, clock, { name: `auditor-${unique}`, role: 'auditor' });

  /** A browser: its cookies, and the CSRF token of the last page with a form. */
  function browser() {
    const jar = new CookieJar();
    let csrf = '';
    const send = async (path: string, form?: Record<string, string>) => {
      const response = await call(agent, `${base}${path}`, {
        method: form ? 'POST' : 'GET',
        headers: {
          cookie: jar.header(),
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(form ? { body: new URLSearchParams(form).toString() } : {}),
      });
      jar.take(response.headers['set-cookie']);
      csrf = csrfOf(response.text) ?? csrf;
      return response;
    };
    return {
      jar,
      get: (path: string) => send(path),
      post: (path: string, form: Record<string, string>) => send(path, form),
      csrf: () => csrf,
    };
  }

  async function logIn(who: NewOperator, overrides: { password?: string; code?: string } = {}) {
    const session = browser();
    await session.get('/login');
    clock.advance(30_000);
    const code = overrides.code ?? totpCode(who.totpSecret, clock.now());
    const response = await session.post('/login', {
      csrf: session.csrf(),
      name: who.name,
      password: overrides.password ?? who.password,
      code,
    });
    return { session, response, code };
  }

  it('logs in with password and TOTP code: a Secure, HttpOnly, SameSite=Strict session cookie', async () => {
    const { session, response } = await logIn(admin);
    assert.equal(response.status, 303, response.text);
    assert.equal(response.headers['location'], '/console/tpps');
    const cookieLine = (answer: typeof response) =>
      [answer.headers['set-cookie']].flat().find((value) => value?.startsWith(`${OPERATOR_COOKIE}=`));
    // Byte for byte the line the console wrote by hand before it used page-kit's sessionCookie (8 hours).
    assert.match(
      cookieLine(response) ?? '',
      new RegExp(`^${OPERATOR_COOKIE}=[^;\\s]+; Path=/; Max-Age=28800; Secure; HttpOnly; SameSite=Strict$`),
    );
    const tpps = await session.get('/tpps');
    assert.equal(tpps.status, 200);
    assert.match(tpps.text, new RegExp(`${admin.name} \\(admin\\)`));
    // Logging out removes it with the same attributes (page-kit's expiredCookie, Strict).
    const out = await session.post('/logout', { csrf: session.csrf() });
    assert.equal(out.status, 303, out.text);
    assert.equal(
      cookieLine(out),
      `${OPERATOR_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict`,
    );
  });

  it('refuses a wrong password, a wrong code, a reused code and an unknown name alike, and records each', async () => {
    const wrongPassword = await logIn(admin, { password: 'not-the-password' });
    assert.equal(wrongPassword.response.status, 401);
    assert.match(wrongPassword.response.text, /The name, password or code is not right\./);
    const wrongCode = await logIn(admin, {
      code: '000000' === totpCode(admin.totpSecret, clock.now()) ? '111111' : '000000',
    });
    assert.equal(wrongCode.response.status, 401);
    const unknown = await logIn({ ...admin, name: `nobody-${unique}` });
    assert.equal(unknown.response.status, 401);
    assert.match(unknown.response.text, /The name, password or code is not right\./);

    const ok = await logIn(admin);
    assert.equal(ok.response.status, 303);
    // The very code just accepted, again: a replay. (Not a code worked out anew: this clock follows the wall
    // clock, so a fresh code could belong to the next 30-s step and be rightly accepted.)
    const replay = browser();
    await replay.get('/login');
    const again = await replay.post('/login', {
      csrf: replay.csrf(),
      name: admin.name,
      password: admin.password,
      code: ok.code,
    });
    assert.equal(again.status, 401);

    const entries = (await latestAudit(db, 100)).filter(
      (entry) =>
        entry.action.startsWith('operator.login') &&
        (entry.subject === `operator:${admin.name}` || entry.subject === `operator:nobody-${unique}`),
    );
    const reasons = entries
      .filter((entry) => entry.action === 'operator.login-failed')
      .map((entry) => entry.detail['reason']);
    for (const reason of ['wrong password', 'wrong or reused code', 'no such operator'])
      assert.ok(reasons.includes(reason), `${reason} in ${JSON.stringify(reasons)}`);
    assert.ok(
      entries.every((entry) => /^(::ffff:)?127\.0\.0\.1$/.test(entry.address ?? '')),
      `from where: ${entries.map((entry) => entry.address).join(', ')}`,
    );
  });

  it('locks an account after five failures in a row, refuses even the right login while locked, and records the lock-out', async () => {
    const victim = await addOperator(db, clock, { name: `locked-${unique}`, role: 'auditor' });
    for (let attempt = 1; attempt <= 4; attempt++) {
      assert.equal((await logIn(victim, { password: `guess-${attempt}` })).response.status, 401);
    }
    const fifth = await logIn(victim, { password: 'guess-5' });
    assert.equal(fifth.response.status, 423);
    assert.match(fifth.response.text, /Too many failed logins: this account is locked until/);
    assert.equal((await logIn(victim)).response.status, 423, 'the right password and code are refused too');
    const lockOuts = (await latestAudit(db, 100)).filter(
      (entry) => entry.subject === `operator:${victim.name}` && entry.action === 'operator.locked-out',
    );
    assert.equal(lockOuts.length, 1);
    clock.advance(15 * 60_000);
    assert.equal((await logIn(victim)).response.status, 303, 'the lock runs out');
  });

  it('refuses every form without its CSRF token, before anything is done', async () => {
    const anonymous = browser();
    await anonymous.get('/login');
    const login = await anonymous.post('/login', {
      name: admin.name,
      password: admin.password,
      code: totpCode(admin.totpSecret, clock.now()),
    });
    assert.equal(login.status, 403);
    const { session } = await logIn(admin);
    const orgId = `csrf-org-${unique}`;
    const refused = await session.post(`/tpps/${orgId}/suspend`, { reason: 'no token', csrf: 'forged' });
    assert.equal(refused.status, 403);
    assert.match(refused.text, /This form has expired or did not come from the console/);
    assert.equal(await bankSuspensionOf(db, orgId), undefined);
  });

  it('an auditor may read but not act (403, recorded); without a session pages send to the login and forms are refused', async () => {
    const { session } = await logIn(auditor);
    assert.equal((await session.get('/audit')).status, 200);
    assert.equal((await session.get('/consents?status=Authorised')).status, 200);
    assert.equal((await session.get('/payments')).status, 200);
    const orgId = `role-org-${unique}`;
    const refused = await session.post(`/tpps/${orgId}/suspend`, { csrf: session.csrf(), reason: 'auditor' });
    assert.equal(refused.status, 403);
    assert.match(refused.text, /Your role \(auditor\) may read but not act\./);
    const revoke = await session.post('/consents/aac-x/revoke', { csrf: session.csrf(), reason: 'auditor' });
    assert.equal(revoke.status, 403);
    const recorded = (await latestAudit(db, 100)).filter(
      (entry) => entry.actor === `operator:${auditor.name}` && entry.action === 'operator.refused',
    );
    assert.equal(recorded.length, 2);

    const nobody = browser();
    const page = await nobody.get('/tpps');
    assert.equal(page.status, 303);
    assert.equal(page.headers['location'], '/console/login');
    await nobody.get('/login');
    const form = await nobody.post(`/tpps/${orgId}/suspend`, { csrf: nobody.csrf(), reason: 'anonymous' });
    assert.equal(form.status, 403);
    assert.equal(await bankSuspensionOf(db, orgId), undefined);
  });

  it('an admin suspends and reinstates an organisation the bank does not know: 404, nothing stored', async () => {
    const { session } = await logIn(admin);
    await session.get('/tpps');
    const unknown = await session.post(`/tpps/unknown-${unique}/suspend`, {
      csrf: session.csrf(),
      reason: 'r',
    });
    assert.equal(unknown.status, 404);
    assert.equal(await bankSuspensionOf(db, `unknown-${unique}`), undefined);
    const badDate = await session.get('/consents?from=yesterday');
    assert.equal(badDate.status, 400);
    assert.match(badDate.text, /Dates are YYYY-MM-DD\./);
    // A status or kind the lists do not offer would match nothing and say nothing: refused, saying which.
    const badStatus = await session.get('/consents?status=Authorized');
    assert.equal(badStatus.status, 400);
    assert.match(badStatus.text, /No status &quot;Authorized&quot;: choose one of the list\./);
    const badKind = await session.get('/consents?kind=account-access-consents');
    assert.equal(badKind.status, 400);
    assert.match(badKind.text, /No kind &quot;account-access-consents&quot;/);
    assert.equal((await session.get('/consents?status=AccessWithdrawn&kind=domestic-vrp')).status, 200);
  });

  it('shows a consent whose access the customer withdrew as withdrawn, on its page, in the list and the status filter, until re-authenticated', async () => {
    const ctx = { db, clock, notifyRevoked: async () => undefined };
    const clientId = `client-withdrawn-${unique}`;
    const authorised = async () => {
      const intent = await createIntent(ctx, {
        kind: 'account-access',
        clientId,
        data: accountAccessData('2099-01-01T00:00:00Z'),
        risk: {},
      });
      return authorise(ctx, intent.id, { customerId: `customer-${unique}`, accountIds: ['account-1'] });
    };
    const kept = await authorised();
    const withdrawn = await withdrawAccess(ctx, (await authorised()).id, { detail: 'in the dashboard' });
    const at = formatDateTime(withdrawn.accessWithdrawnAt!);
    const { session } = await logIn(auditor);
    /** Each listed consent of this test's TPP and the state its row shows. */
    const listed = async (query = '') => {
      const page = await session.get(`/consents?customer=customer-${unique}${query}`);
      assert.equal(page.status, 200, page.text);
      return new Map(
        [...page.text.matchAll(/<code>([^<]+)<\/code><\/a><\/td>\s*<td>[^<]*<\/td>\s*<td>(.*?)<\/td>/gs)].map(
          ([, id, cell]) => [
            id,
            cell!
              .replace(/<[^>]+>/g, '')
              .replace(/\s+/g, ' ')
              .trim(),
          ],
        ),
      );
    };
    const withdrawnPage = await session.get(`/consents/${withdrawn.id}`);
    assert.equal(withdrawnPage.status, 200);
    assert.match(withdrawnPage.text, /<dd id="consent-status">Authorised<\/dd>/);
    const access = /<dd id="consent-access">(.*?)<\/dd>/s.exec(withdrawnPage.text)?.[1]?.replace(/\s+/g, ' ');
    assert.ok(access?.includes(`access withdrawn by the customer at ${at}:`), access);
    assert.match(withdrawnPage.text, /access-withdrawn/, 'the withdrawal is in its history');
    assert.doesNotMatch((await session.get(`/consents/${kept.id}`)).text, /consent-access/);
    assert.deepEqual(
      await listed(),
      new Map([
        [withdrawn.id, 'AccessWithdrawn'],
        [kept.id, 'Authorised'],
      ]),
    );
    assert.deepEqual([...(await listed('&status=Authorised')).keys()], [kept.id]);
    assert.deepEqual([...(await listed('&status=AccessWithdrawn')).keys()], [withdrawn.id]);
    assert.match(
      (await session.get('/consents')).text,
      /<option value="Authorised" >Authorised<\/option>\s*<option value="AccessWithdrawn" >/,
    );

    clock.advance(60_000);
    await reauthenticate(ctx, withdrawn.id, { customerId: `customer-${unique}` });
    const back = await session.get(`/consents/${withdrawn.id}`);
    assert.doesNotMatch(back.text, /consent-access|access withdrawn by the customer/);
    assert.match(back.text, /reauthenticated/, 'the re-authentication is in its history');
    assert.deepEqual(
      await listed(),
      new Map([
        [withdrawn.id, 'Authorised'],
        [kept.id, 'Authorised'],
      ]),
    );
    assert.deepEqual((await listed('&status=AccessWithdrawn')).size, 0);
  });

  it('shows an Authorised consent past its expiry as Expired, of every kind that has one, on its page, in the list and the status filter', async () => {
    const ctx = { db, clock, notifyRevoked: async () => undefined };
    const customerId = `customer-expired-${unique}`;
    const soon = new Date(clock.now().getTime() + 10 * 60_000);
    const expiry = soon.toISOString();
    const authorised = async (kind: IntentKind, data: JsonObject) => {
      const intent = await createIntent(ctx, { kind, clientId: `client-expired-${unique}`, data, risk: {} });
      return authorise(ctx, intent.id, { customerId, accountIds: ['account-1'] });
    };
    const account = await authorised('account-access', accountAccessData(expiry));
    const funds = await authorised('funds-confirmation', fundsConfirmationData('11280001234567', expiry));
    const vrp = await authorised('domestic-vrp', vrpData(expiry));
    const withdrawn = await withdrawAccess(
      ctx,
      (await authorised('account-access', accountAccessData(expiry))).id,
    );
    const kept = await authorised('account-access', accountAccessData('2099-01-01T00:00:00Z'));
    const { session } = await logIn(auditor);
    const listed = async (query = '') => {
      const page = await session.get(`/consents?customer=${customerId}${query}`);
      assert.equal(page.status, 200, page.text);
      return new Map(
        [...page.text.matchAll(/<code>([^<]+)<\/code><\/a><\/td>\s*<td>[^<]*<\/td>\s*<td>(.*?)<\/td>/gs)].map(
          ([, id, cell]) => [id, cell!.replace(/<[^>]+>/g, '').trim()],
        ),
      );
    };
    const expiring = [account, funds, vrp, withdrawn].map((intent) => intent.id);
    // Before its expiry: Authorised (the withdrawn one AccessWithdrawn), none Expired.
    assert.deepEqual((await listed('&status=Expired')).size, 0);
    assert.deepEqual(
      [...(await listed('&status=Authorised')).keys()].sort(),
      [account.id, funds.id, vrp.id, kept.id].sort(),
    );

    clock.advance(20 * 60_000);
    const now = await listed();
    for (const id of expiring) assert.equal(now.get(id), 'Expired', id);
    assert.equal(now.get(kept.id), 'Authorised');
    // The filter agrees with the list: one state per consent, expiry before withdrawal.
    assert.deepEqual([...(await listed('&status=Authorised')).keys()], [kept.id]);
    assert.deepEqual([...(await listed('&status=Expired')).keys()].sort(), [...expiring].sort());
    assert.deepEqual((await listed('&status=AccessWithdrawn')).size, 0);
    assert.ok(
      (await session.get(`/consents?customer=${customerId}`)).text.includes(
        `title="Authorised; expired at ${formatDateTime(soon)}"`,
      ),
    );
    assert.match(
      (await session.get('/consents')).text,
      /<option value="AccessWithdrawn" >AccessWithdrawn<\/option>\s*<option value="Expired" >/,
    );

    const access = async (id: string) => {
      const page = await session.get(`/consents/${id}`);
      assert.equal(page.status, 200);
      assert.match(page.text, /<dd id="consent-status">Authorised<\/dd>/);
      return /<dd id="consent-access">(.*?)<\/dd>/s
        .exec(page.text)?.[1]
        ?.replace(/<[^>]+>/g, '')
        .replace(/\s+/g, ' ');
    };
    for (const id of expiring) {
      const sentence = await access(id);
      assert.ok(
        sentence?.includes(`Expired expired at ${formatDateTime(soon)}: it serves no request`),
        sentence,
      );
    }
    const withdrawnSentence = await access(withdrawn.id);
    assert.ok(
      withdrawnSentence?.includes(
        `Its access had been withdrawn by the customer at ${formatDateTime(withdrawn.accessWithdrawnAt!)}.`,
      ),
      withdrawnSentence,
    );
    assert.equal(await access(kept.id), undefined);
  });

  /** Each listed consent among `ids`, and the state its row shows, from `/consents?query`. */
  async function listedAmong(session: ReturnType<typeof browser>, ids: readonly string[], query: string) {
    const page = await session.get(`/consents?${query}`);
    assert.equal(page.status, 200, page.text);
    return new Map(
      [...page.text.matchAll(/<code>([^<]+)<\/code><\/a><\/td>\s*<td>[^<]*<\/td>\s*<td>(.*?)<\/td>/gs)]
        .filter(([, id]) => ids.includes(id!))
        .map(([, id, cell]) => [id!, cell!.replace(/<[^>]+>/g, '').trim()]),
    );
  }

  it('shows a consent past its expiry that was never authorised as Expired, not AwaitingAuthorisation: it can no longer be authorised', async () => {
    const ctx = { db, clock };
    const soon = new Date(clock.now().getTime() + 10 * 60_000);
    const staged = (kind: IntentKind, data: JsonObject) =>
      createIntent(ctx, { kind, clientId: `client-unauthorised-${unique}`, data, risk: {} });
    const account = await staged('account-access', accountAccessData(soon.toISOString()));
    const funds = await staged(
      'funds-confirmation',
      fundsConfirmationData('11280001234567', soon.toISOString()),
    );
    const vrp = await staged('domestic-vrp', vrpData(soon.toISOString()));
    const kept = await staged('account-access', accountAccessData('2099-01-01T00:00:00Z'));
    const expiring = [account.id, funds.id, vrp.id];
    const mine = [...expiring, kept.id];
    const { session } = await logIn(auditor);
    const listed = (query: string) => listedAmong(session, mine, query);
    assert.equal((await listed('status=Expired')).size, 0);
    assert.deepEqual([...(await listed('status=AwaitingAuthorisation')).keys()].sort(), [...mine].sort());

    clock.advance(20 * 60_000);
    // What makes it Expired: the customer can no longer authorise it.
    await assert.rejects(authorise(ctx, account.id, { customerId: 'someone', accountIds: ['account-1'] }), {
      reason: 'expired',
    });
    const now = await listed('');
    for (const id of expiring) assert.equal(now.get(id), 'Expired', id);
    assert.equal(now.get(kept.id), 'AwaitingAuthorisation');
    assert.deepEqual([...(await listed('status=AwaitingAuthorisation')).keys()], [kept.id]);
    assert.deepEqual([...(await listed('status=Expired')).keys()].sort(), [...expiring].sort());
    assert.ok(
      (await session.get(`/consents?status=Expired`)).text.includes(
        `title="AwaitingAuthorisation; expired at ${formatDateTime(soon)}"`,
      ),
    );
    for (const id of expiring) {
      const page = await session.get(`/consents/${id}`);
      assert.match(page.text, /<dd id="consent-status">AwaitingAuthorisation<\/dd>/);
      const sentence = /<dd id="consent-access">(.*?)<\/dd>/s
        .exec(page.text)?.[1]
        ?.replace(/<[^>]+>/g, '')
        .replace(/\s+/g, ' ');
      assert.ok(
        sentence?.includes(
          `Expired expired at ${formatDateTime(soon)} before the customer authorised it: it can no longer be authorised`,
        ),
        sentence,
      );
    }
    assert.doesNotMatch((await session.get(`/consents/${kept.id}`)).text, /consent-access/);
  });

  it('shows a payment consent whose authorisation window (CompletionDateTime) closed before the customer authorised it as Expired, in the list, the status filter and on its page; one authorised in time stays Authorised', async () => {
    const ctx = { db, clock };
    const soon = new Date(clock.now().getTime() + 10 * 60_000);
    const paymentBy = (completion: string, kind: IntentKind = 'domestic-payment') =>
      createIntent(ctx, {
        kind,
        clientId: `client-window-${unique}`,
        data: {
          ...domesticPaymentData(),
          Authorisation: { AuthorisationType: 'Single', CompletionDateTime: completion },
        },
        risk: {},
      });
    const lapsing = await paymentBy(soon.toISOString());
    // A file consent still waiting for its file can never be authorised past the window either.
    const fileLapsing = await paymentBy(soon.toISOString(), 'file-payment');
    assert.equal(fileLapsing.status, 'AwaitingUpload');
    const later = await paymentBy('2099-01-01T00:00:00Z');
    const inTime = await authorise(ctx, (await paymentBy(soon.toISOString())).id, {
      customerId: `customer-window-${unique}`,
      accountIds: ['account-1'],
    });
    const ended = [lapsing.id, fileLapsing.id];
    const mine = [...ended, later.id, inTime.id];
    const { session } = await logIn(auditor);
    const listed = (query: string) => listedAmong(session, mine, query);
    assert.equal((await listed('status=Expired')).size, 0);

    clock.advance(20 * 60_000);
    // What makes it Expired: the authorisation server and consent app refuse to authorise it.
    assert.equal(checkIntentAuthorisable(lapsing, lapsing.clientId, ['payments'], clock.now()).ok, false);
    const now = await listed('');
    assert.deepEqual(
      Object.fromEntries([...now].sort()),
      Object.fromEntries(
        [
          [lapsing.id, 'Expired'],
          [fileLapsing.id, 'Expired'],
          [later.id, 'AwaitingAuthorisation'],
          [inTime.id, 'Authorised'],
        ].sort(),
      ),
    );
    // The filter agrees with the list.
    assert.deepEqual([...(await listed('status=Expired')).keys()].sort(), [...ended].sort());
    assert.deepEqual([...(await listed('status=AwaitingAuthorisation')).keys()], [later.id]);
    assert.equal((await listed('status=AwaitingUpload')).size, 0);
    assert.deepEqual([...(await listed('status=Authorised')).keys()], [inTime.id]);
    assert.ok(
      (await session.get(`/consents?status=Expired`)).text.includes(
        `title="AwaitingAuthorisation; authorisation window closed at ${formatDateTime(soon)} before the customer authorised it"`,
      ),
    );
    const page = await session.get(`/consents/${lapsing.id}`);
    assert.match(page.text, /<dd id="consent-status">AwaitingAuthorisation<\/dd>/);
    assert.ok(
      page.text.replace(/\s+/g, ' ').includes(`<dt>Authorise by</dt> <dd>${formatDateTime(soon)}</dd>`),
    );
    const sentence = /<dd id="consent-access">(.*?)<\/dd>/s
      .exec(page.text)?.[1]
      ?.replace(/<[^>]+>/g, '')
      .replace(/\s+/g, ' ');
    assert.ok(
      sentence?.includes(
        `Expired authorisation window (Data.Authorisation.CompletionDateTime) closed at ${formatDateTime(soon)} before the customer authorised it: it can no longer be authorised`,
      ),
      sentence,
    );
    for (const id of [later.id, inTime.id])
      assert.doesNotMatch((await session.get(`/consents/${id}`)).text, /consent-access/);
  });

  it('offers no Revoke on an expired consent, says why, and refuses a posted one (409) without changing or recording anything', async () => {
    const ctx = { db, clock, notifyRevoked: async () => undefined };
    const soon = new Date(clock.now().getTime() + 10 * 60_000);
    const clientId = `client-revoke-${unique}`;
    const staged = (expiry: string) =>
      createIntent(ctx, { kind: 'account-access', clientId, data: accountAccessData(expiry), risk: {} });
    const authorised = await authorise(ctx, (await staged(soon.toISOString())).id, {
      customerId: `customer-revoke-${unique}`,
      accountIds: ['account-1'],
    });
    const unauthorised = await staged(soon.toISOString());
    const kept = await staged('2099-01-01T00:00:00Z');
    const { session } = await logIn(admin);
    const revokeForm = (id: string) => `action="/console/consents/${id}/revoke"`;
    for (const id of [authorised.id, unauthorised.id])
      assert.ok(
        (await session.get(`/consents/${id}`)).text.includes(revokeForm(id)),
        'offered before its expiry',
      );

    clock.advance(20 * 60_000);
    for (const id of [authorised.id, unauthorised.id]) {
      const page = await session.get(`/consents/${id}`);
      assert.ok(!page.text.includes(revokeForm(id)), 'not offered past its expiry');
      const reason = /<p id="consent-revoke">(.*?)<\/p>/s.exec(page.text)?.[1]?.replace(/\s+/g, ' ');
      assert.equal(
        reason,
        `Not revocable: it expired at ${formatDateTime(soon)} and already serves no request; revoking it would end nothing.`,
      );
      const auditedBefore = (await latestAudit(db, 1))[0]?.id;
      const posted = await session.post(`/consents/${id}/revoke`, {
        csrf: session.csrf(),
        reason: 'expired',
      });
      assert.equal(posted.status, 409, posted.text);
      assert.match(posted.text, /Not revocable: it expired at/);
      assert.equal((await latestAudit(db, 1))[0]?.id, auditedBefore, 'nothing recorded');
    }
    const statuses = await db
      .select({ id: consentIntents.id, status: consentIntents.status })
      .from(consentIntents)
      .where(inArray(consentIntents.id, [authorised.id, unauthorised.id]));
    assert.deepEqual(Object.fromEntries(statuses.map((row) => [row.id, row.status])), {
      [authorised.id]: 'Authorised',
      [unauthorised.id]: 'AwaitingAuthorisation',
    });

    // An unexpired consent is still revoked, and recorded.
    assert.ok((await session.get(`/consents/${kept.id}`)).text.includes(revokeForm(kept.id)));
    const revoked = await session.post(`/consents/${kept.id}/revoke`, {
      csrf: session.csrf(),
      reason: 'fraud',
    });
    assert.equal(revoked.status, 303, revoked.text);
    assert.match((await session.get(`/consents/${kept.id}`)).text, /<dd id="consent-status">Revoked<\/dd>/);
    const [latest] = await latestAudit(db, 1);
    assert.equal(latest?.action, 'consent.revoked');
    assert.equal(latest?.subject, `consent:${kept.id}`);
  });

  it('the audit log cannot be changed or emptied, even by SQL', async () => {
    const appendOnly = (error: Error & { cause?: Error }) =>
      /audit_log is append-only/.test(`${error.message} ${error.cause?.message ?? ''}`);
    await assert.rejects(db.execute(sql`update audit_log set actor = 'someone else'`), appendOnly);
    await assert.rejects(db.execute(sql`delete from audit_log`), appendOnly);
    await assert.rejects(db.execute(sql`truncate audit_log`), appendOnly);
    assert.ok((await latestAudit(db, 1)).length === 1);
  });
});
