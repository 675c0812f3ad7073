import type { Clock } from '../shared/clock.ts';
import type { Issuer } from './authority.ts';
import { PkiInputError } from './errors.ts';
import { signCertificate } from './issue.ts';
import type { IssuedCertificate, IssuedKeyAndCertificate } from './issued.ts';
import { exportPrivateKeyPem, generateRsaKeyPair, type CryptoKey } from './keys.ts';
import {
  checkPsd2Roles,
  qcStatementsExtension,
  type NationalCompetentAuthority,
  type Psd2Role,
  type QcStatementsContent,
} from './qc-statements.ts';
import { buildName } from './name.ts';
import { x509 } from './x509.ts';

/**
 * The certificates the directory issues to a participant:
 * - transport (mutual TLS): `obwac` (Open Banking) or `qwac` (eIDAS, with PSD2 QCStatements);
 * - signing (JWS): `obseal` or `qsealc` (eIDAS, with PSD2 QCStatements);
 * - encryption (JWE): `encryption`.
 * Open Banking profiles carry no roles: the software statement does. eIDAS ones carry them.
 */
export const certificateProfiles = ['obwac', 'qwac', 'obseal', 'qsealc', 'encryption'] as const;
export type CertificateProfile = (typeof certificateProfiles)[number];
export type CertificateUsage = 'transport' | 'signing' | 'encryption';

export const profileUsage: Readonly<Record<CertificateProfile, CertificateUsage>> = {
  obwac: 'transport',
  qwac: 'transport',
  obseal: 'signing',
  qsealc: 'signing',
  encryption: 'encryption',
};

export const organizationIdentifierOid = '2.5.4.97';

/** Who the certificate is for. Subject: CN = software id, OU = org id, 2.5.4.97, O, C. */
export interface ParticipantIdentity {
  readonly softwareId: string;
  readonly orgId: string;
  readonly organizationName: string;
  /** ETSI EN 319 412-1 §5.1.4 semantics identifier, e.g. `PSDGB-FCA-123456`. */
  readonly organizationIdentifier: string;
  /** ISO 3166 alpha-2; default GB. */
  readonly countryName?: string;
}

interface ProfileRequestBase {
  readonly subject: ParticipantIdentity;
  readonly validityDays?: number;
  readonly clock?: Clock;
}
export interface OpenBankingProfileRequest extends ProfileRequestBase {
  readonly profile: 'obwac' | 'obseal' | 'encryption';
}
export interface EidasProfileRequest extends ProfileRequestBase {
  readonly profile: 'qwac' | 'qsealc';
  readonly roles: readonly Psd2Role[];
  readonly nca: NationalCompetentAuthority;
  /** PKI disclosure statement URL (QcPDS), English. */
  readonly pdsUrl?: string;
}
export type ProfileRequest = OpenBankingProfileRequest | EidasProfileRequest;

/** The sandbox's stand-in for the UK regulator in PSD2 QCStatements. */
export const sandboxNca: NationalCompetentAuthority = { name: 'Financial Conduct Authority', id: 'GB-FCA' };

const defaultValidityDays = 2 * 365;

/** The key types a profile accepts: RSA (2048+) everywhere; EC P-256/P-384 for transport and signing. */
export type SubjectKeyKind = 'rsa' | 'ec';

