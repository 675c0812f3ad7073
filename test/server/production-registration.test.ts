import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  calculateJwkThumbprint,
  exportJWK,
  flattenedVerify,
  generateKeyPair,
  importPKCS8,
  SignJWT,
  type CryptoKey,
  type JWK,
} from 'jose';
import * as oidc from 'openid-client';
import { ssaClaims, type DirectoryAddresses } from '../../src/directory/ssa.ts';
import { detachedSigner } from '../../src/openbanking/http/jws.ts';
import {
  answerOcsp,
  issueProfileCertificateWithNewKey,
  issueServerCertificate,
  loadOrCreateSandboxAuthorities,
  normalizeSerial,
  withRevocationEndpoints,
  type IssuedKeyAndCertificate,
  type Issuer,
} from '../../src/pki/index.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { OB_CRITICAL, OB_ISS, OB_TAN } from '../../src/shared/ob-jws-claims.ts';
import { clientCredentialsToken } from '../../src/tpp/authorization.ts';
import { connectToBank, type BankConnection } from '../../src/tpp/bank.ts';
import type { Bundle } from '../../src/tpp/bundle.ts';
import { apiBaseOf, callApi } from '../../src/tpp/open-banking.ts';
import { buildRegistrationJwt, rfc4514SubjectOf } from '../../src/tpp/register.ts';
import { assertValidResponse, PIS_V3_1_11 } from '../support/openapi.ts';
import { call, httpsClient, type JsonResponse } from '../support/platform.ts';
import { startProductionBank } from '../support/production-bank.ts';

/**
 * A TPP registers by Open Banking DCR at a bank running with `sandbox: false`, then uses the payment
 * APIs — with nothing of the sandbox: the test plays the directory (its CA, an HTTPS server publishing
 * its SSA-signing JWKS and the TPP's software JWKS, an OCSP responder), signs the SSA with the claim set
 * our directory puts in one, and the TPP signs its requests with its own keys. The bank knows all this
 * only from its configuration files.
 */

const work = mkdtempSync(join(tmpdir(), 'obkit-prod-dcr-'));
after(() => rmSync(work, { recursive: true, force: true }));

const DIRECTORY_ISSUER = 'Test Directory Ltd';
/** The bank's id at the directory: a registration request may name it as `aud`. */
const BANK_AT_DIRECTORY = '0015800001ZEZ3hAAH';
const TRUST_ANCHOR = 'openbanking.org.uk';
const ORG_ID = '0015800001041REAAY';
const SOFTWARE_ID = '2cfQj5zVXKJrpxyLqGbRQx';
const REDIRECT_URI = 'https://tpp.example/callback';
const DCR_SPEC = 'ob-dcr/v3.3/client-registration-openapi.json';

// ---- the directory's PKI, and two CAs that are not its transport CA ----------------------------------

const directoryCa = await loadOrCreateSandboxAuthorities(join(work, 'directory-ca'), {
  organizationName: 'Test Directory',
});
// A CA whose root the bank's TLS trusts (another trust anchor) but which is not a configured transport CA.
const otherCa = await loadOrCreateSandboxAuthorities(join(work, 'other-ca'), {
  organizationName: 'Other Trust Services',
});
// A CA the bank trusts nowhere.
const strangerCa = await loadOrCreateSandboxAuthorities(join(work, 'stranger-ca'), {
  organizationName: 'Stranger CA',
});

// ---- the directory's services: OCSP over HTTP, JWKS over HTTPS under its own CA ----------------------

const revokedSerials = new Set<string>();
let ocspRequests = 0;
const ocsp = createHttpServer((request, response) => {
  void (async () => {
    const der = await bodyOf(request);
    ocspRequests += 1;
    const answer = await answerOcsp(
      der,
      (serial) =>
        revokedSerials.has(serial)
          ? { status: 'revoked', revokedAt: new Date(Date.now() - 60_000), reason: 'keyCompromise' }
          : { status: 'good' },
      { issuer: directoryCa.issuing },
    );
    response.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(answer);
  })().catch(() => response.writeHead(500).end());
});
const ocspUrl = `http://127.0.0.1:${await listen(ocsp)}/ocsp`;
const directoryIssuer: Issuer = withRevocationEndpoints(directoryCa.issuing, { ocspUrl });

