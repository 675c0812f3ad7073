import { ObError } from '../../errors.ts';
import type { AccessTokenView, Check } from '../types.ts';

/**
 * Consent (intent) endpoints are called with the TPP's own client_credentials token; data and payment
 * endpoints with a token the PSU authorised (authorization_code, or refreshed from one).
 */
export function tokenGrantType(expected: AccessTokenView['grantType']): Check {
  return {
    name: `token grant type ${expected}`,
    run(state) {
      if (state.token?.grantType !== expected) {
        const wanted =
          expected === 'client_credentials'
            ? 'a client_credentials'
            : 'a PSU-authorised (authorization_code)';
        throw ObError.single(
          403,
          'UK.OBIE.Resource.InvalidConsentStatus',
          `this endpoint needs ${wanted} access token`,
        );
      }
    },
  };
}
