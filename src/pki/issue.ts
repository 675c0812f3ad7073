import type { CryptoKey } from './keys.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import type { Issuer } from './authority.ts';
import { randomSerialNumber, signingAlgorithm } from './keys.ts';
import { x509 } from './x509.ts';

/** What a profile asks the CA to sign. */
export interface CertificateTemplate {
  readonly subject: x509.Name;
  readonly publicKey: CryptoKey | x509.PublicKey;
  /** Profile extensions (key usage, EKU, SAN, QCStatements…); identifiers and revocation pointers are added here. */
  readonly extensions: readonly x509.Extension[];
  readonly validityDays: number;
}

export interface SignOptions {
  readonly clock?: Clock;
  readonly serialNumber?: string;
}

/** Certificates are back-dated a little so that a relying party whose clock lags still accepts them. */
const backdateMilliseconds = 5 * 60 * 1000;
const dayMilliseconds = 24 * 60 * 60 * 1000;

/**
 * Signs an end-entity certificate with the issuer's key: adds subject and authority key identifiers,
 * and the issuer's OCSP / CRL pointers when it has them.
 */
export async function signCertificate(
  issuer: Issuer,
  template: CertificateTemplate,
  options: SignOptions = {},
): Promise<x509.X509Certificate> {
  const now = (options.clock ?? systemClock).now().getTime();
  // Export a CryptoKey once: the key identifier and the certificate both need the SPKI.
  const publicKey =
    template.publicKey instanceof x509.PublicKey
      ? template.publicKey
      : await x509.PublicKey.create(template.publicKey);
  const extensions: x509.Extension[] = [
    ...template.extensions,
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
    await authorityKeyIdentifier(issuer.certificate),
    ...revocationPointers(issuer),
  ];
  return x509.X509CertificateGenerator.create({
    serialNumber: options.serialNumber ?? randomSerialNumber(),
    subject: template.subject,
    issuer: issuer.certificate.subjectName,
    notBefore: new Date(now - backdateMilliseconds),
    // Never beyond the issuer's own expiry (RFC 5280 path validation would reject the tail anyway).
    notAfter: new Date(
      Math.min(now + template.validityDays * dayMilliseconds, issuer.certificate.notAfter.getTime()),
    ),
    publicKey,
    signingKey: issuer.privateKey,
    signingAlgorithm,
    extensions,
  });
}

const authorityKeyIdentifiers = new WeakMap<
  x509.X509Certificate,
  Promise<x509.AuthorityKeyIdentifierExtension>
>();

/** The issuer's key identifier, computed once per issuer certificate. */
function authorityKeyIdentifier(
  certificate: x509.X509Certificate,
): Promise<x509.AuthorityKeyIdentifierExtension> {
  let found = authorityKeyIdentifiers.get(certificate);
  if (!found) {
    found = x509.AuthorityKeyIdentifierExtension.create(certificate.publicKey);
    authorityKeyIdentifiers.set(certificate, found);
  }
  return found;
}

function revocationPointers(issuer: Issuer): x509.Extension[] {
  const { ocspUrl, crlUrl, caIssuersUrl } = issuer.endpoints;
  const result: x509.Extension[] = [];
  if (ocspUrl !== undefined || caIssuersUrl !== undefined) {
    result.push(
      new x509.AuthorityInfoAccessExtension({
        ...(ocspUrl !== undefined ? { ocsp: ocspUrl } : {}),
        ...(caIssuersUrl !== undefined ? { caIssuers: caIssuersUrl } : {}),
      }),
    );
  }
  if (crlUrl !== undefined) result.push(new x509.CRLDistributionPointsExtension([crlUrl]));
  return result;
}
