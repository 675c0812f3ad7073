import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/** `web`, or a native app: v3.3 says `mobile`, v3.4 says `native` (as OpenID does); the provider knows `native`. */
export const applicationType: DcrCheck = (context) => {
  const requested = need(context, 'request')['application_type'] ?? 'web';
  if (requested !== 'web' && requested !== 'mobile' && requested !== 'native') {
    throw new DcrError('invalid_client_metadata', 'application_type must be web, mobile or native');
  }
  context.client.applicationType = requested === 'web' ? 'web' : 'native';
};
