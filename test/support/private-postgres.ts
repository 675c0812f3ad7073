import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { freePorts } from '../../src/shared/free-ports.ts';

/**
 * A PostgreSQL server of the test's own (initdb in a temporary folder, `postgres -D dir -p PORT -k dir`
 * as a child process), for tests that stop and start the database under a running bank — never the
 * machine's shared server. PostgreSQL refuses to run as root: as root (CI, this machine) it runs as the
 * `postgres` user (spawned with its uid and gid, so signals reach the server itself). Stopped and removed
 * when the calling suite ends.
 */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres`. */
  url: string;
  /** Fast shutdown (SIGINT: open connections are terminated); resolves when the server has exited. */
  stop(): Promise<void>;
  /** Starts it again; resolves when it accepts connections. */
  start(): Promise<void>;
}

/** Why a private server cannot be made here, or undefined when it can. */
export function privatePostgresUnavailable(): string | undefined {
  if (!binDir()) return 'no PostgreSQL server binaries under /usr/lib/postgresql/*/bin';
  if (userInfo().uid === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) {
    return 'running as root and there is no postgres user to run PostgreSQL as';
  }
  return undefined;
}

function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'bin', 'postgres')))
    .sort((left, right) => Number(right) - Number(left));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const found = binDir();
  if (!found) throw new Error(privatePostgresUnavailable());
  const bin: string = found;
  const dir = mkdtempSync(join(tmpdir(), 'obkit-pg-'));
  const data = join(dir, 'data');
  const as: SpawnOptions = { cwd: dir };
  if (userInfo().uid === 0) {
    as.uid = Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim());
    as.gid = Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim());
    chownSync(dir, as.uid, as.gid);
  }
  const made = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'],
    { ...as, encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`initdb failed: ${made.stderr}`);
  const [port] = await freePorts(1);
  let server: ChildProcess | undefined;

  async function start(): Promise<void> {
    const args = [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
    ];
    const child = spawn(join(bin, 'postgres'), args, { ...as, stdio: ['ignore', 'ignore', 'pipe'] });
    server = child;
    await new Promise<void>((resolve, reject) => {
      let log = '';
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        log += chunk;
        if (log.includes('database system is ready to accept connections')) resolve();
      });
      child.once('exit', (code) =>
        reject(new Error(`postgres exited (${code}) before it was ready:\n${log}`)),
      );
    });
  }

  async function stop(): Promise<void> {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGINT');
    await exited;
  }

  await start();
  after(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop, start };
}
