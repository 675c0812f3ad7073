import { systemClock, type Clock } from '../shared/clock.ts';
import { certificatesFromPem, toX509, type CertificateInput } from './certificate-input.ts';
import { canonicalDn, dnToString } from './dn.ts';
import { x509 } from './x509.ts';

/** What the leaf will be used for: checked against its key usage and extended key usage. */
export type CertificatePurpose = 'clientAuth' | 'serverAuth' | 'signing' | 'encryption' | 'any';

export interface ChainValidationOptions {
  /** Certificates trusted as path ends (usually the root): PEM bundle or list. */
  readonly trustAnchors: string | readonly CertificateInput[];
  /** Untrusted certificates that may complete the path (usually the issuing CA). */
  readonly intermediates?: string | readonly CertificateInput[];
  readonly clock?: Clock;
  readonly purpose?: CertificatePurpose;
  /** Longest accepted path, leaf and anchor included. Default 5. */
  readonly maxLength?: number;
}

export type ChainValidationCode =
  | 'untrusted'
  | 'signature'
  | 'expired'
  | 'not-yet-valid'
  | 'not-a-ca'
  | 'path-length'
  | 'key-usage'
  | 'extended-key-usage'
  | 'end-entity-is-ca'
  | 'critical-extension'
  | 'too-long';

export class ChainValidationError extends Error {
  readonly code: ChainValidationCode;
  /** RFC 4514 subject of the certificate that failed. */
  readonly subject: string;
  constructor(code: ChainValidationCode, subject: string, message: string) {
    super(message);
    this.name = 'ChainValidationError';
    this.code = code;
    this.subject = subject;
  }
}

export interface ValidatedChain {
  /** Leaf first, trust anchor last. */
  readonly path: readonly x509.X509Certificate[];
  readonly anchor: x509.X509Certificate;
}

/** Extensions whose meaning we enforce (or that cannot change the verdict); any other critical one fails. */
const understoodExtensions = new Set([
  '2.5.29.19', // basicConstraints
  '2.5.29.15', // keyUsage
  '2.5.29.37', // extKeyUsage
  '2.5.29.17', // subjectAltName
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.31', // cRLDistributionPoints
  '2.5.29.32', // certificatePolicies
  '1.3.6.1.5.5.7.1.1', // authorityInfoAccess
  '1.3.6.1.5.5.7.1.3', // qcStatements
]);
const anyExtendedKeyUsage = '2.5.29.37.0';

function list(input: string | readonly CertificateInput[] | undefined): x509.X509Certificate[] {
  if (input === undefined) return [];
  return typeof input === 'string' ? certificatesFromPem(input) : input.map((item) => toX509(item));
}

const subjectOf = (certificate: x509.X509Certificate): string =>
  dnToString(certificate.subjectName.toArrayBuffer());

const sameDer = (a: x509.X509Certificate, b: x509.X509Certificate): boolean =>
  Buffer.from(a.rawData).equals(Buffer.from(b.rawData));

/**
 * Validates `leaf` up to one of the trust anchors (RFC 5280 §6, the parts a closed PKI needs): every
 * signature, every validity period at the clock's time, CA basicConstraints and keyCertSign on issuers,
 * path length constraints, unknown critical extensions, and the leaf's key usage / EKU for `purpose`.
 * Throws ChainValidationError naming the certificate and the check that failed.
 */
export async function validateChain(
  leafInput: CertificateInput,
  options: ChainValidationOptions,
): Promise<ValidatedChain> {
  const leaf = toX509(leafInput);
  const anchors = list(options.trustAnchors);
  const pool = [...anchors, ...list(options.intermediates)];
  const now = (options.clock ?? systemClock).now();
  const maxLength = options.maxLength ?? 5;
  checkPurpose(leaf, options.purpose ?? 'any');

  const path: x509.X509Certificate[] = [leaf];
  let current = leaf;
  for (;;) {
    checkValidity(current, now);
    checkCriticalExtensions(current);
    if (anchors.some((anchor) => sameDer(anchor, current))) return { path, anchor: current };
    if (path.length >= maxLength) {
      throw new ChainValidationError(
        'too-long',
        subjectOf(leaf),
        `no trust anchor within ${maxLength} certificates`,
      );
    }
    const issuerKey = canonicalDn(dnToString(current.issuerName.toArrayBuffer()));
    const authorityKeyId = current.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
    const candidates = pool.filter(
      (candidate) =>
        !sameDer(candidate, current) &&
        canonicalDn(subjectOf(candidate)) === issuerKey &&
        (authorityKeyId === undefined ||
          candidate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId === undefined ||
          candidate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId === authorityKeyId),
    );
    let issuer: x509.X509Certificate | undefined;
    for (const candidate of candidates) {
      if (await verifies(current, candidate)) {
        issuer = candidate;
        break;
      }
    }
    if (!issuer) {
      if (candidates.length > 0) {
        throw new ChainValidationError(
          'signature',
          subjectOf(current),
          `the signature of "${subjectOf(current)}" does not verify with the key of its issuer "${subjectOf(candidates[0]!)}"`,
        );
      }
      throw new ChainValidationError(
        'untrusted',
        subjectOf(current),
        `"${subjectOf(current)}" was issued by "${dnToString(current.issuerName.toArrayBuffer())}", which is neither a trust anchor nor a supplied intermediate`,
      );
    }
    checkCa(issuer, path.length - 1);
    path.push(issuer);
    current = issuer;
  }
}

