import { clientMetadata } from '../client-metadata.ts';
import { DcrError } from '../errors.ts';
import type { DcrCheck } from '../types.ts';

/** oidc-provider accepts the client drawn up (its own FAPI and metadata rules). */
export const providerAccepts: DcrCheck = async (context) => {
  const metadata = clientMetadata(context);
  try {
    await context.options.server.provider.Client.validate(metadata);
  } catch (error) {
    const code = (error as { error?: unknown }).error;
    const description = (error as { error_description?: unknown }).error_description;
    throw new DcrError(
      code === 'invalid_redirect_uri' ? 'invalid_redirect_uri' : 'invalid_client_metadata',
      typeof description === 'string' ? description : 'the client metadata is invalid',
    );
  }
  context.metadata = metadata;
};
