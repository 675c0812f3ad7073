import assert from 'node:assert/strict';
import { randomBytes, randomUUID, type webcrypto } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import { Agent, fetch as undiciFetch, request } from 'undici';
import { httpsJsonFetcher, RemoteJwksCache } from '../../src/auth/dcr/jwks.ts';
import { registrationPlugin } from '../../src/auth/dcr/plugin.ts';
import { Registrar } from '../../src/auth/dcr/registration.ts';
import {
  RevocationChecker,
  generateCrl,
  issueClientCertificate,
  issueProfileCertificateWithNewKey,
  loadOrCreateSandboxAuthorities,
  sandboxNca,
  type Psd2Role,
  withRevocationEndpoints,
  type IssuedKeyAndCertificate,
  type RevokedCertificateEntry,
} from '../../src/pki/index.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { assertValidResponse, validateComponent } from '../support/openapi.ts';
import { startHarness, type HttpResult } from './harness.ts';

const SPEC = 'ob-dcr/v3.3/client-registration-openapi.json';
const DIRECTORY_ISS = 'https://directory.sandbox.test/directory';
const ASPSP_ID = '0015800001ZEZ1AAO';

interface Software {
  softwareId: string;
  orgId: string;
  roles: string[];
  redirectUris: string[];
  kid: string;
  privateKey: webcrypto.CryptoKey;
  publicJwk: JWK;
  transport: IssuedKeyAndCertificate;
  agent: Agent;
}

