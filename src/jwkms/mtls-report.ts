import type { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { DirectoryService } from '../directory/index.ts';
import { parseParticipantCertificate } from '../pki/index.ts';
import { certificateVerdictOf } from '../shared/client-certificate.ts';

export interface MtlsReport {
  presented: boolean;
  trusted: boolean;
  reason?: string;
  via?: 'tls' | 'proxy-header';
  certificate?: {
    subject: string;
    issuer: string;
    serialNumber: string;
    notBefore: string;
    notAfter: string;
  };
  participant?: {
    orgId?: string;
    softwareId?: string;
    roles?: readonly string[];
    profile: string;
    usage: string;
  };
  issuedByThisDirectory: boolean;
  revocation: 'good' | 'revoked' | 'unknown';
}

const oneLine = (dn: string): string => dn.split('\n').join(', ');

/** "Test my mTLS": what certificate reached the bank, whether it is trusted, whose it is, and whether it is revoked. */
export async function mtlsReport(request: IncomingMessage, directory: DirectoryService): Promise<MtlsReport> {
  const verdict = certificateVerdictOf(request);
  const x509: X509Certificate | undefined = verdict?.trusted ? verdict.certificate.x509 : verdict?.presented;
  if (!verdict || !x509) {
    return {
      presented: false,
      trusted: false,
      reason: verdict && !verdict.trusted ? verdict.detail : 'no client certificate was presented',
      issuedByThisDirectory: false,
      revocation: 'unknown',
    };
  }
  let participant: MtlsReport['participant'];
  try {
    const info = parseParticipantCertificate(x509.raw);
    participant = {
      ...(info.orgId ? { orgId: info.orgId } : {}),
      ...(info.softwareId ? { softwareId: info.softwareId } : {}),
      ...(info.roles ? { roles: info.roles } : {}),
      profile: info.profile,
      usage: info.usage,
    };
  } catch {
    participant = undefined;
  }
  const status = await directory.revocationStatus(x509.serialNumber);
  return {
    presented: true,
    trusted: verdict.trusted,
    ...(verdict.trusted ? { via: verdict.certificate.source } : { reason: verdict.detail }),
    certificate: {
      subject: oneLine(x509.subject),
      issuer: oneLine(x509.issuer),
      serialNumber: x509.serialNumber.toLowerCase(),
      notBefore: new Date(x509.validFrom).toISOString(),
      notAfter: new Date(x509.validTo).toISOString(),
    },
    ...(participant ? { participant } : {}),
    issuedByThisDirectory: status.status !== 'unknown',
    revocation: status.status,
  };
}
