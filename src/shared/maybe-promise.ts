/**
 * A value here now, or later. A cache answers a hit at once: an `async` function would wrap it in a promise,
 * resolved a microtask later, with its promise hooks (AsyncLocalStorage is on), on every request.
 */
export type MaybePromise<T> = T | Promise<T>;

/** `next(value)`: at once when the value is here, once it settles when it is a promise. */
export function thenOrNow<T, R>(
  value: MaybePromise<T>,
  next: (value: T) => MaybePromise<R>,
): MaybePromise<R> {
  return value instanceof Promise ? value.then(next) : next(value);
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
  if (waiting instanceof Promise) waiting.then(() => done(), done);
  else done();
}