export function subjectName(identity: ParticipantIdentity): x509.Name {
  const country = identity.countryName ?? 'GB';
  const checkField = (label: string, value: string, max = 64): string => {
    if (typeof value !== 'string' || value.trim() === '') {
      throw new PkiInputError('profile.invalid', `${label} is required`);
    }
    if (value.length > max)
      throw new PkiInputError('profile.invalid', `${label} is longer than ${max} characters`);
    if ([...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
      throw new PkiInputError('profile.invalid', `${label} contains control characters`);
    }
    return value;
  };
  if (!/^[A-Z]{2}$/.test(country)) {
    throw new PkiInputError('profile.invalid', `country "${country}" is not an ISO 3166 two-letter code`);
  }
  checkOrganizationIdentifier(identity.organizationIdentifier);
  // DER order: C, O, organizationIdentifier, OU, CN (RFC 4514: CN=…,OU=…,2.5.4.97=…,O=…,C=GB).
  return buildName([
    ['C', country],
    ['O', checkField('the organisation name', identity.organizationName)],
    [organizationIdentifierOid, identity.organizationIdentifier],
    ['OU', checkField('the organisation id', identity.orgId)],
    ['CN', checkField('the software id', identity.softwareId)],
  ]);
}

/** `PSD` + country + `-` + NCA (2-8 letters) + `-` + id; or a VAT / NTR legal-person identifier. */
export function checkOrganizationIdentifier(value: string): string {
  if (
    typeof value !== 'string' ||
    !/^(PSD[A-Z]{2}-[A-Z]{2,8}|VAT[A-Z]{2}|NTR[A-Z]{2})-[\x21-\x7e]{1,48}$/.test(value)
  ) {
    throw new PkiInputError(
      'profile.invalid',
      `organizationIdentifier "${String(value)}" does not follow ETSI EN 319 412-1 (e.g. PSDGB-FCA-123456)`,
    );
  }
  return value;
}

function profileExtensions(request: ProfileRequest, keyKind: SubjectKeyKind): x509.Extension[] {
  const flags = x509.KeyUsageFlags;
  const usage = profileUsage[request.profile];
  if (usage === 'encryption' && keyKind !== 'rsa') {
    throw new PkiInputError('profile.invalid', 'an encryption certificate needs an RSA key (RSA-OAEP)');
  }
  const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(false, undefined, true)];
  switch (usage) {
    case 'transport':
      extensions.push(
        new x509.KeyUsagesExtension(
          keyKind === 'rsa' ? flags.digitalSignature | flags.keyEncipherment : flags.digitalSignature,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([
          x509.ExtendedKeyUsage.clientAuth,
          x509.ExtendedKeyUsage.serverAuth,
        ]),
      );
      break;
    case 'signing':
      extensions.push(new x509.KeyUsagesExtension(flags.digitalSignature | flags.nonRepudiation, true));
      break;
    case 'encryption':
      extensions.push(new x509.KeyUsagesExtension(flags.keyEncipherment | flags.dataEncipherment, true));
      break;
  }
  if (request.profile === 'qwac' || request.profile === 'qsealc') {
    const roles = checkPsd2Roles(request.roles);
    const { nca } = request;
    const organizationIdentifier = request.subject.organizationIdentifier;
    if (organizationIdentifier.startsWith('PSD') && !organizationIdentifier.startsWith(`PSD${nca.id}-`)) {
      throw new PkiInputError(
        'profile.invalid',
        `organizationIdentifier "${organizationIdentifier}" does not name the NCA "${nca.id}" (expected PSD${nca.id}-…)`,
      );
    }
    if (!/^[A-Z]{2}-[A-Z]{2,8}$/.test(nca.id)) {
      throw new PkiInputError(
        'profile.invalid',
        `NCA id "${nca.id}" is not country-code "-" NCA (e.g. GB-FCA)`,
      );
    }
    const content: QcStatementsContent = {
      qcCompliance: true,
      qcTypes: [request.profile === 'qwac' ? 'web' : 'eseal'],
      psd2: { roles, nca },
      ...(request.pdsUrl ? { pds: [{ url: request.pdsUrl, language: 'en' }] } : {}),
    };
    extensions.push(qcStatementsExtension(content));
  }
  return extensions;
}

/** Signs a participant certificate of `request.profile` for a public key the participant holds. */
export async function issueProfileCertificate(
  issuer: Issuer,
  request: ProfileRequest,
  publicKey: CryptoKey | x509.PublicKey,
  keyKind: SubjectKeyKind,
): Promise<IssuedCertificate> {
  if (!(certificateProfiles as readonly string[]).includes(request.profile)) {
    throw new PkiInputError(
      'profile.invalid',
      `unknown certificate profile "${String(request.profile)}"; expected ${certificateProfiles.join(', ')}`,
    );
  }
  const validityDays = request.validityDays ?? defaultValidityDays;
  if (!Number.isInteger(validityDays) || validityDays < 1 || validityDays > 825) {
    throw new PkiInputError('profile.invalid', 'validity must be a whole number of days between 1 and 825');
  }
  const certificate = await signCertificate(
    issuer,
    {
      subject: subjectName(request.subject),
      publicKey,
      validityDays,
      extensions: profileExtensions(request, keyKind),
    },
    { clock: request.clock },
  );
  const certificatePem = `${certificate.toString('pem')}\n`;
  return {
    certificate,
    certificatePem,
    chainPem: issuer.chainPem,
    fullChainPem: `${certificatePem}${issuer.certificatePem}\n`,
  };
}

/** Generates an RSA-2048 key pair and issues the certificate for it: the "let the directory make my keys" path. */
export async function issueProfileCertificateWithNewKey(
  issuer: Issuer,
  request: ProfileRequest,
): Promise<IssuedKeyAndCertificate> {
  const keys = await generateRsaKeyPair();
  const issued = await issueProfileCertificate(issuer, request, keys.publicKey, 'rsa');
  return { ...issued, privateKeyPem: await exportPrivateKeyPem(keys.privateKey) };
}
