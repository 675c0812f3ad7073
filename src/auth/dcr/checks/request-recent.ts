import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/** The request was issued recently (by its `iat`), and not in the future. */
export const requestRecent: DcrCheck = (context) => {
  const iat = need(context, 'request')['iat'] as number;
  if (iat > context.now + context.tolerance) {
    throw new DcrError('invalid_client_metadata', 'the registration request was issued in the future (iat)');
  }
  if (context.now - iat > (context.options.requestMaxAgeSeconds ?? 3600)) {
    throw new DcrError('invalid_client_metadata', 'the registration request is too old (iat)');
  }
};
