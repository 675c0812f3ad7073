/**
 * The memory a benchmark's process holds after a full garbage collection: what it keeps, not what it has
 * allocated and not yet collected. bench/run.ts starts each benchmark without `--expose-gc`, so the collector
 * is exposed here when the process was not given it.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface HeapReading {
  /** `process.memoryUsage().heapUsed`: the JavaScript heap's live objects. */
  heapUsed: number;
  /** `v8.getHeapStatistics().total_heap_size`: the heap V8 has reserved for them. */
  heapTotal: number;
  /** Memory outside the heap held by JavaScript objects (buffers, native keys, PGlite's WebAssembly memory). */
  external: number;
  rss: number;
}

let collect: (() => void) | undefined;

function collector(): () => void {
  if (!collect) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) collect = exposed;
    else {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    }
  }
  return collect;
}

/**
 * Full collections until nothing more is released, then the reading. A collection frees an object held by a
 * FinalizationRegistry (its `holdings`) only once the registry's cleanup has run, and V8 runs it as a task
 * after the collection, never inside it: `AbortSignal.timeout`'s timer (oidc-provider's jwks_uri fetch) is
 * such holdings, and its timer keeps the request it was set in (its AsyncLocalStorage store: the Koa
 * context, request, response, bodies). Collections back to back, without a turn of the event loop between
 * them, counted every request of the last interval as held (bench/README.md, Session 21: what a registered
 * client holds on PostgreSQL).
 */
export async function heapAfterGc(): Promise<HeapReading> {
  const gc = collector();
  let heapUsed = Number.POSITIVE_INFINITY;
  // Three rounds at least (the cleanup's release is collected by the round after it); then until it settles.
  for (let round = 0; round < 10; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 0));
    const now = process.memoryUsage().heapUsed;
    if (round >= 2 && now > heapUsed * 0.999) break;
    heapUsed = Math.min(heapUsed, now);
  }
  const usage = process.memoryUsage();
  return {
    heapUsed: usage.heapUsed,
    heapTotal: getHeapStatistics().total_heap_size,
    external: usage.external,
    rss: usage.rss,
  };
}

export const megabytes = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
