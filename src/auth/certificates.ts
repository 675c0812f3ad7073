import type { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { dnEquals, parseParticipantCertificate } from '../pki/index.ts';

/**
 * Matching a verified client certificate against what a client registered (RFC 8705 §2.1.2
 * `tls_client_auth_*` metadata) and against the software it was issued to (Open Banking: an OBWAC names
 * the organisation in OU and the software in CN; an eIDAS QWAC names the organisation in
 * organizationIdentifier).
 */

/** The subject DN of a certificate in RFC 4514 form (what `tls_client_auth_subject_dn` holds). */
export function subjectDnOf(certificate: X509Certificate): string {
  return parseParticipantCertificate(certificate).subjectDn;
}

/** Same subject whatever the attribute order, spelling of types, or case of values (pki's DN rules). */
export function subjectDnMatches(certificate: X509Certificate, expected: string): boolean {
  try {
    return dnEquals(subjectDnOf(certificate), expected);
  } catch {
    return false;
  }
}

function subjectAltNames(certificate: X509Certificate): { type: string; value: string }[] {
  const text = certificate.subjectAltName;
  if (!text) return [];
  // Node writes "DNS:a, IP Address:1.2.3.4, URI:https://…, email:x@y"; values with commas are quoted.
  const names: { type: string; value: string }[] = [];
  for (const match of text.matchAll(/(DNS|IP Address|URI|email):("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    const type = match[1] ?? '';
    let value = match[2] ?? '';
    if (value.startsWith('"')) value = JSON.parse(value) as string;
    names.push({ type, value: value.trim() });
  }
  return names;
}

function normaliseIp(value: string): string {
  if (isIP(value) === 6) {
    try {
      return new URL(`http://[${value}]/`).hostname;
    } catch {
      return value;
    }
  }
  return value;
}

/** `features.mTLS.certificateSubjectMatches`: one registered `tls_client_auth_*` value against the cert. */
export function certificateSubjectMatches(
  certificate: X509Certificate,
  property: string,
  expected: string,
): boolean {
  switch (property) {
    case 'tls_client_auth_subject_dn':
      return subjectDnMatches(certificate, expected);
    case 'tls_client_auth_san_dns':
      return subjectAltNames(certificate).some(
        (name) => name.type === 'DNS' && name.value.toLowerCase() === expected.toLowerCase(),
      );
    case 'tls_client_auth_san_uri':
      return subjectAltNames(certificate).some((name) => name.type === 'URI' && name.value === expected);
    case 'tls_client_auth_san_ip':
      return subjectAltNames(certificate).some(
        (name) => name.type === 'IP Address' && normaliseIp(name.value) === normaliseIp(expected),
      );
    case 'tls_client_auth_san_email':
      return subjectAltNames(certificate).some(
        (name) => name.type === 'email' && name.value.toLowerCase() === expected.toLowerCase(),
      );
    default:
      return false;
  }
}

export interface CertificateIdentity {
  commonName: string | undefined;
  organizationalUnit: string | undefined;
  organizationIdentifier: string | undefined;
}

/** Parsed identities by SHA-256 fingerprint: a TPP presents the same certificate on every call. */
const identities = new Map<string, CertificateIdentity>();
const IDENTITY_CACHE_SIZE = 1000;

export function certificateIdentity(certificate: X509Certificate): CertificateIdentity {
  const key = certificate.fingerprint256;
  const cached = identities.get(key);
  if (cached) return cached;
  const parsed = parseParticipantCertificate(certificate);
  const identity = {
    commonName: parsed.softwareId,
    organizationalUnit: parsed.orgId,
    organizationIdentifier: parsed.organizationIdentifier,
  };
  if (identities.size >= IDENTITY_CACHE_SIZE) {
    const oldest = identities.keys().next().value;
    if (oldest !== undefined) identities.delete(oldest);
  }
  identities.set(key, identity);
  return identity;
}

/**
 * Whether a transport certificate was issued to this software of this organisation: an OBWAC carries
 * the software id in CN and the organisation id in OU; an eIDAS QWAC carries the organisation in
 * organizationIdentifier (`PSDGB-FCA-123456`, or the directory's `PSDGB-OB-<org id>` form).
 */
export function certificateBelongsToSoftware(
  certificate: X509Certificate,
  software: { softwareId: string; orgId?: string | undefined },
): boolean {
  const identity = certificateIdentity(certificate);
  if (identity.commonName === software.softwareId) {
    return software.orgId === undefined || identity.organizationalUnit === undefined
      ? true
      : identity.organizationalUnit === software.orgId ||
          identity.organizationIdentifier?.endsWith(software.orgId) === true;
  }
  if (software.orgId !== undefined && identity.organizationIdentifier !== undefined) {
    const orgId = identity.organizationIdentifier;
    return orgId === software.orgId || orgId.endsWith(`-${software.orgId}`);
  }
  return false;
}
