/**
 * How long `npm start` (obkit sandbox) takes to be ready, cold (a new data dir: database created, CA made,
 * bank seeded) and warm (the same data dir again), from spawning the process to the "Stop with Ctrl-C"
 * line; each as a ratio to what the embedded database alone takes in the same run (a child process that
 * only opens PGlite on a new folder, then on the same folder again), and to a bare `node` process.
 * Run: PATH=$PWD/node_modules/.bin:$PATH node bench/start.ts   (BENCH_WARM_RUNS sets the warm runs, default 3)
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'src', 'cli', 'main.ts');
const warmRuns = Number(process.env.BENCH_WARM_RUNS ?? '3');

/** Wall-clock milliseconds from spawn until `ready` appears on stdout (or exit, when no pattern). */
function timed(args: string[], env: Record<string, string>, ready?: RegExp): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    let readyAt: number | undefined;
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (ready && readyAt === undefined && ready.test(out)) {
        readyAt = performance.now() - start;
        child.kill('SIGTERM');
      }
    });
    child.on('exit', (code) => {
      if (ready ? readyAt !== undefined : code === 0) resolve(readyAt ?? performance.now() - start);
      else reject(new Error(`${args.join(' ')} exited ${code}: ${err || out}`));
    });
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`.padStart(9);

const pgliteOnly = `import { PGlite } from '@electric-sql/pglite';
const db = new PGlite(process.argv[1]); await db.waitReady; await db.query('select 1'); await db.close();`;

const work = await mkdtemp(join(tmpdir(), 'obkit-bench-start-'));
try {
  const bareRuns: number[] = [];
  for (let i = 0; i < 3; i++) bareRuns.push(await timed(['-e', '0'], {}));
  const bare = median(bareRuns);
  const pgFolder = join(work, 'pglite-only');
  const pgCold = await timed(['--input-type=module', '-e', pgliteOnly, pgFolder], {});
  const pgWarmRuns: number[] = [];
  for (let i = 0; i < warmRuns; i++) {
    pgWarmRuns.push(await timed(['--input-type=module', '-e', pgliteOnly, pgFolder], {}));
  }
  const pgWarm = median(pgWarmRuns);

  const env = {
    OBKIT_DATA_DIR: join(work, 'sandbox'),
    OBKIT_BROWSER_PORT: '0',
    OBKIT_MTLS_PORT: '0',
    OBKIT_LOG_LEVEL: 'warn',
    DATABASE_URL: '',
  };
  const ready = /Stop with Ctrl-C/;
  const cold = await timed([cli, 'sandbox'], env, ready);
  const warmAll: number[] = [];
  for (let i = 0; i < warmRuns; i++) warmAll.push(await timed([cli, 'sandbox'], env, ready));
  const warm = median(warmAll);

  console.log(`bare node process (baseline)            ${seconds(bare)}`);
  console.log(`PGlite alone, new folder (baseline)     ${seconds(pgCold)}`);
  console.log(`PGlite alone, same folder (baseline)    ${seconds(pgWarm)}   (median of ${warmRuns})`);
  console.log(`npm start, cold (new data dir)          ${seconds(cold)}   target < 10 s`);
  console.log(
    `npm start, warm (same data dir)         ${seconds(warm)}   target < 3 s (median of ${warmRuns}: ${warmAll.map((ms) => (ms / 1000).toFixed(2)).join(', ')})`,
  );
  console.log('');
  console.log(`cold start ÷ PGlite alone on a new folder  = ${(cold / pgCold).toFixed(2)}`);
  console.log(`warm start ÷ PGlite alone on its folder    = ${(warm / pgWarm).toFixed(2)}`);
  console.log(`warm start ÷ bare node process             = ${(warm / bare).toFixed(2)}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
