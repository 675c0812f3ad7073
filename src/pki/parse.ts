import { createHash } from 'node:crypto';
import { toX509, type CertificateInput } from './certificate-input.ts';
import { dnAttribute, dnFromDer, formatDn } from './dn.ts';
import { organizationIdentifierOid, type CertificateProfile, type CertificateUsage } from './profiles.ts';
import { readQcStatements, type NationalCompetentAuthority, type Psd2Role } from './qc-statements.ts';
import { x509 } from './x509.ts';

/** What a participant certificate says about its holder. */
export interface ParticipantCertificateInfo {
  /** OU. */
  readonly orgId: string | undefined;
  /** CN. */
  readonly softwareId: string | undefined;
  /** O. */
  readonly organizationName: string | undefined;
  /** 2.5.4.97, e.g. PSDGB-FCA-123456. */
  readonly organizationIdentifier: string | undefined;
  /** PSD2 roles from the ETSI QCStatement; undefined when the certificate states none (Open Banking profiles). */
  readonly roles: readonly Psd2Role[] | undefined;
  readonly nca: NationalCompetentAuthority | undefined;
  readonly profile: CertificateProfile | 'unknown';
  readonly usage: CertificateUsage | 'unknown';
  /** Carries the ETSI qcCompliance statement. */
  readonly qualified: boolean;
  /** RFC 4514. */
  readonly subjectDn: string;
  readonly issuerDn: string;
  /** Lower-case hex. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** base64url SHA-256 of the DER: RFC 8705 `x5t#S256`. */
  readonly thumbprintS256: string;
}

/** Reads any certificate back into the participant's identity, roles and profile. */
export function parseParticipantCertificate(input: CertificateInput): ParticipantCertificateInfo {
  const certificate = toX509(input);
  const subject = dnFromDer(certificate.subjectName.toArrayBuffer());
  const qc = readQcStatements(certificate);
  const { profile, usage } = detectProfile(certificate, qc?.qcTypes ?? []);
  return {
    orgId: dnAttribute(subject, '2.5.4.11'),
    softwareId: dnAttribute(subject, '2.5.4.3'),
    organizationName: dnAttribute(subject, '2.5.4.10'),
    organizationIdentifier: dnAttribute(subject, organizationIdentifierOid),
    roles: qc?.psd2?.roles,
    nca: qc?.psd2?.nca,
    profile,
    usage,
    qualified: qc?.qcCompliance ?? false,
    subjectDn: formatDn(subject),
    issuerDn: formatDn(dnFromDer(certificate.issuerName.toArrayBuffer())),
    serialNumber: certificate.serialNumber.toLowerCase(),
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    thumbprintS256: createHash('sha256').update(new Uint8Array(certificate.rawData)).digest('base64url'),
  };
}

/**
 * Whether a participant certificate was issued to this software of this organisation, as the directory
 * issues them: an OBWAC names the software (CN) and its organisation (OU); a QWAC names the organisation in
 * its organizationIdentifier (`PSDGB-FCA-<org id>` or the org id itself). What DCR accepts as a software's
 * transport certificate, and what the bank accepts as the server certificate of its event callback.
 */
export function certificateNamesSoftware(
  identity: Pick<ParticipantCertificateInfo, 'softwareId' | 'orgId' | 'organizationIdentifier'>,
  software: { softwareId: string | undefined; orgId: string | undefined },
): boolean {
  const { softwareId, orgId } = software;
  const obwac =
    softwareId !== undefined &&
    identity.softwareId === softwareId &&
    (identity.orgId === undefined || identity.orgId === orgId);
  const qwac =
    identity.organizationIdentifier !== undefined &&
    orgId !== undefined &&
    (identity.organizationIdentifier === orgId || identity.organizationIdentifier.endsWith(`-${orgId}`));
  return obwac || qwac;
}

function detectProfile(
  certificate: x509.X509Certificate,
  qcTypes: readonly string[],
): { profile: CertificateProfile | 'unknown'; usage: CertificateUsage | 'unknown' } {
  if (certificate.getExtension(x509.BasicConstraintsExtension)?.ca)
    return { profile: 'unknown', usage: 'unknown' };
  if (qcTypes.includes('web')) return { profile: 'qwac', usage: 'transport' };
  if (qcTypes.includes('eseal')) return { profile: 'qsealc', usage: 'signing' };
  const eku = certificate.getExtension(x509.ExtendedKeyUsageExtension)?.usages.map(String) ?? [];
  const keyUsage = certificate.getExtension(x509.KeyUsagesExtension)?.usages ?? 0;
  const flags = x509.KeyUsageFlags;
  if (eku.includes(x509.ExtendedKeyUsage.clientAuth)) return { profile: 'obwac', usage: 'transport' };
  if (keyUsage & flags.nonRepudiation || (keyUsage & flags.digitalSignature && eku.length === 0)) {
    return { profile: 'obseal', usage: 'signing' };
  }
  if (keyUsage & (flags.keyEncipherment | flags.dataEncipherment) && eku.length === 0) {
    return { profile: 'encryption', usage: 'encryption' };
  }
  return { profile: 'unknown', usage: 'unknown' };
}