const directoryKeys = await generateKeyPair('PS256', { extractable: true });
const directoryKid = await calculateJwkThumbprint(await exportJWK(directoryKeys.publicKey));
const directoryJwks = {
  keys: [{ ...(await exportJWK(directoryKeys.publicKey)), kid: directoryKid, use: 'sig' }],
};
const softwareJwks = new Map<string, { keys: JWK[] }>();
const fetched: string[] = [];

const directoryTls = await issueServerCertificate(directoryCa.issuing, {
  dnsNames: ['localhost'],
  ipAddresses: ['127.0.0.1'],
});
const directoryServer = createHttpsServer(
  { cert: directoryTls.fullChainPem, key: directoryTls.privateKeyPem },
  (request, response) => {
    const path = request.url ?? '';
    fetched.push(path);
    const found =
      path === '/directory/jwks'
        ? directoryJwks
        : softwareJwks.get(/^\/organisations\/[^/]+\/software\/([^/]+)\/jwks$/.exec(path)?.[1] ?? '');
    response
      .writeHead(found ? 200 : 404, { 'content-type': 'application/json' })
      .end(JSON.stringify(found ?? { error: 'not found' }));
  },
);
const directoryUrl = `https://localhost:${await listen(directoryServer)}`;

const addresses: DirectoryAddresses = {
  issuer: DIRECTORY_ISSUER,
  organisationJwks: (orgId) => `${directoryUrl}/organisations/${orgId}/jwks`,
  organisationRevokedJwks: (orgId) => `${directoryUrl}/organisations/${orgId}/jwks/revoked`,
  softwareJwks: (orgId, softwareId) => `${directoryUrl}/organisations/${orgId}/software/${softwareId}/jwks`,
  softwareRevokedJwks: (orgId, softwareId) =>
    `${directoryUrl}/organisations/${orgId}/software/${softwareId}/jwks/revoked`,
  softwarePage: (softwareId) => `${directoryUrl}/software/${softwareId}`,
  softwareLogo: (softwareId) => `${directoryUrl}/software/${softwareId}/logo.svg`,
  registryTos: `${directoryUrl}/tos`,
};

// ---- the TPP, as the directory onboarded it: OBWAC transport, OBSEAL signing key in its software JWKS --

const identity = {
  softwareId: SOFTWARE_ID,
  orgId: ORG_ID,
  organizationName: 'Acme Payments Ltd',
  organizationIdentifier: `PSDGB-FCA-${ORG_ID}`,
};
const obwac = (issuer: Issuer) =>
  issueProfileCertificateWithNewKey(issuer, { profile: 'obwac', subject: identity });
const transport = await obwac(directoryIssuer);
const seal = await issueProfileCertificateWithNewKey(directoryIssuer, {
  profile: 'obseal',
  subject: identity,
});
const signingKid = await calculateJwkThumbprint(
  new X509Certificate(seal.certificatePem).publicKey.export({ format: 'jwk' }) as JWK,
);
softwareJwks.set(SOFTWARE_ID, {
  keys: [
    {
      ...(new X509Certificate(seal.certificatePem).publicKey.export({ format: 'jwk' }) as JWK),
      kid: signingKid,
      use: 'sig',
      alg: 'PS256',
      x5c: [new X509Certificate(seal.certificatePem).raw.toString('base64')],
    },
  ],
});
const tppSigningKey = await importPKCS8(seal.privateKeyPem, 'PS256');

/** A fresh SSA with our directory's claim set for the TPP, signed by `key` (the directory's by default). */
async function softwareStatement(
  signer: { key: CryptoKey; kid: string } = { key: directoryKeys.privateKey, kid: directoryKid },
): Promise<string> {
  const claims = ssaClaims(
    {
      organisation: {
        id: ORG_ID,
        name: identity.organizationName,
        status: 'Active',
        countryCode: 'GB',
        ncaName: 'FCA',
        ncaId: ORG_ID,
        contacts: [{ name: 'Ops', email: 'ops@tpp.example', type: 'Technical' }],
      },
      software: {
        id: SOFTWARE_ID,
        clientName: 'Acme Pay',
        description: 'Pays bills',
        version: '1.0',
        roles: ['PISP'],
        redirectUris: [REDIRECT_URI],
        clientUri: 'https://tpp.example',
        logoUri: null,
        policyUri: null,
        tosUri: null,
        mode: 'Live',
        certificateProfile: 'obie',
      },
    },
    addresses,
    'production',
    new Date(),
  );
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'PS256', kid: signer.kid, typ: 'JWT' })
    .sign(signer.key);
}

