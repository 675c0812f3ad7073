import { onConsentRevoked } from '../consent/intents.ts';
import type { ClientCertificate } from '../shared/client-certificate.ts';
import { obRolesNamed, type ObRole } from '../shared/psd2-roles.ts';
import type { Store } from '../store/index.ts';
import { revokeIntentTokens } from './adapter.ts';
import { metadataOf } from './client-metadata.ts';
import { INTENT_CLAIM } from './intent-claims.ts';
import type { AuthorizationServer } from './provider.ts';

/**
 * What the API layer asks of the authorization server for each request, without an HTTP round trip:
 * is this access token valid, and is it bound to the certificate this request came with?
 */
export interface AccessTokenInfo {
  /** `client_credentials` tokens carry no customer and no intent. */
  grantType: 'client_credentials' | 'authorization_code';
  clientId: string;
  scopes: string[];
  /** The customer (bank customer id) for tokens from an authorisation. */
  customerId: string | undefined;
  /** The Open Banking intent the token rests on (authorization code tokens). */
  intentId: string | undefined;
  /** RFC 8705 `cnf.x5t#S256`. */
  certificateThumbprint: string | undefined;
  expiresAt: Date;
  /** The PSD2 roles the client is registered with (none for a client registered without roles). */
  roles: ObRole[];
}

export type AccessTokenCheck =
  | { ok: true; token: AccessTokenInfo }
  | { ok: false; reason: 'invalid_token' | 'certificate_mismatch'; description: string };

/**
 * The live access token with this value (an authorization-code token or a client-credentials token),
 * whose grant still stands; undefined otherwise. Certificate binding is the caller's check.
 */
export async function findAccessToken(
  server: AuthorizationServer,
  value: string,
): Promise<AccessTokenInfo | undefined> {
  if (typeof value !== 'string' || value.length === 0 || value.length > 512) return undefined;
  const { provider } = server;
  // Asked together: the adapter answers both finds of one value with one statement (adapter.ts).
  const [access, credentials] = await Promise.all([
    provider.AccessToken.find(value),
    provider.ClientCredentials.find(value),
  ]);
  const token = access ?? credentials;
  if (!token || !token.isValid || !token.clientId) return undefined;

  if (access?.grantId) {
    const grant = await provider.Grant.find(access.grantId, { ignoreExpiration: true });
    if (
      !grant ||
      grant.isExpired ||
      grant.clientId !== access.clientId ||
      grant.accountId !== access.accountId
    ) {
      return undefined;
    }
  }
  const intentId = access?.extra?.[INTENT_CLAIM];
  const client = await provider.Client.find(token.clientId);
  const registeredRoles = client && metadataOf(client)['software_roles'];
  return {
    grantType: access ? 'authorization_code' : 'client_credentials',
    clientId: token.clientId,
    scopes: typeof token.scope === 'string' ? token.scope.split(' ').filter(Boolean) : [],
    customerId: access?.accountId,
    intentId: typeof intentId === 'string' ? intentId : undefined,
    certificateThumbprint: token['x5t#S256'],
    expiresAt: new Date((token.exp ?? 0) * 1000),
    roles: Array.isArray(registeredRoles)
      ? obRolesNamed(registeredRoles.filter((role): role is string => typeof role === 'string'))
      : [],
  };
}

export async function checkAccessToken(
  server: AuthorizationServer,
  value: string,
  certificate: ClientCertificate | undefined,
): Promise<AccessTokenCheck> {
  const token = await findAccessToken(server, value);
  if (!token) {
    return {
      ok: false,
      reason: 'invalid_token',
      description: 'the access token is not valid, or the grant behind it was revoked or has expired',
    };
  }
  if (
    token.certificateThumbprint !== undefined &&
    token.certificateThumbprint !== certificate?.thumbprintS256
  ) {
    return {
      ok: false,
      reason: 'certificate_mismatch',
      description: 'the access token is bound to another certificate',
    };
  }
  return { ok: true, token };
}

/**
 * Every instance drops the codes and tokens of an intent as soon as any instance revokes it (the consent
 * part NOTIFYs; we LISTEN). Returns the unsubscribe function.
 */
export async function revokeTokensOnConsentRevocation(
  store: Store,
  onError: (error: unknown, intentId: string) => void = () => undefined,
): Promise<() => Promise<void>> {
  return onConsentRevoked(store, (intentId) => {
    revokeIntentTokens(store.db, intentId).catch((error: unknown) => onError(error, intentId));
  });
}
