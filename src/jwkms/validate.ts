import { compactVerify, decodeProtectedHeader, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { OB_CRITICAL } from '../shared/ob-jws-claims.ts';

export type Validation =
  | { valid: true; header: Record<string, unknown>; claims?: Record<string, unknown>; payload?: string }
  | { valid: false; reason: string; header?: Record<string, unknown> };

/**
 * Validates a JWS: a JWT (signature, exp/nbf), a plain compact JWS, or a detached one (`header..signature`)
 * against the payload it was made over. The reason of a failure says which check failed.
 */
export async function validateJws(
  jws: string,
  keys: JWTVerifyGetKey,
  options: { detachedPayload?: string; algorithms?: string[] },
): Promise<Validation> {
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(jws) as Record<string, unknown>;
  } catch {
    return { valid: false, reason: 'not a compact JWS' };
  }
  const algorithms = options.algorithms ?? ['PS256'];
  try {
    const parts = jws.split('.');
    if (parts.length !== 3) return { valid: false, reason: 'a compact JWS has three parts', header };
    if (parts[1] === '') {
      if (options.detachedPayload === undefined) {
        return {
          valid: false,
          reason: 'a detached JWS needs the payload it was made over (detachedPayload)',
          header,
        };
      }
      const payload = Buffer.from(options.detachedPayload).toString('base64url');
      await compactVerify(`${parts[0]}.${payload}.${parts[2]}`, keys, {
        algorithms,
        crit: OB_CRITICAL,
      });
      return { valid: true, header, payload: options.detachedPayload };
    }
    if (header.typ === undefined || String(header.typ).toUpperCase() === 'JWT') {
      const { payload } = await jwtVerify(jws, keys, { algorithms });
      return { valid: true, header, claims: payload as Record<string, unknown> };
    }
    const { payload } = await compactVerify(jws, keys, { algorithms });
    return { valid: true, header, payload: new TextDecoder().decode(payload) };
  } catch (error) {
    return { valid: false, reason: describe(error), header };
  }
}

function describe(error: unknown): string {
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the signature does not verify';
  if (error instanceof errors.JWTExpired) return 'the JWT has expired';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key in the key set matches the kid and algorithm';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the algorithm is not allowed (PS256 only)';
  if (error instanceof errors.JOSEError) return error.message;
  return 'the JWS is malformed';
}
