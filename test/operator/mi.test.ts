import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { miCharts } from '../../src/operator/mi/charts.ts';
import { readMiDays, readMiReport, type MiHourRow } from '../../src/operator/mi/report.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { aisGet, authorise } from '../journey/ais-support.ts';
import { failingStore } from '../support/failing-store.ts';
import { startSandbox } from '../support/journey.ts';
import { createTestStore } from '../support/store.ts';

describe('OB MI reporting', () => {
  test('hourly figures and downtime from a known sequence of calls match the hand-computed ones', async () => {
    const clock = new ManualClock(new Date());
    const database = failingStore(await createTestStore());
    const dataDir = mkdtempSync(join(tmpdir(), 'obkit-mi-'));
    after(() => rmSync(dataDir, { recursive: true, force: true }));
    // The sequence below may start up to ~4 minutes after the set-up (moved to the next hour) and calls while the
    // database is down: the certificate's revocation status read at the set-up must still be kept then (the
    // default 300 s ran out mid-sequence, and the directory's OCSP/CRL, down with the database, refused it: 401).
    // The OCSP answer's own nextUpdate (600 s) still bounds it. No cache lease: under one an account answer kept
    // under the change version heard is sent without a statement (the account part, session 19), so a call
    // "while the database is down" would not fail; the sequence needs every call to reach the database.
    const sandbox = await startSandbox({
      clock,
      env: { OBKIT_REVOCATION_CACHE_SECONDS: '3600', OBKIT_CACHE_LEASE_MS: '0' },
      instanceOf: { dataDir, store: database.store },
    });
    // The TPP signs with the real time: bring the bank's clock to it before registering.
    clock.set(new Date());
    const operations = sandbox.platform.operations;
    assert.ok(operations);
    const tpp = await sandbox.tpp('mi-aisp', ['AISP']);
    clock.set(new Date()); // again: onboarding took a while, and the request object is signed with the real time
    const { accessToken } = await authorise(sandbox, tpp, { permissions: ['ReadAccountsDetail'] });
    const setUpHour = Math.floor(clock.now().getTime() / 3_600_000) * 3_600_000;
    const accounts = await aisGet(tpp, accessToken, '/accounts');
    assert.equal(accounts.status, 200);
    const accountId = (accounts.json as { Data: { Account: { AccountId: string }[] } }).Data.Account[0]
      ?.AccountId;
    assert.ok(accountId);

    // The sequence lasts 190 s from a minute after the set-up (within the access token's 15 minutes),
    // moved to the next hour's start when it would straddle two hours.
    let start = clock.now().getTime() + 60_000;
    if (Math.floor(start / 3_600_000) !== Math.floor((start + 190_000) / 3_600_000))
      start = Math.ceil(start / 3_600_000) * 3_600_000 + 1_000;
    const hour = Math.floor(start / 3_600_000) * 3_600_000;
    const at = (minuteSecond: string) => {
      const [minute = 0, second = 0] = minuteSecond.split(':').map(Number);
      // The sequence below starts at 51:00.
      return new Date(start + (minute - 51) * 60_000 + second * 1000);
    };
    let responseBytes = 0;
    /** One call at `time` (MM:SS, 51:00 the sequence's start); `down`: every query fails meanwhile. */
    const callAt = async (
      time: string,
      expected: 'ok' | 'down' | 'refused',
      path = `/accounts/${accountId}`,
    ) => {
      clock.set(at(time));
      database.setFailing(expected === 'down');
      const answer = await aisGet(tpp, accessToken, path);
      database.setFailing(false);
      responseBytes += Buffer.byteLength(answer.text);
      if (expected === 'ok') assert.equal(answer.status, 200, answer.text);
      else if (expected === 'down')
        assert.ok(answer.status >= 500, `${time}: ${answer.status} ${answer.text}`);
      else assert.ok(answer.status >= 400 && answer.status < 500, `${time}: ${answer.status}`);
    };
    await callAt('51:00', 'ok');
    await callAt('51:01', 'ok');
    // Five technical failures within 30 s: down from the first (51:10) ...
    for (const time of ['51:10', '51:15', '51:20', '51:25', '51:30']) await callAt(time, 'down');
    await callAt('51:40', 'down'); // ... still down ...
    // A flush while the database is down fails and keeps its figures for the next one.
    database.setFailing(true);
    await assert.rejects(operations.mi.flush());
    database.setFailing(false);
    await callAt('52:10', 'ok'); // ... up again at the first success: 60 s of downtime.
    // Three failures are not five: no downtime.
    for (const time of ['52:20', '52:21', '52:22']) await callAt(time, 'down');
    await callAt('52:30', 'ok');
    // Five consecutive failures, but over 40 s (more than 30 s): no downtime either.
    for (const time of ['53:00', '53:10', '53:20', '53:30', '53:40']) await callAt(time, 'down');
    await callAt('54:00', 'ok');
    // A business failure (4xx): the endpoint answered.
    await callAt('54:10', 'refused', '/accounts/not-in-this-consent');
    await operations.mi.flush();

    const report = await readMiReport(sandbox.platform.store.db, {
      from: new Date(hour),
      to: new Date(hour + 3_600_000),
    });
    assert.equal(report.from, new Date(hour).toISOString());
    assert.equal(report.to, new Date(hour + 3_600_000).toISOString());
    const row = report.rows.find((r) => r.endpoint === 'GET /aisp/accounts/{AccountId}');
    assert.ok(row, JSON.stringify(report.rows));
    const { averageFirstByteMs, averageLastByteMs, ...figures } = row;
    assert.deepEqual(figures, {
      hour: new Date(hour).toISOString(),
      version: 'v3.1',
      endpoint: 'GET /aisp/accounts/{AccountId}',
      calls: 20,
      successes: 5,
      businessFailures: 1,
      technicalFailures: 14,
      requestBytes: 0,
      responseBytes,
      downtimeSeconds: 60,
      availabilityPercent: 98.333,
    } satisfies Omit<MiHourRow, 'averageFirstByteMs' | 'averageLastByteMs'>);
    assert.ok(averageFirstByteMs !== null && averageLastByteMs !== null);
    assert.ok(averageFirstByteMs > 0 && averageFirstByteMs <= averageLastByteMs);
    // The list of accounts was read once, during the set-up (the hour before when the sequence was moved to
    // the next hour's start); it was never down.
    const setUpReport =
      setUpHour === hour
        ? report
        : await readMiReport(sandbox.platform.store.db, {
            from: new Date(setUpHour),
            to: new Date(setUpHour + 3_600_000),
          });
    const list = setUpReport.rows.find((r) => r.endpoint === 'GET /aisp/accounts');
    assert.equal(list?.calls, 1);
    assert.equal(list?.availabilityPercent, 100);

    // The console's day view: the AIS API of v3.1 was down 60 s of that day, and its chart says so. A sequence
    // moved to the next hour's start just before midnight falls on the day after the set-up's two calls.
    const day = new Date(Math.floor(hour / 86_400_000) * 86_400_000);
    const setUpDay = new Date(Math.floor(setUpHour / 86_400_000) * 86_400_000);
    const days = await readMiDays(sandbox.platform.store.db, {
      from: setUpDay,
      to: new Date(day.getTime() + 86_400_000),
    });
    const dayName = day.toISOString().slice(0, 10);
    const aisDays = days.filter((d) => d.api === 'aisp' && d.version === 'v3.1');
    // the consent staged, the list of accounts, the 20 calls above
    assert.equal(
      aisDays.reduce((calls, d) => calls + d.calls, 0),
      22,
    );
    const ais = aisDays.find((d) => d.day === dayName);
    assert.equal(ais?.calls, setUpDay.getTime() === day.getTime() ? 22 : 20);
    assert.equal(ais?.technicalFailures, 14);
    assert.equal(ais?.availabilityPercent, 99.931);
    const page = miCharts(days, [dayName]).value;
    assert.match(page, /<svg\s+role="img"\s+aria-label="Availability of aisp v3\.1 per day \(%\)"/);
    assert.ok(page.includes(`<title>${dayName}: 99.931%</title>`), page);
    assert.ok(!page.includes('<script'));
  });
});
