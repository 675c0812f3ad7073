import type { FastifyInstance } from 'fastify';
import type { MountedDirectory } from '../directory/index.ts';
import { jwkmsApi, jwkmsPrefix } from './http-api.ts';
import { ManagedKeys } from './managed-keys.ts';

export interface JwkmsMountContext {
  mtls: FastifyInstance;
  urls: { browser: string };
  /** The `http://openbanking.org.uk/tan` of the detached signatures JWKms makes: the bank's. */
  trustAnchor: string;
}

/** Mounts JWKms on the mTLS listener, using the keys the directory holds for each software statement. */
export async function mountJwkms(context: JwkmsMountContext, directory: MountedDirectory): Promise<void> {
  const directoryBaseUrl = `${context.urls.browser}/directory`;
  await context.mtls.register(
    async (scope) =>
      jwkmsApi(scope, {
        directory: directory.service,
        keys: new ManagedKeys(directory.service),
        directoryBaseUrl,
        trustAnchor: context.trustAnchor,
      }),
    { prefix: jwkmsPrefix },
  );
}
