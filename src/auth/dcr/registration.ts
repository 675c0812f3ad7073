import { randomUUID, type X509Certificate } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import {
  ChainValidationError,
  RevocationError,
  dnEquals,
  parseParticipantCertificate,
  validateChain,
  type RevocationChecker,
} from '../../pki/index.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Queryable } from '../../store/index.ts';
import { authModels } from '../../store/schema/auth.ts';
import type { AuthorizationServer } from '../provider.ts';
import { JwksFetchError, RefusedSigningKeyError, type RemoteJwksCache } from './jwks.ts';
import { CIBA_GRANT_TYPE, cibaRegistrationMetadata } from '../ciba.ts';

/**
 * Open Banking Dynamic Client Registration (v3.3; v3.2 and v3.4 requests accepted), in front of the
 * provider's client store. The request is a JWT signed by the software's key and carrying the SSA the
 * directory signed; the TPP calls over mTLS with its transport certificate. Every refusal names one of
 * the spec's four errors:
 *
 * - `invalid_software_statement`: the SSA is malformed, its signature does not verify, or it is stale;
 * - `unapproved_software_statement`: the SSA comes from a directory we do not trust, or the transport
 *   certificate is untrusted, revoked, or was not issued to the SSA's software;
 * - `invalid_redirect_uri`: a redirect URI outside the SSA's, or not https;
 * - `invalid_client_metadata`: anything else about the request (its signature, `iss`, `aud`, `exp`/`iat`,
 *   a replayed `jti`, auth method, algorithms, response types, grant types, scopes beyond the roles).
 */

export type DcrErrorCode =
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'invalid_software_statement'
  | 'unapproved_software_statement';

export class DcrError extends Error {
  override name = 'DcrError';
  readonly error: DcrErrorCode;
  constructor(error: DcrErrorCode, description: string) {
    super(description.slice(0, 500));
    this.error = error;
  }
}

export interface TrustedDirectory {
  /** The SSA `iss` this directory signs with. */
  issuer: string;
  /** Where its SSA-signing keys are published (https). */
  jwksUri: string;
}

export interface RegistrationOptions {
  server: AuthorizationServer;
  directories: readonly TrustedDirectory[];
  /** `aud` values a registration request may name besides our issuer: the bank's directory ids. */
  audiences: readonly string[];
  /**
   * The bank's id at the directory (Base62, up to 18 characters): the `aud` of a registration response
   * when the request named the bank by its URL, since the DCR specification's `aud` is that id. Default:
   * the first of `audiences` that is such an id.
   */
  directoryId?: () => Promise<string | undefined>;
  /** PEM trust anchors of transport certificates (the directory's root CA). */
  trustAnchorsPem: string;
  /** PEM intermediates (the directory's issuing CA), to build the transport certificate's path. */
  intermediatesPem?: string;
  revocation: RevocationChecker;
  jwks: RemoteJwksCache;
  clock: Clock;
  /** How old an SSA may be (by its `iat`). Default 7 days. */
  ssaMaxAgeSeconds?: number;
  /** How old a registration request may be (by its `iat`). Default 1 hour. */
  requestMaxAgeSeconds?: number;
  /** Allowed clock skew for `iat`/`exp`. Default 30 s. */
  clockToleranceSeconds?: number;
  /** Told when a registration was deleted with its tokens, so that caches of them drop them everywhere. */
  onDeleted?: (clientId: string) => Promise<void>;
}

type Claims = Record<string, unknown>;

/** An ASPSP's id at an Open Banking directory, as the DCR specification's `aud` has it. */
const DIRECTORY_ID = /^[0-9a-zA-Z]{1,18}$/;

