import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ObError, obErrorBodyFor, V4_ERROR_CODES } from '../../src/openbanking/errors.ts';
import {
  API_VERSIONS,
  consentStatusOn,
  consentUsableOn,
  VERSION_BASES,
  versionOfPath,
} from '../../src/openbanking/versions.ts';
import { readWriteUrl } from '../../src/openbanking/http/wire.ts';
import { AIS_V3_1_11, AIS_V4_0, validateComponent } from '../support/openapi.ts';

describe('the Read/Write version layer', () => {
  it('applies OB version compatibility: older consents on newer versions, never newer on older', () => {
    assert.equal(consentUsableOn('v3.1.11', 'v3.1.11'), true);
    assert.equal(consentUsableOn('v3.1.11', 'v4.0'), true);
    assert.equal(consentUsableOn('v4.0', 'v4.0'), true);
    assert.equal(consentUsableOn('v4.0', 'v3.1.11'), false);
    // A consent stored before versions were recorded is a v3.1.11 one.
    assert.equal(consentUsableOn(undefined, 'v4.0'), true);
    assert.equal(consentUsableOn(undefined, 'v3.1.11'), true);
    // Numeric, not lexical: a v4.0.1 consent is newer than v4.0, v3.1.11 older than v3.1.2's successor v4.0.
    assert.equal(consentUsableOn('v4.0.1', 'v4.0'), false);
    assert.equal(consentUsableOn('v3.1.2', 'v3.1.11'), true);
  });

  it('knows each version by its base path, and serves trailing slashes on every base', () => {
    for (const version of API_VERSIONS) {
      for (const base of Object.values(VERSION_BASES[version])) {
        assert.equal(versionOfPath(`${base}/accounts?page=2`), version);
        assert.equal(readWriteUrl(`${base}/accounts/?page=2`), `${base}/accounts?page=2`);
      }
    }
    assert.equal(versionOfPath('/open-banking/v4.0x/aisp'), undefined);
    assert.equal(versionOfPath('/token'), undefined);
  });

  it('writes consent statuses in each version’s code set', () => {
    const now = new Date('2026-03-01T00:00:00Z');
    const expired = new Date('2026-02-01T00:00:00Z');
    const cases: [string, Date | undefined, string, string][] = [
      ['AwaitingAuthorisation', undefined, 'AwaitingAuthorisation', 'AWAU'],
      ['Authorised', undefined, 'Authorised', 'AUTH'],
      ['Authorised', expired, 'Authorised', 'EXPD'],
      // Past its expiry before the PSU authorised it: it can never be authorised, so not AWAU but EXPD.
      ['AwaitingAuthorisation', expired, 'AwaitingAuthorisation', 'EXPD'],
      ['Rejected', undefined, 'Rejected', 'RJCT'],
      ['Revoked', undefined, 'Revoked', 'CANC'],
      // Ended before its expiry: the expiry changes nothing.
      ['Rejected', expired, 'Rejected', 'RJCT'],
      ['Revoked', expired, 'Revoked', 'CANC'],
    ];
    for (const [status, expiresAt, v3, v4] of cases) {
      assert.equal(consentStatusOn('v3.1.11', { status, expiresAt }, now), v3);
      assert.equal(consentStatusOn('v4.0', { status, expiresAt }, now), v4);
    }
  });

  it('renders one refusal in the shape of the version the request addressed', () => {
    const error = ObError.single(400, 'UK.OBIE.Field.Missing', 'Risk is required', 'Risk');
    const v4 = obErrorBodyFor(error, { url: '/open-banking/v4.0/aisp/account-access-consents', id: 'i-1' });
    assert.deepEqual(v4, {
      Id: 'i-1',
      Errors: [
        {
          ErrorCode: 'U004',
          Message: 'Risk is required',
          Path: 'Risk',
          Url: 'https://openbankinguk.github.io/read-write-api-site3/v4.0/profiles/read-write-data-api-profile.html#errors',
        },
      ],
    });
    assert.ok(validateComponent(AIS_V4_0, 'OBErrorResponse1', v4).valid);
    const v3 = obErrorBodyFor(error, { url: '/open-banking/v3.1/aisp/account-access-consents', id: 'i-1' });
    assert.deepEqual(v3, {
      Code: '400',
      Id: 'i-1',
      Message: 'Risk is required',
      Errors: [{ ErrorCode: 'UK.OBIE.Field.Missing', Message: 'Risk is required', Path: 'Risk' }],
    });
    assert.ok(validateComponent(AIS_V3_1_11, 'OBErrorResponse1', v3).valid);
    // Outside the APIs (shared plumbing), the v3.1.x body.
    assert.equal((obErrorBodyFor(error, { url: '/health', id: undefined }) as { Code?: string }).Code, '400');
  });

  it('gives every UK.OBIE code a distinct 4-character v4.0 code', () => {
    const codes = Object.values(V4_ERROR_CODES);
    assert.ok(codes.every((code) => /^U0\d\d$/.test(code)));
    assert.equal(new Set(codes).size, codes.length);
  });
});
