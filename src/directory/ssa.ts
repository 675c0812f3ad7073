import { randomUUID } from 'node:crypto';
import type { DirectoryContact } from '../store/schema/directory.ts';

/** The claim set of an Open Banking Software Statement Assertion, as the directory signs it. */
export interface SsaClaims {
  [claim: string]: unknown;
  iss: string;
  iat: number;
  jti: string;
  software_environment: 'sandbox' | 'production';
  software_mode: 'Test' | 'Live';
  software_id: string;
  software_client_id: string;
  software_client_name: string;
  software_client_description: string;
  software_version: string;
  software_client_uri: string;
  software_redirect_uris: string[];
  software_roles: string[];
  software_logo_uri: string;
  software_policy_uri: string;
  software_tos_uri: string;
  software_jwks_endpoint: string;
  software_jwks_revoked_endpoint: string;
  software_certificate_profile: 'obie' | 'eidas';
  organisation_competent_authority_claims: {
    authority_id: string;
    registration_id: string;
    status: string;
    authorisations: { member_state: string; roles: string[] }[];
  };
  org_id: string;
  org_name: string;
  org_status: string;
  org_contacts: DirectoryContact[];
  org_jwks_endpoint: string;
  org_jwks_revoked_endpoint: string;
  ob_registry_tos: string;
}

export interface SsaSubject {
  organisation: {
    id: string;
    name: string;
    status: string;
    countryCode: string;
    ncaName: string;
    ncaId: string;
    contacts: DirectoryContact[];
  };
  software: {
    id: string;
    clientName: string;
    description: string;
    version: string;
    roles: string[];
    redirectUris: string[];
    clientUri: string | null;
    logoUri: string | null;
    policyUri: string | null;
    tosUri: string | null;
    mode: string;
    certificateProfile: string;
  };
}

/** The directory's public addresses an SSA points to. */
export interface DirectoryAddresses {
  /** The SSA `iss`: the directory's base URL (`<browser URL>/directory`). */
  issuer: string;
  organisationJwks(orgId: string): string;
  organisationRevokedJwks(orgId: string): string;
  softwareJwks(orgId: string, softwareId: string): string;
  softwareRevokedJwks(orgId: string, softwareId: string): string;
  /** The public page of a software statement: its client URI, policy and terms when the TPP gave none. */
  softwarePage(softwareId: string): string;
  softwareLogo(softwareId: string): string;
  registryTos: string;
}

export function directoryAddresses(browserUrl: string): DirectoryAddresses {
  const base = `${browserUrl}/directory`;
  const api = `${base}/v1`;
  return {
    issuer: base,
    organisationJwks: (orgId) => `${api}/organisations/${orgId}/jwks`,
    organisationRevokedJwks: (orgId) => `${api}/organisations/${orgId}/jwks/revoked`,
    softwareJwks: (orgId, softwareId) => `${api}/organisations/${orgId}/software/${softwareId}/jwks`,
    softwareRevokedJwks: (orgId, softwareId) =>
      `${api}/organisations/${orgId}/software/${softwareId}/jwks/revoked`,
    softwarePage: (softwareId) => `${base}/software/${softwareId}`,
    softwareLogo: (softwareId) => `${api}/software/${softwareId}/logo.svg`,
    registryTos: `${base}/tos`,
  };
}

/**
 * The claims of a fresh SSA. Optional URIs the TPP left out point to the directory's public page of the
 * software (client, policy and terms) and to a logo the directory draws, so every claim holds a working
 * https URL.
 */
export function ssaClaims(
  subject: SsaSubject,
  addresses: DirectoryAddresses,
  environment: 'sandbox' | 'production',
  now: Date,
): SsaClaims {
  const { organisation: org, software } = subject;
  const page = addresses.softwarePage(software.id);
  return {
    iss: addresses.issuer,
    iat: Math.floor(now.getTime() / 1000),
    jti: randomUUID(),
    software_environment: environment,
    software_mode: software.mode === 'Live' ? 'Live' : 'Test',
    software_id: software.id,
    software_client_id: software.id,
    software_client_name: software.clientName,
    software_client_description: software.description,
    software_version: software.version,
    software_client_uri: software.clientUri ?? page,
    software_redirect_uris: [...software.redirectUris],
    software_roles: [...software.roles],
    software_logo_uri: software.logoUri ?? addresses.softwareLogo(software.id),
    software_policy_uri: software.policyUri ?? page,
    software_tos_uri: software.tosUri ?? page,
    software_jwks_endpoint: addresses.softwareJwks(org.id, software.id),
    software_jwks_revoked_endpoint: addresses.softwareRevokedJwks(org.id, software.id),
    software_certificate_profile: software.certificateProfile === 'eidas' ? 'eidas' : 'obie',
    organisation_competent_authority_claims: {
      authority_id: `${org.ncaName}${alpha3(org.countryCode)}`,
      registration_id: org.ncaId,
      status: org.status,
      authorisations: [{ member_state: org.countryCode, roles: [...software.roles] }],
    },
    org_id: org.id,
    org_name: org.name,
    org_status: org.status,
    org_contacts: org.contacts.map((contact) => ({ ...contact })),
    org_jwks_endpoint: addresses.organisationJwks(org.id),
    org_jwks_revoked_endpoint: addresses.organisationRevokedJwks(org.id),
    ob_registry_tos: addresses.registryTos,
  };
}

/** Open Banking writes the authority as NCA + ISO alpha-3 country (e.g. FCAGBR). */
function alpha3(countryCode: string): string {
  const known: Record<string, string> = {
    GB: 'GBR',
    IE: 'IRL',
    DE: 'DEU',
    FR: 'FRA',
    NL: 'NLD',
    ES: 'ESP',
    IT: 'ITA',
    BE: 'BEL',
    LU: 'LUX',
    LT: 'LTU',
    PL: 'POL',
    SE: 'SWE',
    DK: 'DNK',
    FI: 'FIN',
    AT: 'AUT',
    PT: 'PRT',
    CZ: 'CZE',
    GI: 'GIB',
  };
  return known[countryCode] ?? countryCode;
}

/**
 * The `http://openbanking.org.uk/tan` naming this directory as the trust anchor of its participants' message
 * signatures: its host (the live ecosystem's directory is `openbanking.org.uk`). The sandbox signs and
 * verifies with it unless configured otherwise (`messageSigningTrustAnchor` in src/server).
 */
export function directoryTrustAnchor(browserUrl: string): string {
  return new URL(browserUrl).host;
}
