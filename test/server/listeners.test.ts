import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import {
  issueClientCertificate,
  issueServerCertificate,
  loadOrCreateSandboxAuthorities,
} from '../../src/pki/index.ts';
import { createLogger } from '../../src/server/logger.ts';
import { createSurface } from '../../src/server/surface.ts';
import { splitPemCertificates } from '../../src/server/tls-material.ts';
import { clientCertificateOf } from '../../src/shared/client-certificate.ts';
import type { Part } from '../../src/server/platform.ts';
import { call, httpsClient, startTestPlatform } from '../support/platform.ts';
import { createTestStore } from '../support/store.ts';

/** A part that answers with the certificate the server verified, so tests can see what reached the app. */
const whoAmI: Part = {
  name: 'whoami',
  async mount({ mtls }) {
    mtls.get('/whoami', async (request) => {
      const certificate = clientCertificateOf(request.raw);
      return { subject: certificate?.x509.subject ?? null, source: certificate?.source ?? null };
    });
  },
};

function derHeader(pem: string): string {
  const base64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return `:${base64}:`;
}

/**
 * These certificates come straight from the CA, naming no OCSP responder or CRL: the listener's chain
 * handling is what is tested here, so the platform accepts a status it cannot obtain (fail open). The
 * fail-closed default is tested below, and revocation itself in trust-every-call.test.ts.
 */
const FAIL_OPEN = { OBKIT_REVOCATION_FAIL_CLOSED: 'false' };

describe('mTLS listener, direct mode', async () => {
  const platform = await startTestPlatform({ parts: [whoAmI], env: FAIL_OPEN });
  const ca = splitPemCertificates(platform.tls.ca.join('\n'));
  const authorities = await loadOrCreateSandboxAuthorities(join(platform.dataDir, 'pki'));
  const trusted = await issueClientCertificate(authorities.issuing, { commonName: 'tpp-trusted' });
  const foreignCa = await loadOrCreateSandboxAuthorities(mkdtempSync(join(tmpdir(), 'obkit-foreign-ca-')), {
    organizationName: 'Foreign CA',
  });
  const untrusted = await issueClientCertificate(foreignCa.issuing, { commonName: 'tpp-untrusted' });

  it('refuses a request without a client certificate with an OB error', async () => {
    const response = await call(httpsClient(ca), `${platform.urls.mtls}/whoami`);
    assert.equal(response.status, 401);
    const body = response.body as { Code: string; Errors: { ErrorCode: string; Message: string }[] };
    assert.equal(body.Code, '401');
    assert.equal(body.Errors[0]?.ErrorCode, 'UK.OBIE.Header.Missing');
    assert.match(body.Errors[0]?.Message ?? '', /no client certificate/);
  });

  it('refuses a certificate from an untrusted CA', async () => {
    const identity = { certificatePem: untrusted.fullChainPem, privateKeyPem: untrusted.privateKeyPem };
    const response = await call(httpsClient(ca, identity), `${platform.urls.mtls}/whoami`);
    assert.equal(response.status, 401);
    const body = response.body as { Errors: { ErrorCode: string; Message: string }[] };
    assert.equal(body.Errors[0]?.ErrorCode, 'UK.OBIE.Header.Invalid');
    assert.match(body.Errors[0]?.Message ?? '', /not trusted/);
  });

  it('accepts a certificate from the trusted CA and hands it to the route', async () => {
    const identity = { certificatePem: trusted.certificatePem, privateKeyPem: trusted.privateKeyPem };
    const response = await call(httpsClient(ca, identity), `${platform.urls.mtls}/whoami`);
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, {
      subject: trusted.certificate.subject.split(', ').join('\n'),
      source: 'tls',
    });
  });

  it('ignores a Client-Cert header on the direct listener', async () => {
    const response = await call(httpsClient(ca), `${platform.urls.mtls}/whoami`, {
      headers: { 'client-cert': derHeader(trusted.certificatePem) },
    });
    assert.equal(response.status, 401);
  });

  it('serves /health and /ready without a client certificate', async () => {
    const health = await call(httpsClient(ca), `${platform.urls.mtls}/health`);
    assert.equal(health.status, 200);
    const ready = await call(httpsClient(ca), `${platform.urls.mtls}/ready`);
    assert.equal(ready.status, 200);
    assert.equal((ready.body as { status: string }).status, 'ready');
  });

  it('answers an unknown path with an OB NotFound body', async () => {
    const identity = { certificatePem: trusted.certificatePem, privateKeyPem: trusted.privateKeyPem };
    const response = await call(httpsClient(ca, identity), `${platform.urls.mtls}/nowhere`);
    assert.equal(response.status, 404);
    assert.equal(
      (response.body as { Errors: { ErrorCode: string }[] }).Errors[0]?.ErrorCode,
      'UK.OBIE.Resource.NotFound',
    );
  });

  it('never asks a browser for a certificate on the browser listener', async () => {
    const response = await call(httpsClient(ca), `${platform.urls.browser}/health`);
    assert.equal(response.status, 200);
  });
});

