import { randomInt } from 'node:crypto';
import { and, asc, desc, eq, gt, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import {
  issueCertificateFromCsr,
  issueProfileCertificateWithNewKey,
  normalizeSerial,
  parseParticipantCertificate,
  PkiInputError,
  reasonName,
  revocationReasons as pkiRevocationReasons,
  type CertificateStatus,
  type Issuer,
  type ProfileRequest,
  type RevokedCertificateEntry,
} from '../pki/index.ts';
import type { Clock } from '../shared/clock.ts';
import type { ParticipantStatus, ParticipantStatusChange } from '../shared/participant-status.ts';
import { psd2RoleOfObRole } from '../shared/psd2-roles.ts';
import { schema, type Queryable, type Store } from '../store/index.ts';
import { DirectoryError } from './errors.ts';
import { newAspspId, newKid, newOrganisationId, newSoftwareId } from './ids.ts';
import { jwkOfCertificate, type PublishedJwk } from './jwk.ts';
import type { MasterKey } from './master-key.ts';
import type { DirectorySigningKeys } from './signing-keys.ts';
import { ssaClaims, type DirectoryAddresses } from './ssa.ts';
import {
  type CertificateProfile,
  type CertificateType,
  type ObRole,
  type OnboardingInput,
  type OrganisationInput,
  type SoftwareInput,
} from './validation.ts';

const { directoryOrganisations, directorySoftware, directoryCertificates, directoryAspsps } = schema;

export type OrganisationRow = typeof directoryOrganisations.$inferSelect;
export type SoftwareRow = typeof directorySoftware.$inferSelect;
export type CertificateRow = typeof directoryCertificates.$inferSelect;
export type AspspRow = typeof directoryAspsps.$inferSelect;

/** Where the key of a certificate comes from: the TPP's CSR, or the directory generates it (sandbox). */
export type KeySource = { csr: string } | { generate: true };

export interface IssuedCertificateView {
  kid: string;
  type: CertificateType;
  pem: string;
  serialNumber: string;
  thumbprintS256: string;
  notBefore: string;
  notAfter: string;
  status: string;
  revokedAt?: string;
  revocationReason?: string;
  /** Only when the directory generated the key, and only in the answer that created it or the bundle. */
  privateKeyPem?: string;
}

export interface OnboardingResult {
  organisation: OrganisationRow;
  software: SoftwareRow;
  certificates: Partial<Record<CertificateType, IssuedCertificateView>>;
  ssa: string;
}

/** RFC 5280 §5.3.1 reasons a TPP may give when it revokes its own certificate. */
export const revocationReasons = [
  'unspecified',
  'keyCompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
] as const;
export type RevocationReason = (typeof revocationReasons)[number];

export interface DirectoryServiceOptions {
  store: Store;
  clock: Clock;
  masterKey: MasterKey;
  /** The sandbox issuing CA, announcing the directory's OCSP and CRL URLs. */
  issuer: Issuer;
  signingKeys: DirectorySigningKeys;
  addresses: DirectoryAddresses;
  environment: 'sandbox' | 'production';
  /** After a newer certificate of the same type is issued, the older key stays listed this long. */
  keyOverlapDays?: number;
  /** Validity of issued participant certificates. */
  certificateValidityDays?: number;
  /**
   * Told of each revocation in this process before `revoke` returns (other instances hear the NOTIFY), so
   * the revoker's next request is already refused here.
   */
  onCertificateRevoked?: (serialNumber: string) => void;
  /**
   * Announces a participant status change to every instance, this one first (the server's fan-out over
   * `participantStatusChannel`). Default: a NOTIFY on that channel alone.
   */
  publishStatusChange?: (change: ParticipantStatusChange) => Promise<void>;
}

const day = 24 * 60 * 60 * 1000;
/** Certificates' JWKs kept by a directory service (`#publishedKeyOf`); the oldest is dropped beyond. */
const MAX_PUBLISHED_KEYS_KEPT = 10_000;
/**
 * NOTIFY channel on which the directory announces each revocation as JSON
 * `{ serialNumber, issuer, kid, thumbprintS256 }` (PostgreSQL LISTEN/NOTIFY, heard by every instance).
 */
export const revocationChannel = 'directory_certificate_revoked';
/** NOTIFY channel of participant status changes, as JSON `ParticipantStatusChange`. */
export const participantStatusChannel = 'directory_participant_status';
const sealContext = (kid: string): string => `participant-key:${kid}`;

/** A certificate issued in memory, not yet stored. */
interface Prepared {
  kid: string;
  type: CertificateType;
  pem: string;
  serialNumber: string;
  thumbprintS256: string;
  notBefore: Date;
  notAfter: Date;
  privateKeyPem?: string;
}

/**
 * The directory's domain: organisations, software statements, their certificates and keys, SSAs,
 * revocation status and the ASPSP list. Each write that creates several rows is one transaction, and all
 * input is checked (and every certificate signed) before the transaction opens.
 */
export class DirectoryService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #masterKey: MasterKey;
  readonly #issuer: Issuer;
  readonly #keys: DirectorySigningKeys;
  readonly addresses: DirectoryAddresses;
  readonly environment: 'sandbox' | 'production';
  readonly #overlapMs: number;
  readonly #validityDays: number;
  readonly #onRevoked: ((serialNumber: string) => void) | undefined;
  readonly #publishStatusChange: (change: ParticipantStatusChange) => Promise<void>;
  /**
   * A certificate's JWK, kept per certificate (a pure function of its PEM, kid, type and our chain): the
   * API's signature checks read a software's JWKS on every signed request (`ownJwks`), and parsing each
   * listed certificate again (X.509, key export, thumbprint) cost the main thread each time. The rows — and
   * so which keys are listed, and their status — are still read afresh.
   */
  readonly #publishedKeys = new Map<string, PublishedJwk>();

  constructor(options: DirectoryServiceOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#masterKey = options.masterKey;
    this.#issuer = options.issuer;
    this.#keys = options.signingKeys;
    this.addresses = options.addresses;
    this.environment = options.environment;
    this.#overlapMs = (options.keyOverlapDays ?? 7) * day;
    this.#validityDays = options.certificateValidityDays ?? 397;
    this.#onRevoked = options.onCertificateRevoked;
    this.#publishStatusChange =
      options.publishStatusChange ??
      ((change) => options.store.notify(participantStatusChannel, JSON.stringify(change)));
  }

  /** The platform's clock (tests move it). */
  now(): Date {
    return this.#clock.now();
  }

  get issuer(): Issuer {
    return this.#issuer;
  }

  get signingKeys(): DirectorySigningKeys {
    return this.#keys;
  }

  // ---- onboarding and creation -------------------------------------------------------------------

  /** Creates organisation + software + certificates + SSA in one transaction. */
  async onboard(
    input: OnboardingInput,
    keys: Partial<Record<CertificateType, KeySource>>,
    options: { managementSecretHash?: string } = {},
  ): Promise<OnboardingResult> {
    const now = this.#clock.now();
    const organisation = this.#newOrganisation(input.organisation, now, options.managementSecretHash);
    const software = this.#newSoftware(organisation.id, input.software, input.certificateProfile, now);
    const prepared = await this.#prepareAll(organisation, software, keys);
    // Signed before the transaction: signing may touch the key table, and the SSA depends on no row.
    const ssa = await this.#signSsa(organisation, software, now);
    await this.#store.db.transaction(async (tx) => {
      await tx.insert(directoryOrganisations).values(organisation);
      await tx.insert(directorySoftware).values(software);
      await this.#insertCertificates(tx, software, prepared, now);
    });
    return { organisation, software, certificates: viewsOf(prepared), ssa };
  }

  /** An organisation alone (the web pages create software afterwards). */
  async createOrganisation(input: OrganisationInput, managementSecretHash: string): Promise<OrganisationRow> {
    const organisation = this.#newOrganisation(input, this.#clock.now(), managementSecretHash);
    await this.#store.db.insert(directoryOrganisations).values(organisation);
    return organisation;
  }

  /** A software statement with its certificates under an existing organisation, in one transaction. */
  async createSoftware(
    orgId: string,
    input: SoftwareInput,
    profile: CertificateProfile,
    keys: Partial<Record<CertificateType, KeySource>>,
  ): Promise<{
    software: SoftwareRow;
    certificates: Partial<Record<CertificateType, IssuedCertificateView>>;
  }> {
    const organisation = await this.organisation(orgId);
    const now = this.#clock.now();
    const software = this.#newSoftware(organisation.id, input, profile, now);
    const prepared = await this.#prepareAll(organisation, software, keys);
    await this.#store.db.transaction(async (tx) => {
      await tx.insert(directorySoftware).values(software);
      await this.#insertCertificates(tx, software, prepared, now);
    });
    return { software, certificates: viewsOf(prepared) };
  }

  /**
   * A new certificate for a software statement. An older active certificate of the same type stays
   * valid, and its key stays in the JWKS for the overlap window (rotation without a gap).
   */
  async issueCertificate(
    softwareId: string,
    type: CertificateType,
    source: KeySource,
  ): Promise<IssuedCertificateView> {
    const software = await this.software(softwareId);
    if (software.status !== 'Active') {
      throw new DirectoryError(409, 'conflict', `software ${software.id} is ${software.status}`);
    }
    const organisation = await this.organisation(software.orgId);
    const certificate = await this.#prepare(organisation, software, type, source, type);
    await this.#store.db.transaction(async (tx) => {
      await this.#insertCertificates(tx, software, [certificate], this.#clock.now());
    });
    return viewOf(certificate);
  }

  #newOrganisation(input: OrganisationInput, now: Date, managementSecretHash?: string): OrganisationRow {
    const ncaId = input.ncaId ?? sandboxRegistrationNumber();
    return {
      id: newOrganisationId(),
      name: input.name,
      countryCode: input.countryCode,
      ncaName: input.ncaName,
      ncaId,
      organizationIdentifier: `PSD${input.countryCode}-${input.ncaName}-${ncaId}`,
      status: 'Active',
      statusUpdatedAt: null,
      contacts: input.contacts,
      managementSecretHash: managementSecretHash ?? null,
      createdAt: now,
    };
  }

  #newSoftware(orgId: string, input: SoftwareInput, profile: CertificateProfile, now: Date): SoftwareRow {
    return {
      id: newSoftwareId(),
      orgId,
      clientName: input.clientName,
      description: input.description,
      version: input.version,
      roles: [...input.roles],
      redirectUris: [...input.redirectUris],
      clientUri: input.clientUri ?? null,
      logoUri: input.logoUri ?? null,
      policyUri: input.policyUri ?? null,
      tosUri: input.tosUri ?? null,
      mode: input.mode,
      certificateProfile: profile,
      status: 'Active',
      statusUpdatedAt: null,
      createdAt: now,
    };
  }

  async #prepareAll(
    organisation: OrganisationRow,
    software: SoftwareRow,
    keys: Partial<Record<CertificateType, KeySource>>,
  ): Promise<Prepared[]> {
    const prepared: Prepared[] = [];
    for (const type of ['transport', 'signing', 'encryption'] as const) {
      const source = keys[type];
      if (source) prepared.push(await this.#prepare(organisation, software, type, source, `csrs.${type}`));
    }
    return prepared;
  }

  async #prepare(
    organisation: OrganisationRow,
    software: SoftwareRow,
    type: CertificateType,
    source: KeySource,
    label: string,
  ): Promise<Prepared> {
    const request = this.#profileRequest(organisation, software, type);
    try {
      let pem: string;
      let privateKeyPem: string | undefined;
      if ('csr' in source) {
        pem = (await issueCertificateFromCsr(this.#issuer, source.csr, request)).certificatePem;
      } else {
        const issued = await issueProfileCertificateWithNewKey(this.#issuer, request);
        pem = issued.certificatePem;
        privateKeyPem = issued.privateKeyPem;
      }
      const info = parseParticipantCertificate(pem);
      return {
        kid: newKid(),
        type,
        pem,
        serialNumber: normalizeSerial(info.serialNumber),
        thumbprintS256: info.thumbprintS256,
        notBefore: info.notBefore,
        notAfter: info.notAfter,
        ...(privateKeyPem ? { privateKeyPem } : {}),
      };
    } catch (error) {
      if (error instanceof PkiInputError) {
        throw DirectoryError.badRequest(
          `${label}: ${error.message}`,
          error.code.startsWith('csr.') ? 'invalid_csr' : 'invalid_request',
        );
      }
      throw error;
    }
  }

  #profileRequest(
    organisation: OrganisationRow,
    software: SoftwareRow,
    type: CertificateType,
  ): ProfileRequest {
    const subject = {
      softwareId: software.id,
      orgId: organisation.id,
      organizationName: organisation.name,
      organizationIdentifier: organisation.organizationIdentifier,
      countryName: organisation.countryCode,
    };
    const base = { subject, validityDays: this.#validityDays, clock: this.#clock };
    if (type === 'encryption') return { ...base, profile: 'encryption' };
    if (software.certificateProfile !== 'eidas') {
      return { ...base, profile: type === 'transport' ? 'obwac' : 'obseal' };
    }
    return {
      ...base,
      profile: type === 'transport' ? 'qwac' : 'qsealc',
      roles: (software.roles as ObRole[]).map((role) => psd2RoleOfObRole[role]),
      nca: {
        name: organisation.ncaName === 'FCA' ? 'Financial Conduct Authority' : organisation.ncaName,
        id: `${organisation.countryCode}-${organisation.ncaName}`,
      },
    };
  }

  async #insertCertificates(
    tx: Queryable,
    software: SoftwareRow,
    prepared: Prepared[],
    now: Date,
  ): Promise<void> {
    for (const certificate of prepared) {
      // Rotation: older listed keys of this type leave the JWKS when the overlap window ends.
      await tx
        .update(directoryCertificates)
        .set({ listedUntil: new Date(now.getTime() + this.#overlapMs) })
        .where(
          and(
            eq(directoryCertificates.softwareId, software.id),
            eq(directoryCertificates.type, certificate.type),
            eq(directoryCertificates.status, 'active'),
            isNull(directoryCertificates.listedUntil),
          ),
        );
      await tx.insert(directoryCertificates).values({
        kid: certificate.kid,
        orgId: software.orgId,
        softwareId: software.id,
        type: certificate.type,
        serialNumber: certificate.serialNumber,
        issuerName: this.#issuer.certificate.subject,
        certificatePem: certificate.pem,
        thumbprintS256: certificate.thumbprintS256,
        notBefore: certificate.notBefore,
        notAfter: certificate.notAfter,
        status: 'active',
        sealedPrivateKey: certificate.privateKeyPem
          ? this.#masterKey.seal(certificate.privateKeyPem, sealContext(certificate.kid))
          : null,
        createdAt: now,
      });
    }
  }

  // ---- reading ----------------------------------------------------------------------------------

  async organisation(orgId: string): Promise<OrganisationRow> {
    const [row] = await this.#store.db
      .select()
      .from(directoryOrganisations)
      .where(eq(directoryOrganisations.id, orgId));
    if (!row) throw DirectoryError.notFound(`no organisation ${orgId}`);
    return row;
  }

  async software(softwareId: string): Promise<SoftwareRow> {
    const [row] = await this.#store.db
      .select()
      .from(directorySoftware)
      .where(eq(directorySoftware.id, softwareId));
    if (!row) throw DirectoryError.notFound(`no software statement ${softwareId}`);
    return row;
  }

  async softwareOf(orgId: string): Promise<SoftwareRow[]> {
    return this.#store.db
      .select()
      .from(directorySoftware)
      .where(eq(directorySoftware.orgId, orgId))
      .orderBy(asc(directorySoftware.createdAt));
  }

  async certificatesOf(softwareId: string): Promise<CertificateRow[]> {
    return this.#store.db
      .select()
      .from(directoryCertificates)
      .where(eq(directoryCertificates.softwareId, softwareId))
      .orderBy(desc(directoryCertificates.createdAt));
  }

  async certificate(softwareId: string, kid: string): Promise<CertificateRow> {
    const [row] = await this.#store.db
      .select()
      .from(directoryCertificates)
      .where(and(eq(directoryCertificates.softwareId, softwareId), eq(directoryCertificates.kid, kid)));
    if (!row) throw DirectoryError.notFound(`software ${softwareId} has no key ${kid}`);
    return row;
  }

  /** The certificate a TLS client presented, when the directory issued it. */
  async certificateByThumbprint(thumbprintS256: string): Promise<CertificateRow | undefined> {
    const [row] = await this.#store.db
      .select()
      .from(directoryCertificates)
      .where(eq(directoryCertificates.thumbprintS256, thumbprintS256));
    return row;
  }

  /** The private key the directory generated for a certificate, or undefined for a CSR-issued one. */
  privateKeyOf(certificate: CertificateRow): string | undefined {
    return certificate.sealedPrivateKey
      ? this.#masterKey.open(certificate.sealedPrivateKey, sealContext(certificate.kid))
      : undefined;
  }

  // ---- JWKS ---------------------------------------------------------------------------------------

  /** Listed keys (active, rotation window open) or revoked keys, of one software or a whole organisation. */
  async jwks(
    scope: { orgId: string; softwareId?: string },
    which: 'active' | 'revoked',
  ): Promise<{ keys: PublishedJwk[] }> {
    const now = this.#clock.now();
    // One statement when keys are listed (the API's signature checks read a software's set on every signed
    // request): the scope's existence rides on it; only an empty answer asks whether the scope exists.
    const conditions: SQL[] = scope.softwareId
      ? [
          eq(directoryCertificates.softwareId, scope.softwareId),
          sql`exists (select 1 from ${directorySoftware} where ${directorySoftware.id} = ${scope.softwareId}
            and ${directorySoftware.orgId} = ${scope.orgId})`,
        ]
      : [
          eq(directoryCertificates.orgId, scope.orgId),
          sql`exists (select 1 from ${directoryOrganisations} where ${directoryOrganisations.id} = ${scope.orgId})`,
        ];
    if (which === 'revoked') {
      conditions.push(eq(directoryCertificates.status, 'revoked'));
    } else {
      conditions.push(
        eq(directoryCertificates.status, 'active'),
        gt(directoryCertificates.notAfter, now),
        or(isNull(directoryCertificates.listedUntil), gt(directoryCertificates.listedUntil, now))!,
      );
    }
    const rows = await this.#store.db
      .select()
      .from(directoryCertificates)
      .where(and(...conditions))
      .orderBy(desc(directoryCertificates.createdAt));
    if (rows.length === 0) await this.#assertScope(scope);
    return { keys: rows.map((row) => this.jwkOf(row)) };
  }

  /** Refuses (404) a software not of that organisation, or an organisation that does not exist. */
  async #assertScope(scope: { orgId: string; softwareId?: string }): Promise<void> {
    if (scope.softwareId) {
      const software = await this.software(scope.softwareId);
      if (software.orgId !== scope.orgId) {
        throw DirectoryError.notFound(`organisation ${scope.orgId} has no software ${scope.softwareId}`);
      }
    } else {
      await this.organisation(scope.orgId);
    }
  }

  #publishedKeyOf(certificatePem: string, kid: string, type: CertificateType): PublishedJwk {
    const chainPem = this.#issuer.chainPem;
    const key = `${kid}\n${type}\n${certificatePem}\n${chainPem}`;
    let jwk = this.#publishedKeys.get(key);
    if (!jwk) {
      jwk = jwkOfCertificate(certificatePem, kid, type, chainPem);
      if (this.#publishedKeys.size >= MAX_PUBLISHED_KEYS_KEPT)
        this.#publishedKeys.delete(this.#publishedKeys.keys().next().value ?? '');
      this.#publishedKeys.set(key, jwk);
    }
    // A copy: callers add members (revocation) or hand it on.
    return { ...jwk, x5c: [...jwk.x5c] };
  }

  jwkOf(row: CertificateRow): PublishedJwk {
    const jwk = this.#publishedKeyOf(row.certificatePem, row.kid, row.type as CertificateType);
    if (row.status === 'revoked' && row.revokedAt) {
      return {
        ...jwk,
        revoked_at: Math.floor(row.revokedAt.getTime() / 1000),
        revocation_reason: row.revocationReason,
      };
    }
    return jwk;
  }

  // ---- SSA ----------------------------------------------------------------------------------------

  async issueSsa(softwareId: string): Promise<string> {
    const software = await this.software(softwareId);
    if (software.status !== 'Active') {
      throw new DirectoryError(409, 'conflict', `software ${software.id} is ${software.status}: no SSA`);
    }
    const organisation = await this.organisation(software.orgId);
    if (organisation.status !== 'Active') {
      throw new DirectoryError(
        409,
        'conflict',
        `organisation ${organisation.id} is ${organisation.status}: no SSA`,
      );
    }
    return this.#signSsa(organisation, software, this.#clock.now());
  }

  async #signSsa(organisation: OrganisationRow, software: SoftwareRow, now: Date): Promise<string> {
    const claims = ssaClaims({ organisation, software }, this.addresses, this.environment, now);
    return this.#keys.sign(claims);
  }

  // ---- participant status -------------------------------------------------------------------------

  /**
   * The operator sets an organisation's status. Every instance hears of it before this returns here, and
   * at once elsewhere (NOTIFY); setting the status it already has changes nothing and announces nothing.
   */
  async setOrganisationStatus(orgId: string, status: ParticipantStatus): Promise<OrganisationRow> {
    const [row] = await this.#store.db
      .update(directoryOrganisations)
      .set({ status, statusUpdatedAt: this.#clock.now() })
      .where(and(eq(directoryOrganisations.id, orgId), sql`${directoryOrganisations.status} <> ${status}`))
      .returning();
    if (!row) return this.organisation(orgId);
    await this.#publishStatusChange({ orgId, status });
    return row;
  }

  /** The operator sets a software statement's status; announced as `setOrganisationStatus` is. */
  async setSoftwareStatus(softwareId: string, status: ParticipantStatus): Promise<SoftwareRow> {
    const [row] = await this.#store.db
      .update(directorySoftware)
      .set({ status, statusUpdatedAt: this.#clock.now() })
      .where(and(eq(directorySoftware.id, softwareId), sql`${directorySoftware.status} <> ${status}`))
      .returning();
    if (!row) return this.software(softwareId);
    await this.#publishStatusChange({ orgId: row.orgId, softwareId, status });
    return row;
  }

  /** The statuses of an organisation and (when named) one of its software statements; undefined: unknown. */
  async participantStatus(orgId: string, softwareId?: string): Promise<StoredParticipantStatus> {
    return participantStatusIn(this.#store.db, orgId, softwareId);
  }

  /** Every organisation, for the MLA status read and the operator's page. */
  async organisations(): Promise<OrganisationRow[]> {
    return this.#store.db.select().from(directoryOrganisations).orderBy(asc(directoryOrganisations.name));
  }

  // ---- revocation ---------------------------------------------------------------------------------

  async revoke(softwareId: string, kid: string, reason: RevocationReason): Promise<CertificateRow> {
    const now = this.#clock.now();
    const [row] = await this.#store.db
      .update(directoryCertificates)
      .set({ status: 'revoked', revokedAt: now, revocationReason: reason })
      .where(
        and(
          eq(directoryCertificates.softwareId, softwareId),
          eq(directoryCertificates.kid, kid),
          eq(directoryCertificates.status, 'active'),
        ),
      )
      .returning();
    if (row) {
      this.#onRevoked?.(row.serialNumber);
      // Every instance (and any revocation checker's cache) hears of it at once, not when answers expire.
      await this.#store.notify(
        revocationChannel,
        JSON.stringify({
          serialNumber: row.serialNumber,
          issuer: row.issuerName,
          kid: row.kid,
          thumbprintS256: row.thumbprintS256,
        }),
      );
      return row;
    }
    const existing = await this.certificate(softwareId, kid);
    throw new DirectoryError(
      409,
      'conflict',
      `key ${kid} was already revoked at ${existing.revokedAt?.toISOString() ?? '?'}`,
    );
  }

  /** What OCSP says about a serial number of the issuing CA. */
  async revocationStatus(serialNumber: string): Promise<CertificateStatus> {
    const [row] = await this.#store.db
      .select({
        status: directoryCertificates.status,
        revokedAt: directoryCertificates.revokedAt,
        reason: directoryCertificates.revocationReason,
      })
      .from(directoryCertificates)
      .where(
        and(
          eq(directoryCertificates.issuerName, this.#issuer.certificate.subject),
          eq(directoryCertificates.serialNumber, normalizeSerial(serialNumber)),
        ),
      );
    if (!row) return { status: 'unknown' };
    if (row.status === 'revoked' && row.revokedAt) {
      const reason = knownReason(row.reason);
      return { status: 'revoked', revokedAt: row.revokedAt, ...(reason ? { reason } : {}) };
    }
    return { status: 'good' };
  }

  /** Every revoked certificate of the issuing CA that has not expired yet (expired ones may leave the CRL). */
  async revokedCertificates(): Promise<RevokedCertificateEntry[]> {
    const now = this.#clock.now();
    const rows = await this.#store.db
      .select({
        serialNumber: directoryCertificates.serialNumber,
        revokedAt: directoryCertificates.revokedAt,
        reason: directoryCertificates.revocationReason,
      })
      .from(directoryCertificates)
      .where(
        and(
          eq(directoryCertificates.issuerName, this.#issuer.certificate.subject),
          eq(directoryCertificates.status, 'revoked'),
          gt(directoryCertificates.notAfter, now),
          lte(directoryCertificates.revokedAt, now),
        ),
      )
      .orderBy(asc(directoryCertificates.revokedAt));
    return rows.map((row) => {
      const reason = knownReason(row.reason);
      return { serialNumber: row.serialNumber, revokedAt: row.revokedAt!, ...(reason ? { reason } : {}) };
    });
  }

  // ---- ASPSPs -------------------------------------------------------------------------------------

  /**
   * Adds a bank, or updates the name of one already listed under this discovery URL by the same
   * organisation (`orgId` undefined: the platform's own bank). A URL another organisation listed is a 409.
   */
  async registerAspsp(entry: { name: string; discoveryUrl: string; orgId?: string }): Promise<AspspRow> {
    const now = this.#clock.now();
    const orgId = entry.orgId ?? null;
    const [row] = await this.#store.db
      .insert(directoryAspsps)
      .values({
        id: newAspspId(),
        name: entry.name,
        discoveryUrl: entry.discoveryUrl,
        orgId,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoUpdate({
        target: directoryAspsps.discoveryUrl,
        set: { name: entry.name, updatedAt: now },
        setWhere: sql`${directoryAspsps.orgId} is not distinct from ${orgId}`,
      })
      .returning();
    if (!row) {
      throw new DirectoryError(409, 'conflict', `another organisation lists a bank at ${entry.discoveryUrl}`);
    }
    return row;
  }

  /**
   * Lists the platform's own bank at its discovery URL, once: every instance of a deployment does this as
   * it starts, and a listing already there (the first instance's, since linked to the bank's organisation,
   * or another organisation's) is left as it is.
   */
  async listPlatformBank(entry: { name: string; discoveryUrl: string }): Promise<void> {
    const now = this.#clock.now();
    await this.#store.db
      .insert(directoryAspsps)
      .values({ id: newAspspId(), ...entry, orgId: null, createdAt: now, updatedAt: now })
      .onConflictDoNothing({ target: directoryAspsps.discoveryUrl });
  }

  /**
   * Names the organisation of a bank the directory itself listed (the sandbox bank, listed when the
   * directory mounts, before its organisation exists); a listing another organisation holds is left alone.
   */
  async linkAspspOrganisation(discoveryUrl: string, orgId: string): Promise<void> {
    await this.#store.db
      .update(directoryAspsps)
      .set({ orgId, updatedAt: this.#clock.now() })
      .where(and(eq(directoryAspsps.discoveryUrl, discoveryUrl), isNull(directoryAspsps.orgId)));
  }

  async aspsps(): Promise<AspspRow[]> {
    return this.#store.db.select().from(directoryAspsps).orderBy(asc(directoryAspsps.name));
  }
}

export interface StoredParticipantStatus {
  /** Undefined: the directory does not know the organisation. */
  organisation: string | undefined;
  /** Present when a software id was asked about; undefined: not a software statement of that organisation. */
  software?: string | undefined;
}

/**
 * The stored statuses of an organisation and one of its software statements, read straight from the
 * directory's tables: what a bank beside the sandbox directory asks, without mounting the directory.
 */
export async function participantStatusIn(
  db: Queryable,
  orgId: string,
  softwareId?: string,
): Promise<StoredParticipantStatus> {
  const [organisation] = await db
    .select({ status: directoryOrganisations.status })
    .from(directoryOrganisations)
    .where(eq(directoryOrganisations.id, orgId));
  if (softwareId === undefined) return { organisation: organisation?.status };
  const [software] = await db
    .select({ status: directorySoftware.status })
    .from(directorySoftware)
    .where(and(eq(directorySoftware.id, softwareId), eq(directorySoftware.orgId, orgId)));
  return { organisation: organisation?.status, software: software?.status };
}

function viewOf(certificate: Prepared): IssuedCertificateView {
  return {
    kid: certificate.kid,
    type: certificate.type,
    pem: certificate.pem,
    serialNumber: certificate.serialNumber,
    thumbprintS256: certificate.thumbprintS256,
    notBefore: certificate.notBefore.toISOString(),
    notAfter: certificate.notAfter.toISOString(),
    status: 'active',
    ...(certificate.privateKeyPem ? { privateKeyPem: certificate.privateKeyPem } : {}),
  };
}

function viewsOf(prepared: Prepared[]): Partial<Record<CertificateType, IssuedCertificateView>> {
  return Object.fromEntries(prepared.map((certificate) => [certificate.type, viewOf(certificate)]));
}

export function certificateView(row: CertificateRow): IssuedCertificateView {
  return {
    kid: row.kid,
    type: row.type as CertificateType,
    pem: row.certificatePem,
    serialNumber: row.serialNumber,
    thumbprintS256: row.thumbprintS256,
    notBefore: row.notBefore.toISOString(),
    notAfter: row.notAfter.toISOString(),
    status: row.status,
    ...(row.revokedAt ? { revokedAt: row.revokedAt.toISOString() } : {}),
    ...(row.revocationReason ? { revocationReason: row.revocationReason } : {}),
  };
}

/** The sandbox stands in for the regulator's register: a six-digit number like the FCA's. */
function sandboxRegistrationNumber(): string {
  return String(randomInt(100_000, 1_000_000));
}

function knownReason(name: string | null) {
  return name !== null && name in pkiRevocationReasons
    ? reasonName(pkiRevocationReasons[name as keyof typeof pkiRevocationReasons])
    : undefined;
}
