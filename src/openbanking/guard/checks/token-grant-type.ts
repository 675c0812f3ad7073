import { ObError } from '../../errors.ts';
import type { AccessTokenView, Check } from '../types.ts';

/**
 * Consent (intent) endpoints are called with the TPP's own client_credentials token; data and payment
 * endpoints with a token the PSU authorised (authorization_code, or refreshed from one). Read/Write Data
 * API Profile, "Supported Grant Types": APIs that need the PSU "can only be accessed using an access token
 * issued through an Authorization Code Grant, Hybrid Grant or CIBA"; a TPP "requests an ASPSP to create
 * intent by using a client credentials grant".
 *
 * The two wrong ways round answer differently, as the profile's HTTP status table says:
 * - a client_credentials token where the PSU's authorisation is needed is not a valid token for the
 *   endpoint: 401 ("Authorization header missing or invalid token … Re-authenticating the PSU may result
 *   in an appropriate token"), `UK.OBIE.Header.Invalid` on `Authorization`;
 * - a PSU token where the TPP acts for itself breaks the endpoint's security policy, and no
 *   re-authentication of the PSU can mend it: 403 ("Token has incorrect scope or a security policy was
 *   violated"), also `UK.OBIE.Header.Invalid` on `Authorization`.
 * Neither is about a consent's status, so neither says `InvalidConsentStatus`.
 */
export function tokenGrantType(expected: AccessTokenView['grantType']): Check {
  return {
    name: `token grant type ${expected}`,
    run(state) {
      if (state.token?.grantType === expected) return;
      if (expected === 'authorization_code') {
        throw ObError.single(
          401,
          'UK.OBIE.Header.Invalid',
          'this endpoint acts for the PSU: it needs an access token the PSU authorised (authorization code grant), not a client_credentials token',
          'Authorization',
        );
      }
      throw ObError.single(
        403,
        'UK.OBIE.Header.Invalid',
        'this endpoint is for the TPP acting for itself: it needs a client_credentials access token, not one the PSU authorised',
        'Authorization',
      );
    },
  };
}
