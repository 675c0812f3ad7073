import type { X509Certificate } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';
import type { ParticipantCertificateInfo, RevocationChecker, x509 } from '../../pki/index.ts';
import type { CertificateVerdict, ClientCertificate } from '../../shared/client-certificate.ts';
import type { Clock } from '../../shared/clock.ts';
import type { ParticipantStatusCheck } from '../../shared/participant-status.ts';
import type { ObRole } from '../../shared/psd2-roles.ts';
import type { AuthorizationServer } from '../provider.ts';
import type { Claims } from './claims.ts';
import type { RemoteJwksCache } from './jwks.ts';

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
  /**
   * The status of participants at the directory: a Suspended or Revoked organisation or software statement
   * does not register. Absent: the bank knows of no directory to ask (see `participantStatusUrl`).
   */
  participantStatus?: ParticipantStatusCheck;
}

export type DcrOperation = 'POST' | 'GET' | 'PUT' | 'DELETE';

/** What the HTTP layer hands the pipeline: the request as received, nothing interpreted yet. */
export interface DcrInput {
  /** The body as received (a JWT for POST and PUT). */
  readonly body?: unknown;
  /** The media type of the body, lower case, without parameters. */
  readonly contentType?: string;
  /** The transport certificate the mTLS surface verified, when there is one. */
  readonly certificate?: ClientCertificate | undefined;
  /** The mTLS surface's verdict on what was presented, to say why there is no trusted certificate. */
  readonly certificateVerdict?: CertificateVerdict | undefined;
  /** The `Authorization` header (GET, PUT, DELETE). */
  readonly authorization?: string | undefined;
  /** The `:ClientId` of the path (GET, PUT, DELETE). */
  readonly clientId?: string;
}

/** The registration being drawn up, field by field, as the metadata checks accept the request's values. */
export interface ClientDraft {
  redirectUris?: string[];
  method?: 'private_key_jwt' | 'tls_client_auth';
  grantTypes?: string[];
  responseTypes?: string[];
  /** CIBA metadata, when the client asks for the CIBA grant. */
  ciba?: Record<string, unknown>;
  scopes?: string[];
  applicationType?: 'web' | 'native';
  tlsClientAuthSubjectDn?: string;
}

/** A stored registration: what the provider authenticates the client by, and the DCR response body. */
export interface StoredRegistration {
  metadata: ClientMetadata;
  response: Record<string, unknown>;
}

/**
 * What one registration request accumulates as it passes the checks: later checks read what earlier ones
 * established (use `need` to read it). A check reads `input`, `options` and earlier findings, and either
 * records a finding or throws a DcrError (DcrAccessError for the access checks of GET, PUT and DELETE).
 */
export interface DcrContext {
  readonly operation: DcrOperation;
  readonly input: DcrInput;
  readonly options: RegistrationOptions;
  readonly directories: ReadonlyMap<string, TrustedDirectory>;
  /** Seconds since the epoch, read once per request from the injected clock. */
  readonly now: number;
  /** Allowed clock skew, seconds. */
  readonly tolerance: number;

  /** The client this GET/PUT/DELETE manages: the path's, once the access token showed it is the caller. */
  clientId?: string;
  /** Its stored registration (GET, PUT, DELETE). */
  registered?: StoredRegistration;
  /** The registration request JWT (POST, PUT). */
  jwt?: string;
  /** Its claims, before its signature is checked: where the SSA is read from. */
  unverifiedRequest?: Claims;
  /** The directory that issued the SSA. */
  directory?: TrustedDirectory;
  /** The SSA's claims, verified. */
  ssa?: Claims;
  /** The transport certificate, and its issuer from the validated chain. */
  certificate?: X509Certificate;
  certificateIssuer?: x509.X509Certificate;
  /** What the transport certificate says of its holder (organisation, software, eIDAS roles). */
  identity?: ParticipantCertificateInfo;
  /** The Open Banking roles the client is registered with (the SSA's, narrowed by an eIDAS certificate's). */
  roles?: ObRole[];
  /** The registration request's claims, verified. */
  request?: Claims;
  /** The registration drawn up so far. */
  readonly client: ClientDraft;
  /** The client as the provider will store it, once the provider accepted it. */
  metadata?: ClientMetadata;
}

/** One registration rule: it returns to let the next run, or throws a DcrError (or DcrAccessError). */
export type DcrCheck = (context: DcrContext) => Promise<void> | void;

/** A finding an earlier check recorded; reaching a check without it is a mistake in the pipeline's table. */
export function need<T extends object, K extends keyof T>(holder: T, key: K): NonNullable<T[K]> {
  const value = holder[key];
  if (value === undefined || value === null) {
    throw new Error(`DCR pipeline: a check needs "${String(key)}", which no earlier check established`);
  }
  return value as NonNullable<T[K]>;
}