/** The TPP's onboarding bundle (in memory), which the TPP SDK builds registration requests from. */
function bundleOf(ssa: string, transportCertificate: IssuedKeyAndCertificate = transport): Bundle {
  return {
    dir: work,
    summary: {
      version: 1,
      createdAt: new Date().toISOString(),
      directory: { url: directoryUrl, jwksUri: `${directoryUrl}/directory/jwks` },
      organisation: { id: ORG_ID, name: identity.organizationName },
      software: {
        id: SOFTWARE_ID,
        clientName: 'Acme Pay',
        roles: ['PISP'],
        redirectUris: [REDIRECT_URI],
        jwksUri: addresses.softwareJwks(ORG_ID, SOFTWARE_ID),
      },
      certificates: {
        transport: {
          kid: 'transport',
          serialNumber: transportCertificate.certificate.serialNumber,
          certificateFile: '',
          keyFile: '',
        },
        signing: {
          kid: signingKid,
          serialNumber: seal.certificate.serialNumber,
          certificateFile: '',
          keyFile: '',
        },
      },
      registrations: {},
      consents: [],
    },
    transportKeyPem: transportCertificate.privateKeyPem,
    transportCertificatePem: transportCertificate.fullChainPem,
    signingKeyPem: seal.privateKeyPem,
    signingCertificatePem: seal.certificatePem,
    caChainPem: directoryCa.chainPem,
    ssa,
  };
}

// ---- the bank's files, as its operator would configure them -------------------------------------------

const bankTls = await issueServerCertificate(directoryCa.issuing, {
  dnsNames: ['localhost'],
  ipAddresses: ['127.0.0.1'],
});
const signing = generateKeyPairSync('rsa', { modulusLength: 2048 });
const files = {
  cert: write('server.pem', bankTls.fullChainPem),
  key: write('server.key.pem', bankTls.privateKeyPem, true),
  directoryRoot: write('directory-root.pem', directoryCa.trustAnchorsPem),
  otherRoot: write('other-root.pem', otherCa.trustAnchorsPem),
  directoryIssuing: write('directory-issuing.pem', directoryCa.issuing.certificatePem),
  signingKey: write(
    'signing.key.pem',
    signing.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    true,
  ),
};
const bankEnv = {
  OBKIT_SANDBOX: 'false',
  OBKIT_TLS_CERT_FILE: files.cert,
  OBKIT_TLS_KEY_FILE: files.key,
  OBKIT_TRUST_ANCHOR_FILES: `${files.directoryRoot},${files.otherRoot}`,
  OBKIT_TRANSPORT_CA_FILES: files.directoryIssuing,
  OBKIT_TRUSTED_DIRECTORIES: JSON.stringify([
    { issuer: DIRECTORY_ISSUER, jwksUri: `${directoryUrl}/directory/jwks` },
  ]),
  OBKIT_DIRECTORY_AUDIENCES: BANK_AT_DIRECTORY,
  OBKIT_JWKS_CA_FILES: files.directoryRoot,
  // The test's directory and the TPP's software JWKS listen on 127.0.0.1.
  OBKIT_OUTBOUND_PRIVATE_ADDRESSES: 'true',
  OBKIT_SIGNING_KEY_FILE: files.signingKey,
  OBKIT_SIGNING_KID: 'bank-signing-kid',
  OBKIT_SIGNING_ISSUER: 'bank-org',
  OBKIT_SIGNING_TRUST_ANCHOR: TRUST_ANCHOR,
};

// ---- helpers ---------------------------------------------------------------------------------------

function write(name: string, content: string, secret = false): string {
  const path = join(work, name);
  writeFileSync(path, content, secret ? { mode: 0o600 } : {});
  return path;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return (server.address() as AddressInfo).port;
}

