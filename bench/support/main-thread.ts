/**
 * The main thread's busy time over a phase (`performance.eventLoopUtilization`), the process's CPU time,
 * the main thread's own CPU time, and optionally its CPU profile: a figure that depends far less on what else the machine runs than a throughput does. In a
 * benchmark whose client runs in the same process (bench/auth.ts) the client's own work is in it too, and
 * equally in every phase, so the difference between two phases is the difference between their servers.
 * BENCH_PROFILE_DIR=dir writes one `.cpuprofile` per phase there (`node:inspector`, sampling every 100 µs),
 * with the phase's operation count in its `operations` field (`bench/support/profile-summary.ts` reads it); a
 * phase name seen before (brackets repeat theirs) gets `-2`, `-3`, … rather than overwriting the first.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { cpuMsOf } from './process-cpu.ts';

export interface MainThreadWindow {
  /**
   * Ends the window: per operation, the main thread's busy milliseconds (wall time, so a thread the
   * machine's other work preempts while busy counts that too) and the process's CPU milliseconds (every
   * thread: the thread pool's signatures included; not inflated by preemption), and the main thread's own
   * CPU milliseconds (Linux; NaN elsewhere): without a load generator running in a worker thread of the same
   * process (bench/support/load.ts), in ticks of 10 ms, so only over many operations.
   */
  stop(operations: number): Promise<{ busy: number; cpu: number; thread: number }>;
}

/** The main thread's CPU time so far, in ms (its thread id is the process id), or NaN. */
function mainThreadCpuMs(): number {
  return cpuMsOf(process.pid, process.pid) ?? Number.NaN;
}

let session: Session | undefined;
const profileNames = new Map<string, number>();

/** Starts measuring; with BENCH_PROFILE_DIR set, profiles the window into `<dir>/<name>.cpuprofile`. */
export async function mainThreadWindow(name: string): Promise<MainThreadWindow> {
  const dir = process.env.BENCH_PROFILE_DIR;
  if (dir) {
    if (!session) {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
    }
    await session.post('Profiler.start');
  }
  const start = performance.eventLoopUtilization();
  const cpuStart = process.cpuUsage();
  const threadStart = mainThreadCpuMs();
  return {
    async stop(operations) {
      const used = performance.eventLoopUtilization(start);
      const cpu = process.cpuUsage(cpuStart);
      const thread = mainThreadCpuMs() - threadStart;
      if (dir && session) {
        const { profile } = await session.post('Profiler.stop');
        const base = name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '');
        const seen = (profileNames.get(base) ?? 0) + 1;
        profileNames.set(base, seen);
        const file = `${base}${seen > 1 ? `-${seen}` : ''}.cpuprofile`;
        await writeFile(join(dir, file), JSON.stringify({ ...profile, operations }));
      }
      const per = (ms: number) => (operations > 0 ? ms / operations : Number.NaN);
      return { busy: per(used.active), cpu: per((cpu.user + cpu.system) / 1000), thread: per(thread) };
    },
  };
}
