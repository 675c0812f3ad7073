import { Agent, fetch as undiciFetch } from 'undici';
import {
  findAccessToken,
  mountAuthorizationServer,
  type AuthorizationServer,
  type MountedAuthorizationServer,
} from '../auth/index.ts';
import { seedSandbox, startPaymentScheduler } from '../bank/index.ts';
import { mountConsent } from '../consent/part.ts';
import { directoryTrustAnchor, mountDirectory, type MountedDirectory } from '../directory/index.ts';
import { mountJwkms } from '../jwkms/index.ts';
import { detachedSigner, remoteJwksKeyResolver } from '../openbanking/http/jws.ts';
import { mountOpenBanking } from '../openbanking/index.ts';
import { sandboxBankSigningIdentity } from './bank-identity.ts';
import type { Part, PartContext } from './platform.ts';
import { createRevocations, type Revocations } from './revocations.ts';

/** The seed of the sandbox population: the same customers, accounts and transactions on every machine. */
export const SANDBOX_SEED = 'obkit-sandbox-1';

export interface PartsOptions {
  /** Seed the sandbox bank (customers, accounts, months of transactions) when in sandbox mode. Default true. */
  seedBank?: boolean;
}

/**
 * The parts of one platform instance, in mounting order. Parts that use another part's services share
 * them through this closure (JWKms the directory's keys, the consent app the authorization server's
 * interaction bridge, the APIs its tokens), so each platform started — several in one test process — gets
 * its own. `obkit sandbox` mounts all of them; `obkit serve <name>` the named ones and what they need.
 */
export function createParts(options: PartsOptions = {}): readonly Part[] {
  let directory: Promise<MountedDirectory> | undefined;
  let auth: Promise<MountedAuthorizationServer> | undefined;
  let revocations: Promise<Revocations> | undefined;

  const directoryOf = (context: PartContext) => (directory ??= mountDirectory(context));
  const revocationsOf = (context: PartContext) =>
    (revocations ??= createRevocations(context.store, (error) =>
      context.logger.error({ err: error }, 'a revocation handler failed'),
    ));
  const authOf = (context: PartContext) =>
    (auth ??= revocationsOf(context)
      .then((hub) => mountAuthorizationServer(context, { onRevoked: (handler) => hub.subscribe(handler) }))
      .then((mounted) => {
        context.onClose(() => mounted.close());
        return mounted;
      }));

  return [
    {
      name: 'bank',
      async mount(context) {
        if (!context.config.sandbox || options.seedBank === false) return;
        const result = await seedSandbox(context.store.db, { seed: SANDBOX_SEED, clock: context.clock });
        if (result.created) context.logger.info({ ...result }, 'sandbox bank seeded');
      },
    },
    {
      name: 'directory',
      async mount(context) {
        await directoryOf(context);
      },
    },
    {
      name: 'jwkms',
      async mount(context) {
        await mountJwkms(context, await directoryOf(context));
      },
    },
    {
      name: 'auth',
      async mount(context) {
        await authOf(context);
      },
    },
    {
      name: 'consent',
      async mount(context) {
        const { server, bridge, decoupled } = await authOf(context);
        await mountConsent(context, {
          bridge,
          decoupled,
          notifyRevoked: (await revocationsOf(context)).publish,
          tpps: {
            async describe(clientId) {
              const client = await server.provider.Client.find(clientId);
              if (!client) return undefined;
              const name = typeof client.clientName === 'string' ? client.clientName : clientId;
              return { name, ...(typeof client.logoUri === 'string' ? { logoUri: client.logoUri } : {}) };
            },
          },
        });
      },
    },
    {
      name: 'openbanking',
      async mount(context) {
        const { server } = await authOf(context);
        const hub = await revocationsOf(context);
        const payments = context.config.sandbox
          ? await sandboxPayments(context, server, await directoryOf(context))
          : undefined;
        await mountOpenBanking(context, {
          ...(payments ? { payments } : {}),
          tokens: {
            find: (value) =>
              findAccessToken(server, value).then(
                (token) => token && { ...token, scopes: new Set(token.scopes) },
              ),
          },
          notifyRevoked: hub.publish,
          onRevoked: (handler) => hub.subscribe(handler),
        });
      },
    },
  ];
}

/**
 * Message signing for the payment APIs in the sandbox: TPP keys from each client's software JWKS (fetched
 * trusting the sandbox CA), the bank's responses signed with its directory-certified key, and the
 * scheduler that executes future-dated payments on the platform clock.
 */
async function sandboxPayments(
  context: PartContext,
  server: AuthorizationServer,
  directory: MountedDirectory,
) {
  const identity = await sandboxBankSigningIdentity(
    context.store,
    directory,
    `${context.urls.browser}/directory`,
  );
  const trustAnchor = directoryTrustAnchor(context.urls.browser);
  const agent = new Agent({ connect: { ca: context.tls.ca } });
  const scheduler = startPaymentScheduler(
    context.store.db,
    { clock: context.clock },
    {
      onError: (error) => context.logger.error({ err: error }, 'the payment scheduler failed'),
    },
  );
  context.onClose(async () => {
    await scheduler.stop();
    await agent.close();
  });
  return {
    trustAnchor,
    signer: detachedSigner({
      key: identity.key,
      kid: identity.kid,
      issuer: identity.issuer,
      trustAnchor,
      clock: context.clock,
    }),
    keys: remoteJwksKeyResolver({
      fetch: (url, init) =>
        undiciFetch(url, { ...init, dispatcher: agent } as never) as unknown as Promise<Response>,
      async softwareOf(clientId) {
        const client = await server.provider.Client.find(clientId);
        const metadata = client?.metadata() as
          { jwks_uri?: string; org_id?: string; software_id?: string } | undefined;
        if (!metadata?.jwks_uri || !metadata.org_id || !metadata.software_id) return undefined;
        return { jwksUri: metadata.jwks_uri, issuers: [`${metadata.org_id}/${metadata.software_id}`] };
      },
    }),
  };
}

export const partNames: readonly string[] = createParts().map((part) => part.name);

/** The named parts of a fresh platform instance; throws naming the unknown ones. */
export function selectParts(names: readonly string[] | 'all', options: PartsOptions = {}): readonly Part[] {
  const parts = createParts(options);
  if (names === 'all') return parts;
  const unknown = names.filter((name) => !partNames.includes(name));
  if (unknown.length > 0) {
    throw new UnknownPartError(`unknown part "${unknown.join('", "')}"; parts: ${partNames.join(', ')}`);
  }
  return parts.filter((part) => names.includes(part.name));
}

export class UnknownPartError extends Error {
  override name = 'UnknownPartError';
}
