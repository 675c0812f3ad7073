import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PARTS } from '../../src/server/part-names.ts';
import { createParts, selectParts } from '../../src/server/parts.ts';

describe('part names', () => {
  it('`obkit serve --help` lists exactly the parts createParts builds, in mounting order', () => {
    assert.deepEqual(
      createParts().map((part) => part.name),
      PARTS.map((part) => part.name),
    );
  });

  it('an unknown part is refused naming the parts there are', () => {
    assert.throws(
      () => selectParts(['bank', 'vault']),
      (error: Error) =>
        error.name === 'UnknownPartError' &&
        error.message ===
          'unknown part "vault"; parts: bank, directory, jwkms, auth, consent, openbanking, operator, portal',
    );
  });
});
