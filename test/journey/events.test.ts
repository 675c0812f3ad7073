import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { runDuePayments } from '../../src/bank/index.ts';
import { getEvent } from '../../src/events/index.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { runAccountsJourney } from '../../src/tpp/accounts.ts';
import { clientCredentialsToken } from '../../src/tpp/authorization.ts';
import { bankSigningJwksUri, pollEvents, subscribeToEvents, verifyEventToken } from '../../src/tpp/events.ts';
import { apiBaseOf, callApi } from '../../src/tpp/open-banking.ts';
import { signRequestBody } from '../../src/tpp/message-signing.ts';
import { runPayJourney } from '../../src/tpp/pay.ts';
import { startSandbox, type Tpp } from '../support/journey.ts';
import { withdrawInDashboard } from './events-support.ts';
import {
  assertValidResponse,
  EVENT_NOTIFICATIONS_V3_1_11,
  EVENT_NOTIFICATIONS_V4_0,
  EVENTS_V3_1_11,
  EVENTS_V4_0,
  validateComponent,
} from '../support/openapi.ts';

const REVOKED = 'urn:uk:org:openbanking:events:consent-authorization-revoked';
const UPDATED = 'urn:uk:org:openbanking:events:resource-update';
const noManualStep = () => Promise.reject(new Error('the sandbox approves headlessly'));

/** A raw `POST /events` with the TPP's client_credentials token. */
async function poll(tpp: Tpp, version: '3.1.11' | '4.0', body: unknown) {
  // Any one of the TPP's resource scopes opens the event APIs; every TPP here is an AISP.
  const token = (await clientCredentialsToken(tpp.bank, 'accounts')).access_token;
  return callApi(tpp.bank, token, `${apiBaseOf(tpp.bank, undefined, version)}/events`, {
    method: 'POST',
    body,
  });
}

