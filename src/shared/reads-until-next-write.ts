import type { MaybePromise } from './maybe-promise.ts';

/**
 * Reads answered again without a statement on a database whose every write this process sees: the
 * embedded one (`Store['embedded']`, src/store/embedded-reads.ts), where a count advances with every
 * message sent to the database that is not a known read. While the count is what it was when a read was
 * asked for, nothing the read could see has changed since.
 */
export interface WriteCount {
  /** How many messages that may have changed something the database has been sent so far. */
  writeCount(): number;
}

/**
 * `readMany` answered again, without a statement, for the same keys (in the same order) while the
 * database was sent nothing that may have changed anything since the answer's read was asked for. A read
 * under way is shared the same way: it is sent after the caller asked, so it sees all that the caller
 * must see. Once it has arrived, the answer is given as it is, not through a promise (`MaybePromise`: a hit
 * costs no promise and no microtask). Callers share the answer: they must not change it.
 */
export function readsUntilNextWrite<R>(
  reads: WriteCount,
  readMany: (keys: string[]) => Promise<R>,
  maxEntries = 10_000,
): (keys: readonly string[]) => MaybePromise<R> {
  const answers = new Map<string, { writes: number; answer: MaybePromise<R> }>();
  return (keys) => {
    const key = keys.join('\u0000');
    const writes = reads.writeCount();
    const known = answers.get(key);
    if (known?.writes === writes) return known.answer;
    // Taken before the read is sent: a write in between leaves the entry under a count already past.
    const answer = readMany([...keys]);
    const entry = { writes, answer: answer as MaybePromise<R> };
    answers.delete(key);
    answers.set(key, entry);
    if (answers.size > maxEntries) answers.delete(answers.keys().next().value as string);
    answer.then(
      (value) => {
        entry.answer = value;
      },
      () => {
        if (answers.get(key) === entry) answers.delete(key);
      },
    );
    return answer;
  };
}
