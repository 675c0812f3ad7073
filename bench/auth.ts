/**
 * Authorization server throughput: client_credentials tokens/s with private_key_jwt over mTLS, every
 * token certificate-bound and persisted through the store (PGlite, or PostgreSQL when DATABASE_URL is
 * set), as a ratio to a bare oidc-provider (same client authentication and mTLS, in-memory adapter, no
 * fastify) measured in the same run on the same machine.
 * Run: PATH=$PWD/node_modules/.bin:$PATH node bench/auth.ts   (BENCH_SECONDS, BENCH_CONCURRENCY)
 */
import { randomUUID, type webcrypto } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import Provider, { type ClientMetadata } from 'oidc-provider';
import { Agent, request } from 'undici';
import {
  authorizationServerPlugin,
  createAuthorizationServer,
  generateProviderSecrets,
} from '../src/auth/index.ts';
import {
  issueClientCertificate,
  issueServerCertificate,
  loadOrCreateSandboxAuthorities,
} from '../src/pki/index.ts';
import {
  attachClientCertificate,
  clientCertificateOf,
  describeClientCertificate,
} from '../src/shared/client-certificate.ts';
import { openStore } from '../src/store/index.ts';

const phaseSeconds = Number(process.env.BENCH_SECONDS ?? '8');
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? '8');

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'obkit-bench-auth-'));
  const authorities = await loadOrCreateSandboxAuthorities(join(dir, 'ca'));
  const serverCertificate = await issueServerCertificate(authorities.issuing, {
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  const clientCertificate = await issueClientCertificate(authorities.issuing, {
    commonName: 'benchsoftware',
    organizationalUnit: 'benchorg',
    organizationName: 'OpenBanking',
  });
  const tlsOptions = {
    key: serverCertificate.privateKeyPem,
    cert: serverCertificate.fullChainPem,
    ca: authorities.trustAnchorsPem,
    requestCert: true,
    rejectUnauthorized: false,
  };
  const { privateKey, publicKey } = await generateKeyPair('PS256', { extractable: true });
  const kid = randomUUID();
  const client: ClientMetadata = {
    client_id: 'bench-client',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'PS256', use: 'sig' }] as never },
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'accounts',
    software_id: 'benchsoftware',
    org_id: 'benchorg',
    tls_client_certificate_bound_access_tokens: true,
  };
  const agent = new Agent({
    connect: {
      ca: authorities.trustAnchorsPem,
      key: clientCertificate.privateKeyPem,
      cert: clientCertificate.fullChainPem,
    },
    connections: concurrency,
  });

  // --- bare oidc-provider, in-memory adapter, plain node https
  const bareServer = createServer(tlsOptions);
  const barePort = await listen(bareServer);
  const bareIssuer = `https://localhost:${barePort}`;
  const bare = new Provider(bareIssuer, {
    clients: [{ ...client, software_id: undefined, org_id: undefined } as ClientMetadata],
    clientAuthMethods: ['private_key_jwt'],
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        getCertificate: (ctx) => clientCertificateOf(ctx.req)?.x509,
      },
    },
    scopes: ['accounts'],
    enabledJWA: { clientAuthSigningAlgValues: ['PS256'] },
  });
  const bareCallback = bare.callback();
  bareServer.on('request', (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerX509Certificate();
    if (peer) attachClientCertificate(req, describeClientCertificate(peer, 'tls'));
    void bareCallback(req, res);
  });

  // --- obkit: fastify + the store adapter + the FAPI configuration
  const store = process.env.DATABASE_URL
    ? await openStore({ backend: 'postgres', url: process.env.DATABASE_URL, poolSize: concurrency + 2 })
    : await openStore({ backend: 'pglite', dataDir: undefined });
  await store.migrate();
  let obkitServer: Server | undefined;
  const app = Fastify({
    serverFactory: (handler) => (obkitServer = createServer(tlsOptions, handler)),
  }) as unknown as FastifyInstance;
  app.addHook('onRequest', async (request) => {
    const peer = (request.raw.socket as TLSSocket).getPeerX509Certificate();
    if (peer) attachClientCertificate(request.raw, describeClientCertificate(peer, 'tls'));
  });
  if (!obkitServer) throw new Error('no server');
  const obkitPort = await listen(obkitServer);
  const obkitUrl = `https://localhost:${obkitPort}`;
  const server = createAuthorizationServer({
    store,
    issuer: obkitUrl,
    mtlsBaseUrl: obkitUrl,
    secrets: await generateProviderSecrets(),
    clients: [client],
  });
  await app.register(authorizationServerPlugin, { server, surface: 'mtls' });
  await app.ready();

  async function tokenRequest(base: string, key: webcrypto.CryptoKey): Promise<void> {
    const assertion = await new SignJWT({
      iss: 'bench-client',
      sub: 'bench-client',
      aud: `${base}/token`,
      jti: randomUUID(),
    })
      .setProtectedHeader({ alg: 'PS256', kid })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);
    const response = await request(`${base}/token`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'accounts',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }).toString(),
    });
    const body = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`${base}: ${response.statusCode} ${body}`);
  }

  async function rate(label: string, base: string): Promise<number> {
    for (let i = 0; i < 20; i++) await tokenRequest(base, privateKey); // warm up
    const deadline = performance.now() + phaseSeconds * 1000;
    let done = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          await tokenRequest(base, privateKey);
          done++;
        }
      }),
    );
    const perSecond = done / ((performance.now() - start) / 1000);
    console.log(
      `${label.padEnd(58)} ${perSecond.toFixed(1).padStart(8)} tokens/s (${done} in ${phaseSeconds}s)`,
    );
    return perSecond;
  }

  console.log(`client_credentials, private_key_jwt (PS256) over mTLS, concurrency ${concurrency}`);
  const bareRate = await rate('bare oidc-provider, in-memory adapter', bareIssuer);
  const obkitRate = await rate(`obkit (fastify, FAPI config, ${store.backend} store)`, obkitUrl);
  console.log(`ratio obkit / bare: ${(obkitRate / bareRate).toFixed(2)}`);

  await agent.close();
  bareServer.closeAllConnections();
  bareServer.close();
  await app.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
}

await main();
// Undici keeps idle sockets of the benchmark agents for a while; the measurements are done.
process.exit(0);
