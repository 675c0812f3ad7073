/**
 * JSON Patch (RFC 6902) over JSON Pointers (RFC 6901), applied atomically: the document given is never
 * changed; the patched copy is returned only when every operation succeeded, otherwise a JsonPatchError
 * names the operation and the pointer at fault. Written here because the kept library falls short of the RFC:
 * fast-json-patch 3.1.2, tried on this file's tests, accepts the array index "01", throws a TypeError on a move
 * into the value's own child, removes the whole document, and names the wrong operation when a later one fails.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type JsonPatchOperation =
  | { op: 'add' | 'replace' | 'test'; path: string; value: JsonValue }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

export class JsonPatchError extends Error {
  override name = 'JsonPatchError';
  /** The index of the failing operation in the patch. */
  readonly operation: number;
  /** The pointer it failed on. */
  readonly pointer: string;
  constructor(operation: number, pointer: string, message: string) {
    super(message);
    this.operation = operation;
    this.pointer = pointer;
  }
}

type Container = JsonValue[] | { [key: string]: JsonValue };

const isContainer = (value: JsonValue | undefined): value is Container =>
  typeof value === 'object' && value !== null;

/** RFC 6901: "" is the whole document; otherwise "/"-separated tokens with ~1 for "/" and ~0 for "~". */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`"${pointer}" is not a JSON Pointer: it must start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

const ARRAY_INDEX = /^(0|[1-9]\d*)$/;

function child(container: Container, token: string): JsonValue | undefined {
  if (Array.isArray(container)) return ARRAY_INDEX.test(token) ? container[Number(token)] : undefined;
  return Object.hasOwn(container, token) ? container[token] : undefined;
}

function resolve(document: JsonValue, tokens: readonly string[]): JsonValue | undefined {
  let current: JsonValue | undefined = document;
  for (const token of tokens) {
    if (!isContainer(current)) return undefined;
    current = child(current, token);
  }
  return current;
}

function deepEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (!isContainer(a) || !isContainer(b) || Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, index) => deepEqual(item, b[index]));
  const left = a as Record<string, JsonValue>;
  const right = b as Record<string, JsonValue>;
  const keys = Object.keys(left);
  return (
    keys.length === Object.keys(right).length &&
    keys.every((key) => Object.hasOwn(right, key) && deepEqual(left[key], right[key]))
  );
}

const clone = (value: JsonValue): JsonValue => structuredClone(value);

/** Applies `operations` in order to a copy of `document`; returns the copy, or throws JsonPatchError. */
export function applyJsonPatch(document: JsonValue, operations: readonly JsonPatchOperation[]): JsonValue {
  let root = clone(document);
  operations.forEach((operation, index) => {
    const fail = (pointer: string, message: string) => new JsonPatchError(index, pointer, message);
    const tokensOf = (pointer: string) => {
      try {
        return parsePointer(pointer);
      } catch (error) {
        throw fail(pointer, (error as Error).message);
      }
    };
    const path = tokensOf(operation.path);

    const remove = (pointer: string, tokens: string[]): JsonValue => {
      if (tokens.length === 0) throw fail(pointer, 'the whole document cannot be removed');
      const parent = resolve(root, tokens.slice(0, -1));
      const last = tokens[tokens.length - 1]!;
      const existing = isContainer(parent) ? child(parent, last) : undefined;
      if (!isContainer(parent) || existing === undefined)
        throw fail(pointer, `nothing at ${pointer} to remove`);
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
      return existing;
    };
    const add = (pointer: string, tokens: string[], value: JsonValue, mustExist: boolean) => {
      if (tokens.length === 0) {
        root = value;
        return;
      }
      const parent = resolve(root, tokens.slice(0, -1));
      const last = tokens[tokens.length - 1]!;
      if (!isContainer(parent)) throw fail(pointer, `the parent of ${pointer} does not exist`);
      if (Array.isArray(parent)) {
        const at = last === '-' && !mustExist ? parent.length : ARRAY_INDEX.test(last) ? Number(last) : -1;
        const bound = mustExist ? parent.length - 1 : parent.length;
        if (at < 0 || at > bound) throw fail(pointer, `${pointer} is not an index of that array`);
        if (mustExist) parent[at] = value;
        else parent.splice(at, 0, value);
        return;
      }
      if (mustExist && !Object.hasOwn(parent, last)) throw fail(pointer, `nothing at ${pointer} to replace`);
      // An own member whatever its name: "__proto__" is a key like any other, never the object's prototype.
      Object.defineProperty(parent, last, { value, enumerable: true, writable: true, configurable: true });
    };

    switch (operation.op) {
      case 'add':
        add(operation.path, path, clone(operation.value), false);
        break;
      case 'replace':
        add(operation.path, path, clone(operation.value), true);
        break;
      case 'remove':
        remove(operation.path, path);
        break;
      case 'test':
        if (!deepEqual(resolve(root, path), operation.value))
          throw fail(operation.path, `the value at ${operation.path} is not the one tested for`);
        break;
      case 'copy': {
        const value = resolve(root, tokensOf(operation.from));
        if (value === undefined) throw fail(operation.from, `nothing at ${operation.from} to copy`);
        add(operation.path, path, clone(value), false);
        break;
      }
      case 'move': {
        const from = tokensOf(operation.from);
        if (from.length < path.length && from.every((token, at) => token === path[at]))
          throw fail(operation.from, `${operation.from} cannot be moved into one of its own children`);
        add(operation.path, path, remove(operation.from, from), false);
        break;
      }
    }
  });
  return root;
}
