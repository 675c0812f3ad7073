import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { base32Decode, base32Encode, hotp, matchTotp, totpCode, totpStep } from '../../src/consent/totp.ts';

const SHA1_KEY = Buffer.from('12345678901234567890');
const SHA256_KEY = Buffer.from('12345678901234567890123456789012');
const SHA512_KEY = Buffer.from('1234567890123456789012345678901234567890123456789012345678901234');

describe('TOTP (RFC 6238)', () => {
  it('matches the RFC 4648 base32 test vectors both ways', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'MY'],
      ['fo', 'MZXQ'],
      ['foo', 'MZXW6'],
      ['foob', 'MZXW6YQ'],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI'],
    ];
    for (const [plain, encoded] of vectors) {
      assert.equal(base32Encode(Buffer.from(plain)), encoded);
      assert.equal(base32Decode(encoded).toString(), plain);
      assert.equal(base32Decode(`${encoded.toLowerCase()}======`).toString(), plain);
    }
    assert.throws(() => base32Decode('MZ1W'), /invalid base32/);
  });

  it('matches the RFC 4226 HOTP test vectors', () => {
    const expected = [
      '755224',
      '287082',
      '359152',
      '969429',
      '338314',
      '254676',
      '287922',
      '162583',
      '399871',
      '520489',
    ];
    expected.forEach((code, counter) => assert.equal(hotp(SHA1_KEY, counter), code));
  });

  it('matches the RFC 6238 appendix B vectors for SHA-1, SHA-256 and SHA-512', () => {
    const table: [number, string, string, string][] = [
      [59, '94287082', '46119246', '90693936'],
      [1111111109, '07081804', '68084774', '25091201'],
      [1111111111, '14050471', '67062674', '99943326'],
      [1234567890, '89005924', '91819424', '93441116'],
      [2000000000, '69279037', '90698825', '38618901'],
      [20000000000, '65353130', '77737706', '47863826'],
    ];
    for (const [seconds, sha1, sha256, sha512] of table) {
      const step = totpStep(new Date(seconds * 1000));
      assert.equal(hotp(SHA1_KEY, step, 8, 'sha1'), sha1, `sha1 at ${seconds}`);
      assert.equal(hotp(SHA256_KEY, step, 8, 'sha256'), sha256, `sha256 at ${seconds}`);
      assert.equal(hotp(SHA512_KEY, step, 8, 'sha512'), sha512, `sha512 at ${seconds}`);
    }
  });

  it('gives the 6-digit code of the RFC key from its base32 secret', () => {
    const secret = base32Encode(SHA1_KEY);
    assert.equal(secret, 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    // The 8-digit RFC value 94287082 truncated to 6 digits is its last six.
    assert.equal(totpCode(secret, new Date(59_000)), '287082');
  });

  it('accepts one step of drift either way and no more', () => {
    const secret = base32Encode(SHA1_KEY);
    const now = new Date(1_111_111_111_000);
    const step = totpStep(now);
    const code = (s: number) => hotp(SHA1_KEY, s);
    assert.equal(matchTotp(secret, code(step), now), step);
    assert.equal(matchTotp(secret, code(step - 1), now), step - 1);
    assert.equal(matchTotp(secret, code(step + 1), now), step + 1);
    assert.equal(matchTotp(secret, code(step - 2), now), undefined);
    assert.equal(matchTotp(secret, code(step + 2), now), undefined);
    assert.equal(matchTotp(secret, 'abcdef', now), undefined);
    assert.equal(matchTotp(secret, '12345', now), undefined);
  });

  it('refuses a code whose step is not after the last one accepted', () => {
    const secret = base32Encode(SHA1_KEY);
    const now = new Date(1_111_111_111_000);
    const step = totpStep(now);
    const current = hotp(SHA1_KEY, step);
    assert.equal(matchTotp(secret, current, now, step), undefined, 'the same code again');
    assert.equal(matchTotp(secret, hotp(SHA1_KEY, step - 1), now, step), undefined, 'an older code');
    assert.equal(matchTotp(secret, hotp(SHA1_KEY, step + 1), now, step), step + 1, 'the next code');
  });
});