describe('mTLS listener, proxy mode', async () => {
  const platform = await startTestPlatform({
    parts: [whoAmI],
    env: { OBKIT_MTLS_MODE: 'proxy', OBKIT_TRUSTED_PROXIES: '127.0.0.1', ...FAIL_OPEN },
  });
  const ca = splitPemCertificates(platform.tls.ca.join('\n'));
  const authorities = await loadOrCreateSandboxAuthorities(join(platform.dataDir, 'pki'));
  const trusted = await issueClientCertificate(authorities.issuing, { commonName: 'tpp-behind-proxy' });
  const foreignCa = await loadOrCreateSandboxAuthorities(mkdtempSync(join(tmpdir(), 'obkit-foreign-ca-')));
  const untrusted = await issueClientCertificate(foreignCa.issuing, { commonName: 'tpp-forged' });

  it('uses the Client-Cert header when the connection comes from the trusted proxy', async () => {
    const response = await call(httpsClient(ca, undefined, '127.0.0.1'), `${platform.urls.mtls}/whoami`, {
      headers: { 'client-cert': derHeader(trusted.certificatePem) },
    });
    assert.equal(response.status, 200);
    assert.equal((response.body as { source: string }).source, 'proxy-header');
  });

  it('accepts the URL-encoded PEM form from the trusted proxy', async () => {
    const response = await call(httpsClient(ca, undefined, '127.0.0.1'), `${platform.urls.mtls}/whoami`, {
      headers: { 'client-cert': encodeURIComponent(trusted.certificatePem) },
    });
    assert.equal(response.status, 200);
  });

  it('ignores the header from any other source address', async () => {
    const response = await call(httpsClient(ca, undefined, '127.0.0.2'), `${platform.urls.mtls}/whoami`, {
      headers: { 'client-cert': derHeader(trusted.certificatePem) },
    });
    assert.equal(response.status, 401);
    assert.equal(
      (response.body as { Errors: { ErrorCode: string }[] }).Errors[0]?.ErrorCode,
      'UK.OBIE.Header.Missing',
    );
  });

  it('refuses a header certificate that does not chain to the trust anchors', async () => {
    const response = await call(httpsClient(ca, undefined, '127.0.0.1'), `${platform.urls.mtls}/whoami`, {
      headers: { 'client-cert': derHeader(untrusted.certificatePem) },
    });
    assert.equal(response.status, 401);
    assert.equal(
      (response.body as { Errors: { ErrorCode: string }[] }).Errors[0]?.ErrorCode,
      'UK.OBIE.Header.Invalid',
    );
  });

  it('refuses a header that is not a certificate', async () => {
    const response = await call(httpsClient(ca, undefined, '127.0.0.1'), `${platform.urls.mtls}/whoami`, {
      headers: { 'client-cert': ':bm90IGEgY2VydA==:' },
    });
    assert.equal(response.status, 401);
    assert.equal(
      (response.body as { Errors: { ErrorCode: string }[] }).Errors[0]?.ErrorCode,
      'UK.OBIE.Header.Invalid',
    );
  });
});

