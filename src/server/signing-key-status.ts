import { X509Certificate } from 'node:crypto';
import { describeClientCertificate, type ClientCertificate } from '../shared/client-certificate.ts';
import { publishedRevocationOf, type SigningKeyStatus } from '../shared/signing-key-status.ts';
import type { CertificateStatusGate } from './certificate-status.ts';

const MAX_PARSED = 10_000;

/**
 * A signing key's status as the certificate-status gate sees its `x5c` certificate: the same OCSP/CRL
 * answers, kept as long and dropped on the same directory NOTIFY as transport certificates' — one
 * revocation cache for both. A key its JWKS marks revoked is refused without asking. A key without `x5c`,
 * or whose certificate no configured CA issued, is as good as the JWKS that lists it: its authority is the
 * directory that published it, not a certificate we could check.
 */
export function signingKeyStatusOf(gate: CertificateStatusGate): SigningKeyStatus {
  const parsed = new Map<string, ClientCertificate | undefined>();
  const certificateOf = (x5c: string): ClientCertificate | undefined => {
    if (parsed.has(x5c)) return parsed.get(x5c);
    let certificate: ClientCertificate | undefined;
    try {
      certificate = describeClientCertificate(new X509Certificate(Buffer.from(x5c, 'base64')), 'tls');
    } catch {
      certificate = undefined;
    }
    if (parsed.size >= MAX_PARSED) parsed.delete(parsed.keys().next().value ?? '');
    parsed.set(x5c, certificate);
    return certificate;
  };
  return {
    async refusalOf(jwk) {
      const published = publishedRevocationOf(jwk);
      if (published) return published;
      const leaf = jwk.x5c?.[0];
      if (typeof leaf !== 'string') return undefined;
      const certificate = certificateOf(leaf);
      if (!certificate) return `the x5c of signing key ${jwk.kid ?? '(no kid)'} is not a certificate`;
      const status = await gate.check(certificate);
      if (status.accepted || status.foreignIssuer) return undefined;
      return `the certificate of signing key ${jwk.kid ?? '(no kid)'} ${status.revoked ? 'is revoked' : 'cannot be trusted'}: ${status.detail}`;
    },
  };
}
