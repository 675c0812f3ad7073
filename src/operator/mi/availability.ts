/**
 * OB's availability rule, applied per endpoint and version: an endpoint is down once it has answered five
 * consecutive technical failures (5xx) within 30 seconds. The downtime starts at the first of those five and
 * lasts until the first answer that is not a technical failure (a success or a 4xx business failure: the
 * endpoint answered); every further 5xx while down extends it. An instance that stops inside a window (or a
 * report read while one is open) counts it until the last failure seen.
 */
export const DOWN_AFTER_FAILURES = 5;
export const DOWN_WITHIN_MS = 30_000;

export interface DowntimeWindow {
  id: string;
  startedAt: number;
  lastFailureAt: number;
  endedAt: number | null;
}

export class AvailabilityTracker {
  /** Times of the current run of consecutive technical failures (the last five at most), oldest first. */
  readonly #failures: number[] = [];
  #open: DowntimeWindow | undefined;

  /** A technical failure at `at`: returns the window it opened or extended (to be written), if any. */
  failure(at: number, newId: () => string): DowntimeWindow | undefined {
    if (this.#open) {
      this.#open.lastFailureAt = Math.max(this.#open.lastFailureAt, at);
      return this.#open;
    }
    this.#failures.push(at);
    if (this.#failures.length > DOWN_AFTER_FAILURES) this.#failures.shift();
    const first = this.#failures[0] ?? at;
    if (this.#failures.length < DOWN_AFTER_FAILURES || at - first > DOWN_WITHIN_MS) return undefined;
    this.#failures.length = 0;
    this.#open = { id: newId(), startedAt: first, lastFailureAt: at, endedAt: null };
    return this.#open;
  }

  /** Any other answer at `at`: ends the run, and the open window (returned, to be written) if any. */
  answered(at: number): DowntimeWindow | undefined {
    // Called on every answer, almost always with no failures: setting an array's length is a runtime call.
    if (this.#failures.length > 0) this.#failures.length = 0;
    const open = this.#open;
    if (!open) return undefined;
    open.endedAt = Math.max(at, open.lastFailureAt);
    this.#open = undefined;
    return open;
  }
}

/** The total length of the union of `[start, end)` intervals clipped to `[from, to)`, in milliseconds. */
export function unionLength(
  intervals: readonly (readonly [number, number])[],
  from: number,
  to: number,
): number {
  const clipped = intervals
    .map(([start, end]) => [Math.max(start, from), Math.min(end, to)] as const)
    .filter(([start, end]) => end > start)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let currentStart = -Infinity;
  let currentEnd = -Infinity;
  for (const [start, end] of clipped) {
    if (start > currentEnd) {
      if (currentEnd > currentStart) total += currentEnd - currentStart;
      currentStart = start;
      currentEnd = end;
    } else currentEnd = Math.max(currentEnd, end);
  }
  if (currentEnd > currentStart) total += currentEnd - currentStart;
  return total;
}
