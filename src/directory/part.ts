import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadOrCreateSandboxAuthorities, withRevocationEndpoints, x509 } from '../pki/index.ts';
import type { Clock } from '../shared/clock.ts';
import { PAGE_SECURITY_SECRET_SETTING } from '../shared/page-kit/index.ts';
import type { ParticipantStatusChange } from '../shared/participant-status.ts';
import { loadOrCreateSecret, type Store } from '../store/index.ts';
import { apiPrefix, mlaStatusApi, operatorApi, participantApi, publicApi } from './http-api.ts';
import { countSealedKeys, loadOrCreateMasterKey } from './master-key.ts';
import { loadOrCreateOperatorKey } from './operator-key.ts';
import { RevocationPublisher } from './revocation.ts';
import { DirectoryService } from './service.ts';
import { DirectorySigningKeys, defaultSigningKeyPolicy, type SigningKeyPolicy } from './signing-keys.ts';
import { directoryAddresses } from './ssa.ts';
import { webPages } from './web/plugin.ts';

/** What the directory needs from the platform (a subset of the server's PartContext). */
export interface DirectoryMountContext {
  config: { dataDir: string; sandbox: boolean };
  store: Store;
  clock: Clock;
  tls: { sandboxPkiDir: string | undefined };
  browser: FastifyInstance;
  mtls: FastifyInstance;
  urls: { browser: string; mtls: string };
}

export interface DirectoryPartOptions {
  signingKeyPolicy?: SigningKeyPolicy;
  /** How long a replaced participant key stays in its JWKS. Default 7 days. */
  keyOverlapDays?: number;
  /**
   * List the platform's own bank among the ASPSPs, with the discovery URL of the authorization server
   * mounted beside the directory (`<browser URL>/.well-known/openid-configuration`). Default: in the sandbox.
   */
  registerSandboxBank?: boolean;
  /** Told of each certificate revocation in this process, before the revoker gets its answer. */
  onCertificateRevoked?: (serialNumber: string) => void;
  /** Announces a participant status change to every instance, this one first (see DirectoryServiceOptions). */
  publishStatusChange?: (change: ParticipantStatusChange) => Promise<void>;
}

export interface MountedDirectory {
  service: DirectoryService;
  revocation: RevocationPublisher;
  /** The CA that issues participant certificates (PEM), whose OCSP and CRL `revocation` answers. */
  issuingCaPem: string;
}

/**
 * Mounts the directory: its REST API under /directory/v1 on both listeners (public routes on the
 * browser listener, participant routes on the mTLS listener) and its web pages under /directory.
 */
export async function mountDirectory(
  context: DirectoryMountContext,
  options: DirectoryPartOptions = {},
): Promise<MountedDirectory> {
  const { config, store, clock, urls } = context;
  const masterKey = await loadOrCreateMasterKey(join(config.dataDir, 'directory', 'master.key'), {
    sealedKeys: () => countSealedKeys(store.db),
  });
  const authorities = await loadOrCreateSandboxAuthorities(
    context.tls.sandboxPkiDir ?? join(config.dataDir, 'pki'),
    {
      clock,
    },
  );
  const api = `${urls.browser}${apiPrefix}`;
  // Every certificate the directory issues tells relying parties where to ask about its revocation.
  const issuer = withRevocationEndpoints(authorities.issuing, {
    ocspUrl: `${api}/ocsp`,
    crlUrl: `${api}/crl`,
    caIssuersUrl: `${api}/ca/issuing.cer`,
  });
  const signingKeys = new DirectorySigningKeys({
    store,
    masterKey,
    clock,
    issuer,
    policy: options.signingKeyPolicy ?? defaultSigningKeyPolicy,
  });
  const service = new DirectoryService({
    store,
    clock,
    masterKey,
    issuer,
    signingKeys,
    addresses: directoryAddresses(urls.browser),
    environment: config.sandbox ? 'sandbox' : 'production',
    ...(options.keyOverlapDays !== undefined ? { keyOverlapDays: options.keyOverlapDays } : {}),
    ...(options.onCertificateRevoked ? { onCertificateRevoked: options.onCertificateRevoked } : {}),
    ...(options.publishStatusChange ? { publishStatusChange: options.publishStatusChange } : {}),
  });
  const revocation = new RevocationPublisher(service, issuer, clock);
  const apiContext = {
    service,
    operator: await loadOrCreateOperatorKey(join(config.dataDir, 'directory', 'operator.key')),
    revocation,
    caChainPem: authorities.chainPem,
    issuingCaDer: new Uint8Array(new x509.X509Certificate(authorities.issuing.certificatePem).rawData),
  };

  await context.browser.register(
    async (scope) => publicApi(scope, { ...apiContext, sandbox: config.sandbox }),
    {
      prefix: apiPrefix,
    },
  );
  await context.mtls.register(async (scope) => participantApi(scope, apiContext), { prefix: apiPrefix });
  await context.browser.register(async (scope) => operatorApi(scope, apiContext), {
    prefix: `${apiPrefix}/operator`,
  });
  // The MLA status API's own path below the directory's base URL, on the mutual-TLS listener.
  await context.mtls.register(async (scope) => mlaStatusApi(scope, apiContext), { prefix: '/directory' });
  const pageSecret = await loadOrCreateSecret(store.db, PAGE_SECURITY_SECRET_SETTING);
  await context.browser.register(
    async (scope) => webPages(scope, { ...apiContext, sandbox: config.sandbox, pageSecret }),
    {
      prefix: '/directory',
    },
  );

  // Make the first signing key now rather than on the first onboarding.
  await signingKeys.current();
  if (options.registerSandboxBank ?? config.sandbox) {
    await service.listPlatformBank({
      name: 'obkit Sandbox Bank',
      discoveryUrl: `${urls.browser}/.well-known/openid-configuration`,
    });
  }
  return { service, revocation, issuingCaPem: authorities.issuing.certificatePem };
}