const ROLE_SCOPES: Record<string, string> = {
  AISP: 'accounts',
  PSP_AI: 'accounts',
  PISP: 'payments',
  PSP_PI: 'payments',
  CBPII: 'fundsconfirmations',
  PSP_IC: 'fundsconfirmations',
};
const GRANT_TYPES = new Set(['authorization_code', 'client_credentials', 'refresh_token', CIBA_GRANT_TYPE]);
const RESPONSE_TYPES = new Set(['code', 'code id_token']);
const AUTH_METHODS = new Set(['private_key_jwt', 'tls_client_auth']);
const ALGORITHM_FIELDS = [
  'id_token_signed_response_alg',
  'request_object_signing_alg',
  'token_endpoint_auth_signing_alg',
  'authorization_signed_response_alg',
  'userinfo_signed_response_alg',
] as const;

/** The SSA claims the response repeats and the client keeps. */
const SSA_CLAIMS_KEPT = [
  'software_id',
  'software_client_id',
  'software_client_name',
  'software_client_description',
  'software_version',
  'software_client_uri',
  'software_redirect_uris',
  'software_roles',
  'software_logo_uri',
  'software_policy_uri',
  'software_tos_uri',
  'software_jwks_endpoint',
  'software_environment',
  'software_mode',
  'org_id',
  'org_name',
  'org_status',
] as const;

export const REGISTRATION_MODEL = 'DcrRegistration';
const JTI_MODEL = 'DcrRequestJti';

export interface RegisteredClient {
  clientId: string;
  /** What the provider stores and authenticates the client by. */
  metadata: ClientMetadata;
  /** The Open Banking registration response body. */
  response: Record<string, unknown>;
}

function str(claims: Claims, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
    ? (value as string[])
    : undefined;
}

function isHttps(value: string): boolean {
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

function describeJose(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed)
    return `has an invalid "${error.claim}" claim (${error.reason})`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'is not signed with PS256';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'has a signature that does not verify';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'is signed with a key that is not published';
  if (error instanceof joseErrors.JWKSMultipleMatchingKeys) return 'names a key id published more than once';
  if (error instanceof JwksFetchError) return `cannot be checked: ${error.message}`;
  if (error instanceof RefusedSigningKeyError)
    return `is signed with a key that is no longer good: ${error.message}`;
  if (error instanceof joseErrors.JOSEError) return `is invalid (${error.code})`;
  return 'is invalid';
}

export class Registrar {
  readonly #options: RegistrationOptions;
  readonly #directories: Map<string, TrustedDirectory>;

  constructor(options: RegistrationOptions) {
    for (const directory of options.directories) {
      if (!isHttps(directory.jwksUri)) throw new Error(`directory JWKS ${directory.jwksUri} must be https`);
    }
    this.#options = options;
    this.#directories = new Map(options.directories.map((directory) => [directory.issuer, directory]));
  }

