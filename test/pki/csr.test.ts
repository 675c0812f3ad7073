import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import {
  PkiInputError,
  checkCsr,
  issueCertificateFromCsr,
  parseParticipantCertificate,
  sandboxNca,
  x509,
} from '../../src/pki/index.ts';
import { acme, openssl, pkiFixture, type PkiFixture } from './helpers.ts';

describe('issuing from a CSR', () => {
  let pki: PkiFixture;
  const csrs: Record<string, string> = {};

  /** Makes a CSR with openssl (the TPP's tool), returns its PEM. */
  const make = async (name: string, args: string[]): Promise<string> => {
    const key = `${pki.dir}/${name}.key`;
    const out = `${pki.dir}/${name}.csr`;
    const result = openssl([
      'req',
      '-new',
      ...args.map((a) => a.replace('KEY', key)),
      '-nodes',
      '-subj',
      '/CN=tpp',
      '-out',
      out,
    ]);
    assert.equal(result.status, 0, result.output);
    return readFile(out, 'utf8');
  };

  before(async () => {
    pki = await pkiFixture();
    csrs.rsa = await make('rsa', ['-newkey', 'rsa:2048', '-keyout', 'KEY']);
    csrs.ec = await make('ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', 'KEY']);
    csrs.weak = await make('weak', ['-newkey', 'rsa:1024', '-keyout', 'KEY']);
    csrs.sha1 = await make('sha1', ['-newkey', 'rsa:2048', '-keyout', 'KEY', '-sha1']);
    csrs.k1 = await make('k1', [
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:secp256k1',
      '-keyout',
      'KEY',
    ]);
    csrs.ed = await make('ed', ['-newkey', 'ed25519', '-keyout', 'KEY']);
  });

  it('issues a QWAC for an RSA CSR and an OBWAC for a P-256 CSR; the roles come back out', async () => {
    const qwac = await issueCertificateFromCsr(pki.issuer, csrs.rsa!, {
      profile: 'qwac',
      subject: acme,
      roles: ['PSP_AI', 'PSP_PI'],
      nca: sandboxNca,
    });
    assert.equal(qwac.csr.keyDescription, 'RSA 2048');
    assert.equal(qwac.csr.requestedSubject, 'CN=tpp');
    assert.deepEqual(parseParticipantCertificate(qwac.certificatePem).roles, ['PSP_AI', 'PSP_PI']);
    const csrKey = Buffer.from(new x509.Pkcs10CertificateRequest(csrs.rsa!).publicKey.rawData);
    assert.ok(
      Buffer.from(qwac.certificate.publicKey.rawData).equals(csrKey),
      'the certificate carries the CSR key',
    );

    const obwac = await issueCertificateFromCsr(pki.issuer, csrs.ec!, { profile: 'obwac', subject: acme });
    assert.equal(obwac.csr.keyDescription, 'EC P-256');
    const keyUsage = obwac.certificate.getExtension(x509.KeyUsagesExtension)!.usages;
    assert.equal(keyUsage, x509.KeyUsageFlags.digitalSignature, 'no keyEncipherment for an EC key');
    const leaf = await pki.write('ec-obwac.pem', obwac.certificatePem);
    assert.equal(openssl(['verify', '-CAfile', pki.rootPem, '-untrusted', pki.issuingPem, leaf]).status, 0);
  });

  it('accepts the CSR as DER bytes too', async () => {
    const der = new Uint8Array(new x509.Pkcs10CertificateRequest(csrs.rsa!).rawData);
    assert.equal((await checkCsr(der)).keyDescription, 'RSA 2048');
  });

  const tamper = (pem: string): Uint8Array => {
    const der = new Uint8Array(new x509.Pkcs10CertificateRequest(pem).rawData);
    der[der.length - 3]! ^= 0x01; // inside the signature value
    return der;
  };
  const privateKeyPem =
    '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+HYwcTlUo0mNDQXxHUu6ZNp0TMrBPtTa5RhIzGXK0v\n-----END PRIVATE KEY-----\n';
  const badInputs: [string, () => string | Uint8Array, string, RegExp][] = [
    ['an RSA-1024 key', () => csrs.weak!, 'csr.key', /RSA key of 1024 bits; at least 2048 are required/],
    [
      'a SHA-1 signature',
      () => csrs.sha1!,
      'csr.algorithm',
      /signed with RSASSA-PKCS1-v1_5 over SHA-1; use SHA-256/,
    ],
    ['a secp256k1 key', () => csrs.k1!, 'csr.key', /EC key on curve secp256k1; use P-256 or P-384/],
    ['an Ed25519 key', () => csrs.ed!, 'csr.key', /key of type ed25519; use RSA/],
    ['a broken signature', () => tamper(csrs.rsa!), 'csr.signature', /signature does not verify/],
    ['an empty string', () => '', 'csr.malformed', /the CSR is empty/],
    [
      'text that is not PEM',
      () => 'hello',
      'csr.malformed',
      /not PEM: expected a "-----BEGIN CERTIFICATE REQUEST-----" block/,
    ],
    ['a private key', () => privateKeyPem, 'csr.malformed', /is a "PRIVATE KEY".*never send it/],
    [
      'a certificate',
      () => '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
      'csr.malformed',
      /is a "CERTIFICATE", not a "CERTIFICATE REQUEST"/,
    ],
    [
      'bad base64',
      () => '-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----',
      'csr.malformed',
      /not valid base64/,
    ],
    [
      'mismatched PEM labels',
      () => '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE-----',
      'csr.malformed',
      /begins "CERTIFICATE REQUEST" but ends "CERTIFICATE"/,
    ],
    ['two CSRs', () => csrs.rsa! + csrs.ec!, 'csr.malformed', /expected one PEM block, found 2/],
    [
      'truncated DER',
      () => new Uint8Array(new x509.Pkcs10CertificateRequest(csrs.rsa!).rawData).slice(0, 100),
      'csr.malformed',
      /not valid DER/,
    ],
    [
      'DER with trailing bytes',
      () => new Uint8Array([...new Uint8Array(new x509.Pkcs10CertificateRequest(csrs.rsa!).rawData), 0, 0]),
      'csr.malformed',
      /2 unexpected bytes after its DER value/,
    ],
    [
      'DER that is not a CSR',
      () => new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x05]),
      'csr.malformed',
      /not a PKCS#10 CertificationRequest/,
    ],
    ['a huge input', () => new Uint8Array(70 * 1024), 'csr.malformed', /larger than 65536 bytes/],
  ];
  for (const [label, input, code, message] of badInputs) {
    it(`refuses ${label} with a clear message`, async () => {
      await assert.rejects(
        issueCertificateFromCsr(pki.issuer, input(), { profile: 'obwac', subject: acme }),
        (error: unknown) => {
          assert.ok(error instanceof PkiInputError, `got ${String(error)}`);
          assert.equal(error.code, code, error.message);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  it('refuses an EC key for an encryption certificate', async () => {
    await assert.rejects(
      issueCertificateFromCsr(pki.issuer, csrs.ec!, { profile: 'encryption', subject: acme }),
      /an encryption certificate needs an RSA key/,
    );
  });
});
