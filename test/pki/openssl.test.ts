import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import {
  answerOcsp,
  generateCrl,
  issueCertificateFromCsr,
  issueOcspResponderCertificate,
  issueProfileCertificateWithNewKey,
  issueServerCertificate,
  sandboxNca,
  type CertificateStatus,
  type OcspResponderConfig,
  type ProfileRequest,
} from '../../src/pki/index.ts';
import { acme, openssl, pkiFixture, type PkiFixture } from './helpers.ts';

// openssl is the independent peer: it must accept what we issue and answer.
describe('openssl accepts our certificates, OCSP answers and CRLs', () => {
  let pki: PkiFixture;
  before(async () => {
    pki = await pkiFixture();
  });

  const requests: ProfileRequest[] = [
    { profile: 'obwac', subject: acme },
    { profile: 'qwac', subject: acme, roles: ['PSP_AI', 'PSP_PI'], nca: sandboxNca },
    { profile: 'obseal', subject: acme },
    { profile: 'qsealc', subject: acme, roles: ['PSP_IC'], nca: sandboxNca },
    { profile: 'encryption', subject: acme },
  ];
  for (const request of requests) {
    it(`openssl verify accepts a ${request.profile} certificate against root + issuing CA`, async () => {
      const issued = await issueProfileCertificateWithNewKey(pki.issuer, request);
      const leaf = await pki.write(`${request.profile}.pem`, issued.certificatePem);
      const purpose = request.profile.endsWith('wac') ? ['-purpose', 'sslclient'] : [];
      const result = openssl([
        'verify',
        ...purpose,
        '-CAfile',
        pki.rootPem,
        '-untrusted',
        pki.issuingPem,
        leaf,
      ]);
      assert.equal(result.status, 0, result.output);
      assert.match(result.stdout, /: OK/);
      const text = openssl(['x509', '-in', leaf, '-noout', '-subject', '-nameopt', 'RFC2253']).stdout;
      assert.match(
        text,
        /CN=Soft1234ABCD,OU=0015800001041REAAY,organizationIdentifier=PSDGB-FCA-123456,O=Acme Payments Ltd,C=GB/,
      );
    });
  }

  it('openssl verify -purpose sslserver accepts the sandbox server certificate', async () => {
    const issued = await issueServerCertificate(pki.issuer, {
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    const leaf = await pki.write('server.pem', issued.certificatePem);
    const result = openssl([
      'verify',
      '-purpose',
      'sslserver',
      '-CAfile',
      pki.rootPem,
      '-untrusted',
      pki.issuingPem,
      leaf,
    ]);
    assert.equal(result.status, 0, result.output);
  });

  it('openssl verify refuses a certificate when the issuing CA is missing (the check can fail)', async () => {
    const issued = await issueProfileCertificateWithNewKey(pki.issuer, { profile: 'obwac', subject: acme });
    const leaf = await pki.write('orphan.pem', issued.certificatePem);
    const result = openssl(['verify', '-CAfile', pki.rootPem, leaf]);
    assert.notEqual(result.status, 0);
    assert.match(result.output, /unable to get local issuer certificate/);
  });

  it('openssl x509 -text shows the ETSI QCStatements with the PSD2 roles and NCA of a QWAC', async () => {
    const issued = await issueProfileCertificateWithNewKey(pki.issuer, requests[1]!);
    const leaf = await pki.write('qwac-text.pem', issued.certificatePem);
    const plain = openssl(['x509', '-in', leaf, '-noout', '-text']).stdout;
    assert.match(plain, /qcStatements:/);
    assert.match(
      plain,
      /qcStatements:\s*\n.*PSP_AI.*PSP_PI.*Financial Conduct Authority.*GB-FCA/,
      'the raw dump shows the role names',
    );
    assert.match(
      plain,
      /Authority Information Access:[\s\S]*OCSP - URI:http:\/\/ocsp\.directory\.test\/ocsp/,
    );
    assert.match(plain, /CRL Distribution Points:[\s\S]*URI:http:\/\/crl\.directory\.test\/issuing\.crl/);
    const parsed = openssl(['x509', '-in', leaf, '-noout', '-text', '-certopt', 'ext_parse']).stdout;
    const statements = parsed.slice(parsed.indexOf('qcStatements:'));
    assert.match(statements, /OBJECT\s+:0\.4\.0\.1862\.1\.1\b/, 'qcCompliance');
    assert.match(statements, /OBJECT\s+:0\.4\.0\.1862\.1\.6\.3\b/, 'qcType web');
    assert.match(statements, /OBJECT\s+:0\.4\.0\.19495\.2\b/, 'PSD2 statement');
    assert.match(
      statements,
      /OBJECT\s+:0\.4\.0\.19495\.1\.3\n[^\n]*UTF8STRING\s+:PSP_AI\n/,
      'PSP_AI with its OID',
    );
    assert.match(
      statements,
      /OBJECT\s+:0\.4\.0\.19495\.1\.2\n[^\n]*UTF8STRING\s+:PSP_PI\n/,
      'PSP_PI with its OID',
    );
    assert.match(statements, /UTF8STRING\s+:Financial Conduct Authority/);
    assert.match(statements, /UTF8STRING\s+:GB-FCA/);
  });

  it('issues from an openssl-made CSR: openssl verifies the result, and the key is the CSR key', async () => {
    const key = `${pki.dir}/tpp.key`;
    const csr = `${pki.dir}/tpp.csr`;
    const made = openssl([
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-subj',
      '/CN=whatever',
      '-out',
      csr,
    ]);
    assert.equal(made.status, 0, made.output);
    const issued = await issueCertificateFromCsr(pki.issuer, await readFile(csr, 'utf8'), {
      profile: 'qsealc',
      subject: acme,
      roles: ['PSP_AI'],
      nca: sandboxNca,
    });
    const leaf = await pki.write('from-csr.pem', issued.certificatePem);
    assert.equal(openssl(['verify', '-CAfile', pki.rootPem, '-untrusted', pki.issuingPem, leaf]).status, 0);
    const certificateKey = openssl(['x509', '-in', leaf, '-noout', '-pubkey']).stdout;
    const privateKeyPublic = openssl(['pkey', '-in', key, '-pubout']).stdout;
    assert.equal(certificateKey, privateKeyPublic);
  });

  describe('openssl ocsp against answerOcsp', () => {
    let leaf: string;
    let serial: string;
    let request: Uint8Array;
    let requestPath: string;
    before(async () => {
      const issued = await issueProfileCertificateWithNewKey(pki.issuer, requests[0]!);
      leaf = await pki.write('ocsp-leaf.pem', issued.certificatePem);
      serial = issued.certificate.serialNumber.toLowerCase();
      requestPath = `${pki.dir}/req.der`;
      const made = openssl(['ocsp', '-issuer', pki.issuingPem, '-cert', leaf, '-reqout', requestPath]);
      assert.equal(made.status, 0, made.output);
      request = new Uint8Array(await readFile(requestPath));
    });

    const ask = async (name: string, status: CertificateStatus, signer?: OcspResponderConfig['signer']) => {
      const seen: string[] = [];
      const response = await answerOcsp(
        request,
        (asked) => {
          seen.push(asked);
          return status;
        },
        { issuer: pki.authorities.issuing, ...(signer ? { signer } : {}) },
      );
      assert.deepEqual(seen, [serial], 'the responder looked up the serial openssl asked about');
      const path = await pki.write(name, response);
      // With the request: openssl checks the signature, the responder's authority and the nonce echo.
      const checked = openssl([
        'ocsp',
        '-respin',
        path,
        '-reqin',
        requestPath,
        '-issuer',
        pki.issuingPem,
        '-CAfile',
        pki.rootPem,
      ]);
      assert.equal(checked.status, 0, checked.output);
      assert.match(checked.output, /Response verify OK/);
      // With the certificate: openssl reports its status (-no_nonce: this is a fresh request of its own).
      return openssl([
        'ocsp',
        '-respin',
        path,
        '-issuer',
        pki.issuingPem,
        '-CAfile',
        pki.rootPem,
        '-cert',
        leaf,
        '-no_nonce',
      ]);
    };

    it('reports good, then revoked (with time and reason) once the certificate is revoked', async () => {
      const good = await ask('good.der', { status: 'good' });
      assert.equal(good.status, 0, good.output);
      assert.match(good.output, /Response verify OK/);
      assert.match(good.stdout, /ocsp-leaf\.pem: good/);
      assert.match(good.stdout, /Next Update:/);

      const revoked = await ask('revoked.der', {
        status: 'revoked',
        revokedAt: new Date('2026-03-01T10:00:00Z'),
        reason: 'keyCompromise',
      });
      assert.match(revoked.output, /Response verify OK/);
      assert.match(revoked.stdout, /ocsp-leaf\.pem: revoked/);
      assert.match(revoked.stdout, /Reason: keyCompromise/);
      assert.match(revoked.stdout, /Revocation Time: Mar {2}1 10:00:00 2026 GMT/);
    });

    it('is trusted by openssl when a delegated responder signs', async () => {
      const responder = await issueOcspResponderCertificate(pki.authorities.issuing);
      const result = await ask('delegated.der', { status: 'good' }, responder);
      assert.match(result.output, /Response verify OK/);
      assert.match(result.stdout, /ocsp-leaf\.pem: good/);
    });

    it('reports unknown for a serial the CA never issued', async () => {
      const result = await ask('unknown.der', { status: 'unknown' });
      assert.match(result.stdout, /ocsp-leaf\.pem: unknown/);
    });
  });

  it('openssl crl parses our DER CRL, lists the serial, verifies it; openssl verify -crl_check refuses the revoked leaf', async () => {
    const revoked = await issueProfileCertificateWithNewKey(pki.issuer, requests[0]!);
    const kept = await issueProfileCertificateWithNewKey(pki.issuer, requests[0]!);
    const crl = await generateCrl(
      pki.authorities.issuing,
      [
        {
          serialNumber: revoked.certificate.serialNumber,
          revokedAt: new Date('2026-02-02T12:00:00Z'),
          reason: 'keyCompromise',
        },
      ],
      { crlNumber: 42 },
    );
    const crlPath = await pki.write('issuing.crl', crl);
    const text = openssl(['crl', '-inform', 'DER', '-in', crlPath, '-noout', '-text']);
    assert.equal(text.status, 0, text.output);
    assert.match(text.stdout, new RegExp(`Serial Number: ${revoked.certificate.serialNumber.toUpperCase()}`));
    assert.doesNotMatch(text.stdout, new RegExp(kept.certificate.serialNumber.toUpperCase()));
    assert.match(text.stdout, /Key Compromise/);
    assert.match(text.stdout, /X509v3 CRL Number: \n\s+42/);
    const verified = openssl(['crl', '-inform', 'DER', '-in', crlPath, '-noout', '-CAfile', pki.issuingPem]);
    assert.match(verified.output, /verify OK/);

    const crlPem = await pki.write(
      'issuing.crl.pem',
      openssl(['crl', '-inform', 'DER', '-in', crlPath]).stdout,
    );
    const bundle = await pki.write(
      'bundle.pem',
      `${pki.authorities.root.certificatePem}\n${pki.authorities.issuing.certificatePem}\n`,
    );
    const revokedLeaf = await pki.write('revoked-leaf.pem', revoked.certificatePem);
    const keptLeaf = await pki.write('kept-leaf.pem', kept.certificatePem);
    const refused = openssl(['verify', '-crl_check', '-CRLfile', crlPem, '-CAfile', bundle, revokedLeaf]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.output, /certificate revoked/);
    const accepted = openssl(['verify', '-crl_check', '-CRLfile', crlPem, '-CAfile', bundle, keptLeaf]);
    assert.equal(accepted.status, 0, accepted.output);
  });
});
