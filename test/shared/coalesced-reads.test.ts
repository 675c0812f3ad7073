import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coalescedReads, type CoalescingOptions } from '../../src/shared/coalesced-reads.ts';

/** A reader whose statements the test completes by hand, recording the keys each was asked. */
function manualReader(options: CoalescingOptions = {}) {
  const statements: { keys: string[]; finish: (value: string) => void; fail: (error: Error) => void }[] = [];
  const read = coalescedReads(
    (keys) =>
      new Promise<string>((resolve, reject) => {
        statements.push({ keys, finish: resolve, fail: reject });
      }),
    options,
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

  it('with two allowed under way, the second caller starts its own at once; later ones share the next', async () => {
    const { read, statements } = manualReader({ underWay: 2 });
    const first = read(['a']);
    const second = read(['b']);
    assert.deepEqual(
      statements.map((s) => s.keys),
      [['a'], ['b']],
    );
    // Both under way: the next callers wait for a statement begun after they asked, never one of these.
    const third = read(['c']);
    const fourth = read(['d', 'c']);
    assert.equal(statements.length, 2);
    // Whichever ends first makes room for theirs.
    statements[1]!.finish('two');
    assert.equal(await second, 'two');
    assert.equal(statements.length, 3);
    assert.deepEqual(statements[2]!.keys, ['c', 'd']);
    // Two under way again (the first and the third's): a fifth caller waits, and joins neither.
    const fifth = read(['e']);
    assert.equal(statements.length, 3);
    statements[0]!.finish('one');
    assert.equal(await first, 'one');
    assert.deepEqual(
      statements.map((s) => s.keys),
      [['a'], ['b'], ['c', 'd'], ['e']],
    );
    statements[2]!.finish('three');
    statements[3]!.finish('four');
    assert.deepEqual(await Promise.all([third, fourth, fifth]), ['three', 'three', 'four']);
    // All ended: the next caller starts at once again.
    void read(['f']);
    assert.deepEqual(statements[4]!.keys, ['f']);
  });

  it('refuses a limit that is not a positive integer', () => {
    assert.throws(() => coalescedReads(async () => 'x', { underWay: 0 }), /positive integer/);
  });
});
