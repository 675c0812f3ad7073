import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { parseParticipantCertificate } from '../../src/pki/index.ts';
import { call } from '../support/platform.ts';
import { openssl, scratch, startDirectory } from './support.ts';

const isoCountry = /^[A-Z]{2}$/;

describe('directory onboarding over HTTPS', async () => {
  const directory = await startDirectory();
  const onboarded = await directory.onboard({
    organisation: {
      name: 'Acme Payments Ltd',
      ncaId: '123456',
      contacts: [
        { name: 'Ada Lovelace', email: 'ada@acme.example', phone: '+44 20 7946 0000', type: 'business' },
      ],
    },
    software: {
      clientName: 'Acme Budget',
      description: 'Sees your accounts, pays your bills',
      version: '2.1',
      roles: ['AISP', 'PISP'],
      redirectUris: ['https://acme.example/callback', 'https://acme.example/cb2'],
      policyUri: 'https://acme.example/privacy',
      mode: 'Test',
    },
  });
  const answer = onboarded.body;

  it('answers with the organisation, software, three certificates, the CA chain, an SSA and JWKS URIs', () => {
    assert.match(answer.organisation.id, /^[A-Za-z0-9]{18}$/);
    assert.equal(answer.organisation.organizationIdentifier, 'PSDGB-FCA-123456');
    assert.match(answer.software.id, /^[A-Za-z0-9]{22}$/);
    assert.deepEqual(answer.software.roles, ['AISP', 'PISP']);
    for (const type of ['transport', 'signing', 'encryption'] as const) {
      const certificate = answer.certificates[type];
      assert.ok(certificate, type);
      assert.match(certificate.kid, /^[A-Za-z0-9_-]{27}$/);
      assert.equal(
        new X509Certificate(certificate.pem).serialNumber.toLowerCase().replace(/^0+/, ''),
        certificate.serialNumber.replace(/^0+/, ''),
      );
    }
    assert.equal(answer.caChainPem.match(/BEGIN CERTIFICATE/g)?.length, 2);
    assert.equal(answer.jwksUris.directory, `${directory.base}/jwks`);
  });

  it('issues certificates for the CSR keys, with CN = software id, OU = org id, organizationIdentifier', () => {
    for (const [type, csr] of [
      ['transport', onboarded.transport],
      ['signing', onboarded.signing],
      ['encryption', onboarded.encryption],
    ] as const) {
      const certificate = new X509Certificate(answer.certificates[type]!.pem);
      assert.ok(
        certificate.checkPrivateKey(createPrivateKey(csr.privateKeyPem)),
        `${type} certificate holds the CSR key`,
      );
      const info = parseParticipantCertificate(answer.certificates[type]!.pem);
      assert.equal(info.softwareId, answer.software.id);
      assert.equal(info.orgId, answer.organisation.id);
      assert.equal(info.organizationIdentifier, 'PSDGB-FCA-123456');
      assert.equal(info.organizationName, 'Acme Payments Ltd');
    }
    assert.equal(parseParticipantCertificate(answer.certificates.transport.pem).profile, 'obwac');
    assert.equal(parseParticipantCertificate(answer.certificates.signing.pem).profile, 'obseal');
  });

  it('openssl verify accepts every issued certificate against the CA chain it was given', () => {
    const files = scratch();
    const [issuing, root] = answer.caChainPem.match(
      /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g,
    )!;
    const rootFile = files.write('root.pem', `${root}\n`);
    const issuingFile = files.write('issuing.pem', `${issuing}\n`);
    for (const type of ['transport', 'signing', 'encryption'] as const) {
      const leaf = files.write(`${type}.pem`, answer.certificates[type]!.pem);
      const result = openssl(['verify', '-CAfile', rootFile, '-untrusted', issuingFile, leaf]);
      assert.equal(result.status, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /: OK/);
    }
    // The certificates announce where to ask about revocation.
    const text = openssl([
      'x509',
      '-in',
      files.write('t.pem', answer.certificates.transport.pem),
      '-noout',
      '-text',
    ]).stdout;
    assert.ok(text.includes(`OCSP - URI:${directory.base}/ocsp`), text);
    assert.ok(text.includes(`URI:${directory.base}/crl`), text);
  });

  it('signs an SSA that verifies against the directory JWKS fetched over HTTPS, with every claim present and typed', async () => {
    const jwks = await call(directory.browser, answer.jwksUris.directory);
    assert.equal(jwks.status, 200);
    assert.match(String(jwks.headers['content-type']), /application\/jwk-set\+json/);
    const keySet = jwks.body as JSONWebKeySet;
    const header = decodeProtectedHeader(answer.ssa);
    assert.equal(header.alg, 'PS256');
    assert.equal(header.typ, 'JWT');
    const key = keySet.keys.find((candidate) => candidate.kid === header.kid);
    assert.ok(key, 'the SSA kid is in the directory JWKS');
    assert.equal(key.use, 'sig');
    assert.equal(key.alg, 'PS256');
    assert.ok(Array.isArray(key.x5c) && key.x5c.length === 2);
    assert.equal(typeof key['x5t#S256'], 'string');

    const { payload } = await jwtVerify(answer.ssa, createLocalJWKSet(keySet), {
      algorithms: ['PS256'],
      issuer: `${directory.platform.urls.browser}/directory`,
    });
    const strings = [
      'iss',
      'jti',
      'software_id',
      'software_client_id',
      'software_client_name',
      'software_client_description',
      'software_version',
      'software_environment',
      'software_mode',
      'software_jwks_endpoint',
      'software_jwks_revoked_endpoint',
      'software_logo_uri',
      'software_tos_uri',
      'software_policy_uri',
      'software_client_uri',
      'org_id',
      'org_name',
      'org_status',
      'org_jwks_endpoint',
      'org_jwks_revoked_endpoint',
      'ob_registry_tos',
    ];
    for (const claim of strings) {
      assert.equal(typeof payload[claim], 'string', `${claim} is a string`);
      assert.notEqual(payload[claim], '', `${claim} is not empty`);
      assert.doesNotMatch(String(payload[claim]), /TODO/i, claim);
    }
    assert.equal(typeof payload.iat, 'number');
    assert.ok(Math.abs(payload.iat! - Date.now() / 1000) < 300);
    assert.deepEqual(payload.software_redirect_uris, [
      'https://acme.example/callback',
      'https://acme.example/cb2',
    ]);
    assert.deepEqual(payload.software_roles, ['AISP', 'PISP']);
    assert.equal(payload.software_id, answer.software.id);
    assert.equal(payload.software_client_id, answer.software.id);
    assert.equal(payload.software_client_name, 'Acme Budget');
    assert.equal(payload.software_client_description, 'Sees your accounts, pays your bills');
    assert.equal(payload.software_version, '2.1');
    assert.equal(payload.software_environment, 'sandbox');
    assert.equal(payload.software_mode, 'Test');
    assert.equal(payload.software_policy_uri, 'https://acme.example/privacy');
    assert.equal(payload.org_id, answer.organisation.id);
    assert.equal(payload.org_name, 'Acme Payments Ltd');
    assert.equal(payload.org_status, 'Active');
    assert.deepEqual(payload.org_contacts, [
      { name: 'Ada Lovelace', email: 'ada@acme.example', phone: '+44 20 7946 0000', type: 'business' },
    ]);
    assert.equal(payload.software_jwks_endpoint, answer.jwksUris.software);
    assert.equal(payload.org_jwks_endpoint, answer.jwksUris.organisation);
    assert.equal(payload.software_jwks_revoked_endpoint, `${answer.jwksUris.software}/revoked`);
    assert.equal(payload.org_jwks_revoked_endpoint, `${answer.jwksUris.organisation}/revoked`);
    const authority = payload.organisation_competent_authority_claims as Record<string, unknown>;
    assert.equal(authority.authority_id, 'FCAGBR');
    assert.equal(authority.registration_id, '123456');
    const [authorisation] = authority.authorisations as { member_state: string; roles: string[] }[];
    assert.match(authorisation!.member_state, isoCountry);

    // Every URI claim is a working page or document of the directory, or the TPP's own.
    for (const claim of [
      'software_logo_uri',
      'software_tos_uri',
      'software_client_uri',
      'ob_registry_tos',
      'software_jwks_endpoint',
      'org_jwks_revoked_endpoint',
    ]) {
      const uri = String(payload[claim]);
      assert.match(uri, /^https:\/\//, claim);
      const response = await call(directory.browser, uri);
      assert.equal(response.status, 200, `${claim} ${uri} answers`);
    }
  });

  it('publishes the software keys with kid, use, alg where fixed, x5c and x5t#S256', async () => {
    const response = await call(directory.browser, answer.jwksUris.software);
    assert.equal(response.status, 200);
    const { keys } = response.body as { keys: Record<string, unknown>[] };
    assert.equal(keys.length, 3);
    const byKid = new Map(keys.map((key) => [key.kid, key]));
    const transport = byKid.get(answer.certificates.transport.kid)!;
    const signing = byKid.get(answer.certificates.signing.kid)!;
    const encryption = byKid.get(answer.certificates.encryption!.kid)!;
    assert.equal(transport.use, 'tls');
    assert.equal(transport.alg, undefined);
    assert.equal(signing.use, 'sig');
    assert.equal(signing.alg, 'PS256');
    assert.equal(encryption.use, 'enc');
    assert.equal(encryption.alg, 'RSA-OAEP-256');
    for (const [type, key] of [
      ['transport', transport],
      ['signing', signing],
      ['encryption', encryption],
    ] as const) {
      const pem = answer.certificates[type]!.pem;
      const der = new X509Certificate(pem).raw;
      assert.equal((key.x5c as string[])[0], der.toString('base64'));
      assert.equal(key['x5t#S256'], parseParticipantCertificate(pem).thumbprintS256);
      assert.equal(key.kty, 'RSA');
    }
    const organisation = await call(directory.browser, answer.jwksUris.organisation);
    assert.equal((organisation.body as { keys: unknown[] }).keys.length, 3);
    const revoked = await call(directory.browser, `${answer.jwksUris.software}/revoked`);
    assert.deepEqual(revoked.body, { keys: [] });
  });

  it('answers 404 for JWKS of organisations and software it does not know', async () => {
    const unknownOrg = await directory.get('/organisations/0015AAAAAAAAAAAAAA/jwks');
    assert.equal(unknownOrg.status, 404);
    assert.deepEqual(Object.keys(unknownOrg.body as object).sort(), ['error', 'error_description']);
    const mismatched = await directory.get(
      `/organisations/0015AAAAAAAAAAAAAA/software/${answer.software.id}/jwks`,
    );
    assert.equal(mismatched.status, 404);
  });

  it('issues eIDAS QWAC and QSealC with the PSD2 roles of the software', async () => {
    const eidas = await directory.onboard({
      certificateProfile: 'eidas',
      software: { roles: ['AISP', 'CBPII'] },
    });
    const transport = parseParticipantCertificate(eidas.body.certificates.transport.pem);
    const signing = parseParticipantCertificate(eidas.body.certificates.signing.pem);
    assert.equal(transport.profile, 'qwac');
    assert.equal(signing.profile, 'qsealc');
    assert.deepEqual(transport.roles, ['PSP_AI', 'PSP_IC']);
    assert.deepEqual(signing.roles, ['PSP_AI', 'PSP_IC']);
    assert.deepEqual(transport.nca, { name: 'Financial Conduct Authority', id: 'GB-FCA' });
    const files = scratch();
    const text = openssl([
      'x509',
      '-in',
      files.write('qwac.pem', eidas.body.certificates.transport.pem),
      '-noout',
      '-text',
    ]).stdout;
    assert.match(text, /qcStatements|1\.3\.6\.1\.5\.5\.7\.1\.3/);
  });

  it('lists the sandbox bank among the ASPSPs with its discovery URL', async () => {
    const response = await directory.get('/aspsps');
    assert.equal(response.status, 200);
    assert.deepEqual(
      (response.body as { aspsps: { name: string; discoveryUrl: string }[] }).aspsps.map(
        ({ name, discoveryUrl }) => ({ name, discoveryUrl }),
      ),
      [
        {
          name: 'obkit Sandbox Bank',
          discoveryUrl: `${directory.platform.urls.browser}/.well-known/openid-configuration`,
        },
      ],
    );
  });

  it('serves the CA chain as PEM', async () => {
    const response = await directory.get('/ca');
    assert.equal(response.status, 200);
    assert.equal(response.text, answer.caChainPem);
  });
});
