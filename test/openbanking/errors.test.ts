import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ObError } from '../../src/openbanking/errors.ts';

describe('ObError', () => {
  it('a refusal (4xx) carries no stack trace: it is an answer to the client, not a fault', () => {
    const error = ObError.single(400, 'UK.OBIE.Field.Invalid', 'not in this consent', 'AccountId');
    assert.equal(error.stack, 'ObError: not in this consent');
    assert.equal(error.status, 400);
    assert.deepEqual(error.errors, [
      { ErrorCode: 'UK.OBIE.Field.Invalid', Message: 'not in this consent', Path: 'AccountId' },
    ]);
    assert.ok(error instanceof Error);
  });

  it('a 5xx keeps its stack trace, and the limit is put back for every other error', () => {
    const limit = Error.stackTraceLimit;
    const error = ObError.single(503, 'UK.OBIE.UnexpectedError', 'database unavailable');
    assert.match(error.stack ?? '', /\n\s+at /);
    ObError.single(401, 'UK.OBIE.Header.Missing', 'no certificate');
    assert.equal(Error.stackTraceLimit, limit);
    assert.match(new Error('other').stack ?? '', /\n\s+at /);
  });
});
