import { errors as joseErrors } from 'jose';
import { JwksFetchError } from './jwks.ts';

/** The claims of a JWT (the registration request, or the SSA it carries). */
export type Claims = Record<string, unknown>;

/** A non-empty string claim. */
export function str(claims: Claims, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

export function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
    ? (value as string[])
    : undefined;
}

export function isHttps(value: string): boolean {
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

/** A JWT's `aud`, as a list. */
export function audiences(claims: Claims): string[] {
  const aud = claims['aud'];
  return typeof aud === 'string' ? [aud] : (stringArray(aud) ?? []);
}

/** Why jose refused a JWT, in words a TPP can act on. */
export function describeJose(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed)
    return `has an invalid "${error.claim}" claim (${error.reason})`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'is not signed with PS256';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'has a signature that does not verify';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'is signed with a key that is not published';
  if (error instanceof joseErrors.JWKSMultipleMatchingKeys) return 'names a key id published more than once';
  if (error instanceof JwksFetchError) return `cannot be checked: ${error.message}`;
  if (error instanceof joseErrors.JOSEError) return `is invalid (${error.code})`;
  return 'is invalid';
}
