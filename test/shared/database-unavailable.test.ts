import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDatabaseUnavailable } from '../../src/shared/database-unavailable.ts';

/** Which errors are a database that cannot answer now (503, retry), and which are faults (500). */
describe('isDatabaseUnavailable', () => {
  const wrapped = (cause: unknown) => Object.assign(new Error('Failed query: select 1'), { cause });

  it('knows a server that is down, restarting or gone mid-query, also under Drizzle’s wrapping', () => {
    for (const error of [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      Object.assign(new Error('connection failure'), { code: '08006' }),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
    ]) {
      assert.equal(isDatabaseUnavailable(error), true, error.message);
      assert.equal(isDatabaseUnavailable(wrapped(error)), true, `wrapped: ${error.message}`);
    }
  });

  it('leaves other faults alone: they are 500s to look into', () => {
    for (const error of [
      Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }),
      Object.assign(new Error('syntax error'), { code: '42601' }),
      new TypeError('x is undefined'),
      wrapped(Object.assign(new Error('division by zero'), { code: '22012' })),
      undefined,
      'a string',
    ]) {
      assert.equal(isDatabaseUnavailable(error), false, String(error));
    }
  });
});
