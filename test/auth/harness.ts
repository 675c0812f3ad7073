import { randomUUID, type webcrypto } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import { Agent, request } from 'undici';
import { authorizationServerPlugin } from '../../src/auth/fastify.ts';
import {
  createAuthorizationServer,
  type AuthorizationServer,
  type AuthTtl,
  type AuthorizationServerOptions,
} from '../../src/auth/provider.ts';
import { generateProviderSecrets } from '../../src/auth/secrets.ts';
import {
  issueClientCertificate,
  issueServerCertificate,
  loadOrCreateSandboxAuthorities,
  type IssuedKeyAndCertificate,
  type SandboxAuthorities,
} from '../../src/pki/index.ts';
import { attachClientCertificate, describeClientCertificate } from '../../src/shared/client-certificate.ts';
import type { Clock } from '../../src/shared/clock.ts';
import type { Store } from '../../src/store/index.ts';
import { createTestStore } from '../support/store.ts';

/**
 * A real authorization server on two HTTPS listeners (browser, and mTLS with certificates from src/pki),
 * mounted under fastify exactly as the platform mounts it, and TPPs that talk to it with undici.
 */

export interface Tpp {
  clientId: string;
  softwareId: string;
  orgId: string;
  redirectUri: string;
  kid: string;
  privateKey: webcrypto.CryptoKey;
  publicJwk: JWK;
  transport: IssuedKeyAndCertificate;
  /** An undici agent presenting this TPP's transport certificate. */
  agent: Agent;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: Record<string, unknown>;
}

export interface Harness {
  store: Store;
  server: AuthorizationServer;
  authorities: SandboxAuthorities;
  browserUrl: string;
  mtlsUrl: string;
  /** No client certificate. */
  plainAgent: Agent;
  tpps: { a: Tpp; b: Tpp; tls: Tpp };
  browser: FastifyInstance;
  mtls: FastifyInstance;
  post(agent: Agent, url: string, form: Record<string, string>): Promise<HttpResult>;
  get(agent: Agent, url: string, headers?: Record<string, string>): Promise<HttpResult>;
  clientAssertion(tpp: Tpp, overrides?: JWTPayload, alg?: string, key?: webcrypto.CryptoKey): Promise<string>;
  clientCredentials(tpp: Tpp, scope?: string, agent?: Agent): Promise<HttpResult>;
}

