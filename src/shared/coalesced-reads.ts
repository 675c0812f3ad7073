/**
 * Work that requests arriving together share: one statement for everything asked while earlier ones were
 * under way, instead of one statement per request. A caller never joins a statement that began before it
 * asked (a read might not see a revocation or a posting committed since): while the most allowed are under
 * way, later callers wait for the next, which carries all of their items at once. At most `underWay`
 * statements are under way (one unless asked), so under load each carries more requests, rather than more
 * statements queuing for the same cores.
 */

export interface CoalescingOptions {
  /**
   * How many statements may be under way at once (default 1). With one, a request arriving while it runs
   * waits for the whole round trip before its own statement even starts; with two, it starts at once on a
   * second connection, and only callers arriving while both are under way wait (for a third).
   */
  underWay?: number;
}

/**
 * Each caller hands one item and gets its own answer: `runBatch` gets the items in the order asked and
 * answers one result per item, in that order. When it fails, every caller of that batch fails.
 */
export function coalescedBatches<I, R>(
  runBatch: (items: I[]) => Promise<R[]>,
  options: CoalescingOptions = {},
): (item: I) => Promise<R> {
  const limit = options.underWay ?? 1;
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`underWay must be a positive integer: ${limit}`);
  let running = 0;
  let next: { items: I[]; results: Promise<R[]>; settle: (results: Promise<R[]>) => void } | undefined;

  const start = (items: I[]): Promise<R[]> => {
    running += 1;
    const results = runBatch(items).then((answers) => {
      if (answers.length !== items.length) {
        throw new Error(`a batch of ${items.length} answered ${answers.length} results`);
      }
      return answers;
    });
    const startNext = (): void => {
      running -= 1;
      const waiting = next;
      next = undefined;
      if (waiting) waiting.settle(start(waiting.items));
    };
    results.then(startNext, startNext);
    return results;
  };

  return (item) => {
    // `next` exists only while `limit` are under way: it starts as soon as one of them ends.
    if (running < limit) return start([item]).then((results) => results[0]!);
    if (!next) {
      let settle!: (results: Promise<R[]>) => void;
      const results = new Promise<R[]>((resolve) => {
        settle = resolve;
      });
      next = { items: [], results, settle };
    }
    const index = next.items.push(item) - 1;
    return next.results.then((results) => results[index]!);
  };
}

/** Reads by key: every caller of a statement gets its whole answer, for the union of their keys. */
export type CoalescedRead<R> = (keys: readonly string[]) => Promise<R>;

export function coalescedReads<R>(
  readMany: (keys: string[]) => Promise<R>,
  options: CoalescingOptions = {},
): CoalescedRead<R> {
  const batch = coalescedBatches<readonly string[], R>(async (lists) => {
    const answer = await readMany([...new Set(lists.flat())]);
    return lists.map(() => answer);
  }, options);
  return (keys) => batch(keys);
}