describe('x-fapi-interaction-id', async () => {
  const platform = await startTestPlatform();
  const ca = splitPemCertificates(platform.tls.ca.join('\n'));

  it('is echoed when the client sends one', async () => {
    const sent = '93bac548-d2de-4546-b106-880a5018460d';
    const response = await call(httpsClient(ca), `${platform.urls.browser}/health`, {
      headers: { 'x-fapi-interaction-id': sent },
    });
    assert.equal(response.headers['x-fapi-interaction-id'], sent);
  });

  it('is generated as a UUID when the client sends none', async () => {
    const first = await call(httpsClient(ca), `${platform.urls.browser}/health`);
    const second = await call(httpsClient(ca), `${platform.urls.browser}/health`);
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    assert.match(String(first.headers['x-fapi-interaction-id']), uuid);
    assert.notEqual(first.headers['x-fapi-interaction-id'], second.headers['x-fapi-interaction-id']);
  });

  it('is replaced by a fresh one when the sent value is not a safe header token', async () => {
    const response = await call(httpsClient(ca), `${platform.urls.browser}/health`, {
      headers: { 'x-fapi-interaction-id': 'has spaces <script>' },
    });
    assert.notEqual(response.headers['x-fapi-interaction-id'], 'has spaces <script>');
    assert.match(String(response.headers['x-fapi-interaction-id']), /^[0-9a-f-]{36}$/);
  });

  it('is the Id of OB error bodies', async () => {
    const sent = 'c4b2a1f0-0000-4000-8000-000000000001';
    const response = await call(httpsClient(ca), `${platform.urls.browser}/missing`, {
      headers: { 'x-fapi-interaction-id': sent },
    });
    assert.equal((response.body as { Id: string }).Id, sent);
  });
});

