import { jwtVerify } from 'jose';
import { describeJose, type Claims } from '../claims.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/** The directory signed the software statement (PS256, a key it publishes), and it has not expired. */
export const ssaSignature: DcrCheck = async (context) => {
  const directory = need(context, 'directory');
  const ssa = need(context, 'unverifiedRequest')['software_statement'] as string;
  try {
    const verified = await jwtVerify(ssa, await context.options.jwks.resolver(directory.jwksUri), {
      algorithms: ['PS256'],
      issuer: directory.issuer,
      currentDate: context.options.clock.now(),
      clockTolerance: context.tolerance,
    });
    context.ssa = verified.payload as Claims;
  } catch (error) {
    throw new DcrError('invalid_software_statement', `the software statement ${describeJose(error)}`);
  }
};
