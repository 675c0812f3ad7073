import { randomUUID } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import type { ManagedKey } from './managed-keys.ts';

/**
 * Signs claims as a JWT (PS256) with the caller's managed signing key. `iss` defaults to the software id,
 * `iat` and `jti` are set, `exp` only when asked; claims the caller gives win.
 */
export async function signClaims(
  key: ManagedKey,
  claims: JWTPayload,
  options: { issuer: string; expiresInSeconds?: number; typ?: string },
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: JWTPayload = {
    iss: options.issuer,
    iat: now,
    jti: randomUUID(),
    ...(options.expiresInSeconds ? { exp: now + options.expiresInSeconds } : {}),
    ...claims,
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'PS256', kid: key.kid, typ: options.typ ?? 'JWT' })
    .sign(key.privateKey);
}
