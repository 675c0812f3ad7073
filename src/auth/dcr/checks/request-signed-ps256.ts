import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { Claims } from '../claims.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/** The request is a readable JWS signed with PS256 (its signature is checked once the SSA names the keys). */
export const requestSignedWithPs256: DcrCheck = (context) => {
  const jwt = need(context, 'jwt');
  let header;
  try {
    header = decodeProtectedHeader(jwt);
    context.unverifiedRequest = decodeJwt(jwt) as Claims;
  } catch {
    throw new DcrError('invalid_client_metadata', 'the body is not a readable JWT');
  }
  if (header.alg !== 'PS256') {
    throw new DcrError(
      'invalid_client_metadata',
      `the registration request must be signed with PS256, not ${String(header.alg)}`,
    );
  }
};
