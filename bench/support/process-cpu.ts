/**
 * CPU time of other processes on this machine, from /proc: the benchmark's PostgreSQL backends (their
 * share of a request's cost, which the benchmark process's own CPU time leaves out) and processes it spawns.
 */
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import type { Store } from '../../src/store/index.ts';

/** USER_HZ: the unit of /proc/<pid>/stat's CPU times; 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * User + system CPU milliseconds of a live process so far (fields 14 and 15 of /proc/<pid>/stat), or of one
 * of its threads (`/proc/<pid>/task/<tid>/stat` with `thread`).
 */
export function cpuMsOf(pid: number, thread?: number): number | undefined {
  try {
    const path = thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`;
    const stat = readFileSync(path, 'utf8');
    // The command name (field 2) may hold spaces; the fields after it follow its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / CLOCK_TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The CPU milliseconds the PostgreSQL backends serving `store`'s database use between `start` and `stop`
 * (every backend connected to it at either end: a connection opened meanwhile counts from zero). Undefined
 * on PGlite (it runs in this process: its CPU is the process's) and where /proc cannot be read (a server on
 * another machine).
 */
export async function backendCpuWindow(
  store: Store,
): Promise<{ stop(): Promise<number | undefined> } | undefined> {
  if (store.backend !== 'postgres') return undefined;
  const backends = async (): Promise<Map<number, number>> => {
    const result = await store.db.execute(
      sql`select pid from pg_stat_activity where datname = current_database() and backend_type = 'client backend'`,
    );
    const pids = (result as unknown as { rows: { pid: number }[] }).rows.map((row) => Number(row.pid));
    return new Map(
      pids.flatMap((pid) => (cpuMsOf(pid) === undefined ? [] : [[pid, cpuMsOf(pid)!] as const])),
    );
  };
  const before = await backends();
  if (before.size === 0) return undefined;
  return {
    async stop() {
      const after = await backends();
      let used = 0;
      for (const [pid, ms] of after) used += ms - (before.get(pid) ?? 0);
      return used;
    },
  };
}
