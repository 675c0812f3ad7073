import { X509Certificate } from 'node:crypto';
import { createLocalJWKSet, importJWK, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from 'jose';
import type { DirectoryService } from '../directory/index.ts';
import { JwkmsError } from './errors.ts';

/**
 * Where a caller's counterpart key comes from: an inline JWK or JWK set, a PEM certificate, or a JWKS
 * URI of this directory. URIs are resolved in process, never fetched: JWKms runs inside the bank's
 * network, and fetching caller-chosen URLs from there would be a server-side request forgery.
 */
export interface KeyReference {
  jwk?: JWK;
  jwks?: JSONWebKeySet;
  certificatePem?: string;
  jwksUri?: string;
}

const JWKS_PATH = /\/directory\/v1\/organisations\/([A-Za-z0-9]+)\/(?:software\/([A-Za-z0-9]+)\/)?jwks$/;

export async function keySetOf(
  reference: KeyReference,
  directory: DirectoryService,
  directoryBaseUrl: string,
): Promise<JSONWebKeySet> {
  if (reference.jwks) return reference.jwks;
  if (reference.jwk) return { keys: [reference.jwk] };
  if (reference.certificatePem) {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(reference.certificatePem);
    } catch {
      throw new JwkmsError(400, 'invalid_key', 'certificatePem is not a PEM certificate');
    }
    return { keys: [certificate.publicKey.export({ format: 'jwk' }) as JWK] };
  }
  if (reference.jwksUri) {
    const url = URL.canParse(reference.jwksUri) ? new URL(reference.jwksUri) : undefined;
    const match = url ? JWKS_PATH.exec(url.pathname) : null;
    if (!url || url.origin !== new URL(directoryBaseUrl).origin || !match?.[1]) {
      throw new JwkmsError(
        400,
        'invalid_key',
        `jwksUri must be an organisation or software JWKS of this directory (${directoryBaseUrl})`,
      );
    }
    const scope = match[2] ? { orgId: match[1], softwareId: match[2] } : { orgId: match[1] };
    return (await directory.jwks(scope, 'active')) as JSONWebKeySet;
  }
  throw new JwkmsError(400, 'invalid_request', 'name the key: one of jwk, jwks, certificatePem or jwksUri');
}

export async function verificationKeys(
  reference: KeyReference,
  directory: DirectoryService,
  directoryBaseUrl: string,
): Promise<JWTVerifyGetKey> {
  return createLocalJWKSet(await keySetOf(reference, directory, directoryBaseUrl));
}

/** The recipient's encryption key: the first key meant for encryption (`use: enc`, or no `use`). */
export async function encryptionKey(
  reference: KeyReference,
  directory: DirectoryService,
  directoryBaseUrl: string,
) {
  const { keys } = await keySetOf(reference, directory, directoryBaseUrl);
  const jwk =
    keys.find((key) => key.use === 'enc') ?? keys.find((key) => key.use === undefined && key.kty === 'RSA');
  if (!jwk) throw new JwkmsError(400, 'invalid_key', 'the recipient has no RSA encryption key (use "enc")');
  try {
    return { key: await importJWK(jwk, 'RSA-OAEP-256'), kid: jwk.kid };
  } catch {
    throw new JwkmsError(400, 'invalid_key', 'the recipient key cannot be used for RSA-OAEP-256');
  }
}
