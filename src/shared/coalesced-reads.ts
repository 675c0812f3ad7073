/**
 * Work that requests arriving together share: one statement for everything asked while the previous one
 * was under way, instead of one statement per request. A caller never joins a statement that began before
 * it asked (a read might not see a revocation or a posting committed since): while one is under way, later
 * callers wait for the next, which carries all of their items at once. At most one statement is under way,
 * so under load each carries more requests, rather than more statements queuing for the same cores.
 */

/**
 * Each caller hands one item and gets its own answer: `runBatch` gets the items in the order asked and
 * answers one result per item, in that order. When it fails, every caller of that batch fails.
 */
export function coalescedBatches<I, R>(runBatch: (items: I[]) => Promise<R[]>): (item: I) => Promise<R> {
  let underWay = false;
  let next: { items: I[]; results: Promise<R[]>; settle: (results: Promise<R[]>) => void } | undefined;

  const start = (items: I[]): Promise<R[]> => {
    underWay = true;
    const results = runBatch(items).then((answers) => {
      if (answers.length !== items.length) {
        throw new Error(`a batch of ${items.length} answered ${answers.length} results`);
      }
      return answers;
    });
    const startNext = (): void => {
      underWay = false;
      const waiting = next;
      next = undefined;
      if (waiting) waiting.settle(start(waiting.items));
    };
    results.then(startNext, startNext);
    return results;
  };

  return (item) => {
    if (!underWay) return start([item]).then((results) => results[0]!);
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

export function coalescedReads<R>(readMany: (keys: string[]) => Promise<R>): CoalescedRead<R> {
  const batch = coalescedBatches<readonly string[], R>(async (lists) => {
    const answer = await readMany([...new Set(lists.flat())]);
    return lists.map(() => answer);
  });
  return (keys) => batch(keys);
}
