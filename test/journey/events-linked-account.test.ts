import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getIntent, listAudit } from '../../src/consent/index.ts';
import { bankSigningJwksUri, pollEvents, subscribeToEvents, verifyEventToken } from '../../src/tpp/events.ts';
import { startSandbox, type Tpp } from '../support/journey.ts';
import {
  assertValidResponse,
  AIS_V3_1_11,
  EVENT_NOTIFICATIONS_V4_0,
  validateComponent,
} from '../support/openapi.ts';
import { aisGet, authorise } from './ais-support.ts';
import { dashboardSession, startReceiver } from './events-support.ts';

const LINKED = 'urn:uk:org:openbanking:events:account-access-consent-linked-account-update';
const PERMISSIONS = ['ReadAccountsDetail', 'ReadBalances'];

describe('the customer stops sharing one account of an account-access consent in the dashboard', async () => {
  const sandbox = await startSandbox();
  const { store } = sandbox.platform;
  const trust = [sandbox.rootPem];

  /**
   * A TPP subscribed on v4.0 (with a callback: push; without: poll) and alice's v3.1.11 consent over all her
   * accounts (the subscription's version, not the consent's, decides the events).
   */
  async function consentOf(name: string, callbackUrl?: string) {
    const tpp: Tpp = await sandbox.tpp(name, ['AISP']);
    await subscribeToEvents({
      bundle: tpp.bundle,
      trust,
      apiVersion: '4.0',
      ...(callbackUrl ? { callbackUrl } : {}),
    });
    const consent = await authorise(sandbox, tpp, { permissions: PERMISSIONS });
    const listed = await aisGet(tpp, consent.accessToken, '/accounts');
    assert.equal(listed.status, 200, listed.text);
    const ids = (listed.json as { Data: { Account: { AccountId: string }[] } }).Data.Account.map(
      (a) => a.AccountId,
    );
    assert.ok(ids.length >= 2, 'alice shares several accounts');
    // Read once more through the account's own path: the guard now holds the consent in its cache.
    assert.equal((await aisGet(tpp, consent.accessToken, `/accounts/${ids[0]}/balances`)).status, 200);
    return { tpp, consent, ids };
  }

  it('keeps the other accounts and the tokens, refuses the dropped one at once, and raises linked-account-update (push and poll)', async () => {
    const receiver = await startReceiver(sandbox.platform.tls, [202]);
    const pushed = await consentOf('linked-push', receiver.url);
    const polled = await consentOf('linked-poll');
    const versionBefore = await store.changeVersion();

    const go = await dashboardSession(sandbox, 'alice');
    for (const { consent, ids } of [pushed, polled]) {
      const details = await go(`/dashboard/consents/${consent.consentId}`);
      assert.equal(details.status, 200);
      assert.match(details.body, /Stop sharing this account/);
      const stopped = await go(`/dashboard/consents/${consent.consentId}/stop-sharing`, { account: ids[0]! });
      assert.equal(stopped.status, 303, stopped.body);
      const after = await go(`/dashboard/consents/${consent.consentId}`);
      assert.match(after.body, /You stopped sharing .+ with /, 'the history says so');
    }

    for (const { tpp, consent, ids } of [pushed, polled]) {
      const intent = await getIntent(store.db, consent.consentId);
      assert.equal(intent?.status, 'Authorised', 'the consent stays authorised');
      assert.deepEqual(intent?.accountIds, ids.slice(1));
      // The dropped account is refused at once, although the guard had the consent cached; the same
      // token still reads the accounts the customer kept.
      const dropped = await aisGet(tpp, consent.accessToken, `/accounts/${ids[0]}/balances`);
      assert.equal(dropped.status, 400, dropped.text);
      assertValidResponse(AIS_V3_1_11, '/accounts/{AccountId}/balances', 'get', 400, dropped.json);
      const listed = await aisGet(tpp, consent.accessToken, '/accounts');
      assert.equal(listed.status, 200, listed.text);
      assert.deepEqual(
        (listed.json as { Data: { Account: { AccountId: string }[] } }).Data.Account.map((a) => a.AccountId),
        ids.slice(1),
      );
      assert.equal((await aisGet(tpp, consent.accessToken, `/accounts/${ids[1]}/balances`)).status, 200);
    }
    // Every instance drops what it cached: the change was announced, advancing the store's change version
    // (on the embedded database there is one instance, and the version stays 0).
    if (store.backend === 'postgres') assert.ok((await store.changeVersion()) > versionBefore);

    const jwksUri = await bankSigningJwksUri(pushed.tpp.bank, pushed.tpp.bundle, sandbox.discoveryUrl);
    const received = await verifyEventToken(pushed.tpp.bank, (await receiver.next()).body, { jwksUri });
    assert.deepEqual(Object.keys(received.events), [LINKED]);
    const subject = received.events[LINKED]?.subject;
    assert.equal(subject?.['http://openbanking.org.uk/rid'], pushed.consent.consentId);
    assert.equal(subject?.['http://openbanking.org.uk/rty'], 'account-access-consent');
    const shape = validateComponent(EVENT_NOTIFICATIONS_V4_0, 'OBEventSubject1', subject);
    assert.ok(shape.valid, shape.errors.join('\n'));

    const [event, ...more] = (await pollEvents({ bundle: polled.tpp.bundle, trust, ack: true })).events;
    assert.deepEqual(more, []);
    assert.deepEqual(Object.keys(event?.events ?? {}), [LINKED]);
    assert.equal(event?.events[LINKED]?.subject?.['http://openbanking.org.uk/rid'], polled.consent.consentId);
  });

  it("does not offer a consent's only account: the customer withdraws access instead", async () => {
    const tpp = await sandbox.tpp('linked-one', ['AISP']);
    await subscribeToEvents({ bundle: tpp.bundle, trust, apiVersion: '4.0' });
    const all = await authorise(sandbox, tpp, { permissions: PERMISSIONS, username: 'bob' });
    const accountId = (
      (await aisGet(tpp, all.accessToken, '/accounts')).json as { Data: { Account: { AccountId: string }[] } }
    ).Data.Account[0]!.AccountId;
    const one = await authorise(sandbox, tpp, {
      permissions: PERMISSIONS,
      username: 'bob',
      accounts: [accountId],
    });
    const go = await dashboardSession(sandbox, 'bob');
    const details = await go(`/dashboard/consents/${one.consentId}`);
    assert.doesNotMatch(details.body, /Stop sharing this account/);
    assert.match(details.body, /sees one account: to stop sharing it, withdraw access/);
    // A hand-made POST changes nothing.
    const forced = await go(`/dashboard/consents/${one.consentId}/stop-sharing`, { account: accountId });
    assert.equal(forced.status, 303);
    assert.deepEqual((await getIntent(store.db, one.consentId))?.accountIds, [accountId]);
    assert.ok(!(await listAudit(store.db, one.consentId)).some((entry) => entry.event === 'account-removed'));
    assert.equal((await aisGet(tpp, one.accessToken, `/accounts/${accountId}/balances`)).status, 200);
    assert.deepEqual((await pollEvents({ bundle: tpp.bundle, trust })).events, [], 'nothing raised');
  });
});