async function newTpp(
  authorities: SandboxAuthorities,
  ca: string,
  name: string,
  tokenEndpointAuthMethod: 'private_key_jwt' | 'tls_client_auth',
): Promise<{ tpp: Tpp; metadata: ClientMetadata }> {
  const softwareId = `software-${name}-${randomUUID().slice(0, 8)}`;
  const orgId = `org-${name}`;
  const clientId = `client-${name}`;
  const transport = await issueClientCertificate(authorities.issuing, {
    commonName: softwareId,
    organizationalUnit: orgId,
    organizationName: 'OpenBanking',
  });
  const { privateKey, publicKey } = await generateKeyPair('PS256', { extractable: true });
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'PS256' };
  const redirectUri = `https://${name}.tpp.example/callback`;
  const agent = new Agent({
    connect: { ca, key: transport.privateKeyPem, cert: transport.fullChainPem },
  });
  const metadata: ClientMetadata = {
    client_id: clientId,
    token_endpoint_auth_method: tokenEndpointAuthMethod,
    jwks: { keys: [publicJwk] as never },
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'client_credentials', 'refresh_token'],
    response_types: ['code id_token', 'code'],
    scope: 'openid accounts payments fundsconfirmations',
    software_id: softwareId,
    org_id: orgId,
    ...(tokenEndpointAuthMethod === 'tls_client_auth'
      ? { tls_client_auth_subject_dn: `CN=${softwareId},OU=${orgId},O=OpenBanking,C=GB` }
      : {}),
  };
  return {
    tpp: { clientId, softwareId, orgId, redirectUri, kid, privateKey, publicJwk, transport, agent },
    metadata,
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startHarness(
  options: {
    clock?: Clock;
    ttl?: Partial<AuthTtl>;
    mountBrowser?: (app: FastifyInstance, server: AuthorizationServer) => Promise<void> | void;
    mountMtls?: (
      app: FastifyInstance,
      server: AuthorizationServer,
      urls: { browserUrl: string },
    ) => Promise<void> | void;
    authorities?: SandboxAuthorities;
    fetch?: AuthorizationServerOptions['fetch'];
  } = {},
): Promise<Harness> {
  const store = await createTestStore();
  const authorities =
    options.authorities ??
    (await loadOrCreateSandboxAuthorities(await mkdtemp(join(tmpdir(), 'obkit-auth-ca-'))));
  const serverCertificate = await issueServerCertificate(authorities.issuing, {
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  const ca = authorities.trustAnchorsPem;

  let browserServer: Server | undefined;
  let mtlsServer: Server | undefined;
  const browser = Fastify({
    serverFactory: (handler) => {
      browserServer = createServer(
        { key: serverCertificate.privateKeyPem, cert: serverCertificate.fullChainPem },
        handler,
      );
      return browserServer;
    },
  }) as unknown as FastifyInstance;
  const mtls = Fastify({
    serverFactory: (handler) => {
      mtlsServer = createServer(
        {
          key: serverCertificate.privateKeyPem,
          cert: serverCertificate.fullChainPem,
          ca,
          requestCert: true,
          rejectUnauthorized: false,
        },
        handler,
      );
      return mtlsServer;
    },
  }) as unknown as FastifyInstance;
  // What the platform's direct mode does: a certificate the handshake verified is attached to the request.
  mtls.addHook('onRequest', async (request) => {
    const socket = request.raw.socket as TLSSocket;
    const peer = socket.authorized ? socket.getPeerX509Certificate() : undefined;
    if (peer) attachClientCertificate(request.raw, describeClientCertificate(peer, 'tls'));
  });
  if (!browserServer || !mtlsServer) throw new Error('fastify did not create the servers');
  const browserUrl = `https://localhost:${await listen(browserServer)}`;
  const mtlsUrl = `https://localhost:${await listen(mtlsServer)}`;

  const a = await newTpp(authorities, ca, 'a', 'private_key_jwt');
  const b = await newTpp(authorities, ca, 'b', 'private_key_jwt');
  const tls = await newTpp(authorities, ca, 'tls', 'tls_client_auth');

  const server = createAuthorizationServer({
    store,
    issuer: browserUrl,
    mtlsBaseUrl: mtlsUrl,
    secrets: await generateProviderSecrets(),
    clients: [a.metadata, b.metadata, tls.metadata],
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.ttl ? { ttl: options.ttl } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  await browser.register(authorizationServerPlugin, { server, surface: 'browser' });
  await mtls.register(authorizationServerPlugin, { server, surface: 'mtls' });
  await options.mountBrowser?.(browser, server);
  await options.mountMtls?.(mtls, server, { browserUrl });
  await browser.ready();
  await mtls.ready();

  const plainAgent = new Agent({ connect: { ca } });

  after(async () => {
    for (const agent of [plainAgent, a.tpp.agent, b.tpp.agent, tls.tpp.agent]) await agent.close();
    browserServer?.closeAllConnections();
    mtlsServer?.closeAllConnections();
    await browser.close();
    await mtls.close();
  });

  async function toResult(response: Awaited<ReturnType<typeof request>>): Promise<HttpResult> {
    const body = await response.body.text();
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(body) as Record<string, unknown>;
    } catch {
      json = {};
    }
    return { status: response.statusCode, headers: response.headers, body, json };
  }

  const harness: Harness = {
    store,
    server,
    authorities,
    browserUrl,
    mtlsUrl,
    plainAgent,
    tpps: { a: a.tpp, b: b.tpp, tls: tls.tpp },
    browser,
    mtls,
    async post(agent, url, form) {
      return toResult(
        await request(url, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(form).toString(),
        }),
      );
    },
    async get(agent, url, headers = {}) {
      return toResult(await request(url, { method: 'GET', dispatcher: agent, headers }));
    },
    async clientAssertion(tpp, overrides = {}, alg = 'PS256', key) {
      const now = Math.floor(Date.now() / 1000);
      const payload: JWTPayload = {
        iss: tpp.clientId,
        sub: tpp.clientId,
        aud: `${mtlsUrl}/token`,
        jti: randomUUID(),
        iat: now,
        exp: now + 300,
        ...overrides,
      };
      for (const [claim, value] of Object.entries(payload)) if (value === undefined) delete payload[claim];
      return new SignJWT(payload).setProtectedHeader({ alg, kid: tpp.kid }).sign(key ?? tpp.privateKey);
    },
    async clientCredentials(tpp, scope = 'accounts', agent = tpp.agent) {
      return harness.post(agent, `${mtlsUrl}/token`, {
        grant_type: 'client_credentials',
        scope,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await harness.clientAssertion(tpp),
      });
    },
  };
  return harness;
}
