import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RemoteJwksCache } from '../../src/auth/dcr/jwks.ts';

/**
 * The registration's JWKS cache keeps one set per URL a registration named: each software's own JWKS, so
 * one more with every software registered. Bounded like the API's key sets (session 18, bench/README.md).
 */
describe('the registration JWKS cache', () => {
  it('keeps at most its bound of sets, the least recently used going first', async () => {
    const fetched = new Map<string, number>();
    const cache = new RemoteJwksCache(
      async (url) => {
        fetched.set(url, (fetched.get(url) ?? 0) + 1);
        return { keys: [{ kty: 'oct', kid: 'k1', use: 'sig', k: 'c2VjcmV0' }] };
      },
      { maxEntries: 3 },
    );
    const softwareJwks = (n: number) => `https://directory.example/software-${n}/jwks`;
    for (let n = 0; n < 4; n++) assert.equal(await cache.refusalOf(softwareJwks(n), 'k1'), undefined);
    // The three latest are still held; the first, past the bound, is fetched again.
    for (let n = 1; n < 4; n++) await cache.refusalOf(softwareJwks(n), 'k1');
    await cache.refusalOf(softwareJwks(0), 'k1');
    assert.deepEqual(
      [0, 1, 2, 3].map((n) => fetched.get(softwareJwks(n))),
      [2, 1, 1, 1],
    );
  });

  it('keeps a set in use over one fetched after it and not used since', async () => {
    const fetched: string[] = [];
    const cache = new RemoteJwksCache(
      async (url) => {
        fetched.push(url);
        return { keys: [{ kty: 'oct', kid: 'k1', use: 'sig', k: 'c2VjcmV0' }] };
      },
      { maxEntries: 2 },
    );
    const busy = 'https://directory.example/busy/jwks';
    const idle = 'https://directory.example/idle/jwks';
    const newest = 'https://directory.example/newest/jwks';
    await cache.refusalOf(busy, 'k1');
    await cache.refusalOf(idle, 'k1');
    await cache.refusalOf(busy, 'k1'); // used again: now the most recently used
    await cache.refusalOf(newest, 'k1'); // past the bound: the idle set goes, not the busy one
    await cache.refusalOf(busy, 'k1');
    await cache.refusalOf(idle, 'k1');
    assert.deepEqual(fetched, [busy, idle, newest, idle]);
  });
});
