import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SignJWT, generateKeyPair } from 'jose';
import { issueClientCertificate, loadOrCreateSandboxAuthorities } from '../../src/pki/index.ts';
import { selectParts } from '../../src/server/parts.ts';
import { splitPemCertificates } from '../../src/server/tls-material.ts';
import { assertValidResponse } from '../support/openapi.ts';
import { call, httpsClient, startTestPlatform, type JsonResponse } from '../support/platform.ts';

const SPECS = [
  'ob-dcr/v3.3/client-registration-openapi.json',
  'ob-dcr/v3.4/client-registration-openapi.json',
];

/**
 * Open Banking DCR on the real mTLS listener: every refusal is in the DCR specification's shapes (RFC 7591
 * body for 400, `WWW-Authenticate: Bearer` for 401, no body for 403/405), never the Read/Write API's error
 * body, including when the TPP has no client certificate or one the listener does not trust.
 */
describe('DCR errors on the mTLS listener', async () => {
  // The "trusted" certificate comes straight from the CA and names no OCSP responder or CRL: this file tests
  // the shapes of DCR errors, so the platform accepts a status it cannot obtain (revocation: trust-every-call).
  const platform = await startTestPlatform({
    parts: selectParts(['auth']),
    env: { OBKIT_REVOCATION_FAIL_CLOSED: 'false' },
  });
  const ca = splitPemCertificates(platform.tls.ca.join('\n'));
  const authorities = await loadOrCreateSandboxAuthorities(join(platform.dataDir, 'pki'));
  const trusted = await issueClientCertificate(authorities.issuing, { commonName: 'tpp-trusted' });
  const foreignCa = await loadOrCreateSandboxAuthorities(mkdtempSync(join(tmpdir(), 'obkit-foreign-ca-')), {
    organizationName: 'Foreign CA',
  });
  const untrusted = await issueClientCertificate(foreignCa.issuing, { commonName: 'tpp-untrusted' });
  const noCertificate = httpsClient(ca);
  const trustedAgent = httpsClient(ca, {
    certificatePem: trusted.fullChainPem,
    privateKeyPem: trusted.privateKeyPem,
  });
  const untrustedAgent = httpsClient(ca, {
    certificatePem: untrusted.fullChainPem,
    privateKeyPem: untrusted.privateKeyPem,
  });
  const { privateKey } = await generateKeyPair('PS256');
  const registrationJwt = await new SignJWT({ iss: 'software', aud: platform.urls.mtls, jti: randomUUID() })
    .setProtectedHeader({ alg: 'PS256' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey);

  const register = (agent: typeof noCertificate, body = registrationJwt, contentType = 'application/jwt') =>
    call(agent, `${platform.urls.mtls}/register`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });

  /** A 400 whose body is the spec's RegistrationError (v3.3 and v3.4), not an OB Read/Write error. */
  function assertRegistrationError(response: JsonResponse, error: string): { error_description?: string } {
    assert.equal(response.status, 400, response.text);
    assert.match(String(response.headers['content-type']), /^application\/json\b/);
    for (const spec of SPECS) assertValidResponse(spec, '/register', 'post', 400, response.body);
    const body = response.body as { error: string; error_description?: string };
    assert.equal(body.error, error, response.text);
    assert.deepEqual(
      Object.keys(body).filter((key) => !['error', 'error_description'].includes(key)),
      [],
      'only the RFC 7591 members',
    );
    return body;
  }

  it('POST /register without a client certificate → 400 unapproved_software_statement (RFC 7591)', async () => {
    const body = assertRegistrationError(await register(noCertificate), 'unapproved_software_statement');
    assert.match(body.error_description ?? '', /mutual TLS/);
  });

  it('POST /register without a certificate and without a JWT body → still the RFC 7591 400', async () => {
    assertRegistrationError(
      await register(noCertificate, '{"redirect_uris":[]}', 'application/json'),
      'unapproved_software_statement',
    );
  });

  it('POST /register with a certificate of a CA the bank does not trust → 400 unapproved_software_statement', async () => {
    const body = assertRegistrationError(await register(untrustedAgent), 'unapproved_software_statement');
    assert.match(body.error_description ?? '', /not trusted/);
  });

  it('POST /register with a trusted certificate and a body over the limit → 400 invalid_client_metadata', async () => {
    assertRegistrationError(await register(trustedAgent, 'x'.repeat(128 * 1024)), 'invalid_client_metadata');
  });

  it('POST /register with a trusted certificate and a JSON body → 400 invalid_client_metadata', async () => {
    assertRegistrationError(
      await register(trustedAgent, '{"redirect_uris":[]}', 'application/json'),
      'invalid_client_metadata',
    );
  });

  for (const method of ['GET', 'PUT', 'DELETE'] as const) {
    for (const [who, agent] of [
      ['without a client certificate', noCertificate],
      ['with an untrusted certificate', untrustedAgent],
      ['with a trusted certificate but no access token', trustedAgent],
    ] as const) {
      it(`${method} /register/{ClientId} ${who} → 401 with WWW-Authenticate: Bearer`, async () => {
        const response = await call(agent, `${platform.urls.mtls}/register/${randomUUID()}`, {
          method,
          ...(method === 'PUT'
            ? { headers: { 'content-type': 'application/jwt' }, body: registrationJwt }
            : {}),
        });
        assert.equal(response.status, 401, response.text);
        // The spec's 401Error: a WWW-Authenticate header matching ^Bearer .*, and no OB error body.
        assert.match(String(response.headers['www-authenticate']), /^Bearer .*/);
        assert.equal((response.body as Record<string, unknown> | undefined)?.['Errors'], undefined);
      });
    }
  }

  it('a method the specification does not define → 405 naming the allowed ones, no body', async () => {
    const onCollection = await call(trustedAgent, `${platform.urls.mtls}/register`);
    assert.equal(onCollection.status, 405);
    assert.equal(onCollection.headers['allow'], 'POST');
    assert.equal(onCollection.text, '');
    const onClient = await call(noCertificate, `${platform.urls.mtls}/register/${randomUUID()}`, {
      method: 'PATCH',
    });
    assert.equal(onClient.status, 405);
    assert.equal(onClient.headers['allow'], 'GET, PUT, DELETE');
    assert.equal(onClient.text, '');
  });
});
