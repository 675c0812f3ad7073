import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import {
  EVENT_PUSH_ATTEMPTED_CHANNEL,
  EVENT_RAISED_CHANNEL,
  getEvent,
  pendingEvents,
  pushDeliveriesOf,
  subscriptionsOf,
  updateSubscription,
} from '../../src/events/index.ts';
import type { Clock } from '../../src/shared/clock.ts';
import { revoke } from '../../src/consent/index.ts';
import { runAccountsJourney } from '../../src/tpp/accounts.ts';
import { bankSigningJwksUri, pollEvents, subscribeToEvents, verifyEventToken } from '../../src/tpp/events.ts';
import { startSandbox, type Tpp } from '../support/journey.ts';
import { startReceiver, withdrawInDashboard } from './events-support.ts';
import { decodeJwt } from 'jose';
import { clientCredentialsToken } from '../../src/tpp/authorization.ts';
import { apiBaseOf, callApi } from '../../src/tpp/open-banking.ts';
import {
  assertValidResponse,
  EVENT_NOTIFICATIONS_V4_0,
  EVENTS_V4_0,
  validateComponent,
} from '../support/openapi.ts';

/** What a withdrawal at the bank is called for a subscriber on v4.0 (the SDK subscribes on v4.0 by default). */
const REVOKED = 'urn:uk:org:openbanking:events:consent-access-revoked';
const AUTHORIZATION_REVOKED = 'urn:uk:org:openbanking:events:consent-authorization-revoked';
type SetEvents = Record<string, { subject?: Record<string, string> }>;
const noManualStep = () => Promise.reject(new Error('the sandbox approves headlessly'));
/** The platform's push settings here: retries only when the test moves the bank's clock past the back-off. */
const BUDGET = 4;
const BACKOFF_MS = 300_000;

/**
 * The bank's clock: the real time, moved forward to make a retry due, and back to the real time before the
 * next TPP is onboarded (its certificates, tokens and SETs are dated by the real time).
 */
class ShiftableClock implements Clock {
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
  reset(): void {
    this.#offset = 0;
  }
}

