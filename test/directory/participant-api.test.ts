import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { issueClientCertificate, loadOrCreateSandboxAuthorities } from '../../src/pki/index.ts';
import { call, httpsClient, ManualClock } from '../support/platform.ts';
import { makeCsr, startDirectory } from './support.ts';
import { join } from 'node:path';

interface ErrorBody {
  error: string;
  error_description: string;
}

describe('participant API over mTLS', async () => {
  const clock = new ManualClock(new Date());
  const directory = await startDirectory({ clock, directory: { keyOverlapDays: 7 } });
  const acme = await directory.onboard({ organisation: { name: 'Acme Ltd' } });
  const rival = await directory.onboard({ organisation: { name: 'Rival Ltd' } });
  // Onboarded now: later tests move the clock, and certificates issued then are not yet valid for TLS.
  const bank = await directory.onboard({
    organisation: { name: 'Bank plc' },
    software: { roles: ['ASPSP'] },
  });
  const mtls = `${directory.platform.urls.mtls}/directory/v1`;
  const asAcme = directory.asParticipant(acme.body.certificates.transport.pem, acme.transport.privateKeyPem);
  const asRival = directory.asParticipant(
    rival.body.certificates.transport.pem,
    rival.transport.privateKeyPem,
  );
  const acmeSoftware = `${mtls}/software/${acme.body.software.id}`;

  it('shows a participant its own software, certificates and JWKS URIs', async () => {
    const response = await call(asAcme, acmeSoftware);
    assert.equal(response.status, 200, response.text);
    const body = response.body as {
      organisation: { id: string };
      software: { id: string; roles: string[] };
      certificates: { kid: string; type: string; status: string }[];
    };
    assert.equal(body.organisation.id, acme.body.organisation.id);
    assert.equal(body.software.id, acme.body.software.id);
    assert.deepEqual(body.certificates.map((certificate) => certificate.type).sort(), [
      'encryption',
      'signing',
      'transport',
    ]);
    assert.ok(body.certificates.every((certificate) => certificate.status === 'active'));
  });

  it("refuses with 403 another organisation's certificate, for every route", async () => {
    const attempts = [
      call(asRival, acmeSoftware),
      call(asRival, `${acmeSoftware}/ssa`, { method: 'POST' }),
      call(asRival, `${acmeSoftware}/certificates`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'signing', csr: (await makeCsr()).csrPem }),
      }),
      call(asRival, `${acmeSoftware}/certificates/${acme.body.certificates.signing.kid}`, {
        method: 'DELETE',
      }),
      call(asRival, `${acmeSoftware}/keys/${acme.body.certificates.signing.kid}.pem`),
    ];
    for (const response of await Promise.all(attempts)) {
      assert.equal(response.status, 403, response.text);
      assert.equal((response.body as ErrorBody).error, 'access_denied');
    }
    // Nothing happened to Acme's keys.
    const keys = (await call(directory.browser, acme.body.jwksUris.software)).body as { keys: unknown[] };
    assert.equal(keys.keys.length, 3);
  });

  it('refuses without a client certificate, with a certificate the directory did not issue, and with a signing certificate', async () => {
    const none = await call(httpsClient(directory.ca), acmeSoftware);
    assert.equal(none.status, 401);
    assert.equal((none.body as ErrorBody).error, 'invalid_client_certificate');

    const authorities = await loadOrCreateSandboxAuthorities(join(directory.platform.dataDir, 'pki'));
    const stranger = await issueClientCertificate(authorities.issuing, { commonName: acme.body.software.id });
    const notOurs = await call(
      httpsClient(directory.ca, {
        certificatePem: stranger.certificatePem,
        privateKeyPem: stranger.privateKeyPem,
      }),
      acmeSoftware,
    );
    // Issued by the directory's CA but not through the directory: it names no OCSP responder or CRL, so its
    // status cannot be checked and it is refused at the door (fail closed), before the directory's own check.
    assert.equal(notOurs.status, 401);
    assert.match((notOurs.body as ErrorBody).error_description, /names no OCSP responder and no CRL/);

    const signingAsTls = await call(
      directory.asParticipant(acme.body.certificates.signing.pem, acme.signing.privateKeyPem),
      acmeSoftware,
    );
    // A signing certificate chains to the same CA, but it is not a transport certificate.
    assert.equal(signingAsTls.status, 401);
    assert.match(
      (signingAsTls.body as ErrorBody).error_description,
      /signing certificate .*use a transport certificate/,
    );
  });

  it('answers 404 for software that does not exist', async () => {
    const response = await call(asAcme, `${mtls}/software/AAAAAAAAAAAAAAAAAAAAAA`);
    assert.equal(response.status, 404);
  });

  it('issues a fresh SSA that verifies against the directory JWKS', async () => {
    const response = await call(asAcme, `${acmeSoftware}/ssa`, { method: 'POST' });
    assert.equal(response.status, 201);
    const { ssa } = response.body as { ssa: string };
    const jwks = (await call(directory.browser, acme.body.jwksUris.directory)).body as JSONWebKeySet;
    const { payload } = await jwtVerify(ssa, createLocalJWKSet(jwks), { algorithms: ['PS256'] });
    assert.equal(payload.software_id, acme.body.software.id);
    assert.notEqual(payload.jti, (await jwtVerify(acme.body.ssa, createLocalJWKSet(jwks))).payload.jti);
  });

  it('downloads a key as PEM (the certificate) and as JWK', async () => {
    const kid = acme.body.certificates.signing.kid;
    const pem = await call(asAcme, `${acmeSoftware}/keys/${kid}.pem`);
    assert.equal(pem.status, 200);
    assert.equal(
      new X509Certificate(pem.text).fingerprint256,
      new X509Certificate(acme.body.certificates.signing.pem).fingerprint256,
    );
    const jwk = await call(asAcme, `${acmeSoftware}/keys/${kid}.jwk`);
    assert.equal(jwk.status, 200);
    const key = jwk.body as Record<string, unknown>;
    assert.equal(key.kid, kid);
    assert.equal(key.use, 'sig');
    const publicFromPrivate = createPrivateKey(acme.signing.privateKeyPem).export({ format: 'jwk' });
    assert.equal(key.n, publicFromPrivate.n);
    const wrongExtension = await call(asAcme, `${acmeSoftware}/keys/${kid}.txt`);
    assert.equal(wrongExtension.status, 404);
  });

  it('rotates a signing key: the new key is listed at once, the old one until the overlap window ends', async () => {
    const csr = await makeCsr();
    const response = await call(asAcme, `${acmeSoftware}/certificates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'signing', csr: csr.csrPem }),
    });
    assert.equal(response.status, 201, response.text);
    const issued = response.body as { kid: string; pem: string; caChainPem: string };
    assert.ok(new X509Certificate(issued.pem).checkPrivateKey(createPrivateKey(csr.privateKeyPem)));

    const listed = async () =>
      (
        (await call(directory.browser, acme.body.jwksUris.software)).body as {
          keys: { kid: string; use: string }[];
        }
      ).keys
        .filter((key) => key.use === 'sig')
        .map((key) => key.kid)
        .sort();
    assert.deepEqual(await listed(), [acme.body.certificates.signing.kid, issued.kid].sort());
    clock.advance(6 * 24 * 3600 * 1000);
    assert.deepEqual(await listed(), [acme.body.certificates.signing.kid, issued.kid].sort());
    clock.advance(2 * 24 * 3600 * 1000);
    assert.deepEqual(await listed(), [issued.kid]);
  });

  it('refuses a bad certificate request with 400 naming the problem', async () => {
    const weak = await makeCsr({ bits: 1024 });
    const cases: [unknown, RegExp][] = [
      [{ type: 'signing', csr: weak.csrPem }, /csr.*1024 bits/i],
      [{ type: 'wallet', csr: weak.csrPem }, /type must be "transport", "signing" or "encryption"/],
      [{ type: 'signing' }, /csr: is required/],
    ];
    for (const [body, message] of cases) {
      const response = await call(asAcme, `${acmeSoftware}/certificates`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 400, response.text);
      assert.match((response.body as ErrorBody).error_description, message);
    }
  });

  it('stops accepting a transport certificate once its holder revokes it', async () => {
    const response = await call(
      asRival,
      `${mtls}/software/${rival.body.software.id}/certificates/${rival.body.certificates.transport.kid}`,
      {
        method: 'DELETE',
      },
    );
    assert.equal(response.status, 200, response.text);
    const after = await call(
      directory.asParticipant(rival.body.certificates.transport.pem, rival.transport.privateKeyPem),
      `${mtls}/software/${rival.body.software.id}`,
    );
    assert.equal(after.status, 401);
    assert.match((after.body as ErrorBody).error_description, /revoked/);
  });

  it('lets a bank (role ASPSP) list itself among the ASPSPs, and only its own entry', async () => {
    const asBank = directory.asParticipant(
      bank.body.certificates.transport.pem,
      bank.transport.privateKeyPem,
    );
    const put = (client: typeof asBank, softwareId: string, body: unknown) =>
      call(client, `${mtls}/software/${softwareId}/aspsp`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const discoveryUrl = 'https://bank.example/.well-known/openid-configuration';
    const listed = await put(asBank, bank.body.software.id, { name: 'Bank plc', discoveryUrl });
    assert.equal(listed.status, 200, listed.text);
    const renamed = await put(asBank, bank.body.software.id, { name: 'Bank plc (sandbox)', discoveryUrl });
    assert.equal(renamed.status, 200, renamed.text);
    const aspsps = (await directory.get('/aspsps')).body as {
      aspsps: { name: string; discoveryUrl: string; orgId?: string; signingJwksUri?: string }[];
    };
    assert.deepEqual(
      aspsps.aspsps.filter((aspsp) => aspsp.discoveryUrl === discoveryUrl).map((aspsp) => aspsp.name),
      ['Bank plc (sandbox)'],
    );
    // The entry names the bank's organisation and the JWKS its response signatures verify with (iss = org id).
    const entry = aspsps.aspsps.find((aspsp) => aspsp.discoveryUrl === discoveryUrl);
    const orgId = bank.body.organisation.id;
    assert.equal(entry?.orgId, orgId);
    assert.equal(
      entry.signingJwksUri,
      `${directory.platform.urls.browser}/directory/v1/organisations/${orgId}/jwks`,
    );
    const jwks = (await directory.get(`/organisations/${orgId}/jwks`)).body as { keys: { kid: string }[] };
    assert.ok(jwks.keys.some((key) => key.kid === bank.body.certificates.signing.kid));
    // The platform's own bank is listed before it has an organisation (no payment APIs mounted here).
    const own = aspsps.aspsps.find((aspsp) => aspsp.discoveryUrl.startsWith(directory.platform.urls.browser));
    assert.equal(own?.signingJwksUri, undefined);

    // A TPP's software does not hold the role; nobody may take over the platform's own bank's entry.
    const notABank = await put(asAcme, acme.body.software.id, {
      name: 'Fake',
      discoveryUrl: 'https://fake.example/.well-known/openid-configuration',
    });
    assert.equal(notABank.status, 403);
    const takeover = await put(asBank, bank.body.software.id, {
      name: 'Hijack',
      discoveryUrl: `${directory.platform.urls.browser}/.well-known/openid-configuration`,
    });
    assert.equal(takeover.status, 409);
    const badUrl = await put(asBank, bank.body.software.id, {
      name: 'Bank',
      discoveryUrl: 'http://bank.example/',
    });
    assert.equal(badUrl.status, 400);
    assert.match((badUrl.body as ErrorBody).error_description, /must use https/);
  });

  it('refuses a body that is not a JSON object', async () => {
    const response = await call(asAcme, `${acmeSoftware}/certificates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '["signing"]',
    });
    assert.equal(response.status, 400);
    assert.match((response.body as ErrorBody).error_description, /must be a JSON object/);
  });
});

describe('participant API behind a TLS-terminating proxy (Client-Cert header)', async () => {
  const directory = await startDirectory({
    env: { OBKIT_MTLS_MODE: 'proxy', OBKIT_TRUSTED_PROXIES: '127.0.0.1' },
  });
  const acme = await directory.onboard();
  const rival = await directory.onboard({ organisation: { name: 'Rival Ltd' } });
  const url = `${directory.platform.urls.mtls}/directory/v1/software/${acme.body.software.id}`;
  const header = (pem: string) => `:${pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '')}:`;
  const proxy = httpsClient(directory.ca, undefined, '127.0.0.1');

  it('authenticates the participant by the certificate the proxy forwards', async () => {
    const own = await call(proxy, url, {
      headers: { 'client-cert': header(acme.body.certificates.transport.pem) },
    });
    assert.equal(own.status, 200, own.text);
    const other = await call(proxy, url, {
      headers: { 'client-cert': header(rival.body.certificates.transport.pem) },
    });
    assert.equal(other.status, 403);
    const none = await call(proxy, url);
    assert.equal(none.status, 401);
  });
});
