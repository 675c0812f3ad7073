/**
 * A value here now, or later. A cache answers a hit at once: an `async` function would wrap it in a promise,
 * resolved a microtask later, with its promise hooks (AsyncLocalStorage is on), on every request.
 */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Whether the value is still to come: any thenable, not only a native promise (drizzle's query builders,
 * for one, are thenables that are no `Promise` instance), so that nothing pending is taken for an answer.
 */
export function isPending<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

/** `next(value)`: at once when the value is here, once it settles when it is pending. */
export function thenOrNow<T, R>(
  value: MaybePromise<T>,
  next: (value: T) => MaybePromise<R>,
): MaybePromise<R> {
  return isPending(value) ? Promise.resolve(value).then(next) : next(value);
}

/**
 * Runs `work` for a fastify hook in callback form and calls `done` when it is over: in the same tick unless
 * it had to wait, with what it threw or rejected with.
 */
export function doneWhenSettled(work: () => MaybePromise<unknown>, done: (error?: Error) => void): void {
  let waiting;
  try {
    waiting = work();
  } catch (error) {
    done(error as Error);
    return;
  }
  if (isPending(waiting)) Promise.resolve(waiting).then(() => done(), done);
  else done();
}
