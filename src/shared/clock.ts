/**
 * The one source of time. Production uses the system clock; tests and the sandbox may move it
 * (expiry, scheduled payments). Pass a Clock down; never call Date.now() in domain code.
 */
export interface Clock {
  now(): Date;
  /**
   * `now()` in milliseconds since the epoch, without a `Date`: what the per-request checks compare
   * (expiries, cache ages). A read asked for the time ~9 times, each a `Date` allocated to be read once.
   */
  epochMs(): number;
}

export const systemClock: Clock = { now: () => new Date(), epochMs: () => Date.now() };

/** A clock that stands still until moved: for tests. */
export class ManualClock implements Clock {
  #time: number;
  constructor(start: Date | string = '2026-01-01T09:00:00Z') {
    this.#time = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.#time);
  }
  epochMs(): number {
    return this.#time;
  }
  set(time: Date | string): void {
    this.#time = new Date(time).getTime();
  }
  advance(milliseconds: number): void {
    this.#time += milliseconds;
  }
}
