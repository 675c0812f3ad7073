import { createHash } from 'node:crypto';
import * as pkijs from 'pkijs';
import type { x509 } from './x509.ts';

export const ocspOids = {
  basic: '1.3.6.1.5.5.7.48.1.1',
  nonce: '1.3.6.1.5.5.7.48.1.2',
  noCheck: '1.3.6.1.5.5.7.48.1.5',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
} as const;

/** CertID hash algorithms we answer for: SHA-1 (what most clients, openssl included, send) and SHA-2. */
const certIdHashes: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

export function certIdHashName(oid: string): string | undefined {
  return certIdHashes[oid];
}

export function toPkijsCertificate(certificate: x509.X509Certificate): pkijs.Certificate {
  return pkijs.Certificate.fromBER(new Uint8Array(certificate.rawData));
}

/** The subjectPublicKey BIT STRING contents of a certificate: what issuerKeyHash and byKey hash. */
export function subjectPublicKeyBits(certificate: pkijs.Certificate): Uint8Array {
  return certificate.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
}

/** issuerNameHash and issuerKeyHash of `issuer` under the hash named by `hashOid`. */
export function issuerHashes(
  issuer: pkijs.Certificate,
  hashOid: string,
): { nameHash: Buffer; keyHash: Buffer } | undefined {
  const hash = certIdHashName(hashOid);
  if (!hash) return undefined;
  return {
    nameHash: createHash(hash).update(new Uint8Array(issuer.subject.toSchema().toBER())).digest(),
    keyHash: createHash(hash).update(subjectPublicKeyBits(issuer)).digest(),
  };
}

/** Whole seconds: GeneralizedTime in OCSP and CRLs carries no fraction. */
export function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

export function serialHex(integer: { valueBlock: { valueHexView: Uint8Array } }): string {
  return Buffer.from(integer.valueBlock.valueHexView).toString('hex');
}
