import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli, spawnCli, waitForExit, waitForOutput, type Finished } from '../support/cli.ts';
import { seedDataDir } from '../support/platform.ts';
import { isolatedDatabaseEnv } from '../support/store.ts';

/** One or two lines, no stack trace: what a person reads when obkit refuses. */
function assertOneLineRefusal(result: Finished, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, `exit code; stderr: ${result.stderr}`);
  assert.match(result.stderr, pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  assert.ok(result.stderr.trim().split('\n').length <= 2, result.stderr);
}

function tempDataDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `obkit-${name}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The embedded database, whatever DATABASE_URL the test run has: the lock guards PGlite's files. */
function embeddedEnv(dataDir: string): Record<string, string> {
  return {
    OBKIT_DATA_DIR: dataDir,
    OBKIT_BROWSER_PORT: '0',
    OBKIT_MTLS_PORT: '0',
    OBKIT_OPERATOR_PORT: '0',
    OBKIT_LOG_LEVEL: 'warn',
    DATABASE_URL: '',
  };
}

/** A pid no process has any more: a child that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('a data dir that cannot be lost by accident', { timeout: 600_000 }, () => {
  it('refuses a second process on the same data dir, naming the pid; takes over a stale lock', async () => {
    const dataDir = tempDataDir('lock');
    const env = embeddedEnv(dataDir);
    await seedDataDir(dataDir, { embedded: true });
    const first = spawnCli(['sandbox'], env);
    const exited = waitForExit(first, 300_000);
    await waitForOutput(first, /Stop with Ctrl-C/, 300_000);
    assert.equal(readFileSync(join(dataDir, 'obkit.lock'), 'utf8').trim(), String(first.pid));

    const second = await runCli(['sandbox'], env, 120_000);
    assertOneLineRefusal(
      second,
      1,
      new RegExp(`is in use by process ${first.pid} \\(lock file .*obkit\\.lock\\)`),
    );
    const migrate = await runCli(['migrate'], env, 120_000);
    assertOneLineRefusal(migrate, 1, new RegExp(`in use by process ${first.pid}`));
    const reset = await runCli(['sandbox', 'reset', '--yes'], env, 120_000);
    assertOneLineRefusal(reset, 1, new RegExp(`in use by process ${first.pid}`));
    assert.ok(existsSync(join(dataDir, 'pglite', 'PG_VERSION')), 'reset removed nothing');

    first.kill('SIGTERM');
    assert.equal((await exited).code, 0);
    assert.equal(existsSync(join(dataDir, 'obkit.lock')), false, 'the lock goes with its process');

    // A lock left by a process that died without releasing it (SIGKILL, power cut) is taken over.
    const stale = deadPid();
    writeFileSync(join(dataDir, 'obkit.lock'), `${stale}\n`);
    const again = await runCli(['migrate'], env, 300_000);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(existsSync(join(dataDir, 'obkit.lock')), false);
  });

  it('stops at a partial or damaged embedded database with the folder at fault and the remedy', async () => {
    const dataDir = tempDataDir('corrupt');
    const env = embeddedEnv(dataDir);
    mkdirSync(join(dataDir, 'pglite'));
    writeFileSync(join(dataDir, 'pglite', 'base'), 'not a database');
    const partial = await runCli(['sandbox'], env, 120_000);
    assertOneLineRefusal(
      partial,
      1,
      /pglite is not a complete database \(it has no PG_VERSION.*`npx obkit sandbox reset`/,
    );

    rmSync(join(dataDir, 'pglite'), { recursive: true });
    const created = await runCli(['migrate'], env, 300_000);
    assert.equal(created.code, 0, created.stderr);
    writeFileSync(join(dataDir, 'pglite', 'global', 'pg_control'), Buffer.alloc(8192, 0x5a));
    const damaged = await runCli(['sandbox'], env, 300_000);
    assertOneLineRefusal(
      damaged,
      1,
      /the embedded database in .*pglite does not open \(.*\): it is damaged or partial; .*`npx obkit sandbox reset`/,
    );
    assert.doesNotMatch(damaged.stderr, /RuntimeError|Aborted\(\)/);
  });

  it('`sandbox reset` asks first, removes only the sandbox state, and exists only in the sandbox', async () => {
    const dataDir = tempDataDir('reset');
    const env = embeddedEnv(dataDir);
    // What the sandbox leaves in a data dir (reset looks at names, not contents).
    mkdirSync(join(dataDir, 'pglite'));
    writeFileSync(join(dataDir, 'pglite', 'PG_VERSION'), '17\n');
    mkdirSync(join(dataDir, 'pki'));
    writeFileSync(join(dataDir, 'notes.txt'), 'mine');

    const declined = spawnCli(['sandbox', 'reset'], env);
    declined.stdin.end('no\n');
    const no = await waitForExit(declined);
    assertOneLineRefusal(no, 1, /nothing removed \(answer yes, or pass --yes\)/);
    assert.match(no.stdout, /Remove the sandbox state in .* \(pglite, pki: database, CA and keys\)\?/);
    assert.ok(existsSync(join(dataDir, 'pglite', 'PG_VERSION')));

    const outside = await runCli(['sandbox', 'reset', '--yes'], { ...env, OBKIT_SANDBOX: 'false' });
    assertOneLineRefusal(outside, 1, /`sandbox reset` exists only in the sandbox/);
    const postgres = await runCli(['sandbox', 'reset', '--yes'], {
      ...env,
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    assertOneLineRefusal(postgres, 1, /DATABASE_URL is set: .* which reset does not remove/);
    assert.ok(existsSync(join(dataDir, 'pglite', 'PG_VERSION')));

    const confirmed = spawnCli(['sandbox', 'reset'], env);
    confirmed.stdin.end('yes\n');
    const yes = await waitForExit(confirmed);
    assert.equal(yes.code, 0, yes.stderr);
    assert.match(yes.stdout, /removed .*pglite, .*pki/);
    assert.equal(existsSync(join(dataDir, 'pglite')), false);
    assert.equal(existsSync(join(dataDir, 'pki')), false);
    assert.equal(readFileSync(join(dataDir, 'notes.txt'), 'utf8'), 'mine', 'other files stay');

    const empty = await runCli(['sandbox', 'reset', '--yes'], env);
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(empty.stdout, /nothing to remove/);
  });

  it('refuses to start without the master key while sealed keys exist, and never writes a new one', async () => {
    const dataDir = tempDataDir('master-key');
    const env = {
      OBKIT_DATA_DIR: dataDir,
      OBKIT_BROWSER_PORT: '0',
      OBKIT_MTLS_PORT: '0',
      OBKIT_OPERATOR_PORT: '0',
      OBKIT_LOG_LEVEL: 'warn',
      ...(await isolatedDatabaseEnv()),
    };
    await seedDataDir(dataDir);
    // The directory seals its SSA-signing key with the master key when it first mounts.
    const first = spawnCli(['serve', 'directory'], env);
    const exited = waitForExit(first, 300_000);
    await waitForOutput(first, /Stop with Ctrl-C/, 300_000);
    first.kill('SIGTERM');
    assert.equal((await exited).code, 0);

    const keyFile = join(dataDir, 'directory', 'master.key');
    rmSync(keyFile);
    const refused = await runCli(['serve', 'directory'], env, 300_000);
    assertOneLineRefusal(
      refused,
      1,
      /master\.key is missing, but the database holds \d+ private keys? sealed with it; restore the file from your backup/,
    );
    assert.equal(existsSync(keyFile), false, 'no new key was written over the sealed ones');
  });
});
