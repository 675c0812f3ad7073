import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { request, type Dispatcher } from 'undici';
import {
  exportPrivateKeyPem,
  generateRsaKeyPair,
  issueClientCertificate,
  loadOrCreateSandboxAuthorities,
  withRevocationEndpoints,
  x509,
  type Issuer,
} from '../../src/pki/index.ts';
import { signCertificate } from '../../src/pki/issue.ts';
import { buildName } from '../../src/pki/name.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { aisGet, authorise } from '../journey/ais-support.ts';
import { assertRefused, type ErrorFamily, rowCounts } from '../support/hostile.ts';
import { startSandbox, type Tpp } from '../support/journey.ts';
import { call, ERROR_LEVEL, httpsClient, logCapture, type ClientIdentity } from '../support/platform.ts';

/**
 * Hostile client certificates on the mutual-TLS listener: expired, not yet valid, the wrong key usage,
 * self-signed, from another CA, from an intermediate the bank does not know, revoked. Each is refused at
 * every mTLS route family in that family's error format (the Read/Write APIs, the token endpoint, DCR,
 * JWKms, the directory's participant API); none answers 5xx, writes a row or logs an error. Every
 * certificate announces the directory's OCSP responder and CRL, as the directory's own do, so it is the
 * defect named, not a missing status, that gets it refused; the TPP's real certificate is the control.
 */
