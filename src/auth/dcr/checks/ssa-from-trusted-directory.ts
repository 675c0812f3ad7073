import { decodeJwt } from 'jose';
import { str, type Claims } from '../claims.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/** The request carries a software statement, a JWT issued by a directory this bank trusts. */
export const ssaFromTrustedDirectory: DcrCheck = (context) => {
  const ssa = need(context, 'unverifiedRequest')['software_statement'];
  if (typeof ssa !== 'string' || ssa.split('.').length !== 3) {
    throw new DcrError('invalid_software_statement', 'software_statement must be a signed JWT');
  }
  let unverified: Claims;
  try {
    unverified = decodeJwt(ssa) as Claims;
  } catch {
    throw new DcrError('invalid_software_statement', 'software_statement is not a readable JWT');
  }
  const issuer = str(unverified, 'iss');
  const directory = issuer ? context.directories.get(issuer) : undefined;
  if (!directory) {
    throw new DcrError(
      'unapproved_software_statement',
      `the software statement was issued by ${issuer ? `"${issuer}"` : 'no issuer'}, not a directory this bank trusts`,
    );
  }
  context.directory = directory;
};
