import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ManualClock } from '../../src/shared/clock.ts';
import { signCertificate } from '../../src/pki/issue.ts';
import {
  ChainValidationError,
  generateRsaKeyPair,
  importPrivateKeyPem,
  issueClientCertificate,
  issueProfileCertificateWithNewKey,
  loadOrCreateSandboxAuthorities,
  subjectName,
  validateChain,
  x509,
  type ChainValidationCode,
  type Issuer,
} from '../../src/pki/index.ts';
import { acme, pkiFixture, type PkiFixture } from './helpers.ts';

describe('chain validation against trust anchors', () => {
  let pki: PkiFixture;
  let leafPem: string;
  before(async () => {
    pki = await pkiFixture();
    leafPem = (await issueProfileCertificateWithNewKey(pki.issuer, { profile: 'obwac', subject: acme }))
      .certificatePem;
  });

  const fails = async (
    promise: Promise<unknown>,
    code: ChainValidationCode,
    message: RegExp,
  ): Promise<void> => {
    await assert.rejects(promise, (error: unknown) => {
      assert.ok(error instanceof ChainValidationError, String(error));
      assert.equal(error.code, code, error.message);
      assert.match(error.message, message);
      return true;
    });
  };

  it('builds leaf → issuing → root and checks the purpose', async () => {
    const chain = await validateChain(leafPem, {
      trustAnchors: pki.authorities.trustAnchorsPem,
      intermediates: pki.authorities.issuing.certificatePem,
      purpose: 'clientAuth',
    });
    assert.equal(chain.path.length, 3);
    assert.equal(chain.anchor.serialNumber, pki.authorities.root.certificate.serialNumber);
  });

  it('accepts an intermediate as the trust anchor', async () => {
    const chain = await validateChain(leafPem, { trustAnchors: [pki.authorities.issuing.certificatePem] });
    assert.equal(chain.path.length, 2);
  });

  it('refuses when the issuing CA is not supplied', async () => {
    await fails(
      validateChain(leafPem, { trustAnchors: pki.authorities.trustAnchorsPem }),
      'untrusted',
      /was issued by "CN=obkit Sandbox Issuing CA,O=obkit Sandbox,C=GB", which is neither a trust anchor nor a supplied intermediate/,
    );
  });

  it('uses the injected clock: expired, and not yet valid', async () => {
    const options = {
      trustAnchors: pki.authorities.trustAnchorsPem,
      intermediates: pki.authorities.chainPem,
    };
    await fails(
      validateChain(leafPem, { ...options, clock: new ManualClock('2099-01-01T00:00:00Z') }),
      'expired',
      /CN=Soft1234ABCD.* expired on/,
    );
    await fails(
      validateChain(leafPem, { ...options, clock: new ManualClock('2001-01-01T00:00:00Z') }),
      'not-yet-valid',
      /is not valid before/,
    );
  });

  it('refuses a certificate whose signature is not the issuer’s (same issuer name and key id, other key)', async () => {
    const stranger = await loadOrCreateSandboxAuthorities(`${pki.dir}/forger-ca`);
    const forgerIssuer: Issuer = { ...pki.authorities.issuing, privateKey: stranger.issuing.privateKey };
    const keys = await generateRsaKeyPair();
    const forged = await signCertificate(forgerIssuer, {
      subject: subjectName(acme),
      publicKey: keys.publicKey,
      validityDays: 10,
      extensions: [],
    });
    await fails(
      validateChain(forged, {
        trustAnchors: pki.authorities.trustAnchorsPem,
        intermediates: pki.authorities.chainPem,
      }),
      'signature',
      /does not verify with the key of its issuer "CN=obkit Sandbox Issuing CA/,
    );
  });

  it('refuses a certificate signed by an end entity (not a CA)', async () => {
    const endEntity = await issueClientCertificate(pki.issuer, { commonName: 'not-a-ca' });
    const fakeIssuer: Issuer = {
      certificate: endEntity.certificate,
      certificatePem: endEntity.certificatePem,
      privateKey: await importPrivateKeyPem(endEntity.privateKeyPem),
      chainPem: '',
      endpoints: {},
    };
    const keys = await generateRsaKeyPair();
    const child = await signCertificate(fakeIssuer, {
      subject: subjectName(acme),
      publicKey: keys.publicKey,
      validityDays: 10,
      extensions: [],
    });
    await fails(
      validateChain(child, {
        trustAnchors: pki.authorities.trustAnchorsPem,
        intermediates: [endEntity.certificatePem, pki.authorities.issuing.certificatePem],
      }),
      'not-a-ca',
      /"CN=not-a-ca,C=GB" signed a certificate but is not a CA/,
    );
  });

  it('enforces the issuing CA’s path length constraint (0: no sub-CA below it)', async () => {
    const subKeys = await generateRsaKeyPair();
    const subCa = await signCertificate(pki.authorities.issuing, {
      subject: new x509.Name([{ CN: ['Sub CA'] }]),
      publicKey: subKeys.publicKey,
      validityDays: 10,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ],
    });
    const subIssuer: Issuer = {
      certificate: subCa,
      certificatePem: subCa.toString('pem'),
      privateKey: subKeys.privateKey,
      chainPem: '',
      endpoints: {},
    };
    const keys = await generateRsaKeyPair();
    const leaf = await signCertificate(subIssuer, {
      subject: subjectName(acme),
      publicKey: keys.publicKey,
      validityDays: 5,
      extensions: [],
    });
    await fails(
      validateChain(leaf, {
        trustAnchors: pki.authorities.trustAnchorsPem,
        intermediates: [subCa, pki.authorities.issuing.certificate],
      }),
      'path-length',
      /allows 0 intermediate CA\(s\) below it, found 1/,
    );
  });

  it('refuses an unknown critical extension', async () => {
    const keys = await generateRsaKeyPair();
    const odd = await signCertificate(pki.authorities.issuing, {
      subject: subjectName(acme),
      publicKey: keys.publicKey,
      validityDays: 5,
      extensions: [new x509.Extension('1.2.3.4.5', true, new Uint8Array([0x05, 0x00]))],
    });
    await fails(
      validateChain(odd, {
        trustAnchors: pki.authorities.trustAnchorsPem,
        intermediates: pki.authorities.chainPem,
      }),
      'critical-extension',
      /critical extension 1\.2\.3\.4\.5/,
    );
  });

  it('checks key usage and EKU for the purpose', async () => {
    const options = {
      trustAnchors: pki.authorities.trustAnchorsPem,
      intermediates: pki.authorities.chainPem,
    };
    const encryption = await issueProfileCertificateWithNewKey(pki.issuer, {
      profile: 'encryption',
      subject: acme,
    });
    await fails(
      validateChain(encryption.certificatePem, { ...options, purpose: 'clientAuth' }),
      'key-usage',
      /has no digitalSignature key usage/,
    );
    await validateChain(encryption.certificatePem, { ...options, purpose: 'encryption' });
    const client = await issueClientCertificate(pki.issuer, { commonName: 'client-only' });
    await fails(
      validateChain(client.certificatePem, { ...options, purpose: 'serverAuth' }),
      'extended-key-usage',
      /not allowed for TLS server authentication/,
    );
    const seal = await issueProfileCertificateWithNewKey(pki.issuer, { profile: 'obseal', subject: acme });
    await validateChain(seal.certificatePem, { ...options, purpose: 'signing' });
    await fails(
      validateChain(seal.certificatePem, { ...options, purpose: 'encryption' }),
      'key-usage',
      /has no keyEncipherment key usage/,
    );
    await fails(
      validateChain(pki.authorities.issuing.certificatePem, { ...options, purpose: 'clientAuth' }),
      'end-entity-is-ca',
      /is a CA certificate, not an end entity/,
    );
  });
});