describe('hostile client certificates on the mTLS listener', async () => {
  const logs = logCapture();
  const sandbox = await startSandbox({ logTo: logs });
  const { platform } = sandbox;
  const tpp = await sandbox.tpp('cert-tpp', ['AISP']);
  const doomed = await sandbox.tpp('cert-doomed', ['AISP']);
  const consent = await authorise(sandbox, tpp, { permissions: ['ReadAccountsBasic'] });
  const softwareId = tpp.bundle.summary.software.id;

  const authorities = await loadOrCreateSandboxAuthorities(join(platform.dataDir, 'pki'));
  const api = `${platform.urls.browser}/directory/v1`;
  const endpoints = { ocspUrl: `${api}/ocsp`, crlUrl: `${api}/crl`, caIssuersUrl: `${api}/ca/issuing.cer` };
  const issuing = withRevocationEndpoints(authorities.issuing, endpoints);
  const foreign = await loadOrCreateSandboxAuthorities(mkdtempSync(join(tmpdir(), 'obkit-foreign-ca-')), {
    organizationName: 'Foreign CA',
  });

  const identityOf = (issued: { fullChainPem: string; privateKeyPem: string }): ClientIdentity => ({
    certificatePem: issued.fullChainPem,
    privateKeyPem: issued.privateKeyPem,
  });
  const daysFromNow = (days: number) => new ManualClock(new Date(Date.now() + days * 86_400_000));

  /** A leaf like the directory's transport certificates, with the given key usage and extended key usage. */
  async function leaf(issuer: Issuer, usage: number, eku: string[]): Promise<ClientIdentity> {
    const keys = await generateRsaKeyPair();
    const certificate = await signCertificate(issuer, {
      subject: buildName([
        ['C', 'GB'],
        ['CN', 'hostile-usage'],
      ]),
      publicKey: keys.publicKey,
      validityDays: 30,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(usage, true),
        new x509.ExtendedKeyUsageExtension(eku),
      ],
    });
    return {
      certificatePem: `${certificate.toString('pem')}\n${issuer.chainPem}`,
      privateKeyPem: await exportPrivateKeyPem(keys.privateKey),
    };
  }

  async function selfSigned(): Promise<ClientIdentity> {
    const keys = await generateRsaKeyPair();
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'C=GB, CN=hostile-self-signed',
      keys,
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ],
    });
    return {
      certificatePem: certificate.toString('pem'),
      privateKeyPem: await exportPrivateKeyPem(keys.privateKey),
    };
  }

  /** An intermediate CA under the sandbox root that the directory never created, and a leaf it issued. */
  async function unknownIntermediate(sendIntermediate: boolean): Promise<ClientIdentity> {
    const keys = await generateRsaKeyPair();
    const root = authorities.root;
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: '0badca11',
      subject: 'C=GB, O=obkit Sandbox, CN=obkit Sandbox Rogue Issuing CA',
      issuer: root.certificate.subjectName,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 30 * 86_400_000),
      publicKey: keys.publicKey,
      signingKey: root.privateKey,
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(root.certificate.publicKey),
      ],
    });
    const rogue: Issuer = {
      certificate,
      certificatePem: certificate.toString('pem'),
      privateKey: keys.privateKey,
      chainPem: `${certificate.toString('pem')}\n${root.certificatePem}`,
      endpoints,
    };
    const issued = await issueClientCertificate(rogue, { commonName: 'hostile-intermediate' });
    return {
      certificatePem: sendIntermediate ? issued.fullChainPem : issued.certificatePem,
      privateKeyPem: issued.privateKeyPem,
    };
  }

  /** The doomed TPP's transport certificate, revoked (keyCompromise) through the directory's participant API. */
  async function revoked(victim: Tpp): Promise<ClientIdentity> {
    const identity = {
      certificatePem: victim.bundle.transportCertificatePem,
      privateKeyPem: victim.bundle.transportKeyPem,
    };
    const answer = await call(
      httpsClient([sandbox.rootPem], identity),
      `${platform.urls.mtls}/directory/v1/software/${victim.bundle.summary.software.id}/certificates/${victim.bundle.summary.certificates.transport.kid}?reason=keyCompromise`,
      { method: 'DELETE' },
    );
    assert.equal(answer.status, 200, answer.text);
    return identity;
  }

  /** Each certificate, and the words of its refusal: refused for its own defect, not for any other. */
  const hostile: [string, ClientIdentity, RegExp][] = [
    [
      'expired',
      identityOf(
        await issueClientCertificate(issuing, {
          commonName: 'expired',
          validityDays: 1,
          clock: daysFromNow(-10),
        }),
      ),
      /CERT_HAS_EXPIRED/,
    ],
    [
      'not yet valid',
      identityOf(
        await issueClientCertificate(issuing, {
          commonName: 'future',
          validityDays: 30,
          clock: daysFromNow(10),
        }),
      ),
      /CERT_NOT_YET_VALID/,
    ],
    [
      'for server authentication only',
      await leaf(issuing, x509.KeyUsageFlags.digitalSignature, [x509.ExtendedKeyUsage.serverAuth]),
      /INVALID_PURPOSE/,
    ],
    [
      'without digitalSignature in its key usage',
      await leaf(issuing, x509.KeyUsageFlags.dataEncipherment, [x509.ExtendedKeyUsage.clientAuth]),
      /INVALID_PURPOSE/,
    ],
    ['self-signed', await selfSigned(), /SELF_SIGNED_CERT/],
    [
      'issued by another CA',
      identityOf(await issueClientCertificate(foreign.issuing, { commonName: 'foreign' })),
      /UNABLE_TO_GET_ISSUER_CERT/,
    ],
    [
      'issued by an unknown intermediate (sent)',
      await unknownIntermediate(true),
      /not issued by a configured CA/,
    ],
    [
      'issued by an unknown intermediate (not sent)',
      await unknownIntermediate(false),
      /UNABLE_TO_VERIFY_LEAF_SIGNATURE/,
    ],
    ['revoked at the directory', await revoked(doomed), / was revoked on /],
  ];

  const clientId = tpp.clientId;
  const routes: {
    name: string;
    family: ErrorFamily;
    send: (agent: Dispatcher) => Promise<Dispatcher.ResponseData>;
  }[] = [
    {
      name: 'GET /accounts',
      family: 'ob',
      send: (agent) =>
        request(`${platform.urls.mtls}/open-banking/v3.1/aisp/accounts`, {
          dispatcher: agent,
          headers: {
            authorization: `Bearer ${consent.accessToken}`,
            'x-fapi-financial-id': '0015800001041RHAAY',
          },
        }),
    },
    {
      name: 'POST /token',
      family: 'oauth',
      send: (agent) =>
        request(`${platform.urls.mtls}/token`, {
          dispatcher: agent,
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `grant_type=client_credentials&scope=accounts&client_id=${encodeURIComponent(clientId)}`,
        }),
    },
    {
      name: 'POST /register',
      family: 'dcr',
      send: (agent) =>
        request(`${platform.urls.mtls}/register`, {
          dispatcher: agent,
          method: 'POST',
          headers: { 'content-type': 'application/jwt' },
          body: tpp.bundle.ssa,
        }),
    },
    {
      name: 'GET /jwkms/v1/keys',
      family: 'json-error',
      send: (agent) => request(`${platform.urls.mtls}/jwkms/v1/keys`, { dispatcher: agent }),
    },
    {
      name: 'GET /directory/v1/software/{id}',
      family: 'json-error',
      send: (agent) =>
        request(`${platform.urls.mtls}/directory/v1/software/${softwareId}`, { dispatcher: agent }),
    },
  ];

  async function answer(agent: Dispatcher, route: (typeof routes)[number]) {
    const response = await route.send(agent);
    return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
  }

  // Taken after the control, whose served read is audited (consent_audit).
  let before: Record<string, number> = {};
  let errorsBefore = 0;

  it("the control: the TPP's own transport certificate is served", async () => {
    assert.equal((await aisGet(tpp, consent.accessToken, '/accounts')).status, 200);
    before = await rowCounts(platform.store);
    errorsBefore = logs.lines.filter((line) => line.level >= ERROR_LEVEL).length;
  });

  for (const [what, identity, reason] of hostile) {
    it(`a certificate ${what} is refused at every mTLS route family`, async () => {
      const agent = httpsClient([sandbox.rootPem], identity);
      for (const route of routes) {
        const refused = await answer(agent, route);
        assertRefused(refused, route.family, `${what} at ${route.name}`);
        assert.ok([400, 401].includes(refused.status), `${what} at ${route.name}: ${refused.status}`);
        assert.match(refused.text, reason, `${what} at ${route.name}`);
      }
    });
  }

  it('wrote nothing and logged no error', async () => {
    assert.deepEqual(await rowCounts(platform.store), before);
    assert.deepEqual(logs.lines.filter((line) => line.level >= ERROR_LEVEL).slice(errorsBefore), []);
  });
});