  get #db(): Queryable {
    return this.#options.server.store.db;
  }

  #now(): number {
    return Math.floor(this.#options.clock.now().getTime() / 1000);
  }

  /** Checks the SSA: a trusted directory signed it (PS256), recently, and it names a software. */
  async #verifySsa(ssa: unknown): Promise<Claims> {
    if (typeof ssa !== 'string' || ssa.split('.').length !== 3) {
      throw new DcrError('invalid_software_statement', 'software_statement must be a signed JWT');
    }
    let unverified: Claims;
    try {
      unverified = decodeJwt(ssa) as Claims;
    } catch {
      throw new DcrError('invalid_software_statement', 'software_statement is not a readable JWT');
    }
    const issuer = str(unverified, 'iss');
    const directory = issuer ? this.#directories.get(issuer) : undefined;
    if (!directory) {
      throw new DcrError(
        'unapproved_software_statement',
        `the software statement was issued by ${issuer ? `"${issuer}"` : 'no issuer'}, not a directory this bank trusts`,
      );
    }
    let claims: Claims;
    try {
      const verified = await jwtVerify(ssa, await this.#options.jwks.resolver(directory.jwksUri), {
        algorithms: ['PS256'],
        issuer: directory.issuer,
        currentDate: this.#options.clock.now(),
        clockTolerance: this.#options.clockToleranceSeconds ?? 30,
      });
      claims = verified.payload as Claims;
    } catch (error) {
      throw new DcrError('invalid_software_statement', `the software statement ${describeJose(error)}`);
    }
    const iat = claims['iat'];
    const tolerance = this.#options.clockToleranceSeconds ?? 30;
    if (typeof iat !== 'number')
      throw new DcrError('invalid_software_statement', 'the software statement has no iat');
    if (iat > this.#now() + tolerance) {
      throw new DcrError('invalid_software_statement', 'the software statement was issued in the future');
    }
    if (this.#now() - iat > (this.#options.ssaMaxAgeSeconds ?? 7 * 24 * 3600)) {
      throw new DcrError(
        'invalid_software_statement',
        'the software statement is too old: fetch a fresh one from the directory',
      );
    }
    for (const name of ['software_id', 'org_id', 'software_jwks_endpoint'] as const) {
      if (!str(claims, name))
        throw new DcrError('invalid_software_statement', `the software statement has no ${name}`);
    }
    if (!isHttps(str(claims, 'software_jwks_endpoint') ?? '')) {
      throw new DcrError('invalid_software_statement', 'software_jwks_endpoint must be an https URL');
    }
    if (!stringArray(claims['software_redirect_uris']) || !stringArray(claims['software_roles'])) {
      throw new DcrError(
        'invalid_software_statement',
        'software_redirect_uris and software_roles must be lists of strings',
      );
    }
    return claims;
  }

  /** The transport certificate chains to the directory CA, is not revoked, and belongs to the software. */
  async #checkCertificate(certificate: X509Certificate, ssa: Claims): Promise<void> {
    let issuer;
    try {
      const chain = await validateChain(certificate, {
        trustAnchors: this.#options.trustAnchorsPem,
        ...(this.#options.intermediatesPem ? { intermediates: this.#options.intermediatesPem } : {}),
        purpose: 'clientAuth',
        clock: this.#options.clock,
      });
      issuer = chain.path[1] ?? chain.anchor;
    } catch (error) {
      const detail = error instanceof ChainValidationError ? error.message : 'it could not be validated';
      throw new DcrError(
        'unapproved_software_statement',
        `the transport certificate is not trusted: ${detail}`,
      );
    }
    try {
      await this.#options.revocation.assertNotRevoked(certificate, issuer);
    } catch (error) {
      const detail = error instanceof RevocationError ? error.message : 'its status could not be checked';
      throw new DcrError('unapproved_software_statement', `the transport certificate was refused: ${detail}`);
    }
    const identity = parseParticipantCertificate(certificate);
    const softwareId = str(ssa, 'software_id');
    const orgId = str(ssa, 'org_id');
    const obwac =
      identity.softwareId === softwareId && (identity.orgId === undefined || identity.orgId === orgId);
    const qwac =
      identity.organizationIdentifier !== undefined &&
      orgId !== undefined &&
      (identity.organizationIdentifier === orgId || identity.organizationIdentifier.endsWith(`-${orgId}`));
    if (!obwac && !qwac) {
      throw new DcrError(
        'unapproved_software_statement',
        `the transport certificate (${identity.subjectDn}) was not issued to software ${softwareId} of organisation ${orgId}`,
      );
    }
  }

  /** Verifies the request JWT with the software's keys and checks iss, aud, exp, iat and jti. */
  async #verifyRequest(body: string, ssa: Claims): Promise<Claims> {
    const softwareId = str(ssa, 'software_id') as string;
    let claims: Claims;
    try {
      const verified = await jwtVerify(
        body,
        await this.#options.jwks.resolver(str(ssa, 'software_jwks_endpoint') as string),
        {
          algorithms: ['PS256'],
          currentDate: this.#options.clock.now(),
          clockTolerance: this.#options.clockToleranceSeconds ?? 30,
          requiredClaims: ['iss', 'aud', 'exp', 'iat', 'jti'],
        },
      );
      claims = verified.payload as Claims;
    } catch (error) {
      throw new DcrError('invalid_client_metadata', `the registration request ${describeJose(error)}`);
    }
    if (claims['iss'] !== softwareId) {
      throw new DcrError(
        'invalid_client_metadata',
        `the registration request must be issued by the software (iss = ${softwareId})`,
      );
    }
    const audiences = new Set([this.#options.server.issuer, ...this.#options.audiences]);
    const aud = claims['aud'];
    const named = typeof aud === 'string' ? [aud] : (stringArray(aud) ?? []);
    if (!named.some((value) => audiences.has(value))) {
      throw new DcrError(
        'invalid_client_metadata',
        'the registration request is addressed to another bank (aud)',
      );
    }
    const tolerance = this.#options.clockToleranceSeconds ?? 30;
    const iat = claims['iat'] as number;
    if (iat > this.#now() + tolerance) {
      throw new DcrError(
        'invalid_client_metadata',
        'the registration request was issued in the future (iat)',
      );
    }
    if (this.#now() - iat > (this.#options.requestMaxAgeSeconds ?? 3600)) {
      throw new DcrError('invalid_client_metadata', 'the registration request is too old (iat)');
    }
    const jti = claims['jti'];
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) {
      throw new DcrError('invalid_client_metadata', 'the registration request needs a jti');
    }
    const exp = claims['exp'] as number;
    const inserted = await this.#db
      .insert(authModels)
      .values({
        model: JTI_MODEL,
        id: `${softwareId}:${jti}`,
        payload: { jti, softwareId },
        expiresAt: new Date(
          Math.max(exp, iat + (this.#options.requestMaxAgeSeconds ?? 3600)) * 1000 + tolerance * 1000,
        ),
      })
      .onConflictDoNothing({ target: [authModels.model, authModels.id] })
      .returning({ id: authModels.id });
    if (inserted.length === 0) {
      throw new DcrError(
        'invalid_client_metadata',
        'the registration request was already used (jti replayed)',
      );
    }
    return claims;
  }

  /** Everything a registration request says about the client, checked against the SSA. */
  #metadata(request: Claims, ssa: Claims, certificate: X509Certificate, clientId: string): ClientMetadata {
    const softwareId = str(ssa, 'software_id') as string;
    if (request['software_id'] !== undefined && request['software_id'] !== softwareId) {
      throw new DcrError('invalid_client_metadata', 'software_id differs from the software statement');
    }

    const allowedRedirects = new Set(stringArray(ssa['software_redirect_uris']) ?? []);
    const redirectUris = stringArray(request['redirect_uris']);
    if (!redirectUris || redirectUris.length === 0) {
      throw new DcrError('invalid_redirect_uri', 'redirect_uris must list at least one URI');
    }
    for (const uri of redirectUris) {
      if (!isHttps(uri)) throw new DcrError('invalid_redirect_uri', `redirect URI ${uri} is not https`);
      if (!allowedRedirects.has(uri)) {
        throw new DcrError(
          'invalid_redirect_uri',
          `redirect URI ${uri} is not one of the software statement's`,
        );
      }
    }

    const method = request['token_endpoint_auth_method'];
    if (typeof method !== 'string' || !AUTH_METHODS.has(method)) {
      throw new DcrError(
        'invalid_client_metadata',
        'token_endpoint_auth_method must be private_key_jwt or tls_client_auth',
      );
    }
    for (const field of ALGORITHM_FIELDS) {
      const value = request[field];
      if (value !== undefined && value !== 'PS256') {
        throw new DcrError('invalid_client_metadata', `${field} must be PS256`);
      }
    }
    for (const field of ['id_token_signed_response_alg', 'request_object_signing_alg'] as const) {
      if (request[field] === undefined)
        throw new DcrError('invalid_client_metadata', `${field} is required (PS256)`);
    }
    if (
      request['id_token_encrypted_response_alg'] !== undefined ||
      request['request_object_encryption_alg'] !== undefined
    ) {
      throw new DcrError(
        'invalid_client_metadata',
        'encrypted ID tokens and request objects are not supported',
      );
    }

    const grantTypes = stringArray(request['grant_types']);
    if (!grantTypes || grantTypes.length === 0 || grantTypes.some((grant) => !GRANT_TYPES.has(grant))) {
      throw new DcrError(
        'invalid_client_metadata',
        `grant_types must be drawn from authorization_code, client_credentials, refresh_token, ${CIBA_GRANT_TYPE}`,
      );
    }
    const responseTypes =
      request['response_types'] === undefined ? ['code id_token'] : stringArray(request['response_types']);
    if (
      !responseTypes ||
      responseTypes.length === 0 ||
      responseTypes.some((type) => !RESPONSE_TYPES.has(type))
    ) {
      throw new DcrError(
        'invalid_client_metadata',
        'response_types must be drawn from "code id_token" and "code" (with JARM)',
      );
    }

    const ciba = cibaRegistrationMetadata(request, grantTypes, redirectUris);
    if ('error' in ciba) throw new DcrError('invalid_client_metadata', ciba.error);

    const scope = request['scope'];
    if (typeof scope !== 'string' || scope.trim() === '')
      throw new DcrError('invalid_client_metadata', 'scope is required');
    const roles = stringArray(ssa['software_roles']) ?? [];
    const allowedScopes = new Set([
      'openid',
      ...roles.map((role) => ROLE_SCOPES[role]).filter((s): s is string => !!s),
    ]);
    const scopes = [...new Set(scope.split(' ').filter(Boolean))];
    const refused = scopes.filter((item) => !allowedScopes.has(item));
    if (refused.length > 0) {
      throw new DcrError(
        'invalid_client_metadata',
        `scope ${refused.join(' ')} is not allowed by the software's roles (${roles.join(', ') || 'none'})`,
      );
    }

    // v3.3 says `mobile`, v3.4 says `native` (as OpenID does): the provider knows `web` and `native`.
    const requestedType = request['application_type'] ?? 'web';
    if (requestedType !== 'web' && requestedType !== 'mobile' && requestedType !== 'native') {
      throw new DcrError('invalid_client_metadata', 'application_type must be web, mobile or native');
    }
    const applicationType = requestedType === 'web' ? 'web' : 'native';

    let subjectDn: string | undefined;
    if (method === 'tls_client_auth') {
      subjectDn = str(request, 'tls_client_auth_subject_dn');
      if (!subjectDn)
        throw new DcrError('invalid_client_metadata', 'tls_client_auth needs tls_client_auth_subject_dn');
      let matches: boolean;
      try {
        matches = dnEquals(subjectDn, parseParticipantCertificate(certificate).subjectDn);
      } catch {
        matches = false;
      }
      if (!matches) {
        throw new DcrError(
          'invalid_client_metadata',
          'tls_client_auth_subject_dn is not the subject of the transport certificate',
        );
      }
    }

    return {
      client_id: clientId,
      client_id_issued_at: this.#now(),
      redirect_uris: redirectUris,
      grant_types: grantTypes,
      response_types: responseTypes,
      token_endpoint_auth_method: method,
      ...(method === 'private_key_jwt' ? { token_endpoint_auth_signing_alg: 'PS256' } : {}),
      ...(subjectDn ? { tls_client_auth_subject_dn: subjectDn } : {}),
      ...ciba.metadata,
      id_token_signed_response_alg: 'PS256',
      request_object_signing_alg: 'PS256',
      authorization_signed_response_alg: 'PS256',
      tls_client_certificate_bound_access_tokens: true,
      subject_type: 'pairwise',
      application_type: applicationType,
      scope: scopes.join(' '),
      jwks_uri: str(ssa, 'software_jwks_endpoint'),
      ...(typeof ssa['software_client_name'] === 'string'
        ? { client_name: ssa['software_client_name'] }
        : {}),
      ...(typeof ssa['software_logo_uri'] === 'string' && isHttps(ssa['software_logo_uri'])
        ? { logo_uri: ssa['software_logo_uri'] }
        : {}),
      software_id: softwareId,
      org_id: str(ssa, 'org_id'),
      software_roles: roles,
      software_statement: request['software_statement'],
      ...(typeof ssa['software_client_name'] === 'string'
        ? { software_client_name: ssa['software_client_name'] }
        : {}),
      ...(typeof ssa['software_version'] === 'string' ? { software_version: ssa['software_version'] } : {}),
      ...(typeof ssa['software_logo_uri'] === 'string'
        ? { software_logo_uri: ssa['software_logo_uri'] }
        : {}),
    } as ClientMetadata;
  }

  /**
   * Checks a registration request end to end and stores the client (new, or `existingClientId` for a
   * PUT). Throws DcrError with the spec's error code.
   */
  async register(
    body: unknown,
    certificate: X509Certificate | undefined,
    existing?: { clientId: string; softwareId: string },
  ): Promise<RegisteredClient> {
    if (typeof body !== 'string' || body.trim() === '') {
      throw new DcrError(
        'invalid_client_metadata',
        'the body must be a signed JWT (application/jwt or application/jose)',
      );
    }
    const jwt = body.trim();
    if (!certificate) {
      throw new DcrError(
        'unapproved_software_statement',
        'register over mTLS with the transport certificate',
      );
    }
    let header;
    let unverified: Claims;
    try {
      header = decodeProtectedHeader(jwt);
      unverified = decodeJwt(jwt) as Claims;
    } catch {
      throw new DcrError('invalid_client_metadata', 'the body is not a readable JWT');
    }
    if (header.alg !== 'PS256') {
      throw new DcrError(
        'invalid_client_metadata',
        `the registration request must be signed with PS256, not ${String(header.alg)}`,
      );
    }
    const ssa = await this.#verifySsa(unverified['software_statement']);
    if (existing && str(ssa, 'software_id') !== existing.softwareId) {
      throw new DcrError('invalid_client_metadata', 'a client cannot move to another software statement');
    }
    await this.#checkCertificate(certificate, ssa);
    const request = await this.#verifyRequest(jwt, ssa);

    const clientId = existing?.clientId ?? randomUUID();
    const metadata = this.#metadata(request, ssa, certificate, clientId);
    const { provider } = this.#options.server;
    try {
      await provider.Client.validate(metadata);
    } catch (error) {
      const code = (error as { error?: unknown }).error;
      const description = (error as { error_description?: unknown }).error_description;
      throw new DcrError(
        code === 'invalid_redirect_uri' ? 'invalid_redirect_uri' : 'invalid_client_metadata',
        typeof description === 'string' ? description : 'the client metadata is invalid',
      );
    }
    if (existing) {
      // A re-registration keeps the client id and its issue time.
      const previous = await this.find(existing.clientId);
      if (previous?.metadata.client_id_issued_at !== undefined) {
        metadata.client_id_issued_at = previous.metadata.client_id_issued_at;
      }
    }

    const response = this.#response(metadata, request, ssa, await this.#responseAudience(request));
    await this.#db.transaction(async (tx) => {
      for (const [model, payload] of [
        ['Client', metadata],
        [REGISTRATION_MODEL, response],
      ] as const) {
        await tx
          .insert(authModels)
          .values({ model, id: clientId, payload })
          .onConflictDoUpdate({ target: [authModels.model, authModels.id], set: { payload } });
      }
    });
    return { clientId, metadata, response };
  }

  /** The request's `aud` when it is a directory id; else the bank's directory id, if known. */
  async #responseAudience(request: Claims): Promise<string> {
    const named = typeof request['aud'] === 'string' ? [request['aud']] : (stringArray(request['aud']) ?? []);
    const id = named.find((value) => DIRECTORY_ID.test(value));
    if (id) return id;
    const ours =
      (await this.#options.directoryId?.()) ??
      this.#options.audiences.find((audience) => DIRECTORY_ID.test(audience));
    return ours ?? named[0] ?? '';
  }

  #response(metadata: ClientMetadata, request: Claims, ssa: Claims, aud: string): Record<string, unknown> {
    const kept: Record<string, unknown> = {};
    for (const name of SSA_CLAIMS_KEPT) if (ssa[name] !== undefined) kept[name] = ssa[name];
    return {
      ...kept,
      // The request's own claims, as the OBClientRegistration1 response schema carries them.
      iss: request['iss'],
      iat: request['iat'],
      exp: request['exp'],
      aud,
      jti: request['jti'],
      client_id: metadata.client_id,
      client_id_issued_at: metadata.client_id_issued_at,
      redirect_uris: metadata.redirect_uris,
      token_endpoint_auth_method: metadata.token_endpoint_auth_method,
      ...(metadata.token_endpoint_auth_signing_alg
        ? { token_endpoint_auth_signing_alg: metadata.token_endpoint_auth_signing_alg }
        : {}),
      ...(metadata.tls_client_auth_subject_dn
        ? { tls_client_auth_subject_dn: metadata.tls_client_auth_subject_dn }
        : {}),
      grant_types: metadata.grant_types,
      response_types: metadata.response_types,
      scope: metadata.scope,
      software_id: metadata['software_id'],
      software_statement: metadata['software_statement'],
      application_type: request['application_type'] ?? metadata.application_type,
      id_token_signed_response_alg: metadata.id_token_signed_response_alg,
      request_object_signing_alg: metadata.request_object_signing_alg,
      ...(metadata['backchannel_token_delivery_mode'] !== undefined
        ? {
            backchannel_token_delivery_mode: metadata['backchannel_token_delivery_mode'],
            backchannel_authentication_request_signing_alg:
              metadata['backchannel_authentication_request_signing_alg'],
            backchannel_user_code_parameter_supported: false,
            ...(metadata['backchannel_client_notification_endpoint'] !== undefined
              ? {
                  backchannel_client_notification_endpoint:
                    metadata['backchannel_client_notification_endpoint'],
                }
              : {}),
          }
        : {}),
    };
  }

  /** A registered client (not configured ones) with its registration response. */
  async find(
    clientId: string,
  ): Promise<{ metadata: ClientMetadata; response: Record<string, unknown> } | undefined> {
    const rows = await this.#db
      .select({ model: authModels.model, payload: authModels.payload })
      .from(authModels)
      .where(and(eq(authModels.id, clientId), sql`${authModels.model} in ('Client', ${REGISTRATION_MODEL})`));
    const client = rows.find((row) => row.model === 'Client');
    const registration = rows.find((row) => row.model === REGISTRATION_MODEL);
    if (!client || !registration) return undefined;
    return {
      metadata: client.payload as ClientMetadata,
      response: registration.payload as Record<string, unknown>,
    };
  }

  /** Deletes the client, its registration, and every token and grant it holds. */
  async delete(clientId: string): Promise<void> {
    await this.#db.transaction(async (tx) => {
      await tx
        .delete(authModels)
        .where(
          and(eq(authModels.id, clientId), sql`${authModels.model} in ('Client', ${REGISTRATION_MODEL})`),
        );
      await tx.delete(authModels).where(sql`${authModels.payload} ->> 'clientId' = ${clientId}`);
    });
    await this.#options.onDeleted?.(clientId);
  }
}