async function bodyOf(request: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

const tppAgent = (certificate: IssuedKeyAndCertificate) =>
  httpsClient([directoryCa.trustAnchorsPem], {
    certificatePem: certificate.fullChainPem,
    privateKeyPem: certificate.privateKeyPem,
  });

interface DcrError {
  error: string;
  error_description: string;
}

/** Verifies the bank's detached x-jws-signature over `text` with its configured public key. */
async function verifyBankSignature(signature: unknown, text: string) {
  assert.equal(typeof signature, 'string', 'the response carries x-jws-signature');
  const [protectedHeader = '', payload, value = ''] = String(signature).split('.');
  assert.equal(payload, '', 'the signature is detached');
  const verified = await flattenedVerify(
    { protected: protectedHeader, payload: Buffer.from(text).toString('base64url'), signature: value },
    signing.publicKey as KeyObject,
    { algorithms: ['PS256'], crit: OB_CRITICAL },
  );
  return verified.protectedHeader ?? {};
}

// ---- the tests -------------------------------------------------------------------------------------

describe('a TPP registers by DCR at a production-configured bank and uses the payment APIs', async () => {
  const bank = await startProductionBank(bankEnv, { clock: systemClock });
  const { urls } = bank.platform;

  async function register(
    body: string,
    certificate: IssuedKeyAndCertificate = transport,
  ): Promise<JsonResponse> {
    return call(tppAgent(certificate), `${urls.mtls}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/jwt', accept: 'application/json' },
      body,
    });
  }

  const tlsClientAuthRequest = async (ssa: string, audience = BANK_AT_DIRECTORY) =>
    buildRegistrationJwt(
      bundleOf(ssa),
      audience,
      'tls_client_auth',
      rfc4514SubjectOf(transport.certificatePem),
    );

  let clientId = '';

  it('registers the TPP: 201 and a registration valid against the DCR specification', async () => {
    const ssa = await softwareStatement();
    const ocspBefore = ocspRequests;
    const response = await register(await tlsClientAuthRequest(ssa));
    assert.equal(response.status, 201, response.text);
    assertValidResponse(DCR_SPEC, '/register', 'post', 201, response.body);
    const registered = response.body as Record<string, unknown>;
    clientId = String(registered['client_id']);
    assert.ok(clientId);
    assert.equal(registered['software_id'], SOFTWARE_ID);
    assert.equal(registered['org_id'], ORG_ID);
    assert.equal(registered['software_statement'], ssa);
    assert.deepEqual(registered['software_roles'], ['PISP']);
    assert.deepEqual(registered['redirect_uris'], [REDIRECT_URI]);
    assert.equal(registered['token_endpoint_auth_method'], 'tls_client_auth');
    assert.equal(registered['aud'], BANK_AT_DIRECTORY);
    assert.equal(registered['scope'], 'openid payments');
    // The bank fetched both key sets from the directory (trusting its CA by jwksCaFiles) and asked OCSP.
    assert.ok(fetched.includes('/directory/jwks'), fetched.join(', '));
    assert.ok(fetched.includes(`/organisations/${ORG_ID}/software/${SOFTWARE_ID}/jwks`), fetched.join(', '));
    assert.ok(ocspRequests > ocspBefore, 'the transport certificate was checked by OCSP');
  });

  it('accepts a request addressed to the bank by its URL as well as by its directory id', async () => {
    const response = await register(await tlsClientAuthRequest(await softwareStatement(), urls.browser));
    assert.equal(response.status, 201, response.text);
    assert.ok((response.body as { client_id?: string }).client_id);
    // The specification's `aud` is the bank's directory id, not a URL: the response names that id.
    assert.equal((response.body as { aud?: string }).aud, BANK_AT_DIRECTORY);
    assertValidResponse(DCR_SPEC, '/register', 'post', 201, response.body);
  });

  it('issues the registered client a certificate-bound client_credentials token (tls_client_auth)', async () => {
    const connection = await connect();
    const token = await clientCredentialsToken(connection, 'payments');
    assert.equal(token.token_type.toLowerCase(), 'bearer');
    assert.equal(token.scope, 'payments');
    const introspected = await oidc.tokenIntrospection(connection.config, token.access_token);
    assert.equal(introspected.active, true);
    assert.equal(introspected.client_id, clientId);
    assert.deepEqual(introspected.cnf, {
      'x5t#S256': createHash('sha256').update(Buffer.from(transport.certificate.rawData)).digest('base64url'),
    });
  });

  it('stages a signed domestic payment consent: 201, valid against PIS v3.1.11, signed by the bank', async () => {
    const connection = await connect();
    const token = await clientCredentialsToken(connection, 'payments');
    const body = JSON.stringify({
      Data: {
        Initiation: {
          InstructionIdentification: `instr-${randomUUID().slice(0, 8)}`,
          EndToEndIdentification: 'E2E-PROD-DCR',
          LocalInstrument: 'UK.OBIE.FPS',
          InstructedAmount: { Amount: '12.34', Currency: 'GBP' },
          CreditorAccount: {
            SchemeName: 'UK.OBIE.SortCodeAccountNumber',
            Identification: '40000012345678',
            Name: 'Rent',
          },
          RemittanceInformation: { Reference: 'Production DCR' },
        },
      },
      Risk: { PaymentContextCode: 'PartyToParty' },
    });
    const signer = detachedSigner({
      key: tppSigningKey,
      kid: signingKid,
      issuer: `${ORG_ID}/${SOFTWARE_ID}`,
      trustAnchor: TRUST_ANCHOR,
      clock: systemClock,
    });
    const url = `${apiBaseOf(connection)}/pisp/domestic-payment-consents`;
    const staged = await callApi(connection, token.access_token, url, {
      method: 'POST',
      body,
      headers: { 'x-idempotency-key': randomUUID(), 'x-jws-signature': await signer.sign(body) },
    });
    assert.equal(staged.status, 201, staged.text);
    assertValidResponse(PIS_V3_1_11, '/domestic-payment-consents', 'post', 201, staged.json);
    const consent = (staged.json as { Data: { ConsentId: string; Status: string } }).Data;
    assert.equal(consent.Status, 'AwaitingAuthorisation');
    const header = await verifyBankSignature(staged.headers['x-jws-signature'], staged.text);
    assert.equal(header.kid, 'bank-signing-kid');
    assert.equal(header[OB_ISS], 'bank-org');
    assert.equal(header[OB_TAN], TRUST_ANCHOR);

    const read = await callApi(connection, token.access_token, `${url}/${consent.ConsentId}`);
    assert.equal(read.status, 200, read.text);
    assertValidResponse(PIS_V3_1_11, '/domestic-payment-consents/{ConsentId}', 'get', 200, read.json);

    // The same body signed by a key that is not in the software's JWKS is refused.
    const rogue = await generateKeyPair('PS256');
    const forged = await callApi(connection, token.access_token, url, {
      method: 'POST',
      body,
      headers: {
        'x-idempotency-key': randomUUID(),
        'x-jws-signature': await detachedSigner({
          key: rogue.privateKey,
          kid: signingKid,
          issuer: `${ORG_ID}/${SOFTWARE_ID}`,
          trustAnchor: TRUST_ANCHOR,
          clock: systemClock,
        }).sign(body),
      },
    });
    assert.equal(forged.status, 400, forged.text);
    assert.equal(
      (forged.json as { Errors: { ErrorCode: string }[] }).Errors[0]?.ErrorCode,
      'UK.OBIE.Signature.Invalid',
    );
  });

  it('refuses a transport certificate not issued by a configured transport CA, with a DCR error', async () => {
    const elsewhere = await obwac(otherCa.issuing);
    const response = await register(await tlsClientAuthRequest(await softwareStatement()), elsewhere);
    assert.equal(response.status, 400, response.text);
    assertValidResponse(DCR_SPEC, '/register', 'post', 400, response.body);
    const body = response.body as DcrError;
    assert.equal(body.error, 'unapproved_software_statement');
    assert.match(body.error_description, /not issued by a configured CA/);
  });

  it('refuses a transport certificate of a CA the bank does not trust at all, with a DCR error', async () => {
    // The mTLS listener lets /register answer for itself: the DCR specification's 400, not an OB 401.
    const response = await register(
      await tlsClientAuthRequest(await softwareStatement()),
      await obwac(strangerCa.issuing),
    );
    assert.equal(response.status, 400, response.text);
    assertValidResponse(DCR_SPEC, '/register', 'post', 400, response.body);
    const body = response.body as DcrError;
    assert.equal(body.error, 'unapproved_software_statement');
    assert.match(body.error_description, /client certificate is not trusted/);
  });

  it('refuses a revoked transport certificate (OCSP), with a DCR error', async () => {
    const revoked = await obwac(directoryIssuer);
    revokedSerials.add(normalizeSerial(revoked.certificate.serialNumber));
    const response = await register(await tlsClientAuthRequest(await softwareStatement()), revoked);
    assert.equal(response.status, 400, response.text);
    assertValidResponse(DCR_SPEC, '/register', 'post', 400, response.body);
    const body = response.body as DcrError;
    assert.equal(body.error, 'unapproved_software_statement');
    assert.match(body.error_description, /revoked/);
  });

  it('refuses an SSA signed by a key the directory does not publish, with a DCR error', async () => {
    const rogue = await generateKeyPair('PS256');
    for (const kid of [directoryKid, 'not-a-directory-kid']) {
      const ssa = await softwareStatement({ key: rogue.privateKey, kid });
      const response = await register(await tlsClientAuthRequest(ssa));
      assert.equal(response.status, 400, response.text);
      assertValidResponse(DCR_SPEC, '/register', 'post', 400, response.body);
      const body = response.body as DcrError;
      assert.equal(body.error, 'invalid_software_statement');
      assert.match(
        body.error_description,
        kid === directoryKid ? /signature that does not verify/ : /key that is not published/,
      );
    }
  });

  async function connect(): Promise<BankConnection> {
    assert.ok(clientId, 'registered first');
    const connection = await connectToBank(bundleOf(''), {
      discoveryUrl: urls.browser,
      trust: [directoryCa.trustAnchorsPem],
      clientId,
      authMethod: 'tls_client_auth',
    });
    after(() => connection.close());
    return connection;
  }
});

describe('the same bank without jwksCaFiles', async () => {
  const { OBKIT_JWKS_CA_FILES: _trusted, ...withoutJwksCa } = bankEnv;
  const bank = await startProductionBank(withoutJwksCa, { clock: systemClock });

  it("cannot fetch the directory's keys under the directory's CA: the registration is refused", async () => {
    const body = await buildRegistrationJwt(
      bundleOf(await softwareStatement()),
      BANK_AT_DIRECTORY,
      'tls_client_auth',
      rfc4514SubjectOf(transport.certificatePem),
    );
    const response = await call(tppAgent(transport), `${bank.platform.urls.mtls}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/jwt' },
      body,
    });
    assert.equal(response.status, 400, response.text);
    assertValidResponse(DCR_SPEC, '/register', 'post', 400, response.body);
    const error = response.body as DcrError;
    assert.equal(error.error, 'invalid_software_statement');
    assert.match(error.error_description, /cannot be checked: .*could not be fetched/);
  });
});

