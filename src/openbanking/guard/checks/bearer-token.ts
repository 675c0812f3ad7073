import { ObError } from '../../errors.ts';
import { thenOrNow } from '../../../shared/maybe-promise.ts';
import type { Check } from '../types.ts';

const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;

/** RFC 6750: `Authorization: Bearer <token>`, and the token must be live. */
export const bearerToken: Check = {
  name: 'access token',
  run(state, { tokens, clock }) {
    const header = state.request.headers.authorization;
    if (!header) throw ObError.single(401, 'UK.OBIE.Header.Missing', 'the Authorization header is missing');
    const match = BEARER.exec(header);
    if (!match?.[1]) {
      throw ObError.single(
        401,
        'UK.OBIE.Header.Invalid',
        'the Authorization header must be "Bearer <access token>"',
      );
    }
    return thenOrNow(tokens.find(match[1]), (token) => {
      if (!token || token.expiresAt.getTime() <= clock.epochMs()) {
        throw ObError.single(
          401,
          'UK.OBIE.Header.Invalid',
          'the access token is invalid, expired or revoked',
        );
      }
      state.token = token;
    });
  },
};
