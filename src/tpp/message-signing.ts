import { CompactSign, compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import type { BankConnection } from './bank.ts';
import type { Bundle } from './bundle.ts';
import { describeFailure, send } from './http.ts';
import { OB_CRITICAL, OB_IAT, OB_ISS, OB_TAN, tppSigningIssuer } from '../shared/ob-jws-claims.ts';

/** The directory's trust anchor as participants sign it: as recorded at onboarding, else its host. */
export function trustAnchorOf(bundle: Bundle): string {
  return bundle.summary.directory.trustAnchor ?? new URL(bundle.summary.directory.url).host;
}

/**
 * The `x-jws-signature` a TPP sends with a payment request (Read/Write ≥ 3.1.4): PS256 over the exact
 * body, payload detached, no `b64` header, the OB iat/iss/tan claims critical.
 */
export async function signRequestBody(bank: BankConnection, bundle: Bundle, body: string): Promise<string> {
  const compact = await new CompactSign(new TextEncoder().encode(body))
    .setProtectedHeader({
      alg: 'PS256',
      kid: bank.signingKid,
      typ: 'JOSE',
      cty: 'application/json',
      [OB_IAT]: Math.floor(Date.now() / 1000),
      [OB_ISS]: tppSigningIssuer(bundle.summary.organisation.id, bundle.summary.software.id),
      [OB_TAN]: trustAnchorOf(bundle),
      crit: Object.keys(OB_CRITICAL),
    })
    .sign(bank.signingKey, { crit: OB_CRITICAL });
  const [header, , signature] = compact.split('.');
  return `${header}..${signature}`;
}

/** Checks the bank's `x-jws-signature` over a response body against the bank's JWKS (from the directory). */
export async function verifyResponseSignature(
  bank: BankConnection,
  jwksUri: string,
  body: string,
  signature: string,
): Promise<Record<string, unknown>> {
  const [header, payload, sig] = signature.split('.');
  if (header === undefined || payload !== '' || sig === undefined)
    throw new Error('the response signature is not a detached JWS');
  const jwks = await send(bank.agent, jwksUri);
  if (jwks.status !== 200) throw describeFailure("fetching the bank's JWKS", jwks);
  const { protectedHeader } = await compactVerify(
    `${header}.${Buffer.from(body).toString('base64url')}.${sig}`,
    createLocalJWKSet(jwks.json as JSONWebKeySet),
    { algorithms: ['PS256'], crit: OB_CRITICAL },
  );
  return protectedHeader as Record<string, unknown>;
}
