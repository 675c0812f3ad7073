import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coalescedReads } from '../../src/shared/coalesced-reads.ts';

/** A reader whose statements the test completes by hand, recording the keys each was asked. */
function manualReader() {
  const statements: { keys: string[]; finish: (value: string) => void; fail: (error: Error) => void }[] = [];
  const read = coalescedReads(
    (keys) =>
      new Promise<string>((resolve, reject) => {
        statements.push({ keys, finish: resolve, fail: reject });
      }),
  );
  return { read, statements };
}

describe('coalesced reads', () => {
  it('starts a statement at once when none is under way', async () => {
    const { read, statements } = manualReader();
    const answer = read(['a', 'b']);
    assert.deepEqual(
      statements.map((s) => s.keys),
      [['a', 'b']],
    );
    statements[0]!.finish('first');
    assert.equal(await answer, 'first');
  });

  it('never shares a statement that began before the caller asked: later callers share the next one', async () => {
    const { read, statements } = manualReader();
    const first = read(['a']);
    const second = read(['b']);
    const third = read(['c', 'b']);
    // Only the first statement is under way; the later callers wait for one started after they asked.
    assert.equal(statements.length, 1);
    statements[0]!.finish('one');
    assert.equal(await first, 'one');
    assert.equal(statements.length, 2);
    assert.deepEqual(statements[1]!.keys, ['b', 'c']);
    statements[1]!.finish('two');
    assert.deepEqual(await Promise.all([second, third]), ['two', 'two']);
  });

  it('a failed statement fails its callers only, and the next one still starts', async () => {
    const { read, statements } = manualReader();
    const first = read(['a']);
    const second = read(['b']);
    statements[0]!.fail(new Error('connection lost'));
    await assert.rejects(first, /connection lost/);
    assert.equal(statements.length, 2);
    statements[1]!.finish('after');
    assert.equal(await second, 'after');
    const third = read(['c']);
    assert.equal(statements.length, 3);
    statements[2]!.fail(new Error('again'));
    await assert.rejects(third, /again/);
  });
});
