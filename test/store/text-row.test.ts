import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alias } from 'drizzle-orm/pg-core';
import { rowAsText, schema } from '../../src/store/index.ts';

/**
 * A row as one column (src/store/text-row.ts). That a row read so equals drizzle's select of it is proven
 * on both stores with a real row in test/bank/ais-queries.test.ts; here, what it refuses.
 */
describe('a row as one column of text', () => {
  it('refuses a table with a column the driver parses before drizzle sees it', () => {
    // bank_parties has a boolean and a jsonb column: their text is not what drizzle is given.
    assert.throws(() => rowAsText(schema.bankParties), /beneficial_ownership \(PgBoolean\)/);
  });

  it('reads an absent row as undefined, and refuses a value of another shape', () => {
    const row = rowAsText(alias(schema.bankAccounts, 'other'));
    assert.equal(row.decode(null), undefined);
    assert.throws(() => row.decode(['only one']), /columns expected/);
    assert.throws(() => row.decode('{"not":"a list"}'), /columns expected/);
  });
});
