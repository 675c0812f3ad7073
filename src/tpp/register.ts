import { X509Certificate, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { updateBundleSummary, type Bundle, type BankRegistration } from './bundle.ts';
import { bankAgent, connectToBank, importSigningKey, issuerOf } from './bank.ts';
import { clientCredentialsToken } from './authorization.ts';
import { describeFailure, send } from './http.ts';
import { scopesOfRoles } from '../shared/psd2-roles.ts';

export interface RegisterOptions {
  discoveryUrl: string;
  trust: string[];
  tokenEndpointAuthMethod?: 'private_key_jwt' | 'tls_client_auth';
  /** Also register for decoupled authorisation (FAPI-CIBA), see `src/tpp/ciba.ts`. */
  ciba?: CibaRegistration;
  /**
   * When the bundle is registered at this bank already: by default its registration is updated
   * (`PUT /register/{ClientId}`, authorised by the client's own token); `new` registers another client.
   */
  new?: boolean;
  progress?: (line: string) => void;
}

/** CIBA client metadata: poll, or ping with the https endpoint the bank calls when the customer answered. */
export type CibaRegistration =
  { deliveryMode: 'poll' } | { deliveryMode: 'ping'; notificationEndpoint: string };

export const CIBA_GRANT_TYPE = 'urn:openid:params:grant-type:ciba';

interface DiscoveryDocument {
  issuer: string;
  registration_endpoint?: string;
  mtls_endpoint_aliases?: { registration_endpoint?: string };
}

/** The Open Banking DCR request: a PS256 JWT signed with the software's signing key, carrying the SSA. */
export async function buildRegistrationJwt(
  bundle: Bundle,
  audience: string,
  method: 'private_key_jwt' | 'tls_client_auth',
  subjectDn?: string,
  ciba?: CibaRegistration,
): Promise<string> {
  const scope = ['openid', ...scopesOfRoles(bundle.summary.software.roles)].join(' ');
  return new SignJWT({
    software_statement: bundle.ssa,
    redirect_uris: bundle.summary.software.redirectUris,
    token_endpoint_auth_method: method,
    ...(method === 'private_key_jwt'
      ? { token_endpoint_auth_signing_alg: 'PS256' }
      : { tls_client_auth_subject_dn: subjectDn }),
    grant_types: [
      'authorization_code',
      'client_credentials',
      'refresh_token',
      ...(ciba ? [CIBA_GRANT_TYPE] : []),
    ],
    ...(ciba
      ? {
          backchannel_token_delivery_mode: ciba.deliveryMode,
          backchannel_authentication_request_signing_alg: 'PS256',
          backchannel_user_code_parameter_supported: false,
          ...(ciba.deliveryMode === 'ping'
            ? { backchannel_client_notification_endpoint: ciba.notificationEndpoint }
            : {}),
        }
      : {}),
    response_types: ['code id_token', 'code'],
    id_token_signed_response_alg: 'PS256',
    request_object_signing_alg: 'PS256',
    authorization_signed_response_alg: 'PS256',
    application_type: 'web',
    scope,
  })
    .setProtectedHeader({ alg: 'PS256', kid: bundle.summary.certificates.signing.kid, typ: 'JWT' })
    .setIssuer(bundle.summary.software.id)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime('5m')
    .setJti(randomUUID())
    .sign(await importSigningKey(bundle));
}

/** The certificate's subject as an RFC 4514 string (most specific RDN first), for `tls_client_auth_subject_dn`. */
export function rfc4514SubjectOf(certificatePem: string): string {
  const escape = (value: string) =>
    value
      .replace(/([,+"\\<>;])/g, '\\$1')
      .replace(/^([ #])/, '\\$1')
      .replace(/ $/, '\\ ');
  return new X509Certificate(certificatePem).subject
    .split('\n')
    .map((attribute) => {
      const at = attribute.indexOf('=');
      return `${attribute.slice(0, at)}=${escape(attribute.slice(at + 1))}`;
    })
    .reverse()
    .join(',');
}

/** Registers the bundle's software at a bank by DCR over mTLS and records the client in the bundle. */
export async function registerAtBank(bundle: Bundle, options: RegisterOptions): Promise<BankRegistration> {
  const progress = options.progress ?? (() => undefined);
  const agent = bankAgent(bundle, options.trust);
  try {
    const discoveryUrl = `${issuerOf(options.discoveryUrl).href.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const discovered = await send(agent, discoveryUrl);
    if (discovered.status !== 200) throw describeFailure('reading the bank discovery document', discovered);
    const metadata = discovered.json as DiscoveryDocument;
    const endpoint = metadata.mtls_endpoint_aliases?.registration_endpoint ?? metadata.registration_endpoint;
    if (!endpoint) throw describeFailure('finding the registration endpoint', discovered);
    progress(`bank ${metadata.issuer} registers clients at ${endpoint}`);

    const method = options.tokenEndpointAuthMethod ?? 'private_key_jwt';
    const subjectDn =
      method === 'tls_client_auth' ? rfc4514SubjectOf(bundle.transportCertificatePem) : undefined;
    const body = await buildRegistrationJwt(bundle, metadata.issuer, method, subjectDn, options.ciba);
    const existing = bundle.summary.registrations[metadata.issuer];
    let registration: BankRegistration;
    if (existing && !options.new) {
      progress(
        `the bundle is registered at ${metadata.issuer} already as client ${existing.clientId}: updating that registration (--new registers another client)`,
      );
      registration = await updateRegistration(bundle, existing, endpoint, body, options);
      registration = { ...registration, tokenEndpointAuthMethod: method };
      progress(`updated client ${registration.clientId}`);
    } else {
      const response = await send(agent, endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/jwt', accept: 'application/json' },
        body,
      });
      if (response.status !== 201) throw describeFailure('dynamic client registration', response);
      const client = response.json as {
        client_id: string;
        registration_client_uri?: string;
        registration_access_token?: string;
      };
      progress(`registered as client ${client.client_id}`);
      registration = {
        clientId: client.client_id,
        tokenEndpointAuthMethod: method,
        registeredAt: new Date().toISOString(),
        discoveryUrl,
        ...(client.registration_client_uri ? { registrationClientUri: client.registration_client_uri } : {}),
        ...(client.registration_access_token
          ? { registrationAccessToken: client.registration_access_token }
          : {}),
      };
    }
    updateBundleSummary(bundle.dir, (summary) => {
      summary.registrations[metadata.issuer] = registration;
    });
    return registration;
  } finally {
    await agent.close();
  }
}

/** `PUT /register/{ClientId}` with a new registration request, authorised by the client's own token. */
async function updateRegistration(
  bundle: Bundle,
  existing: BankRegistration,
  endpoint: string,
  body: string,
  options: RegisterOptions,
): Promise<BankRegistration> {
  const bank = await connectToBank(bundle, {
    discoveryUrl: existing.discoveryUrl,
    trust: options.trust,
    clientId: existing.clientId,
    authMethod: existing.tokenEndpointAuthMethod ?? 'private_key_jwt',
  });
  try {
    const scope = scopesOfRoles(bundle.summary.software.roles)[0] ?? 'openid';
    const token = await clientCredentialsToken(bank, scope);
    const url =
      existing.registrationClientUri ??
      `${endpoint.replace(/\/+$/, '')}/${encodeURIComponent(existing.clientId)}`;
    const response = await send(bank.agent, url, {
      method: 'PUT',
      headers: {
        'content-type': 'application/jwt',
        accept: 'application/json',
        authorization: `Bearer ${token.access_token}`,
      },
      body,
    });
    if (response.status !== 200) throw describeFailure('updating the client registration', response);
    return { ...existing, updatedAt: new Date().toISOString() };
  } finally {
    await bank.close();
  }
}
