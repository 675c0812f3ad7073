import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { decodeDer } from './asn1.ts';
import { PkiInputError, describe } from './errors.ts';
import { x509 } from './x509.ts';

/** Every form a certificate reaches us in. */
export type CertificateInput = string | Uint8Array | x509.X509Certificate | NodeX509Certificate;

/** Reads one certificate (PEM, DER, @peculiar or node object); PkiInputError says what is wrong. */
export function toX509(input: CertificateInput): x509.X509Certificate {
  if (input instanceof x509.X509Certificate) return input;
  let der: Uint8Array;
  if (input instanceof NodeX509Certificate) der = new Uint8Array(input.raw);
  else if (input instanceof Uint8Array) der = input;
  else if (typeof input === 'string') {
    const match = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(input);
    if (!match)
      throw new PkiInputError('certificate.malformed', 'expected a PEM "-----BEGIN CERTIFICATE-----" block');
    der = Uint8Array.from(Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64'));
  } else {
    throw new PkiInputError('certificate.malformed', 'expected a certificate as PEM text or DER bytes');
  }
  decodeDer(der, 'the certificate', 'certificate.malformed');
  try {
    return new x509.X509Certificate(der);
  } catch (error) {
    throw new PkiInputError('certificate.malformed', `not an X.509 certificate: ${describe(error)}`, {
      cause: error,
    });
  }
}

/** All certificates in a PEM bundle, in order. */
export function certificatesFromPem(pem: string): x509.X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => toX509(block));
}
