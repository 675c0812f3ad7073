import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { every } from '../../src/shared/every.ts';

/** A periodic job (the sweepers): one run at a time, a failure reported and the next run still made, stoppable. */
describe('every', () => {
  it('runs on each interval, never two runs at once, goes on after a failure, and stops', async () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      const failures: unknown[] = [];
      let runs = 0;
      let finish: (() => void) | undefined;
      const stop = every(
        1_000,
        () => {
          runs += 1;
          if (runs === 2) return Promise.reject(new Error('second run failed'));
          return new Promise<void>((resolve) => (finish = resolve));
        },
        (error) => failures.push(error),
      );
      mock.timers.tick(999);
      assert.equal(runs, 0);
      mock.timers.tick(1);
      assert.equal(runs, 1);
      // Still running when the next is due: not doubled up.
      mock.timers.tick(3_000);
      assert.equal(runs, 1);
      finish!();
      await new Promise<void>((resolve) => setImmediate(resolve));
      mock.timers.tick(1_000);
      assert.equal(runs, 2);
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.deepEqual(
        failures.map((error) => (error as Error).message),
        ['second run failed'],
      );
      mock.timers.tick(1_000);
      assert.equal(runs, 3, 'the run after a failure still comes');
      stop();
      finish!();
      await new Promise<void>((resolve) => setImmediate(resolve));
      mock.timers.tick(10_000);
      assert.equal(runs, 3, 'no run after stop');
    } finally {
      mock.timers.reset();
    }
  });
});