async function verifies(certificate: x509.X509Certificate, issuer: x509.X509Certificate): Promise<boolean> {
  try {
    return await certificate.verify({ publicKey: issuer.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

function checkValidity(certificate: x509.X509Certificate, now: Date): void {
  if (now < certificate.notBefore) {
    throw new ChainValidationError(
      'not-yet-valid',
      subjectOf(certificate),
      `"${subjectOf(certificate)}" is not valid before ${certificate.notBefore.toISOString()}`,
    );
  }
  if (now > certificate.notAfter) {
    throw new ChainValidationError(
      'expired',
      subjectOf(certificate),
      `"${subjectOf(certificate)}" expired on ${certificate.notAfter.toISOString()}`,
    );
  }
}

function checkCriticalExtensions(certificate: x509.X509Certificate): void {
  for (const extension of certificate.extensions) {
    if (extension.critical && !understoodExtensions.has(extension.type)) {
      throw new ChainValidationError(
        'critical-extension',
        subjectOf(certificate),
        `"${subjectOf(certificate)}" has a critical extension ${extension.type} we do not process`,
      );
    }
  }
}

/** `below` = number of intermediate CA certificates between this issuer and the leaf. */
function checkCa(issuer: x509.X509Certificate, below: number): void {
  const constraints = issuer.getExtension(x509.BasicConstraintsExtension);
  if (!constraints?.ca) {
    throw new ChainValidationError(
      'not-a-ca',
      subjectOf(issuer),
      `"${subjectOf(issuer)}" signed a certificate but is not a CA (basicConstraints cA is not true)`,
    );
  }
  const keyUsage = issuer.getExtension(x509.KeyUsagesExtension);
  if (keyUsage && !(keyUsage.usages & x509.KeyUsageFlags.keyCertSign)) {
    throw new ChainValidationError(
      'key-usage',
      subjectOf(issuer),
      `"${subjectOf(issuer)}" is a CA whose key usage does not allow keyCertSign`,
    );
  }
  if (constraints.pathLength !== undefined && below > constraints.pathLength) {
    throw new ChainValidationError(
      'path-length',
      subjectOf(issuer),
      `"${subjectOf(issuer)}" allows ${constraints.pathLength} intermediate CA(s) below it, found ${below}`,
    );
  }
}

function checkPurpose(leaf: x509.X509Certificate, purpose: CertificatePurpose): void {
  if (purpose === 'any') return;
  if (leaf.getExtension(x509.BasicConstraintsExtension)?.ca) {
    throw new ChainValidationError(
      'end-entity-is-ca',
      subjectOf(leaf),
      `"${subjectOf(leaf)}" is a CA certificate, not an end entity`,
    );
  }
  const flags = x509.KeyUsageFlags;
  const keyUsage = leaf.getExtension(x509.KeyUsagesExtension)?.usages;
  const ekus = leaf.getExtension(x509.ExtendedKeyUsageExtension)?.usages.map(String);
  const needUsage = (mask: number, words: string): void => {
    if (keyUsage !== undefined && !(keyUsage & mask)) {
      throw new ChainValidationError(
        'key-usage',
        subjectOf(leaf),
        `"${subjectOf(leaf)}" has no ${words} key usage`,
      );
    }
  };
  const needEku = (oid: string, words: string): void => {
    if (ekus !== undefined && !ekus.includes(oid) && !ekus.includes(anyExtendedKeyUsage)) {
      throw new ChainValidationError(
        'extended-key-usage',
        subjectOf(leaf),
        `"${subjectOf(leaf)}" is not allowed for ${words} (extended key usage lacks ${oid})`,
      );
    }
  };
  switch (purpose) {
    case 'clientAuth':
      needUsage(flags.digitalSignature | flags.keyAgreement, 'digitalSignature');
      needEku(x509.ExtendedKeyUsage.clientAuth, 'TLS client authentication');
      break;
    case 'serverAuth':
      needUsage(flags.digitalSignature | flags.keyEncipherment | flags.keyAgreement, 'digitalSignature');
      needEku(x509.ExtendedKeyUsage.serverAuth, 'TLS server authentication');
      break;
    case 'signing':
      needUsage(flags.digitalSignature | flags.nonRepudiation, 'digitalSignature or nonRepudiation');
      break;
    case 'encryption':
      needUsage(flags.keyEncipherment | flags.dataEncipherment | flags.keyAgreement, 'keyEncipherment');
      break;
  }
}
