/**
 * The store's own cost per statement: N trivial statements through the store's drizzle `db` (a primary-key
 * SELECT of a missing row, and `select now()` — a timestamp, so a type the date parsers handle), one after
 * the other, on a PGlite store in a temporary folder (or PostgreSQL with `--store postgres`). Prints the
 * main thread's busy and the process's CPU microseconds per statement, best of `BENCH_ROUNDS` rounds.
 * Run: node bench/store-queries.ts [--store pglite|postgres]   (BENCH_QUERIES per round, default 2,000)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { authModels } from '../src/store/schema/index.ts';
import { openBenchStore } from './support/store.ts';

const backend = process.argv.includes('postgres') ? 'postgres' : 'pglite';
const queries = Number(process.env.BENCH_QUERIES ?? '2000');
const rounds = Number(process.env.BENCH_ROUNDS ?? '5');

const dir = await mkdtemp(join(tmpdir(), 'obkit-store-queries-'));
const bench = await openBenchStore(backend, dir);
const { db } = bench.store;
try {
  const statements = {
    'select by primary key (no row)': () =>
      db.select({ id: authModels.id }).from(authModels).where(eq(authModels.id, 'missing')).limit(1),
    'select now() (timestamptz)': () => db.execute(sql`select now() as at`),
  };
  for (const [label, run] of Object.entries(statements)) {
    for (let i = 0; i < 200; i++) await run(); // warm up
    let best = { busy: Infinity, cpu: Infinity };
    for (let round = 0; round < rounds; round++) {
      const elu = performance.eventLoopUtilization();
      const cpu = process.cpuUsage();
      for (let i = 0; i < queries; i++) await run();
      const used = performance.eventLoopUtilization(elu);
      const spent = process.cpuUsage(cpu);
      const busy = (used.active * 1000) / queries;
      const cpuMicros = (spent.user + spent.system) / queries;
      best = { busy: Math.min(best.busy, busy), cpu: Math.min(best.cpu, cpuMicros) };
    }
    console.log(
      `${backend} ${label.padEnd(34)} busy ${best.busy.toFixed(1).padStart(7)} µs   cpu ${best.cpu.toFixed(1).padStart(7)} µs per statement`,
    );
  }
} finally {
  await bench.drop();
  await rm(dir, { recursive: true, force: true });
}