describe('Open Banking DCR', async () => {
  const authorities = await loadOrCreateSandboxAuthorities(await mkdtemp(join(tmpdir(), 'obkit-dcr-ca-')));
  const issuer = withRevocationEndpoints(authorities.issuing, {
    crlUrl: 'http://crl.sandbox.test/issuing.crl',
  });
  const revoked: RevokedCertificateEntry[] = [];
  let crlNumber = 1;
  const revocation = new RevocationChecker({
    fetchers: {
      ocsp: async () => {
        throw new Error('no OCSP responder in this test');
      },
      crl: async () => generateCrl(authorities.issuing, revoked, { crlNumber: crlNumber++ }),
    },
    maxCacheSeconds: 0,
  });
  const ca = authorities.trustAnchorsPem;

  const directoryKeys = await generateKeyPair('PS256', { extractable: true });
  const directoryKid = randomUUID();
  const softwareJwks = new Map<string, JWK[]>();
  const caAgent = new Agent({ connect: { ca } });

  const h = await startHarness({
    authorities,
    fetch: ((url: string, init: Record<string, unknown>) =>
      undiciFetch(url, { ...init, dispatcher: caAgent } as never)) as never,
    mountBrowser: async (app) => {
      const jwk = {
        ...(await exportJWK(directoryKeys.publicKey)),
        kid: directoryKid,
        alg: 'PS256',
        use: 'sig',
      };
      app.get('/test-directory/jwks', async () => ({ keys: [jwk] }));
      app.get('/test-software/:id/jwks', async (req, reply) => {
        const keys = softwareJwks.get((req.params as { id: string }).id);
        return keys ? { keys } : reply.code(404).send({ error: 'not found' });
      });
    },
    mountMtls: async (app, server, { browserUrl }) => {
      const registrar = new Registrar({
        server,
        directories: [{ issuer: DIRECTORY_ISS, jwksUri: `${browserUrl}/test-directory/jwks` }],
        audiences: [ASPSP_ID],
        trustAnchorsPem: authorities.trustAnchorsPem,
        intermediatesPem: authorities.issuing.certificatePem,
        revocation,
        jwks: new RemoteJwksCache(httpsJsonFetcher({ ca })),
        clock: systemClock,
      });
      await app.register(registrationPlugin, { registrar });
    },
  });
  const now = () => Math.floor(Date.now() / 1000);

  async function newSoftware(roles = ['AISP', 'PISP']): Promise<Software> {
    const softwareId = `SW${randomBytes(8).toString('hex')}`;
    const orgId = `ORG${randomBytes(6).toString('hex')}`;
    const { privateKey, publicKey } = await generateKeyPair('PS256', { extractable: true });
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'PS256', use: 'sig' };
    softwareJwks.set(softwareId, [publicJwk]);
    const transport = await issueClientCertificate(issuer, {
      commonName: softwareId,
      organizationalUnit: orgId,
      organizationName: 'OpenBanking',
    });
    const agent = new Agent({ connect: { ca, key: transport.privateKeyPem, cert: transport.fullChainPem } });
    const redirectUris = [
      `https://${softwareId.toLowerCase()}.tpp.example/cb`,
      `https://${softwareId.toLowerCase()}.tpp.example/cb2`,
    ];
    return { softwareId, orgId, roles, redirectUris, kid, privateKey, publicJwk, transport, agent };
  }

  /** A software whose transport certificate is an eIDAS QWAC with these PSD2 roles, for organisation PSDGB-FCA-<number>. */
  async function newEidasSoftware(
    roles: string[],
    qwacRoles: Psd2Role[],
    authorisationNumber: string,
  ): Promise<Software> {
    const software = await newSoftware(roles);
    const transport = await issueProfileCertificateWithNewKey(issuer, {
      profile: 'qwac',
      subject: {
        softwareId: software.softwareId,
        orgId: software.orgId,
        organizationName: 'Test TPP Ltd',
        organizationIdentifier: `PSDGB-FCA-${authorisationNumber}`,
      },
      roles: qwacRoles,
      nca: sandboxNca,
    });
    const agent = new Agent({ connect: { ca, key: transport.privateKeyPem, cert: transport.fullChainPem } });
    return { ...software, transport, agent };
  }

  /** The SSA's claims of the organisation's NCA authorisation, as Open Banking's directory writes them. */
  const competentAuthority = (registrationId: string) => ({
    organisation_competent_authority_claims: {
      authority_id: 'FCAGBR',
      registration_id: registrationId,
      status: 'Active',
      authorisations: [{ member_state: 'GB', roles: ['AISP', 'PISP'] }],
    },
  });

  async function ssa(
    software: Software,
    overrides: JWTPayload = {},
    key = directoryKeys.privateKey,
    kid = directoryKid,
  ) {
    return new SignJWT({
      iss: DIRECTORY_ISS,
      iat: now(),
      jti: randomUUID(),
      software_environment: 'sandbox',
      software_mode: 'Test',
      software_id: software.softwareId,
      software_client_id: software.softwareId,
      software_client_name: 'Test TPP app',
      software_client_description: 'a test',
      software_version: '1.0',
      software_client_uri: 'https://tpp.example',
      software_redirect_uris: software.redirectUris,
      software_roles: software.roles,
      software_logo_uri: 'https://tpp.example/logo.png',
      software_policy_uri: 'https://tpp.example/policy',
      software_tos_uri: 'https://tpp.example/tos',
      software_jwks_endpoint: `${h.browserUrl}/test-software/${software.softwareId}/jwks`,
      org_id: software.orgId,
      org_name: 'Test TPP Ltd',
      org_status: 'Active',
      ...overrides,
    })
      .setProtectedHeader({ alg: 'PS256', kid })
      .sign(key);
  }

  async function registrationJwt(
    software: Software,
    options: { claims?: JWTPayload; ssa?: string; alg?: string; key?: webcrypto.CryptoKey } = {},
  ): Promise<string> {
    const payload: JWTPayload = {
      iss: software.softwareId,
      aud: ASPSP_ID,
      iat: now(),
      exp: now() + 300,
      jti: randomUUID(),
      redirect_uris: [software.redirectUris[0]],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'PS256',
      grant_types: ['authorization_code', 'client_credentials', 'refresh_token'],
      response_types: ['code id_token'],
      scope: 'openid accounts payments',
      application_type: 'web',
      id_token_signed_response_alg: 'PS256',
      request_object_signing_alg: 'PS256',
      software_id: software.softwareId,
      software_statement: options.ssa ?? (await ssa(software)),
      ...options.claims,
    };
    for (const [claim, value] of Object.entries(payload)) if (value === undefined) delete payload[claim];
    return new SignJWT(payload)
      .setProtectedHeader({ alg: options.alg ?? 'PS256', kid: software.kid })
      .sign(options.key ?? software.privateKey);
  }

  async function call(
    agent: Agent,
    method: 'POST' | 'GET' | 'PUT' | 'DELETE',
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<HttpResult> {
    const response = await request(`${h.mtlsUrl}${path}`, {
      method,
      dispatcher: agent,
      headers: { ...(body !== undefined ? { 'content-type': 'application/jwt' } : {}), ...headers },
      ...(body !== undefined ? { body } : {}),
    });
    const text = await response.body.text();
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = {};
    }
    return { status: response.statusCode, headers: response.headers, body: text, json };
  }

  async function token(software: Software, clientId: string, scope = 'accounts'): Promise<string> {
    const assertion = await new SignJWT({
      iss: clientId,
      sub: clientId,
      aud: `${h.mtlsUrl}/token`,
      jti: randomUUID(),
    })
      .setProtectedHeader({ alg: 'PS256', kid: software.kid })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(software.privateKey);
    const result = await h.post(software.agent, `${h.mtlsUrl}/token`, {
      grant_type: 'client_credentials',
      scope,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    assert.equal(result.status, 200, result.body);
    return result.json['access_token'] as string;
  }

  function assertRegistrationError(result: HttpResult, error: string) {
    assert.equal(result.status, 400, result.body);
    assert.equal(result.json['error'], error, result.body);
    assertValidResponse(SPEC, '/register', 'post', 400, result.json);
  }

  it('registers a private_key_jwt client from a JWT body over mTLS; the response matches the spec; the client gets bound tokens', async () => {
    const software = await newSoftware();
    const result = await call(software.agent, 'POST', '/register', await registrationJwt(software));
    assert.equal(result.status, 201, result.body);
    assertValidResponse(SPEC, '/register', 'post', 201, result.json);
    assert.equal(result.json['software_id'], software.softwareId);
    assert.equal(result.json['org_id'], software.orgId, 'the response carries the SSA claims');
    assert.equal(result.json['token_endpoint_auth_method'], 'private_key_jwt');
    const clientId = result.json['client_id'] as string;
    // The provider fetches the client's keys from the SSA's software_jwks_endpoint to check its assertion.
    await token(software, clientId);
  });

  it("answers a request addressed to the bank's URL with the bank's directory id as aud, as the spec has it", async () => {
    const software = await newSoftware();
    const body = await registrationJwt(software, { claims: { aud: h.browserUrl } });
    const result = await call(software.agent, 'POST', '/register', body);
    assert.equal(result.status, 201, result.body);
    assert.equal(result.json['aud'], ASPSP_ID);
    assertValidResponse(SPEC, '/register', 'post', 201, result.json);
  });

  it('accepts application/jose, and a tls_client_auth client with the certificate subject', async () => {
    const software = await newSoftware(['PISP']);
    const body = await registrationJwt(software, {
      claims: {
        token_endpoint_auth_method: 'tls_client_auth',
        token_endpoint_auth_signing_alg: undefined,
        tls_client_auth_subject_dn: `CN=${software.softwareId},OU=${software.orgId},O=OpenBanking,C=GB`,
        scope: 'openid payments',
      },
    });
    const result = await call(software.agent, 'POST', '/register', body, {
      'content-type': 'application/jose',
    });
    assert.equal(result.status, 201, result.body);
    assertValidResponse(SPEC, '/register', 'post', 201, result.json);
    const tokenResult = await h.post(software.agent, `${h.mtlsUrl}/token`, {
      grant_type: 'client_credentials',
      scope: 'payments',
      client_id: result.json['client_id'] as string,
    });
    assert.equal(tokenResult.status, 200, tokenResult.body);
  });

  it('accepts application_type mobile (v3.3) and native (v3.4), echoing what was asked', async () => {
    for (const applicationType of ['mobile', 'native']) {
      const software = await newSoftware();
      const body = await registrationJwt(software, { claims: { application_type: applicationType } });
      const result = await call(software.agent, 'POST', '/register', body);
      assert.equal(result.status, 201, result.body);
      assert.equal(result.json['application_type'], applicationType);
    }
    const software = await newSoftware();
    const body = await registrationJwt(software, { claims: { application_type: 'desktop' } });
    assertRegistrationError(await call(software.agent, 'POST', '/register', body), 'invalid_client_metadata');
  });

  it('GET, PUT and DELETE /register/{ClientId} with a client_credentials token over mTLS; GET after DELETE → 401', async () => {
    const software = await newSoftware();
    const created = await call(software.agent, 'POST', '/register', await registrationJwt(software));
    assert.equal(created.status, 201, created.body);
    const clientId = created.json['client_id'] as string;
    const bearer = { authorization: `Bearer ${await token(software, clientId)}` };

    const read = await call(software.agent, 'GET', `/register/${clientId}`, undefined, bearer);
    assert.equal(read.status, 200, read.body);
    assertValidResponse(SPEC, '/register/{ClientId}', 'get', 200, read.json);
    assert.equal(read.json['client_id'], clientId);

    const updated = await call(
      software.agent,
      'PUT',
      `/register/${clientId}`,
      await registrationJwt(software, { claims: { redirect_uris: software.redirectUris } }),
      bearer,
    );
    assert.equal(updated.status, 200, updated.body);
    assertValidResponse(SPEC, '/register/{ClientId}', 'put', 200, updated.json);
    assert.deepEqual(updated.json['redirect_uris'], software.redirectUris);
    assert.equal(updated.json['client_id'], clientId);

    const other = await newSoftware();
    const otherCreated = await call(other.agent, 'POST', '/register', await registrationJwt(other));
    const otherToken = await token(other, otherCreated.json['client_id'] as string);
    const forbidden = await call(other.agent, 'GET', `/register/${clientId}`, undefined, {
      authorization: `Bearer ${otherToken}`,
    });
    assert.equal(forbidden.status, 403);
    const stolen = await call(other.agent, 'GET', `/register/${clientId}`, undefined, bearer);
    assert.equal(stolen.status, 401, 'a token presented with another certificate');
    const anonymous = await call(software.agent, 'GET', `/register/${clientId}`);
    assert.equal(anonymous.status, 401);
    assert.match(String(anonymous.headers['www-authenticate']), /^Bearer /);

    const deleted = await call(software.agent, 'DELETE', `/register/${clientId}`, undefined, bearer);
    assert.equal(deleted.status, 204, deleted.body);
    const after = await call(software.agent, 'GET', `/register/${clientId}`, undefined, bearer);
    assert.equal(after.status, 401);
  });

  it("PUT /register/{ClientId} refused → 400 with the spec's RegistrationError; 403 has no body, as the spec's 403Error", async () => {
    const software = await newSoftware();
    const created = await call(software.agent, 'POST', '/register', await registrationJwt(software));
    assert.equal(created.status, 201, created.body);
    const clientId = created.json['client_id'] as string;
    const bearer = { authorization: `Bearer ${await token(software, clientId)}` };

    const refused = await call(
      software.agent,
      'PUT',
      `/register/${clientId}`,
      await registrationJwt(software, { claims: { redirect_uris: ['https://elsewhere.example/cb'] } }),
      bearer,
    );
    assert.equal(refused.status, 400, refused.body);
    assert.match(String(refused.headers['content-type']), /^application\/json\b/);
    assertValidResponse(SPEC, '/register/{ClientId}', 'put', 400, refused.json);
    assert.equal(refused.json['error'], 'invalid_redirect_uri');
    const notJwt = await call(software.agent, 'PUT', `/register/${clientId}`, '{}', {
      ...bearer,
      'content-type': 'application/json',
    });
    assertValidResponse(SPEC, '/register/{ClientId}', 'put', 400, notJwt.json);
    assert.equal(notJwt.json['error'], 'invalid_client_metadata');

    const forbidden = await call(software.agent, 'DELETE', `/register/${randomUUID()}`, undefined, bearer);
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body, '');
  });

  describe('refusals, each with the spec error', () => {
    it('expired request JWT → invalid_client_metadata', async () => {
      const software = await newSoftware();
      const body = await registrationJwt(software, { claims: { iat: now() - 900, exp: now() - 600 } });
      assertRegistrationError(
        await call(software.agent, 'POST', '/register', body),
        'invalid_client_metadata',
      );
    });
    it('request JWT issued in the future → invalid_client_metadata', async () => {
      const software = await newSoftware();
      const body = await registrationJwt(software, { claims: { iat: now() + 600, exp: now() + 900 } });
      assertRegistrationError(
        await call(software.agent, 'POST', '/register', body),
        'invalid_client_metadata',
      );
    });
    it('replayed jti → invalid_client_metadata', async () => {
      const software = await newSoftware();
      const body = await registrationJwt(software);
      assert.equal((await call(software.agent, 'POST', '/register', body)).status, 201);
      const again = await call(software.agent, 'POST', '/register', body);
      assertRegistrationError(again, 'invalid_client_metadata');
      assert.match(String(again.json['error_description']), /jti/);
    });
    it('bad SSA signature → invalid_software_statement', async () => {
      const software = await newSoftware();
      const forger = await generateKeyPair('PS256');
      const forged = await ssa(software, {}, forger.privateKey);
      const body = await registrationJwt(software, { ssa: forged });
      assertRegistrationError(
        await call(software.agent, 'POST', '/register', body),
        'invalid_software_statement',
      );
    });
    it('SSA from an unknown directory → unapproved_software_statement', async () => {
      const software = await newSoftware();
      const rogue = await generateKeyPair('PS256');
      const foreign = await ssa(software, { iss: 'https://rogue-directory.example' }, rogue.privateKey);
      const body = await registrationJwt(software, { ssa: foreign });
      assertRegistrationError(
        await call(software.agent, 'POST', '/register', body),
        'unapproved_software_statement',
      );
    });
    it('transport certificate of another software → unapproved_software_statement', async () => {
      const software = await newSoftware();
      const other = await newSoftware();
      const body = await registrationJwt(software);
      assertRegistrationError(
        await call(other.agent, 'POST', '/register', body),
        'unapproved_software_statement',
      );
    });
    it('revoked transport certificate → unapproved_software_statement', async () => {
      const software = await newSoftware();
      revoked.push({
        serialNumber: software.transport.certificate.serialNumber,
        revokedAt: new Date(),
        reason: 'keyCompromise',
      });
      const result = await call(software.agent, 'POST', '/register', await registrationJwt(software));
      assertRegistrationError(result, 'unapproved_software_statement');
      assert.match(String(result.json['error_description']), /revoked/i);
    });
    it('redirect URI outside the SSA → invalid_redirect_uri', async () => {
      const software = await newSoftware();
      const body = await registrationJwt(software, {
        claims: { redirect_uris: ['https://elsewhere.example/cb'] },
      });
      assertRegistrationError(await call(software.agent, 'POST', '/register', body), 'invalid_redirect_uri');
    });
    it('response_types token → invalid_client_metadata', async () => {
      const software = await newSoftware();
      const body = await registrationJwt(software, { claims: { response_types: ['token'] } });
      assertRegistrationError(
        await call(software.agent, 'POST', '/register', body),
        'invalid_client_metadata',
      );
    });
    it('response_types id_token → invalid_client_metadata', async () => {
      const software = await newSoftware();
      const body = await registrationJwt(software, { claims: { response_types: ['id_token'] } });
      assertRegistrationError(
        await call(software.agent, 'POST', '/register', body),
        'invalid_client_metadata',
      );
    });
    it('request signed RS256 → invalid_client_metadata', async () => {
      const software = await newSoftware();
      const rs = await generateKeyPair('RS256');
      const body = await registrationJwt(software, { alg: 'RS256', key: rs.privateKey });
      assertRegistrationError(
        await call(software.agent, 'POST', '/register', body),
        'invalid_client_metadata',
      );
    });
    it('RS256 requested for ID tokens → invalid_client_metadata', async () => {
      const software = await newSoftware();
      const body = await registrationJwt(software, { claims: { id_token_signed_response_alg: 'RS256' } });
      assertRegistrationError(
        await call(software.agent, 'POST', '/register', body),
        'invalid_client_metadata',
      );
    });
    it('request signature that does not verify with the software JWKS → invalid_client_metadata', async () => {
      const software = await newSoftware();
      const other = await generateKeyPair('PS256');
      const body = await registrationJwt(software, { key: other.privateKey });
      assertRegistrationError(
        await call(software.agent, 'POST', '/register', body),
        'invalid_client_metadata',
      );
    });
    it('iss other than the software id, or aud of another bank → invalid_client_metadata', async () => {
      const software = await newSoftware();
      for (const claims of [{ iss: 'SomeoneElse' }, { aud: 'AnotherBank' }]) {
        const body = await registrationJwt(software, { claims });
        assertRegistrationError(
          await call(software.agent, 'POST', '/register', body),
          'invalid_client_metadata',
        );
      }
    });
    it('scope beyond the roles (AISP asking for payments) → invalid_client_metadata', async () => {
      const software = await newSoftware(['AISP']);
      const body = await registrationJwt(software);
      const result = await call(software.agent, 'POST', '/register', body);
      assertRegistrationError(result, 'invalid_client_metadata');
      assert.match(String(result.json['error_description']), /payments/);
    });
    it('client_secret auth → invalid_client_metadata', async () => {
      const software = await newSoftware();
      const body = await registrationJwt(software, {
        claims: { token_endpoint_auth_method: 'client_secret_basic' },
      });
      assertRegistrationError(
        await call(software.agent, 'POST', '/register', body),
        'invalid_client_metadata',
      );
    });
    it('a JSON body instead of a JWT → invalid_client_metadata', async () => {
      const software = await newSoftware();
      const result = await call(software.agent, 'POST', '/register', JSON.stringify({ redirect_uris: [] }), {
        'content-type': 'application/json',
      });
      assertRegistrationError(result, 'invalid_client_metadata');
    });
    it('error bodies are the spec RegistrationError', async () => {
      const result = validateComponent(SPEC, 'RegistrationError', {
        error: 'invalid_client_metadata',
        error_description: 'x',
      });
      assert.ok(result.valid);
      assert.equal(validateComponent(SPEC, 'RegistrationError', { error: 'server_error' }).valid, false);
    });
  });

  describe('eIDAS transport certificates (QWAC)', () => {
    it("grants only the roles both the SSA and the QWAC's QCStatement name", async () => {
      const software = await newEidasSoftware(['AISP', 'PISP'], ['PSP_AI'], '123456');
      const claims = competentAuthority('123456');
      const wide = await registrationJwt(software, { ssa: await ssa(software, claims) });
      const refused = await call(software.agent, 'POST', '/register', wide);
      assertRegistrationError(refused, 'invalid_client_metadata');
      assert.match(refused.json['error_description'] as string, /scope payments is not allowed.*\(AISP\)/);

      const narrow = await registrationJwt(software, {
        ssa: await ssa(software, claims),
        claims: { scope: 'openid accounts' },
      });
      const registered = await call(software.agent, 'POST', '/register', narrow);
      assert.equal(registered.status, 201, registered.body);
      assert.equal(registered.json['scope'], 'openid accounts');
    });

    it('refuses a QWAC whose PSD2 roles grant none of the SSA roles', async () => {
      const software = await newEidasSoftware(['AISP'], ['PSP_IC'], '123456');
      const body = await registrationJwt(software, {
        ssa: await ssa(software, competentAuthority('123456')),
        claims: { scope: 'openid accounts' },
      });
      const result = await call(software.agent, 'POST', '/register', body);
      assertRegistrationError(result, 'unapproved_software_statement');
      assert.match(result.json['error_description'] as string, /PSP_IC.*grant none/);
    });

    it("refuses a QWAC whose organizationIdentifier is not the SSA's authorised organisation", async () => {
      const software = await newEidasSoftware(['AISP'], ['PSP_AI'], '123456');
      const body = await registrationJwt(software, {
        ssa: await ssa(software, competentAuthority('654321')),
        claims: { scope: 'openid accounts' },
      });
      const result = await call(software.agent, 'POST', '/register', body);
      assertRegistrationError(result, 'unapproved_software_statement');
      assert.match(result.json['error_description'] as string, /PSDGB-FCA-123456.*654321/);
    });
  });
});
