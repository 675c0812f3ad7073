/**
 * How long `npm start` (obkit sandbox) takes to be ready, cold (a new data dir: database created, CA made,
 * bank seeded) and warm (the same data dir again), from spawning the process to the "Stop with Ctrl-C"
 * line. Each figure is wall time and CPU time (all the process's threads, read from /proc at the ready
 * line), with the 1-minute load average when it was taken: on a loaded machine the wall time says little,
 * the CPU time still says what start-up costs. Baselines from the same run: a child process that only
 * opens PGlite on a new folder, then on the same folder again, and a bare `node` process. The first cold
 * start finds no kept compiled modules (its own temporary folder); the warm starts find what it kept.
 * Run: npm run bench -- start   (BENCH_WARM_RUNS sets the warm runs, default 5; BENCH_COLD_RUNS, default 1)
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuMsOf } from './support/process-cpu.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'src', 'cli', 'main.ts');
const warmRuns = Number(process.env.BENCH_WARM_RUNS ?? '5');
const coldRuns = Number(process.env.BENCH_COLD_RUNS ?? '1');

interface Sample {
  wallMs: number;
  /** User + system CPU of the process (every thread) until ready; undefined where /proc is missing. */
  cpuMs: number | undefined;
  /** The 1-minute load average when the sample was taken. */
  load: number;
}

/**
 * Spawns node with `args` and samples it when `ready` appears on stdout (then stops it), or, without a
 * pattern, just before it exits (the script waits for a line on stdin, which is closed when it says `done`).
 */
function sample(args: string[], env: Record<string, string>, ready: RegExp): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    let taken: Sample | undefined;
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (taken === undefined && ready.test(out)) {
        const wallMs = performance.now() - start;
        taken = {
          wallMs,
          cpuMs: child.pid === undefined ? undefined : cpuMsOf(child.pid),
          load: loadavg()[0]!,
        };
        child.kill('SIGTERM');
      }
    });
    child.on('exit', (code) => {
      if (taken) resolve(taken);
      else reject(new Error(`${args.join(' ')} exited ${code}: ${err || out}`));
    });
  });
}

/** The sample of median wall time (its CPU and load beside it), and the median CPU time of all. */
function summary(samples: Sample[]): { median: Sample; cpuMedianMs: number | undefined } {
  const byWall = [...samples].sort((a, b) => a.wallMs - b.wallMs);
  const cpus = samples.flatMap((s) => (s.cpuMs === undefined ? [] : [s.cpuMs])).sort((a, b) => a - b);
  return {
    median: byWall[Math.floor(byWall.length / 2)]!,
    cpuMedianMs: cpus.length > 0 ? cpus[Math.floor(cpus.length / 2)] : undefined,
  };
}

const seconds = (ms: number | undefined) => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);
const all = (samples: Sample[]) =>
  samples.map((s) => `${seconds(s.wallMs)} / ${seconds(s.cpuMs)} CPU @ load ${s.load.toFixed(1)}`).join('; ');

function line(label: string, samples: Sample[], target?: string): void {
  const { median, cpuMedianMs } = summary(samples);
  const figures = `wall ${seconds(median.wallMs).padStart(7)}  CPU ${seconds(cpuMedianMs).padStart(7)}  load ${median.load.toFixed(1).padStart(4)}`;
  console.log(`${label.padEnd(38)} ${figures}${target ? `   target ${target}` : ''}`);
  if (samples.length > 1) console.log(`${''.padEnd(38)} (median of ${samples.length}: ${all(samples)})`);
}

/** Prints `ready` once the database answers, then waits to be stopped (so /proc still has the process). */
const pgliteOnly = `import { PGlite } from '@electric-sql/pglite';
const db = new PGlite(process.argv[1]); await db.waitReady; await db.query('select 1');
process.stdout.write('ready\\n'); process.on('SIGTERM', async () => { await db.close(); process.exit(0); });
setInterval(() => {}, 1000);`;
const idle = `process.stdout.write('ready\\n'); process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000);`;

const work = await mkdtemp(join(tmpdir(), 'obkit-bench-start-'));
try {
  const readyLine = /^ready$/m;
  const bare: Sample[] = [];
  for (let i = 0; i < 3; i++) bare.push(await sample(['-e', idle], {}, readyLine));
  const pgCold: Sample[] = [];
  const pgWarm: Sample[] = [];
  for (let i = 0; i < coldRuns; i++) {
    const folder = join(work, `pglite-only-${i}`);
    pgCold.push(await sample(['--input-type=module', '-e', pgliteOnly, folder], {}, readyLine));
  }
  for (let i = 0; i < warmRuns; i++) {
    const folder = join(work, 'pglite-only-0');
    pgWarm.push(await sample(['--input-type=module', '-e', pgliteOnly, folder], {}, readyLine));
  }

  // The CLI keeps compiled and type-stripped modules under the temporary folder (src/cli/module-loading.ts):
  // a temporary folder of this run's own makes the first cold start a first start after installing.
  const ownTmp = join(work, 'tmp');
  await mkdir(ownTmp);
  const env = (dataDir: string) => ({
    TMPDIR: ownTmp,
    OBKIT_DATA_DIR: join(work, dataDir),
    OBKIT_BROWSER_PORT: '0',
    OBKIT_MTLS_PORT: '0',
    OBKIT_OPERATOR_PORT: '0',
    OBKIT_LOG_LEVEL: 'warn',
    DATABASE_URL: '',
  });
  const ready = /Stop with Ctrl-C/;
  const cold: Sample[] = [];
  for (let i = 0; i < coldRuns; i++) cold.push(await sample([cli, 'sandbox'], env(`sandbox-${i}`), ready));
  const warm: Sample[] = [];
  for (let i = 0; i < warmRuns; i++) warm.push(await sample([cli, 'sandbox'], env('sandbox-0'), ready));

  console.log(`(${process.version}; wall and CPU to the ready line; CPU counts every thread of the process)`);
  line('bare node process (baseline)', bare);
  line('PGlite alone, new folder (baseline)', pgCold);
  line('PGlite alone, same folder (baseline)', pgWarm);
  line('npm start, cold (new data dir)', cold, '< 10 s');
  line('npm start, warm (same data dir)', warm, '< 3 s');
  console.log('');
  const cpu = (samples: Sample[]) => summary(samples).cpuMedianMs;
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? 'n/a' : (a / b).toFixed(2);
  console.log(`cold start ÷ PGlite alone on a new folder  = ${ratio(cpu(cold), cpu(pgCold))} (CPU)`);
  console.log(`warm start ÷ PGlite alone on its folder    = ${ratio(cpu(warm), cpu(pgWarm))} (CPU)`);
  console.log(`warm start ÷ bare node process             = ${ratio(cpu(warm), cpu(bare))} (CPU)`);
} finally {
  await rm(work, { recursive: true, force: true });
}
