/**
 * The in-process load of the benchmarks whose unit is not one HTTP request (signatures, whole flows, token
 * requests with a fresh client assertion each, certificates issued): `concurrency` workers, each starting the
 * operation again as soon as its last one settled, until `seconds` have passed. HTTP reads use `measure`.
 */
export interface LoopCount {
  /** Operations completed. */
  done: number;
  /** Seconds from the start to the last operation's end (the deadline plus the last one's tail). */
  elapsed: number;
  perSecond: number;
}

export async function closedLoop(
  concurrency: number,
  seconds: number,
  operation: () => Promise<unknown>,
): Promise<LoopCount> {
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await operation();
        done++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  return { done, elapsed, perSecond: done / elapsed };
}