describe('event notifications through the composed sandbox', async () => {
  const sandbox = await startSandbox();
  const db = sandbox.platform.store.db;
  const trust = [sandbox.rootPem];
  const a = await sandbox.tpp('events-a', ['AISP', 'PISP']);
  const b = await sandbox.tpp('events-b', ['AISP', 'PISP']);

  it('subscribes (one subscription per TPP), raises each event by its real cause, and hands it only to its TPP, signed', async () => {
    const subscription = await subscribeToEvents({ bundle: a.bundle, trust, apiVersion: '3.1.11' });
    assert.match(subscription.EventSubscriptionId, /^es-/);
    assert.equal(subscription.CallbackUrl, undefined, 'no callback: the TPP polls');
    await assert.rejects(
      subscribeToEvents({ bundle: a.bundle, trust, apiVersion: '3.1.11' }),
      /already has event subscription/,
    );
    const token = (await clientCredentialsToken(a.bank, 'accounts')).access_token;
    const listed = await callApi(
      a.bank,
      token,
      `${apiBaseOf(a.bank, undefined, '3.1.11')}/event-subscriptions`,
    );
    assert.equal(listed.status, 200, listed.text);
    assertValidResponse(EVENTS_V3_1_11, '/event-subscriptions', 'get', 200, listed.json);
    // B takes payment updates only, on v4.0.
    await subscribeToEvents({
      bundle: b.bundle,
      trust,
      apiVersion: '4.0',
      types: ['UK.OBIE.Resource-Update'],
    });

    // Cause 1: the customer withdraws A's account-access consent in the bank's dashboard.
    const accounts = await runAccountsJourney({ bundle: a.bundle, trust, askForRedirect: noManualStep });
    await withdrawInDashboard(sandbox, 'alice', [accounts.consentId]);
    // Cause 2: A's scheduled payment is executed by the scheduler's pass once it is due.
    const at = new Date(Date.now() + 3 * 86_400_000);
    const paid = await runPayJourney({
      bundle: a.bundle,
      trust,
      apiVersion: '4.0',
      amount: '1.25',
      currency: 'GBP',
      at: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      askForRedirect: noManualStep,
    });
    assert.equal(paid.payment.Status, 'ACTC', 'v4.0: the bank has set the scheduled payment up');
    const executed = await runDuePayments(db, { clock: new ManualClock(new Date(at.getTime() + 60_000)) });
    assert.ok(executed.some((outcome) => outcome.id === paid.paymentId && outcome.status === 'Executed'));

    const polled = await poll(a, '3.1.11', { returnImmediately: true });
    assert.equal(polled.status, 200, polled.text);
    assertValidResponse(EVENTS_V3_1_11, '/events', 'post', 200, polled.json);
    const { sets, moreAvailable } = polled.json as { sets: Record<string, string>; moreAvailable: boolean };
    assert.equal(moreAvailable, false);
    assert.equal(Object.keys(sets).length, 2, JSON.stringify(sets));
    const jwksUri = await bankSigningJwksUri(a.bank, a.bundle, sandbox.discoveryUrl);
    const verified = await Promise.all(
      Object.values(sets).map((jwt) => verifyEventToken(a.bank, jwt, { jwksUri })),
    );
    const revoked = verified.find((event) => REVOKED in event.events);
    const updated = verified.find((event) => UPDATED in event.events);
    assert.equal(revoked?.events[REVOKED]?.subject?.['http://openbanking.org.uk/rid'], accounts.consentId);
    assert.equal(
      revoked?.events[REVOKED]?.subject?.['http://openbanking.org.uk/rty'],
      'account-access-consent',
    );
    assert.match(
      revoked?.sub ?? '',
      new RegExp(`/open-banking/v4\\.0/aisp/account-access-consents/${accounts.consentId}$`),
    );
    assert.equal(updated?.events[UPDATED]?.subject?.['http://openbanking.org.uk/rid'], paid.paymentId);
    assert.equal(
      updated?.events[UPDATED]?.subject?.['http://openbanking.org.uk/rty'],
      'domestic-scheduled-payment',
    );
    assert.equal(updated?.aud, a.clientId);
    // A v4.0 payment is linked on v4.0 only: its consent was staged there.
    assert.deepEqual(
      (updated?.events[UPDATED]?.subject?.['http://openbanking.org.uk/rlk'] as { version: string }[]).map(
        (link) => link.version,
      ),
      ['4.0'],
    );
    assert.match(
      updated?.sub ?? '',
      new RegExp(`/open-banking/v4\\.0/pisp/domestic-scheduled-payments/${paid.paymentId}$`),
    );
    // The resource-update SET is an OBEventNotification1 of both versions' event-notifications files.
    const claims = decodeJwt(sets[updated!.jti]!);
    for (const file of [EVENT_NOTIFICATIONS_V3_1_11, EVENT_NOTIFICATIONS_V4_0]) {
      const shape = validateComponent(file, 'OBEventNotification1', claims);
      assert.ok(shape.valid, shape.errors.join('\n'));
    }
    // A tampered SET does not verify.
    const [header, payload, signature] = sets[updated!.jti]!.split('.');
    await assert.rejects(
      verifyEventToken(a.bank, `${header}.${payload}.${signature!.slice(0, -4)}AAAA`, { jwksUri }),
    );

    // B subscribed too, yet sees none of A's events, and its ack of A's jti changes nothing.
    const other = await poll(b, '4.0', { returnImmediately: true, ack: Object.keys(sets) });
    assert.equal(other.status, 200, other.text);
    assertValidResponse(EVENTS_V4_0, '/events', 'post', 200, other.json);
    assert.deepEqual(other.json, { moreAvailable: false, sets: {} });
    assert.equal((await getEvent(db, updated!.jti))?.acknowledgedAt, null);

    // A acknowledges one and reports an error for the other (maxEvents 0: acknowledge only).
    const answered = await poll(a, '4.0', {
      maxEvents: 0,
      ack: [revoked!.jti],
      setErrs: { [updated!.jti]: { err: 'jwtIss', description: 'issuer not recognised' } },
    });
    assertValidResponse(EVENTS_V4_0, '/events', 'post', 200, answered.json);
    assert.deepEqual(answered.json, { moreAvailable: false, sets: {} });
    assert.deepEqual((await getEvent(db, updated!.jti))?.error, {
      err: 'jwtIss',
      description: 'issuer not recognised',
    });
    assert.ok((await getEvent(db, revoked!.jti))?.acknowledgedAt);
    assert.deepEqual((await poll(a, '3.1.11', {})).json, { moreAvailable: false, sets: {} }, 'nothing left');
  });

  it('polls with the SDK: maxEvents, moreAvailable, and --ack removes what was verified', async () => {
    const c = await sandbox.tpp('events-c', ['AISP']);
    await subscribeToEvents({ bundle: c.bundle, trust });
    const consents: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const journey = await runAccountsJourney({
        bundle: c.bundle,
        trust,
        psu: 'bob',
        askForRedirect: noManualStep,
      });
      consents.push(journey.consentId);
    }
    await withdrawInDashboard(sandbox, 'bob', consents);
    const first = await pollEvents({ bundle: c.bundle, trust, maxEvents: 1, ack: true });
    assert.equal(first.events.length, 1);
    assert.deepEqual(first.acknowledged, [first.events[0]!.jti]);
    assert.equal(first.moreAvailable, true);
    const second = await pollEvents({ bundle: c.bundle, trust, ack: true });
    assert.equal(second.events.length, 1);
    assert.notEqual(second.events[0]!.jti, first.events[0]!.jti);
    assert.equal(second.moreAvailable, false);
    assert.deepEqual((await pollEvents({ bundle: c.bundle, trust })).events, []);
  });

  it("raises nothing for a TPP without a subscription, nor for the TPP's own DELETE of its consent", async () => {
    const d = await sandbox.tpp('events-d', ['AISP']);
    const before = await runAccountsJourney({
      bundle: d.bundle,
      trust,
      psu: 'carol',
      askForRedirect: noManualStep,
    });
    await withdrawInDashboard(sandbox, 'carol', [before.consentId]);
    await subscribeToEvents({ bundle: d.bundle, trust });
    assert.deepEqual(
      (await poll(d, '4.0', {})).json,
      { moreAvailable: false, sets: {} },
      'not raised unsubscribed',
    );

    const own = await runAccountsJourney({
      bundle: d.bundle,
      trust,
      psu: 'dave-ltd',
      askForRedirect: noManualStep,
    });
    const token = (await clientCredentialsToken(d.bank, 'accounts')).access_token;
    const aisp = `${apiBaseOf(d.bank, undefined, '4.0')}/aisp`;
    const deleted = await callApi(d.bank, token, `${aisp}/account-access-consents/${own.consentId}`, {
      method: 'DELETE',
    });
    assert.equal(deleted.status, 204, deleted.text);
    assert.deepEqual(
      (await poll(d, '4.0', {})).json,
      { moreAvailable: false, sets: {} },
      'not for its own DELETE',
    );

    // The same kind of consent withdrawn by its customer now is raised for it.
    const later = await runAccountsJourney({
      bundle: d.bundle,
      trust,
      psu: 'dave-ltd',
      askForRedirect: noManualStep,
    });
    await withdrawInDashboard(sandbox, 'dave-ltd', [later.consentId]);
    const raised = (await poll(d, '4.0', {})).json as { sets: Record<string, string> };
    assert.equal(Object.keys(raised.sets).length, 1);
  });

  it('reads, changes and deletes the subscription, each answer as the v4.0 events file says', async () => {
    const e = await sandbox.tpp('events-e', ['AISP']);
    const token = (await clientCredentialsToken(e.bank, 'accounts')).access_token;
    const base = `${apiBaseOf(e.bank, undefined, '4.0')}/event-subscriptions`;
    const signed = async (method: 'POST' | 'PUT', url: string, body: unknown) => {
      const text = JSON.stringify(body);
      return callApi(e.bank, token, url, {
        method: method as 'POST',
        body: text,
        headers: { 'x-jws-signature': await signRequestBody(e.bank, e.bundle, text) },
      });
    };
    const plain = await signed('POST', base, {
      Data: { CallbackUrl: 'http://tpp.example/hook', Version: '4.0' },
    });
    assert.equal(plain.status, 400, plain.text);
    assertValidResponse(EVENTS_V4_0, '/event-subscriptions', 'post', 400, plain.json);
    const unsigned = await callApi(e.bank, token, base, {
      method: 'POST',
      body: { Data: { Version: '4.0' } },
    });
    assert.equal(unsigned.status, 400, 'the events file requires x-jws-signature on POST');
    const created = await signed('POST', base, {
      Data: {
        CallbackUrl: 'https://tpp.example/hook',
        Version: '4.0',
        EventTypes: ['UK.OBIE.Resource-Update'],
      },
    });
    assert.equal(created.status, 201, created.text);
    assertValidResponse(EVENTS_V4_0, '/event-subscriptions', 'post', 201, created.json);
    const id = (created.json as { Data: { EventSubscriptionId: string } }).Data.EventSubscriptionId;
    const changed = await signed('PUT', `${base}/${id}`, {
      Data: {
        EventSubscriptionId: id,
        Version: '4.0',
        EventTypes: ['UK.OBIE.Consent-Authorization-Revoked'],
      },
    });
    assert.equal(changed.status, 200, changed.text);
    assertValidResponse(EVENTS_V4_0, '/event-subscriptions/{EventSubscriptionId}', 'put', 200, changed.json);
    assert.deepEqual((changed.json as { Data: unknown }).Data, {
      EventSubscriptionId: id,
      Version: '4.0',
      EventTypes: ['urn:uk:org:openbanking:events:consent-authorization-revoked'],
    });
    const mismatch = await signed('PUT', `${base}/${id}`, {
      Data: { EventSubscriptionId: 'es-other', Version: '4.0' },
    });
    assert.equal(mismatch.status, 400, mismatch.text);
    // Another TPP can neither change nor delete it: not found, as for an id that does not exist.
    const otherToken = (await clientCredentialsToken(b.bank, 'accounts')).access_token;
    const foreign = await callApi(b.bank, otherToken, `${base}/${id}`, { method: 'DELETE' });
    assert.equal(foreign.status, 400, foreign.text);
    const removed = await callApi(e.bank, token, `${base}/${id}`, { method: 'DELETE' });
    assert.equal(removed.status, 204, removed.text);
    const listed = await callApi(e.bank, token, base);
    assertValidResponse(EVENTS_V4_0, '/event-subscriptions', 'get', 200, listed.json);
    assert.deepEqual((listed.json as { Data: unknown }).Data, { EventSubscription: [] });
  });

  it('refuses bad subscriptions and polls in the OB error format of each version', async () => {
    const token = (await clientCredentialsToken(b.bank, 'payments')).access_token;
    const v4 = await callApi(b.bank, token, `${apiBaseOf(b.bank, undefined, '4.0')}/events`, {
      method: 'POST',
      body: { maxEvents: -1 },
    });
    assert.equal(v4.status, 400, v4.text);
    assertValidResponse(EVENTS_V4_0, '/events', 'post', 400, v4.json);
    const v3 = await callApi(b.bank, token, `${apiBaseOf(b.bank, undefined, '3.1.11')}/events`, {
      method: 'POST',
      body: { surprise: true },
    });
    assert.equal(v3.status, 400, v3.text);
    assertValidResponse(EVENTS_V3_1_11, '/events', 'post', 400, v3.json);
    const missing = await callApi(
      b.bank,
      token,
      `${apiBaseOf(b.bank, undefined, '3.1.11')}/event-subscriptions/es-none`,
      {
        method: 'DELETE',
      },
    );
    assert.equal(missing.status, 400, missing.text);
    assertValidResponse(
      EVENTS_V3_1_11,
      '/event-subscriptions/{EventSubscriptionId}',
      'delete',
      400,
      missing.json,
    );
  });
});
