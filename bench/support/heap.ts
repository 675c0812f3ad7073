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

/** Two full collections (the second frees what finalisers of the first released), then the reading. */
export function heapAfterGc(): HeapReading {
  const gc = collector();
  gc();
  gc();
  const usage = process.memoryUsage();
  return {
    heapUsed: usage.heapUsed,
    heapTotal: getHeapStatistics().total_heap_size,
    external: usage.external,
    rss: usage.rss,
  };
}

export const megabytes = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
