/** src/pki: the sandbox CA, certificate profiles, CSR signing, revocation. A library: no HTTP. */
export { x509 } from './x509.ts';
export { CaStoreError, PkiInputError, type PkiInputErrorCode } from './errors.ts';
export {
  withRevocationEndpoints,
  type CertificateAuthority,
  type Issuer,
  type RevocationEndpoints,
} from './authority.ts';
export {
  loadOrCreateSandboxAuthorities,
  type SandboxAuthorities,
  type SandboxAuthoritiesOptions,
} from './sandbox-authorities.ts';
export type { IssuedCertificate, IssuedKeyAndCertificate } from './issued.ts';
export { issueServerCertificate, type ServerCertificateRequest } from './server-certificate.ts';
export { issueClientCertificate, type ClientCertificateRequest } from './client-certificate.ts';
export { exportPrivateKeyPem, generateRsaKeyPair, importPrivateKeyPem } from './keys.ts';
export {
  certificateProfiles,
  checkOrganizationIdentifier,
  issueProfileCertificate,
  issueProfileCertificateWithNewKey,
  organizationIdentifierOid,
  profileUsage,
  sandboxNca,
  subjectName,
  type CertificateProfile,
  type CertificateUsage,
  type EidasProfileRequest,
  type OpenBankingProfileRequest,
  type ParticipantIdentity,
  type ProfileRequest,
  type SubjectKeyKind,
} from './profiles.ts';
export {
  checkPsd2Roles,
  isPsd2Role,
  obRoleOfPsd2Role,
  obRoles,
  psd2RoleOfObRole,
  psd2RolesOfObRoles,
  type ObRole,
  psd2RoleOids,
  psd2Roles,
  qcOids,
  qcStatementsExtension,
  readQcStatements,
  type NationalCompetentAuthority,
  type Psd2Role,
  type QcStatementsContent,
  type QcType,
} from './qc-statements.ts';
export { checkCsr, csrDer, issueCertificateFromCsr, type CheckedCsr } from './csr.ts';
export {
  certificateNamesSoftware,
  parseParticipantCertificate,
  type ParticipantCertificateInfo,
} from './parse.ts';
export { certificatesFromPem, toX509, type CertificateInput } from './certificate-input.ts';
export {
  canonicalDn,
  dnAttribute,
  dnEquals,
  dnFromDer,
  dnToString,
  formatDn,
  parseDn,
  type DnAttribute,
  type DnRdn,
  type ParsedDn,
} from './dn.ts';
export {
  ChainValidationError,
  validateChain,
  type CertificatePurpose,
  type ChainValidationCode,
  type ChainValidationOptions,
  type ValidatedChain,
} from './chain.ts';
export {
  normalizeSerial,
  reasonName,
  revocationReasons,
  type CertificateStatus,
  type RevocationReason,
} from './revocation-reason.ts';
export { generateCrl, type CrlOptions, type RevokedCertificateEntry } from './crl.ts';
export {
  answerOcsp,
  issueOcspResponderCertificate,
  type OcspResponderConfig,
  type OcspStatusLookup,
} from './ocsp-responder.ts';
export { CrlError, readCrl, type VerifiedCrl } from './crl.ts';
export {
  OcspResponseError,
  buildOcspRequest,
  readOcspResponse,
  type OcspAnswer,
  type OcspRequestBuilt,
  type ReadOcspOptions,
} from './ocsp-client.ts';
export {
  RevocationChecker,
  RevocationError,
  httpRevocationFetchers,
  type RevocationCheckerOptions,
  type RevocationFetchers,
  type RevocationVerdict,
} from './revocation-checker.ts';
