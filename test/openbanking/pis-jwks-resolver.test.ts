import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { ObError } from '../../src/openbanking/errors.ts';
import {
  detachedSigner,
  remoteJwksKeyResolver,
  verifyDetachedSignature,
} from '../../src/openbanking/http/jws.ts';
import { ManualClock } from '../../src/shared/clock.ts';

const clock = new ManualClock('2026-03-02T10:00:00Z');
const tpp = await generateKeyPair('PS256', { extractable: true });
const other = await generateKeyPair('PS256', { extractable: true });
let fetches = 0;
/** While true the JWKS endpoint answers 503, as a directory that is down would. */
let directoryDown = false;
const server = createServer((request, response) => {
  fetches += 1;
  if (request.url !== '/software-1.jwks' || directoryDown) {
    response.writeHead(404).end();
    return;
  }
  void (async () => {
    const keys = [
      { ...(await exportJWK(tpp.publicKey)), kid: 'sig-1', use: 'sig', alg: 'PS256' },
      { ...(await exportJWK(other.publicKey)), kid: 'enc-1', use: 'enc', alg: 'RSA-OAEP-256' },
    ];
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  })();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
after(() => server.close());
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const resolver = remoteJwksKeyResolver({
  async softwareOf(clientId) {
    if (clientId === 'client-1') return { jwksUri: `${base}/software-1.jwks`, issuers: ['org-1/software-1'] };
    if (clientId === 'client-broken')
      return { jwksUri: `${base}/missing.jwks`, issuers: ['org-2/software-2'] };
    return undefined;
  },
});

describe('TPP signing keys from the software JWKS', () => {
  it('resolves a signing key by kid, caches the set, and verifies a request signature with it', async () => {
    const resolved = await resolver.keyFor('client-1', 'sig-1');
    assert.ok(resolved);
    assert.deepEqual(resolved.issuers, ['org-1/software-1']);
    const before = fetches;
    assert.ok(await resolver.keyFor('client-1', 'sig-1'));
    assert.equal(fetches, before, 'the second look-up is served from the cache');

    const body = '{"Data":{}}';
    const signature = await detachedSigner({
      key: tpp.privateKey,
      kid: 'sig-1',
      issuer: 'org-1/software-1',
      trustAnchor: 'openbanking.org.uk',
      clock,
    }).sign(body);
    const verified = await verifyDetachedSignature(
      { keys: resolver, trustAnchor: 'openbanking.org.uk', clock },
      'client-1',
      signature,
      new TextEncoder().encode(body),
    );
    assert.equal(verified.kid, 'sig-1');
  });

  it('finds no key for an unknown kid, an encryption key, or an unknown client', async () => {
    assert.equal(await resolver.keyFor('client-1', 'nope'), undefined);
    assert.equal(await resolver.keyFor('client-1', 'enc-1'), undefined);
    assert.equal(await resolver.keyFor('client-unknown', 'sig-1'), undefined);
  });

  it('reports an unreachable JWKS as an OB error, not a crash', async () => {
    await assert.rejects(resolver.keyFor('client-broken', 'sig-1'), (error: unknown) => {
      assert.ok(error instanceof ObError);
      assert.equal(error.errors[0].ErrorCode, 'UK.OBIE.UnexpectedError');
      return true;
    });
  });

  it('uses the set fetched before when a refetch fails (stale-if-error)', async () => {
    const alwaysRefetching = remoteJwksKeyResolver({
      cacheMaxAgeMs: 0,
      async softwareOf() {
        return { jwksUri: `${base}/software-1.jwks`, issuers: ['org-1/software-1'] };
      },
    });
    assert.ok(await alwaysRefetching.keyFor('client-1', 'sig-1'));
    directoryDown = true;
    try {
      const before = fetches;
      assert.ok(await alwaysRefetching.keyFor('client-1', 'sig-1'), 'the stale set still verifies');
      assert.equal(fetches, before + 1, 'it did try the directory again');
      assert.equal(await alwaysRefetching.keyFor('client-1', 'nope'), undefined);
    } finally {
      directoryDown = false;
    }
  });

  it('reads the sets our own directory publishes without fetching them', async () => {
    const published = {
      keys: [{ ...(await exportJWK(tpp.publicKey)), kid: 'sig-1', use: 'sig', alg: 'PS256' }],
    };
    const ownUri = 'https://directory.invalid/v1/organisations/o/software/s/jwks';
    const asked: string[] = [];
    const local = remoteJwksKeyResolver({
      async localJwks(url) {
        asked.push(url);
        if (url === `${ownUri}/revoked`) return { keys: [{ ...published.keys[0], kid: 'old-1' }] };
        return url === ownUri ? published : undefined;
      },
      async softwareOf(clientId) {
        return {
          jwksUri: clientId === 'ours' ? ownUri : `${base}/software-1.jwks`,
          issuers: ['org-1/software-1'],
        };
      },
    });
    const before = fetches;
    assert.ok(await local.keyFor('ours', 'sig-1'));
    assert.equal(await local.keyFor('ours', 'enc-1'), undefined);
    // A key our directory lists as revoked is named so, not as unknown.
    await assert.rejects(local.keyFor('ours', 'old-1'), /signing key old-1 is revoked at the directory/);
    assert.equal(fetches, before, 'nothing was fetched');
    assert.ok(await local.keyFor('theirs', 'sig-1'));
    assert.equal(fetches, before + 1, 'a set not ours is fetched');
    assert.deepEqual(asked, [
      ownUri,
      ownUri,
      `${ownUri}/revoked`,
      ownUri,
      `${ownUri}/revoked`,
      `${base}/software-1.jwks`,
    ]);
  });

  it("keeps a local set's imported key while the set's content is the same, and only then", async () => {
    const ownUri = 'https://directory.invalid/v1/organisations/o/software/s/jwks';
    const jwkOf = async (key: CryptoKey) => ({
      ...(await exportJWK(key)),
      kid: 'sig-1',
      use: 'sig',
      alg: 'PS256',
    });
    let current = await jwkOf(tpp.publicKey);
    const local = remoteJwksKeyResolver({
      // A fresh object on every read, as the directory's rows give it.
      localJwks: async (url) => (url === ownUri ? { keys: [structuredClone(current)] } : undefined),
      softwareOf: async () => ({ jwksUri: ownUri, issuers: ['org-1/software-1'] }),
    });
    const first = await local.keyFor('ours', 'sig-1');
    const again = await local.keyFor('ours', 'sig-1');
    assert.ok(first && again);
    assert.equal(again.key, first.key, 'the same content: the key imported once is used');
    // The software's key rotated under the same kid: the new key, never the one kept.
    current = await jwkOf(other.publicKey);
    const rotated = await local.keyFor('ours', 'sig-1');
    assert.ok(rotated);
    assert.notEqual(rotated.key, first.key);
    const signed = detachedSigner({
      key: other.privateKey,
      kid: 'sig-1',
      issuer: 'org-1/software-1',
      trustAnchor: 'ta',
      clock,
    });
    const body = '{"rotated":true}';
    await verifyDetachedSignature(
      { keys: local, trustAnchor: 'ta', clock },
      'ours',
      await signed.sign(body),
      new TextEncoder().encode(body),
    );
  });
});
