import { createHash, X509Certificate } from 'node:crypto';
import type { CertificateType } from './validation.ts';

/** A public key as the directory publishes it (RFC 7517, with the certificate chain in `x5c`). */
export interface PublishedJwk {
  kty: string;
  kid: string;
  use: 'sig' | 'tls' | 'enc';
  alg?: string;
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
  x5c: string[];
  'x5t#S256': string;
  /** Revoked keys only: when (seconds since the epoch) and why. */
  revoked_at?: number;
  revocation_reason?: string | null;
}

export const useOf: Readonly<Record<CertificateType, PublishedJwk['use']>> = {
  transport: 'tls',
  signing: 'sig',
  encryption: 'enc',
};

export function pemBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

export function splitCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

export function thumbprintS256(certificate: X509Certificate): string {
  return createHash('sha256').update(certificate.raw).digest('base64url');
}

/**
 * The JWK of a certificate's public key: `use` from the certificate's purpose, `alg` where the purpose
 * fixes it (PS256 / ES256 / ES384 for signing, RSA-OAEP-256 for encryption; none for transport keys),
 * `x5c` = the certificate then the issuing CA (not the root), `x5t#S256` of the certificate.
 */
export function jwkOfCertificate(
  certificatePem: string,
  kid: string,
  type: CertificateType,
  issuerChainPem: string,
): PublishedJwk {
  const certificate = new X509Certificate(certificatePem);
  const exported = certificate.publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const alg = algorithmFor(type, exported);
  const intermediates = splitCertificates(issuerChainPem).slice(0, 1);
  const { kty, n, e, crv, x, y } = exported;
  return {
    kty: kty ?? 'RSA',
    kid,
    use: useOf[type],
    ...(alg ? { alg } : {}),
    ...(n ? { n, e } : { crv, x, y }),
    x5c: [pemBody(certificatePem), ...intermediates.map(pemBody)],
    'x5t#S256': thumbprintS256(certificate),
  };
}

function algorithmFor(type: CertificateType, jwk: Record<string, string>): string | undefined {
  if (type === 'transport') return undefined;
  if (type === 'encryption') return jwk.kty === 'RSA' ? 'RSA-OAEP-256' : undefined;
  if (jwk.kty === 'RSA') return 'PS256';
  if (jwk.crv === 'P-256') return 'ES256';
  if (jwk.crv === 'P-384') return 'ES384';
  return undefined;
}
