/**
 * The load generator every HTTP benchmark uses: autocannon with keep-alive connections (one per unit of
 * concurrency, one request in flight on each), in a worker thread of its own so it does not share the
 * event loop of the server it measures, after a one-second warm-up (JIT, caches, TLS sessions) — or, for
 * phases whose benchmark warmed the path already (`warmUp: 'brief'`, brackets.ts), 20 requests a connection.
 */
import { createRequire } from 'node:module';
import { mainThreadWindow, type MainThreadWindow } from './main-thread.ts';

/** The part of autocannon's API used here (it ships no types). */
interface LoadOptions {
  url: string;
  method?: string;
  body?: string;
  connections: number;
  pipelining: number;
  duration: number;
  /** Requests to make, in place of `duration`. */
  amount?: number;
  workers?: number;
  headers: Record<string, string>;
  tlsOptions: { cert: string; key: string; ca: string[] };
}
interface LoadResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  duration: number;
}
/** A run under way: its result, and `start` once its worker is asked to begin (its set-up is done). */
type LoadRun = Promise<LoadResult> & { once(event: 'start', listener: () => void): unknown };
const autocannon = createRequire(import.meta.url)('autocannon') as (options: LoadOptions) => LoadRun;

export interface ClientTls {
  cert: string;
  key: string;
  ca: string[];
}

export interface LoadRequest {
  url: string;
  tls: ClientTls;
  headers?: Record<string, string>;
  method?: string;
  body?: string;
}

export interface Phase {
  label: string;
  concurrency: number;
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /**
   * With `mainThread`: the server's main thread's own CPU per request in µs (the load generator runs in a
   * worker thread, not counted), over the measured seconds (warm-up not included).
   */
  mainThreadCpuMicros?: number;
}

export async function measure(
  label: string,
  request: LoadRequest,
  options: {
    concurrency: number;
    seconds: number;
    allowNon2xx?: boolean;
    /** Measures the main thread's CPU per request (and profiles it with BENCH_PROFILE_DIR): the server in this process. */
    mainThread?: boolean;
    /** `second` (default): one second of load first; `brief`: 20 requests a connection (the path is warm). */
    warmUp?: 'second' | 'brief';
  },
): Promise<Phase> {
  const load: LoadOptions = {
    url: request.url,
    // Only what is set: autocannon reads an undefined method as one named "undefined".
    ...(request.method !== undefined ? { method: request.method } : {}),
    ...(request.body !== undefined ? { body: request.body } : {}),
    connections: options.concurrency,
    pipelining: 1,
    workers: 1,
    headers: request.headers ?? {},
    tlsOptions: request.tls,
    duration: 1,
  };
  await autocannon(options.warmUp === 'brief' ? { ...load, amount: 20 * options.concurrency } : load);
  const run = autocannon({ ...load, duration: options.seconds });
  // Measured from `start`: autocannon builds its histograms (WebAssembly, ~50 ms of this thread) and its
  // worker synchronously in the call above, a fixed cost per phase that is not the server's (it added
  // ~6 µs per request to an 8-connection /accounts/{id} phase of ~9,000 requests, more at one connection).
  const window = options.mainThread
    ? new Promise<MainThreadWindow>((resolve, reject) =>
        run.once('start', () => mainThreadWindow(`${label} c${options.concurrency}`).then(resolve, reject)),
      )
    : undefined;
  const result = await run;
  const thread = window ? (await (await window).stop(result.requests.total)).thread : undefined;
  const phase: Phase = {
    label,
    concurrency: options.concurrency,
    requests: result.requests.total,
    // Completed requests over the measured time: autocannon's `average` is the mean of per-second samples.
    perSecond: result.requests.total / options.seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    ...(thread !== undefined ? { mainThreadCpuMicros: thread * 1000 } : {}),
  };
  console.log(
    `${`${label} @${options.concurrency}`.padEnd(64)} ${phase.perSecond.toFixed(0).padStart(7)} req/s   ` +
      `p50 ${String(phase.p50).padStart(4)} ms   p99 ${String(phase.p99).padStart(4)} ms   ` +
      `(${phase.requests} requests, ${phase.non2xx} non-2xx, ${phase.errors} errors)` +
      (phase.mainThreadCpuMicros !== undefined
        ? `   main thread ${phase.mainThreadCpuMicros.toFixed(0)} µs CPU per request`
        : ''),
  );
  if (!options.allowNon2xx && (phase.non2xx > 0 || phase.errors > 0))
    throw new Error(`${label}: ${phase.non2xx} non-2xx answers and ${phase.errors} errors under load`);
  return phase;
}

/** The mean rate of several phases of the same request (bracketing phases cancel a shared machine's drift). */
export function meanRate(...phases: Phase[]): number {
  return phases.reduce((sum, phase) => sum + phase.perSecond, 0) / phases.length;
}