/** Registers a private_key_jwt client at `bank` and returns a connection that authenticates as it. */
async function privateKeyJwtClient(bank: { platform: { urls: { browser: string; mtls: string } } }) {
  const body = await buildRegistrationJwt(
    bundleOf(await softwareStatement()),
    BANK_AT_DIRECTORY,
    'private_key_jwt',
    rfc4514SubjectOf(transport.certificatePem),
  );
  const registered = await call(tppAgent(transport), `${bank.platform.urls.mtls}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/jwt' },
    body,
  });
  assert.equal(registered.status, 201, registered.text);
  assert.equal((registered.body as Record<string, unknown>)['token_endpoint_auth_method'], 'private_key_jwt');
  const connection = await connectToBank(bundleOf(''), {
    discoveryUrl: bank.platform.urls.browser,
    trust: [directoryCa.trustAnchorsPem],
    clientId: String((registered.body as { client_id: string }).client_id),
    authMethod: 'private_key_jwt',
  });
  after(() => connection.close());
  return connection;
}

describe('a private_key_jwt client at a production-configured bank', async () => {
  const bank = await startProductionBank(bankEnv, { clock: systemClock });

  it("authenticates with its signing key: the bank fetches the client's software JWKS under jwksCaFiles", async () => {
    const before = fetched.length;
    const token = await clientCredentialsToken(await privateKeyJwtClient(bank), 'payments');
    assert.equal(token.scope, 'payments');
    assert.ok(
      fetched.slice(before).includes(`/organisations/${ORG_ID}/software/${SOFTWARE_ID}/jwks`),
      fetched.slice(before).join(', '),
    );
  });
});

describe('the same bank refusing special-use addresses (outboundPrivateAddresses off, the default)', async () => {
  const { OBKIT_OUTBOUND_PRIVATE_ADDRESSES: _allowed, ...guarded } = bankEnv;
  const bank = await startProductionBank(guarded, { clock: systemClock });

  it("will not fetch a client's JWKS from a loopback address: the client cannot authenticate", async () => {
    const connection = await privateKeyJwtClient(bank);
    await assert.rejects(
      clientCredentialsToken(connection, 'payments'),
      (error: Error & { error?: string }) => error.error === 'invalid_client',
    );
  });
});
