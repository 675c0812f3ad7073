import { jwtVerify } from 'jose';
import { describeJose, str, type Claims } from '../claims.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/** The software signed the request with a key at its SSA's JWKS endpoint; it has iss, aud, exp, iat, jti. */
export const requestSignature: DcrCheck = async (context) => {
  const ssa = need(context, 'ssa');
  try {
    const verified = await jwtVerify(
      need(context, 'jwt'),
      await context.options.jwks.resolver(str(ssa, 'software_jwks_endpoint') as string),
      {
        algorithms: ['PS256'],
        currentDate: context.options.clock.now(),
        clockTolerance: context.tolerance,
        requiredClaims: ['iss', 'aud', 'exp', 'iat', 'jti'],
      },
    );
    context.request = verified.payload as Claims;
  } catch (error) {
    throw new DcrError('invalid_client_metadata', `the registration request ${describeJose(error)}`);
  }
};
