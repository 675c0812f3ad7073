import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * The Open Banking Directory (src/directory): organisations, their software statements, the
 * certificates issued to them (the source of every JWKS and of revocation status), the directory's own
 * SSA-signing keys, and the banks (ASPSPs) TPPs can find.
 */

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export interface DirectoryContact {
  name: string;
  email: string;
  phone?: string;
  type?: string;
}

export const directoryOrganisations = pgTable('directory_organisations', {
  /** Open Banking style organisation id: 18 characters, letters and digits. */
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  countryCode: text('country_code').notNull(),
  ncaName: text('nca_name').notNull(),
  ncaId: text('nca_id').notNull(),
  /** ETSI EN 319 412-1 organisationIdentifier, e.g. `PSDGB-FCA-123456`. */
  organizationIdentifier: text('organization_identifier').notNull(),
  /**
   * `Active`, `Suspended` or `Revoked` (the SSA's `org_status`, the MLA status API's `MLAStatus`); only the
   * operator changes it.
   */
  status: text('status').notNull().default('Active'),
  /** When `status` last changed (the MLA status API's `MLAStatusUpdated`); null: never, since creation. */
  statusUpdatedAt: ts('status_updated_at'),
  contacts: jsonb('contacts').$type<DirectoryContact[]>().notNull().default([]),
  /** SHA-256 (hex) of the secret that lets a browser manage this organisation on the web pages. */
  managementSecretHash: text('management_secret_hash'),
  createdAt: ts('created_at').notNull(),
});

export const directorySoftware = pgTable(
  'directory_software',
  {
    /** Software id: 22 characters, letters and digits; the CN of its certificates. */
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => directoryOrganisations.id),
    clientName: text('client_name').notNull(),
    description: text('description').notNull(),
    version: text('version').notNull(),
    /** Open Banking roles: AISP, PISP, CBPII, ASPSP. */
    roles: jsonb('roles').$type<string[]>().notNull(),
    redirectUris: jsonb('redirect_uris').$type<string[]>().notNull(),
    clientUri: text('client_uri'),
    logoUri: text('logo_uri'),
    policyUri: text('policy_uri'),
    tosUri: text('tos_uri'),
    /** `Test` or `Live`. */
    mode: text('mode').notNull(),
    /** `obie` (OBWAC/OBSEAL) or `eidas` (QWAC/QSealC). */
    certificateProfile: text('certificate_profile').notNull(),
    /** `Active`, `Suspended` or `Revoked`; only the operator changes it. */
    status: text('status').notNull().default('Active'),
    /** When `status` last changed; null: never, since creation. */
    statusUpdatedAt: ts('status_updated_at'),
    createdAt: ts('created_at').notNull(),
  },
  (table) => [index('directory_software_org_idx').on(table.orgId)],
);

/**
 * Every certificate the directory issued to a software statement. A key is listed in the software's
 * JWKS while `status = 'active'` and `listed_until` (rotation overlap) has not passed; in the revoked
 * JWKS once `status = 'revoked'`. OCSP and the CRL read `status` and `revoked_at`.
 */
export const directoryCertificates = pgTable(
  'directory_certificates',
  {
    kid: text('kid').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => directoryOrganisations.id),
    softwareId: text('software_id')
      .notNull()
      .references(() => directorySoftware.id),
    /** `transport`, `signing` or `encryption`. */
    type: text('type').notNull(),
    /** Lower-case hex, no leading zeros beyond what DER carries. */
    serialNumber: text('serial_number').notNull(),
    issuerName: text('issuer_name').notNull(),
    certificatePem: text('certificate_pem').notNull(),
    /** base64url SHA-256 of the DER certificate (`x5t#S256`); finds the caller's transport certificate. */
    thumbprintS256: text('thumbprint_s256').notNull(),
    notBefore: ts('not_before').notNull(),
    notAfter: ts('not_after').notNull(),
    status: text('status').notNull().default('active'),
    /** When a newer certificate of the same type replaced it; the key stays listed until this passes. */
    listedUntil: ts('listed_until'),
    revokedAt: ts('revoked_at'),
    /** RFC 5280 CRLReason name, e.g. `keyCompromise`, `superseded`, `cessationOfOperation`. */
    revocationReason: text('revocation_reason'),
    /** Sandbox convenience: a key the directory generated, AES-256-GCM sealed with the directory master key. */
    sealedPrivateKey: text('sealed_private_key'),
    createdAt: ts('created_at').notNull(),
  },
  (table) => [
    uniqueIndex('directory_certificates_serial_idx').on(table.issuerName, table.serialNumber),
    uniqueIndex('directory_certificates_thumbprint_idx').on(table.thumbprintS256),
    index('directory_certificates_software_idx').on(table.softwareId),
    index('directory_certificates_org_idx').on(table.orgId),
    index('directory_certificates_revoked_idx')
      .on(table.revokedAt)
      .where(sql`${table.revokedAt} is not null`),
  ],
);

/** The directory's own SSA-signing keys. The newest un-retired key signs; older ones stay listed until `listed_until`. */
export const directorySigningKeys = pgTable('directory_signing_keys', {
  kid: text('kid').primaryKey(),
  /** Public JWK (kty, n, e, kid, use, alg, x5c, x5t#S256). */
  publicJwk: jsonb('public_jwk').$type<Record<string, unknown>>().notNull(),
  /** PKCS#8 PEM, AES-256-GCM sealed with the directory master key. */
  sealedPrivateKey: text('sealed_private_key').notNull(),
  createdAt: ts('created_at').notNull(),
  /** Stops signing after this instant (a newer key takes over). */
  signUntil: ts('sign_until').notNull(),
  /** Leaves the JWKS after this instant: the overlap window for SSAs signed just before rotation. */
  listedUntil: ts('listed_until').notNull(),
});

/** Banks TPPs can register with: name and OpenID discovery URL. */
export const directoryAspsps = pgTable('directory_aspsps', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  discoveryUrl: text('discovery_url').notNull().unique(),
  orgId: text('org_id').references(() => directoryOrganisations.id),
  createdAt: ts('created_at').notNull(),
  updatedAt: ts('updated_at').notNull(),
});
