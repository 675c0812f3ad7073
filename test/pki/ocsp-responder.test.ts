import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import {
  answerOcsp,
  buildOcspRequest,
  issueProfileCertificateWithNewKey,
  loadOrCreateSandboxAuthorities,
  readOcspResponse,
  type IssuedKeyAndCertificate,
  type OcspResponderConfig,
} from '../../src/pki/index.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { acme, pkiFixture, type PkiFixture } from './helpers.ts';

const statusOf = (der: Uint8Array): number =>
  pkijs.OCSPResponse.fromBER(der).responseStatus.valueBlock.valueDec;

describe('OCSP responder: bad requests get an OCSP error status, never an exception', () => {
  let pki: PkiFixture;
  let config: OcspResponderConfig;
  let leaf: IssuedKeyAndCertificate;
  before(async () => {
    pki = await pkiFixture();
    config = { issuer: pki.authorities.issuing, clock: new ManualClock(new Date()), validitySeconds: 300 };
    leaf = await issueProfileCertificateWithNewKey(pki.issuer, { profile: 'obwac', subject: acme });
  });

  const malformedInputs: [string, Uint8Array][] = [
    ['empty bytes', new Uint8Array()],
    ['random bytes', new Uint8Array([1, 2, 3, 4, 5])],
    ['a DER SEQUENCE that is not an OCSPRequest', new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x05])],
    ['truncated DER', new Uint8Array([0x30, 0x82, 0x01, 0x00, 0x30])],
  ];
  for (const [label, input] of malformedInputs) {
    it(`answers malformedRequest (1) to ${label}`, async () => {
      assert.equal(statusOf(await answerOcsp(input, () => ({ status: 'good' }), config)), 1);
    });
  }

  it('answers malformedRequest to a valid request with trailing garbage', async () => {
    const { der } = await buildOcspRequest(leaf.certificate, pki.authorities.issuing.certificate);
    assert.equal(
      statusOf(await answerOcsp(new Uint8Array([...der, 0]), () => ({ status: 'good' }), config)),
      1,
    );
  });

  it('answers malformedRequest to a nonce longer than 32 octets (RFC 8954)', async () => {
    const built = await buildOcspRequest(leaf.certificate, pki.authorities.issuing.certificate);
    const request = pkijs.OCSPRequest.fromBER(built.der);
    request.tbsRequest.requestExtensions = [
      new pkijs.Extension({
        extnID: '1.3.6.1.5.5.7.48.1.2',
        extnValue: new asn1js.OctetString({ valueHex: new Uint8Array(33) }).toBER(),
      }),
    ];
    const der = new Uint8Array(request.toSchema(true).toBER());
    assert.equal(statusOf(await answerOcsp(der, () => ({ status: 'good' }), config)), 1);
  });

  it('answers unauthorized (6) about a certificate of another CA, without looking it up', async () => {
    const other = await loadOrCreateSandboxAuthorities(`${pki.dir}/other-ca`);
    const foreign = await issueProfileCertificateWithNewKey(other.issuing, {
      profile: 'obwac',
      subject: acme,
    });
    const { der } = await buildOcspRequest(foreign.certificate, other.issuing.certificate);
    let lookups = 0;
    const answer = await answerOcsp(der, () => (lookups++, { status: 'good' }), config);
    assert.equal(statusOf(answer), 6);
    assert.equal(lookups, 0);
  });

  it('answers internalError (2) when the status lookup fails', async () => {
    const { der } = await buildOcspRequest(leaf.certificate, pki.authorities.issuing.certificate);
    const answer = await answerOcsp(der, () => Promise.reject(new Error('database down')), config);
    assert.equal(statusOf(answer), 2);
  });

  it('answers a good request with a response our own client verifies, carrying nextUpdate = thisUpdate + validity', async () => {
    const request = await buildOcspRequest(leaf.certificate, pki.authorities.issuing.certificate);
    const answer = await readOcspResponse(await answerOcsp(request.der, () => ({ status: 'good' }), config), {
      certificate: leaf.certificate,
      issuer: pki.authorities.issuing.certificate,
      request,
      clock: config.clock,
    });
    assert.deepEqual(answer.status, { status: 'good' });
    assert.equal(answer.nextUpdate!.getTime() - answer.thisUpdate.getTime(), 300_000);
  });
});
