import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { clusterUnavailable } from '../support/cluster.ts';
import { runCli, spawnCli, waitForExit } from '../support/cli.ts';
import { createTestDatabase } from '../support/store.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('obkit cluster', () => {
  it('refuses to start without PostgreSQL, saying why (exit 2)', async () => {
    const finished = await runCli(['cluster', '--instances', '2'], { DATABASE_URL: '' });
    assert.equal(finished.code, 2, finished.stderr);
    assert.match(finished.stderr, /obkit cluster runs its instances on PostgreSQL: set DATABASE_URL/);
  });

  it('refuses a number of instances it cannot run (exit 2)', async () => {
    const finished = await runCli(['cluster', '--instances', 'many'], {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    assert.equal(finished.code, 2, finished.stderr);
    assert.match(finished.stderr, /--instances must be a whole number from 1 to 32; got many/);
  });

  it(
    'prints where nginx and the instances are, and on SIGTERM leaves no process and no file behind',
    {
      skip: clusterUnavailable(),
    },
    async () => {
      const databaseUrl = await createTestDatabase(process.env.DATABASE_URL ?? '');
      const child = spawnCli(['cluster', '--instances', '2'], {
        DATABASE_URL: databaseUrl,
        OBKIT_LOG_LEVEL: 'warn',
      });
      let stdout = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('Stop with Ctrl-C.')) resolve();
        });
        child.once('exit', (code) =>
          reject(new Error(`obkit cluster exited (${code}) before it was ready: ${stdout}`)),
        );
      });
      const pids = [...stdout.matchAll(/\(pid (\d+)\)/g)].map((match) => Number(match[1]));
      assert.equal(pids.length, 2, stdout);
      const nginxDir = /nginx configuration and log: +(\S+)/.exec(stdout)?.[1] ?? '';
      const nginxPid = Number((await import('node:fs')).readFileSync(`${nginxDir}/nginx.pid`, 'utf8').trim());
      assert.ok([...pids, nginxPid].every(alive), 'nginx and both instances run');
      assert.match(stdout, /browser \(no client certificate\): https:\/\/localhost:\d+/);
      assert.match(stdout, /TPP endpoints \(mutual TLS\): +https:\/\/localhost:\d+/);

      child.kill('SIGTERM');
      const finished = await waitForExit(child);
      assert.equal(finished.code, 0, finished.stderr);
      assert.deepEqual([...pids, nginxPid].filter(alive), [], 'no process is left behind');
      assert.equal(existsSync(nginxDir), false, "nginx's temporary prefix is removed");
    },
  );
});
