import { CompactSign, type CompactJWSHeaderParameters } from 'jose';
import { OB_CLAIMS, OB_CRITICAL, OB_IAT, OB_ISS, OB_TAN } from '../shared/ob-jws-claims.ts';
import type { ManagedKey } from './managed-keys.ts';

/**
 * The Open Banking `x-jws-signature` (Read/Write ≥ 3.1.4): a PS256 JWS over the exact body bytes with
 * the payload left out (`header..signature`), no `b64` header, and `crit` naming the OB iat/iss/tan claims.
 */
export async function signDetached(
  key: ManagedKey,
  body: string,
  options: { issuer: string; trustAnchor: string; at?: Date },
): Promise<{ signature: string; header: CompactJWSHeaderParameters }> {
  const header: CompactJWSHeaderParameters = {
    alg: 'PS256',
    kid: key.kid,
    typ: 'JOSE',
    cty: 'application/json',
    [OB_IAT]: Math.floor((options.at ?? new Date()).getTime() / 1000),
    [OB_ISS]: options.issuer,
    [OB_TAN]: options.trustAnchor,
    crit: [...OB_CLAIMS],
  };
  const compact = await new CompactSign(new TextEncoder().encode(body))
    .setProtectedHeader(header)
    .sign(key.privateKey, { crit: OB_CRITICAL });
  const [protectedHeader, , signature] = compact.split('.');
  return { signature: `${protectedHeader}..${signature}`, header };
}
