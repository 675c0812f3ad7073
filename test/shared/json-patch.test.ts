import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyJsonPatch, JsonPatchError, type JsonValue } from '../../src/shared/json-patch.ts';

const document: JsonValue = { a: { b: 1, 'c/d': 2, 'e~f': 3 }, list: [1, 2, 3] };

function failsAt(operations: Parameters<typeof applyJsonPatch>[1], operation: number, pointer: string) {
  assert.throws(
    () => applyJsonPatch(document, operations),
    (error: unknown) =>
      error instanceof JsonPatchError && error.operation === operation && error.pointer === pointer,
  );
}

describe('JSON Patch (RFC 6902)', () => {
  it('applies add, remove, replace, move, copy and test, escaping ~1 and ~0', () => {
    const patched = applyJsonPatch(document, [
      { op: 'test', path: '/a/c~1d', value: 2 },
      { op: 'replace', path: '/a/e~0f', value: 30 },
      { op: 'add', path: '/list/1', value: 9 },
      { op: 'add', path: '/list/-', value: 4 },
      { op: 'remove', path: '/list/0' },
      { op: 'copy', from: '/a/b', path: '/copied' },
      { op: 'move', from: '/a/c~1d', path: '/moved' },
      { op: 'add', path: '/a/b', value: { deep: [true] } },
    ]);
    assert.deepEqual(patched, {
      a: { b: { deep: [true] }, 'e~f': 30 },
      list: [9, 2, 3, 4],
      copied: 1,
      moved: 2,
    });
  });

  it('is atomic: a failing operation leaves the document as it was and names itself', () => {
    const before = structuredClone(document);
    failsAt(
      [
        { op: 'remove', path: '/a/b' },
        { op: 'remove', path: '/a/nothing' },
      ],
      1,
      '/a/nothing',
    );
    assert.deepEqual(document, before);
  });

  it('refuses what the RFC refuses', () => {
    failsAt([{ op: 'replace', path: '/a/absent', value: 1 }], 0, '/a/absent');
    failsAt([{ op: 'add', path: '/absent/child', value: 1 }], 0, '/absent/child');
    failsAt([{ op: 'add', path: '/list/9', value: 1 }], 0, '/list/9');
    failsAt([{ op: 'add', path: '/list/01', value: 1 }], 0, '/list/01');
    failsAt([{ op: 'replace', path: '/list/-', value: 1 }], 0, '/list/-');
    failsAt([{ op: 'test', path: '/a/b', value: 2 }], 0, '/a/b');
    failsAt([{ op: 'move', from: '/a', path: '/a/inside' }], 0, '/a');
    failsAt([{ op: 'copy', from: '/nothing', path: '/x' }], 0, '/nothing');
    failsAt([{ op: 'remove', path: 'no-slash' }], 0, 'no-slash');
    failsAt([{ op: 'remove', path: '' }], 0, '');
  });

  it('compares objects deeply in test, whatever the key order', () => {
    assert.deepEqual(
      applyJsonPatch({ x: { p: 1, q: [1, { r: 2 }] } }, [
        { op: 'test', path: '/x', value: { q: [1, { r: 2 }], p: 1 } },
      ]),
      { x: { p: 1, q: [1, { r: 2 }] } },
    );
    assert.throws(
      () => applyJsonPatch({ x: [1, 2] }, [{ op: 'test', path: '/x', value: [2, 1] }]),
      JsonPatchError,
    );
  });

  it('adds "__proto__" as a plain member, never as the prototype', () => {
    const patched = applyJsonPatch({}, [
      { op: 'add', path: '/__proto__', value: { polluted: true } },
    ]) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(patched), Object.prototype);
    assert.equal((patched as { polluted?: boolean }).polluted, undefined);
    assert.deepEqual(Object.keys(patched), ['__proto__']);
  });
});
