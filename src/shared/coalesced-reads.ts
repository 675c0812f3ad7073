/**
 * Reads by key that requests arriving together share: one statement for all the keys asked while the
 * previous one was under way, instead of one statement per request. A request never shares a statement
 * that began before it asked (it might not see a revocation or a posting committed since): while one is
 * under way, later callers wait for the next, which reads all of their keys at once. At most one statement
 * is under way, so under load each carries more requests, rather than more statements queuing for cores.
 */
export type CoalescedRead<R> = (keys: readonly string[]) => Promise<R>;

export function coalescedReads<R>(readMany: (keys: string[]) => Promise<R>): CoalescedRead<R> {
  let underWay = false;
  let next: { keys: Set<string>; result: Promise<R>; settle: (read: Promise<R>) => void } | undefined;

  const start = (keys: Set<string>): Promise<R> => {
    underWay = true;
    const read = readMany([...keys]);
    const startNext = (): void => {
      underWay = false;
      const waiting = next;
      next = undefined;
      if (waiting) waiting.settle(start(waiting.keys));
    };
    read.then(startNext, startNext);
    return read;
  };

  return (keys) => {
    if (!underWay) return start(new Set(keys));
    if (!next) {
      let settle!: (read: Promise<R>) => void;
      const result = new Promise<R>((resolve) => {
        settle = resolve;
      });
      next = { keys: new Set(), result, settle };
    }
    for (const key of keys) next.keys.add(key);
    return next.result;
  };
}
