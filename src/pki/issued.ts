import type { x509 } from './x509.ts';

/** A certificate with the private key we generated for it, ready for node's TLS options. */
export interface IssuedKeyAndCertificate {
  readonly certificate: x509.X509Certificate;
  readonly certificatePem: string;
  /** PKCS#8 PEM. */
  readonly privateKeyPem: string;
  /** The issuer's chain (issuing CA, then root), PEM: node's `ca` option. */
  readonly chainPem: string;
  /** Leaf then issuing CA, PEM: the `cert` option of a peer whose counterpart trusts only the root. */
  readonly fullChainPem: string;
}

/** A certificate issued for a public key the caller keeps (CSR flow). */
export interface IssuedCertificate {
  readonly certificate: x509.X509Certificate;
  readonly certificatePem: string;
  readonly chainPem: string;
  readonly fullChainPem: string;
}
