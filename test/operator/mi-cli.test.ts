import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { MiRecorder } from '../../src/operator/mi/recorder.ts';
import { openConfiguredStore } from '../../src/server/platform.ts';
import { loadConfig } from '../../src/server/config.ts';
import { runCli } from '../support/cli.ts';
import { seedDataDir } from '../support/platform.ts';
import { isolatedDatabaseEnv } from '../support/store.ts';

describe('obkit operator mi', () => {
  test('prints the hourly MI of the range as CSV, or JSON with --json; a bad date is bad usage', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'obkit-mi-cli-'));
    after(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = { OBKIT_DATA_DIR: dataDir, ...(await isolatedDatabaseEnv()) };
    await seedDataDir(dataDir);
    // What an instance counted: two calls at 10:15 on 1 March (one a technical failure), flushed.
    const store = await openConfiguredStore(loadConfig({ env }));
    try {
      await store.migrate();
      const mi = new MiRecorder(store.db);
      const series = mi.series('GET /aisp/accounts/{AccountId}', 'v3.1');
      const at = Date.parse('2026-03-01T10:15:00Z');
      const call = { firstByteMs: 2, lastByteMs: 4, requestBytes: 0, responseBytes: 100 };
      mi.record(series, { ...call, at, status: 200 });
      mi.record(series, { ...call, at: at + 1000, status: 500, responseBytes: 50 });
      await mi.flush();
    } finally {
      await store.close();
    }

    const range = ['--from', '2026-03-01', '--to', '2026-03-02'];
    const csv = await runCli(['operator', 'mi', ...range], env);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(
      csv.stdout,
      'hour,version,endpoint,calls,successes,businessFailures,technicalFailures,averageFirstByteMs,' +
        'averageLastByteMs,requestBytes,responseBytes,downtimeSeconds,availabilityPercent\r\n' +
        '2026-03-01T10:00:00.000Z,v3.1,GET /aisp/accounts/{AccountId},2,1,0,1,2,4,0,150,0,100\r\n',
    );
    const json = await runCli(['operator', 'mi', ...range, '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as { from: string; to: string; rows: { calls: number }[] };
    assert.equal(report.from, '2026-03-01T00:00:00.000Z');
    assert.equal(report.to, '2026-03-02T00:00:00.000Z');
    assert.deepEqual(
      report.rows.map((row) => row.calls),
      [2],
    );
    // Outside the range: the header alone.
    const empty = await runCli(['operator', 'mi', '--from', '2026-03-02', '--to', '2026-03-03'], env);
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.stdout.split('\r\n').filter(Boolean).length, 1);

    const bad = await runCli(['operator', 'mi', '--from', 'yesterday'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--from takes a date/);
    assert.ok(bad.stderr.trim().split('\n').length <= 2, bad.stderr);
    const backwards = await runCli(['operator', 'mi', '--from', '2026-03-02', '--to', '2026-03-01'], env);
    assert.equal(backwards.code, 2);
    assert.match(backwards.stderr, /--from must be before --to/);
  });
});