describe('a surface that is still starting', () => {
  it('answers 503 between listen and ready, then serves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'obkit-starting-'));
    const authorities = await loadOrCreateSandboxAuthorities(dir);
    const server = await issueServerCertificate(authorities.issuing, {
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    const surface = await createSurface({
      kind: 'browser',
      tls: { key: server.privateKeyPem, cert: server.fullChainPem, ca: [] },
      logger: createLogger({ logLevel: 'silent' }),
      store: await createTestStore(),
    });
    const port = await surface.listen('127.0.0.1', 0);
    const client = httpsClient(splitPemCertificates(authorities.chainPem));
    const early = await call(client, `https://localhost:${port}/health`);
    assert.equal(early.status, 503);
    assert.equal(early.headers['retry-after'], '1');
    await surface.ready();
    assert.equal((await call(client, `https://localhost:${port}/health`)).status, 200);
    await surface.close();
  });
});

describe('malformed request lines', async () => {
  const platform = await startTestPlatform({
    parts: [
      {
        name: 'echo',
        async mount({ browser }) {
          browser.get('/things/:id', async (request) => request.params);
        },
      },
    ],
  });
  const ca = splitPemCertificates(platform.tls.ca.join('\n'));

  it('answers an over-long path parameter with an OB error body', async () => {
    const response = await call(httpsClient(ca), `${platform.urls.browser}/things/${'x'.repeat(500)}`);
    assert.equal(response.status, 414);
    assert.equal(
      (response.body as { Errors: { ErrorCode: string }[] }).Errors[0]?.ErrorCode,
      'UK.OBIE.Resource.InvalidFormat',
    );
    assert.ok(response.headers['x-fapi-interaction-id']);
  });

  it('answers a malformed percent-encoding with an OB error body', async () => {
    const response = await call(httpsClient(ca), `${platform.urls.browser}/things/%E0%A4%A`);
    assert.equal(response.status, 400);
    assert.equal((response.body as { Code: string }).Code, '400');
  });
});

describe('mTLS listener, fail closed (the default)', async () => {
  const platform = await startTestPlatform({ parts: [whoAmI] });
  const ca = splitPemCertificates(platform.tls.ca.join('\n'));
  const authorities = await loadOrCreateSandboxAuthorities(join(platform.dataDir, 'pki'));
  const unverifiable = await issueClientCertificate(authorities.issuing, { commonName: 'tpp-no-status' });

  it('refuses a certificate of the trusted CA whose revocation status cannot be obtained', async () => {
    const identity = {
      certificatePem: unverifiable.certificatePem,
      privateKeyPem: unverifiable.privateKeyPem,
    };
    const response = await call(httpsClient(ca, identity), `${platform.urls.mtls}/whoami`);
    assert.equal(response.status, 401);
    const body = response.body as { Errors: { ErrorCode: string; Message: string }[] };
    assert.equal(body.Errors[0]?.ErrorCode, 'UK.OBIE.Header.Invalid');
    assert.match(body.Errors[0]?.Message ?? '', /names no OCSP responder and no CRL distribution point/);
    assert.match(body.Errors[0]?.Message ?? '', /fail-closed/);
  });
});

describe('method not allowed', async () => {
  const platform = await startTestPlatform({
    parts: [
      {
        name: 'things',
        async mount({ browser }) {
          browser.register(
            async (scope) => {
              scope.get('/things/:id', async (request) => request.params);
              scope.delete('/things/:id', async () => ({ deleted: true }));
            },
            { prefix: '/api' },
          );
        },
      },
    ],
  });
  const ca = splitPemCertificates(platform.tls.ca.join('\n'));

  it('answers a known path asked with another method with 405, an Allow header and an OB error body', async () => {
    const response = await call(httpsClient(ca), `${platform.urls.browser}/api/things/42`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(response.status, 405);
    assert.equal(response.headers.allow, 'DELETE, GET');
    assert.equal((response.body as { Code: string }).Code, '405');
  });

  it('still answers 404 for a path nobody serves', async () => {
    const response = await call(httpsClient(ca), `${platform.urls.browser}/api/other/42`, { method: 'POST' });
    assert.equal(response.status, 404);
  });
});

describe('the mTLS surface, hooks per request', async () => {
  let mtlsApp: FastifyInstance | undefined;
  const platform = await startTestPlatform({
    parts: [
      {
        name: 'probe',
        async mount({ mtls }) {
          mtlsApp = mtls;
          mtls.get('/probe', async () => ({}));
        },
      },
    ],
  });
  after(() => platform.close());

  /** The hooks fastify runs for `GET path`, by phase: each is a turn of its hook runner on every request. */
  function hooksOf(app: FastifyInstance, path: string): Record<string, number> {
    const lines = app.printRoutes({ includeHooks: true, commonPrefix: false }).split('\n');
    const start = lines.findIndex((line) => line.includes(`${path} (GET)`));
    const counts: Record<string, number> = {};
    for (const line of lines.slice(start + 1)) {
      const hook = /• \((\w+)\) (\[.*\])$/.exec(line.trim());
      if (!hook) break;
      counts[hook[1]!] = (JSON.parse(hook[2]!) as unknown[]).length;
    }
    return counts;
  }

  it('runs its own steps, the rate limit and the request recording as one hook per phase', () => {
    assert.ok(mtlsApp, 'the part was mounted');
    assert.ok(platform.operations, 'the instance records its requests');
    // onRequest: interaction id, change version, client certificate, rate limit; onSend: `Connection: close`
    // while draining, the first byte's time; onResponse: a 5xx logged, the answer recorded.
    assert.deepEqual(hooksOf(mtlsApp, '/probe'), { onRequest: 1, onSend: 1, onResponse: 1 });
  });
});
