import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  PkiInputError,
  canonicalDn,
  dnEquals,
  dnFromDer,
  dnToString,
  formatDn,
  parseDn,
  subjectName,
} from '../../src/pki/index.ts';
import { acme } from './helpers.ts';

describe('distinguished names (RFC 4514)', () => {
  const equal: [string, string][] = [
    ['CN=a,OU=b', 'OU=b, 2.5.4.3=a'],
    ['CN=a,OU=b,O=Acme,C=GB', 'C=GB,O=Acme,OU=b,CN=a'],
    ['cn=Soft1,ou=Org1', 'CN=soft1,OU=ORG1'],
    ['CN=a b', 'CN=  a   b '],
    ['CN=a,2.5.4.97=PSDGB-FCA-123456', 'organizationIdentifier=PSDGB-FCA-123456,commonName=a'],
    // #hex: a PrintableString "a" (13 01 61) and a UTF8String "PSDGB-FCA-1" (0c 0b …)
    ['2.5.4.3=#130161', 'CN=a'],
    ['2.5.4.97=#0c0b50534447422d4643412d31', 'organizationIdentifier=PSDGB-FCA-1'],
    ['CN=Acme\\, Ltd', 'CN="Acme, Ltd"'],
    ['CN=Acme\\2C Ltd', 'CN=Acme\\, Ltd'],
    ['CN=a+OU=b,O=c', 'O=c,OU=b+CN=a'],
    ['OID.2.5.4.3=a', 'CN=a'],
    ['', ''],
  ];
  for (const [a, b] of equal) {
    it(`"${a}" equals "${b}"`, () =>
      assert.equal(dnEquals(a, b), true, `${canonicalDn(a)} vs ${canonicalDn(b)}`));
  }

  const different: [string, string][] = [
    ['CN=a,OU=b', 'CN=a,OU=c'],
    ['CN=a,OU=b', 'CN=a'],
    ['CN=a,OU=b', 'CN=b,OU=a'],
    ['CN=a+OU=b', 'CN=a,OU=b'],
    ['CN=a,O=b', 'CN=a,OU=b'],
  ];
  for (const [a, b] of different) {
    it(`"${a}" differs from "${b}"`, () => assert.equal(dnEquals(a, b), false));
  }

  const malformed: [string, RegExp][] = [
    ['CN', /expected an attribute type/],
    ['XYZ=a', /unknown attribute type "XYZ"/],
    ['CN=a,', /expected an attribute type/],
    ['CN=a\\', /lone backslash/],
    ['CN=#zz', /not followed by hex pairs/],
    ['CN="a', /unterminated quoted value/],
    ['CN=a=b', /"=" at position 5 must be escaped/],
    ['CN=#0c05616263', /not valid DER/],
  ];
  for (const [text, message] of malformed) {
    it(`rejects "${text}" with a clear message`, () =>
      assert.throws(
        () => parseDn(text),
        (error: unknown) =>
          error instanceof PkiInputError && error.code === 'dn.malformed' && message.test(error.message),
      ));
  }

  it('formats a certificate subject in RFC 4514 order, dotted OIDs as #BER hex, and round-trips', () => {
    const der = subjectName({ ...acme, organizationName: 'Acme, "Payments" Ltd' }).toArrayBuffer();
    const text = dnToString(der);
    assert.equal(
      text,
      'CN=Soft1234ABCD,OU=0015800001041REAAY,2.5.4.97=#0c1050534447422d4643412d313233343536,O=Acme\\, \\"Payments\\" Ltd,C=GB',
    );
    assert.ok(dnEquals(text, dnFromDer(der)));
    assert.ok(
      dnEquals(
        text,
        'C=GB, O=Acme\\, \\"Payments\\" Ltd, organizationIdentifier=PSDGB-FCA-123456, OU=0015800001041REAAY, CN=Soft1234ABCD',
      ),
    );
  });

  it('escapes leading #, leading and trailing spaces when formatting', () => {
    assert.equal(
      formatDn([[{ type: '2.5.4.3', value: '#x ' }], [{ type: '2.5.4.11', value: ' y' }]]),
      'CN=\\#x\\ ,OU=\\ y',
    );
    assert.ok(dnEquals(formatDn(parseDn('CN=\\#x')), 'CN=\\#x'));
  });
});
