import type { CryptoKey } from './keys.ts';
import { x509 } from './x509.ts';

/** A certification authority we operate: its certificate and the key that signs with it. */
export interface CertificateAuthority {
  readonly certificatePem: string;
  readonly certificate: x509.X509Certificate;
  readonly privateKey: CryptoKey;
}

/**
 * Where relying parties find revocation status. When set on an issuer, every certificate it signs
 * carries them: `ocspUrl` and `caIssuersUrl` in Authority Information Access, `crlUrl` as a CRL
 * distribution point.
 */
export interface RevocationEndpoints {
  readonly ocspUrl?: string;
  readonly crlUrl?: string;
  readonly caIssuersUrl?: string;
}

/** A CA that signs end-entity certificates. */
export interface Issuer extends CertificateAuthority {
  /** This CA's certificate followed by its parents up to and including the root (PEM). */
  readonly chainPem: string;
  readonly endpoints: RevocationEndpoints;
}

/** The same issuer, announcing other revocation endpoints in the certificates it signs from now on. */
export function withRevocationEndpoints(issuer: Issuer, endpoints: RevocationEndpoints): Issuer {
  return { ...issuer, endpoints: { ...endpoints } };
}

export const caExtensions = {
  async root(publicKey: CryptoKey): Promise<x509.Extension[]> {
    return [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
    ];
  },
  async issuing(publicKey: CryptoKey, root: CertificateAuthority): Promise<x509.Extension[]> {
    return [
      new x509.BasicConstraintsExtension(true, 0, true),
      // digitalSignature: the issuing CA signs OCSP responses itself (RFC 6960 §4.2.2.2, case 1).
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(root.certificate.publicKey),
    ];
  },
};