describe('real-time push of event notifications through the composed sandbox', async () => {
  const clock = new ShiftableClock();
  const sandbox = await startSandbox({
    clock,
    env: {
      OBKIT_EVENT_PUSH_ATTEMPTS: String(BUDGET),
      OBKIT_EVENT_PUSH_BACKOFF_MS: String(BACKOFF_MS),
      OBKIT_EVENT_PUSH_MAX_BACKOFF_MS: String(BACKOFF_MS),
    },
  });
  const { store } = sandbox.platform;
  const db = store.db;
  const trust = [sandbox.rootPem];

  // The delivery log's announcements: how many attempts each event has had recorded, awaited without polling.
  const recorded = new Map<string, number>();
  const awaiting: { eventId: string; count: number; resolve: () => void }[] = [];
  await store.listen(EVENT_PUSH_ATTEMPTED_CHANNEL, (eventId) => {
    recorded.set(eventId, (recorded.get(eventId) ?? 0) + 1);
    for (const waiter of awaiting.filter((w) => (recorded.get(w.eventId) ?? 0) >= w.count)) {
      awaiting.splice(awaiting.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  const attemptsRecorded = (eventId: string, count: number) =>
    (recorded.get(eventId) ?? 0) >= count
      ? Promise.resolve()
      : new Promise<void>((resolve) => awaiting.push({ eventId, count, resolve }));

  /** Moves the bank past the back-off and wakes the deliverers, as a raised event would. */
  const retryNow = async () => {
    clock.advance(BACKOFF_MS + 1_000);
    await db.execute(sql`select pg_notify(${EVENT_RAISED_CHANNEL}, 'retry')`);
  };

  /** A TPP subscribed with a callback at `receiverUrl`; its customer's withdrawal raises one event. */
  async function subscribedTpp(name: string, receiverUrl: string): Promise<Tpp> {
    clock.reset();
    const tpp = await sandbox.tpp(name, ['AISP']);
    const subscription = await subscribeToEvents({ bundle: tpp.bundle, trust, callbackUrl: receiverUrl });
    assert.equal(subscription.CallbackUrl, receiverUrl);
    return tpp;
  }
  async function withdrawConsent(tpp: Tpp, psu: string): Promise<string> {
    const journey = await runAccountsJourney({
      bundle: tpp.bundle,
      trust,
      psu,
      askForRedirect: noManualStep,
    });
    await withdrawInDashboard(sandbox, psu, [journey.consentId], () => clock.now());
    return journey.consentId;
  }

  it('pushes a raised event to the TPP callback as a signed SET the SDK verifies, once', async () => {
    const receiver = await startReceiver(sandbox.platform.tls, [202]);
    const tpp = await subscribedTpp('push-a', receiver.url);
    const consentId = await withdrawConsent(tpp, 'alice');

    const pushed = await receiver.next();
    assert.equal(pushed.path, '/tpp/event-notifications');
    assert.equal(pushed.contentType, 'application/jwt');
    const jwksUri = await bankSigningJwksUri(tpp.bank, tpp.bundle, sandbox.discoveryUrl);
    const verified = await verifyEventToken(tpp.bank, pushed.body, { jwksUri });
    assert.equal(verified.aud, tpp.clientId);
    assert.equal(verified.events[REVOKED]?.subject?.['http://openbanking.org.uk/rid'], consentId);

    await attemptsRecorded(verified.jti, 1);
    const event = await getEvent(db, verified.jti);
    assert.ok(event?.deliveredAt, 'delivered on the 202');
    assert.equal(event?.nextAttemptAt, null);
    const log = await pushDeliveriesOf(db, verified.jti);
    assert.deepEqual(
      log.map((entry) => [entry.attempt, entry.status, entry.callbackUrl]),
      [[1, 202, receiver.url]],
    );
    // Delivered by push, it is not handed out again by polling.
    assert.deepEqual((await pollEvents({ bundle: tpp.bundle, trust })).events, []);
  });

  it('v4.0: a withdrawal at the bank is consent-access-revoked, by push and by poll; v3.1 keeps its own type', async () => {
    const receiver = await startReceiver(sandbox.platform.tls, [202]);
    const pushed = await subscribedTpp('push-v4', receiver.url);
    const polling = await sandbox.tpp('poll-v4', ['AISP']);
    await subscribeToEvents({ bundle: polling.bundle, trust, apiVersion: '4.0' });
    // A v3.1.11 subscriber, and a v4.0 one that listed only consent-authorization-revoked (kept by v4.0 for
    // backward compatibility): both are told consent-authorization-revoked.
    const legacy: Tpp[] = [];
    for (const [name, apiVersion, types] of [
      ['poll-v3', '3.1.11', undefined],
      ['poll-v4-legacy', '4.0', ['UK.OB.Consent-Authorization-Revoked']],
    ] as const) {
      const tpp = await sandbox.tpp(name, ['AISP']);
      await subscribeToEvents({
        bundle: tpp.bundle,
        trust,
        apiVersion,
        ...(types ? { types: [...types] } : {}),
      });
      legacy.push(tpp);
    }
    // One customer withdraws the four TPPs' consents in one dashboard visit (a TOTP code is taken once).
    const consents = new Map<Tpp, string>();
    for (const tpp of [pushed, polling, ...legacy]) {
      const journey = await runAccountsJourney({
        bundle: tpp.bundle,
        trust,
        psu: 'dave-ltd',
        askForRedirect: noManualStep,
      });
      consents.set(tpp, journey.consentId);
    }
    await withdrawInDashboard(sandbox, 'dave-ltd', [...consents.values()], () => clock.now());

    const jwksUri = await bankSigningJwksUri(pushed.bank, pushed.bundle, sandbox.discoveryUrl);
    const received = await verifyEventToken(pushed.bank, (await receiver.next()).body, { jwksUri });
    assert.deepEqual(Object.keys(received.events), [REVOKED]);
    assert.equal(received.events[REVOKED]?.subject?.['http://openbanking.org.uk/rid'], consents.get(pushed));

    // Polled on v4.0: the same type, the answer as the v4.0 events file says.
    const token = (await clientCredentialsToken(polling.bank, 'accounts')).access_token;
    const polled = await callApi(polling.bank, token, `${apiBaseOf(polling.bank, undefined, '4.0')}/events`, {
      method: 'POST',
      body: { returnImmediately: true },
    });
    assert.equal(polled.status, 200, polled.text);
    assertValidResponse(EVENTS_V4_0, '/events', 'post', 200, polled.json);
    const sets = Object.values((polled.json as { sets: Record<string, string> }).sets);
    assert.equal(sets.length, 1);
    const verified = await verifyEventToken(polling.bank, sets[0]!, {
      jwksUri: await bankSigningJwksUri(polling.bank, polling.bundle, sandbox.discoveryUrl),
    });
    const subject = verified.events[REVOKED]?.subject;
    assert.equal(subject?.['http://openbanking.org.uk/rid'], consents.get(polling));
    assert.equal(subject?.['http://openbanking.org.uk/rty'], 'account-access-consent');
    // The v4.0 event-notifications file: the subject is an OBEventSubject1, and every claim of the SET but
    // `events` is OBEventNotification1's — whose OBEvent1 lists resource-update only (the prose and the
    // v4.0 code list define consent-access-revoked; the file was not updated for it).
    const subjectShape = validateComponent(EVENT_NOTIFICATIONS_V4_0, 'OBEventSubject1', subject);
    assert.ok(subjectShape.valid, subjectShape.errors.join('\n'));
    const envelope = validateComponent(EVENT_NOTIFICATIONS_V4_0, 'OBEventNotification1', decodeJwt(sets[0]!));
    assert.deepEqual(
      envelope.errors.filter((error) => !error.startsWith('/events ')),
      [],
      envelope.errors.join('\n'),
    );

    for (const tpp of legacy) {
      const [event] = (await pollEvents({ bundle: tpp.bundle, trust, ack: true })).events;
      assert.deepEqual(Object.keys(event?.events ?? {}), [AUTHORIZATION_REVOKED]);
      assert.equal(
        event?.events[AUTHORIZATION_REVOKED]?.subject?.['http://openbanking.org.uk/rid'],
        consents.get(tpp),
      );
    }
  });

  it('retries a receiver that fails three times with back-off, and it receives the event once', async () => {
    const receiver = await startReceiver(sandbox.platform.tls, [500, 503, 500, 202]);
    const tpp = await subscribedTpp('push-b', receiver.url);
    await withdrawConsent(tpp, 'bob');
    const jti = decodeJwt((await receiver.next()).body).jti!;
    await attemptsRecorded(jti, 1);
    for (let attempt = 2; attempt <= 4; attempt += 1) {
      const before = await getEvent(db, jti);
      assert.ok(before?.nextAttemptAt && before.nextAttemptAt > clock.now(), 'not due before its back-off');
      await retryNow();
      const again = await receiver.next();
      assert.equal(decodeJwt(again.body).jti, jti, 'the same event, with the same jti');
      await attemptsRecorded(jti, attempt);
    }
    const log = await pushDeliveriesOf(db, jti);
    assert.deepEqual(
      log.map((entry) => [entry.attempt, entry.status]),
      [
        [1, 500],
        [2, 503],
        [3, 500],
        [4, 202],
      ],
    );
    const event = await getEvent(db, jti);
    assert.ok(event?.deliveredAt);
    assert.equal(event?.nextAttemptAt, null, 'nothing more to push');
    assert.equal(receiver.received.length, 4, 'accepted exactly once, after three failures');
  });

  it('stops pushing to a receiver that never answers 2xx after the budget; the event waits for polling', async () => {
    const receiver = await startReceiver(sandbox.platform.tls, [500]);
    const tpp = await subscribedTpp('push-c', receiver.url);
    const consentId = await withdrawConsent(tpp, 'carol');
    const jti = decodeJwt((await receiver.next()).body).jti!;
    await attemptsRecorded(jti, 1);
    for (let attempt = 2; attempt <= BUDGET; attempt += 1) {
      await retryNow();
      await receiver.next();
      await attemptsRecorded(jti, attempt);
    }
    const event = await getEvent(db, jti);
    assert.equal(event?.attempts, BUDGET);
    assert.equal(event?.nextAttemptAt, null, 'the budget is spent: no further attempt is scheduled');
    assert.equal(event?.deliveredAt, null);
    assert.deepEqual(
      (await pushDeliveriesOf(db, jti)).map((entry) => entry.status),
      Array.from({ length: BUDGET }, () => 500),
    );

    clock.reset();
    const polled = await pollEvents({ bundle: tpp.bundle, trust, ack: true });
    assert.deepEqual(
      polled.events.map((polledEvent) => polledEvent.jti),
      [jti],
    );
    assert.equal(polled.events[0]?.events[REVOKED]?.subject?.['http://openbanking.org.uk/rid'], consentId);
  });
  it("a callback served with a TPP's transport certificate must be that TPP's: another TPP's gets nothing, its own gets the event", async () => {
    clock.reset();
    // Open Banking transport certificates name the software (CN) and organisation (OU), and no host.
    const transportTls = (tpp: Tpp) => ({
      key: tpp.bundle.transportKeyPem,
      cert: `${tpp.bundle.transportCertificatePem.trim()}\n${tpp.bundle.caChainPem.trim()}\n`,
    });
    const owner = await sandbox.tpp('push-owner', ['AISP']);
    const other = await sandbox.tpp('push-other', ['AISP']);
    const impostor = await startReceiver(transportTls(other), [202]);
    const genuine = await startReceiver(transportTls(owner), [202]);
    await subscribeToEvents({ bundle: owner.bundle, trust, callbackUrl: impostor.url });
    // The bank withdraws the owner's consent (a dashboard login per test would reuse a customer's TOTP step).
    const { consentId } = await runAccountsJourney({
      bundle: owner.bundle,
      trust,
      psu: 'alice',
      askForRedirect: noManualStep,
    });
    await revoke({ db, clock, notifyRevoked: async () => undefined }, consentId, {
      actor: 'system',
      detail: 'revoked by the bank',
    });

    const [raised] = (await pendingEvents(db, clock, owner.clientId, 10)).events;
    assert.ok(raised, 'the withdrawal raised an event for the owner');
    await attemptsRecorded(raised.id, 1);
    const [refused] = await pushDeliveriesOf(db, raised.id);
    assert.equal(refused?.status, null, 'no HTTP answer: the TLS handshake was refused');
    assert.match(refused?.error ?? '', /another participant/);
    assert.equal(impostor.received.length, 0, "the other TPP's receiver was never sent the event");
    assert.equal((await getEvent(db, raised.id))?.deliveredAt, null);

    // The owner moves its callback to a receiver with its own transport certificate: the retry arrives.
    const [subscription] = await subscriptionsOf(db, owner.clientId);
    await updateSubscription(db, owner.clientId, subscription!.id, {
      version: subscription!.version,
      callbackUrl: genuine.url,
      eventTypes: subscription!.eventTypes,
    });
    await retryNow();
    // Signed at the bank's moved clock (its iat is ahead of the real time), so read, not verified, here.
    const pushed = decodeJwt((await genuine.next()).body) as { jti?: string; events?: SetEvents };
    assert.equal(pushed.jti, raised.id);
    assert.equal(pushed.events?.[REVOKED]?.subject?.['http://openbanking.org.uk/rid'], consentId);
    await attemptsRecorded(raised.id, 2);
    assert.deepEqual(
      (await pushDeliveriesOf(db, raised.id)).map((entry) => [entry.attempt, entry.status]),
      [
        [1, null],
        [2, 202],
      ],
    );
    assert.equal(impostor.received.length, 0);
  });
});
