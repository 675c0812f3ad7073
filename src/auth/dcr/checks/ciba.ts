import { cibaRegistrationMetadata } from '../../ciba.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/** A client asking for the CIBA grant names a delivery mode and signing algorithm the bank supports. */
export const ciba: DcrCheck = (context) => {
  const result = cibaRegistrationMetadata(
    need(context, 'request'),
    context.client.grantTypes ?? [],
    context.client.redirectUris ?? [],
  );
  if ('error' in result) throw new DcrError('invalid_client_metadata', result.error);
  context.client.ciba = result.metadata;
};
