import { systemClock } from '../../src/shared/clock.ts';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { revoke } from '../../src/consent/index.ts';
import { EVENT_PUSH_ATTEMPTED_CHANNEL, getEvent } from '../../src/events/index.ts';
import { runAccountsJourney } from '../../src/tpp/accounts.ts';
import { subscribeToEvents } from '../../src/tpp/events.ts';
import { runCli, spawnCli, waitForExit, waitForOutput } from '../support/cli.ts';
import { startSandbox } from '../support/journey.ts';

interface PolledJson {
  events: { jti: string; aud: string; events: Record<string, { subject: Record<string, string> }> }[];
  acknowledged: string[];
  moreAvailable: boolean;
}

describe('obkit tpp events', async () => {
  const sandbox = await startSandbox();
  const caFile = join(sandbox.platform.dataDir, 'pki', 'root-ca.pem');

  it('subscribe, then poll --json verifies each event and --ack removes it', async () => {
    const tpp = await sandbox.tpp('cli-events', ['AISP']);
    const common = ['--bundle', tpp.bundle.dir, '--ca', caFile];
    const subscribed = await runCli(
      ['tpp', 'events', 'subscribe', ...common, '--types', 'UK.OBIE.Consent-Authorization-Revoked'],
      {},
      120_000,
    );
    assert.equal(subscribed.code, 0, subscribed.stderr);
    assert.match(
      subscribed.stdout,
      /event subscription es-\S+: poll; types urn:uk:org:openbanking:events:consent-authorization-revoked/,
    );

    // The bank revokes the consent (actor system: an operator's decision), which raises the event.
    const journey = await runAccountsJourney({
      bundle: tpp.bundle,
      trust: [sandbox.rootPem],
      askForRedirect: () => Promise.reject(new Error('headless')),
    });
    await revoke(
      {
        db: sandbox.platform.store.db,
        clock: systemClock,
        notifyRevoked: async () => undefined,
      },
      journey.consentId,
      { actor: 'system', detail: 'revoked by the bank' },
    );

    const polled = await runCli(['tpp', 'events', 'poll', ...common, '--ack', '--json'], {}, 120_000);
    assert.equal(polled.code, 0, polled.stderr);
    const result = JSON.parse(polled.stdout) as PolledJson;
    assert.equal(result.events.length, 1);
    const [event] = result.events;
    assert.equal(event?.aud, tpp.clientId);
    assert.equal(
      event?.events['urn:uk:org:openbanking:events:consent-authorization-revoked']?.subject[
        'http://openbanking.org.uk/rid'
      ],
      journey.consentId,
    );
    assert.deepEqual(result.acknowledged, [event?.jti]);

    const again = await runCli(['tpp', 'events', 'poll', ...common], {}, 120_000);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.trim(), 'no events');
  });

  it('refuses a bad --types or --callback before contacting anyone (exit 2)', async () => {
    const bad = await runCli(['tpp', 'events', 'subscribe', '--bundle', '/nonexistent', '--types', 'Nope']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /unknown event type\(s\) Nope/);
    const http = await runCli([
      'tpp',
      'events',
      'subscribe',
      '--bundle',
      '/nonexistent',
      '--callback',
      'http://x.example',
    ]);
    assert.equal(http.code, 2, http.stderr);
    assert.match(http.stderr, /--callback must be an https URL/);
  });

  it('listen receives the events the bank pushes, verifies each and prints it (--json: one JSON line each)', async () => {
    const tpp = await sandbox.tpp('cli-listen', ['AISP']);
    // The receiver serves the bundle's own transport certificate (no --tls-cert): it names the software,
    // not a host, and the bank accepts it because it is the subscribing TPP's.
    const listener = spawnCli([
      'tpp',
      'events',
      'listen',
      '--bundle',
      tpp.bundle.dir,
      '--ca',
      caFile,
      '--port',
      '0',
      '--json',
    ]);
    after(() => listener.kill('SIGKILL'));
    const started = await waitForOutput(
      listener,
      /listening on https:\/\/127\.0\.0\.1:(\d+)\/event-notifications/,
      120_000,
    );
    const port = /127\.0\.0\.1:(\d+)/.exec(started)![1];
    await subscribeToEvents({
      bundle: tpp.bundle,
      trust: [sandbox.rootPem],
      callbackUrl: `https://localhost:${port}`,
    });

    const journey = await runAccountsJourney({
      bundle: tpp.bundle,
      trust: [sandbox.rootPem],
      askForRedirect: () => Promise.reject(new Error('headless')),
    });
    // The bank's record of the attempt (after the listener's 202), announced on commit.
    let attemptRecorded: (eventId: string) => void = () => undefined;
    const recorded = new Promise<string>((resolve) => (attemptRecorded = resolve));
    await sandbox.platform.store.listen(EVENT_PUSH_ATTEMPTED_CHANNEL, (eventId) => attemptRecorded(eventId));
    await revoke(
      {
        db: sandbox.platform.store.db,
        clock: systemClock,
        notifyRevoked: async () => undefined,
      },
      journey.consentId,
      { actor: 'system', detail: 'revoked by the bank' },
    );
    const printed = await waitForOutput(listener, new RegExp(journey.consentId), 120_000);
    const line = printed.split('\n').find((text) => text.includes(journey.consentId))!;
    const event = JSON.parse(line) as PolledJson['events'][number];
    assert.equal(event.aud, tpp.clientId);
    assert.equal(await recorded, event.jti);
    const pushed = await getEvent(sandbox.platform.store.db, event.jti);
    assert.ok(pushed?.deliveredAt, 'the listener answered 202');
    listener.kill('SIGTERM');
    assert.equal((await waitForExit(listener)).code, 0);
  });
});
