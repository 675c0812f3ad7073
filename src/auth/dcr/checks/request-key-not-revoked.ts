import { decodeProtectedHeader } from 'jose';
import { str } from '../claims.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/**
 * The key that signed the request is still good: not revoked at the directory, nor its `x5c` certificate
 * (the server's certificate-status gate), though the software JWKS we verified with may be a copy from before
 * the revocation. `invalid_client_metadata`, as for any request signature that does not hold: the SSA itself
 * is sound and approved; it is the request that is not signed by a key the software may still use.
 */
export const requestKeyNotRevoked: DcrCheck = async (context) => {
  const jwksUri = str(need(context, 'ssa'), 'software_jwks_endpoint') as string;
  const { kid } = decodeProtectedHeader(need(context, 'jwt'));
  const refusal = await context.options.jwks.refusalOf(jwksUri, kid);
  if (refusal !== undefined) {
    throw new DcrError(
      'invalid_client_metadata',
      `the registration request is signed with a key that may no longer be used: ${refusal}`,
    );
  }
};
