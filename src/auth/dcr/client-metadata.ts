import type { ClientMetadata } from 'oidc-provider';
import { isHttps, str } from './claims.ts';
import { need, type DcrContext } from './types.ts';

/** The client the provider stores, from what the metadata checks accepted and the SSA says of the software. */
export function clientMetadata(context: DcrContext): ClientMetadata {
  const ssa = need(context, 'ssa');
  const client = context.client;
  const method = need(client, 'method');
  const name = ssa['software_client_name'];
  const logo = ssa['software_logo_uri'];
  const version = ssa['software_version'];
  return {
    client_id: need(context, 'clientId'),
    client_id_issued_at: context.registered?.metadata.client_id_issued_at ?? context.now,
    redirect_uris: need(client, 'redirectUris'),
    grant_types: need(client, 'grantTypes'),
    response_types: need(client, 'responseTypes'),
    token_endpoint_auth_method: method,
    ...(method === 'private_key_jwt' ? { token_endpoint_auth_signing_alg: 'PS256' } : {}),
    ...(client.tlsClientAuthSubjectDn ? { tls_client_auth_subject_dn: client.tlsClientAuthSubjectDn } : {}),
    ...client.ciba,
    id_token_signed_response_alg: 'PS256',
    request_object_signing_alg: 'PS256',
    authorization_signed_response_alg: 'PS256',
    tls_client_certificate_bound_access_tokens: true,
    subject_type: 'pairwise',
    application_type: need(client, 'applicationType'),
    scope: need(client, 'scopes').join(' '),
    jwks_uri: str(ssa, 'software_jwks_endpoint'),
    ...(typeof name === 'string' ? { client_name: name } : {}),
    ...(typeof logo === 'string' && isHttps(logo) ? { logo_uri: logo } : {}),
    software_id: str(ssa, 'software_id'),
    org_id: str(ssa, 'org_id'),
    software_roles: need(context, 'roles'),
    software_statement: need(context, 'request')['software_statement'],
    ...(typeof name === 'string' ? { software_client_name: name } : {}),
    ...(typeof version === 'string' ? { software_version: version } : {}),
    ...(typeof logo === 'string' ? { software_logo_uri: logo } : {}),
  } as ClientMetadata;
}
