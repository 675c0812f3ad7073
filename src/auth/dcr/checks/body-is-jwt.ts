import { DcrError } from '../errors.ts';
import type { DcrCheck } from '../types.ts';

const JWT_TYPES = ['application/jwt', 'application/jose'];

/** The body is a JWT, sent as application/jwt or application/jose. */
export const bodyIsJwt: DcrCheck = (context) => {
  const { body, contentType } = context.input;
  if (!JWT_TYPES.includes(contentType ?? '')) {
    throw new DcrError(
      'invalid_client_metadata',
      'send the registration request as application/jwt or application/jose',
    );
  }
  if (typeof body !== 'string' || body.trim() === '') {
    throw new DcrError(
      'invalid_client_metadata',
      'the body must be a signed JWT (application/jwt or application/jose)',
    );
  }
  context.jwt = body.trim();
};
