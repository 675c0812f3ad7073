import { errors } from 'oidc-provider';
import type { ClaimsParameter, KoaContextWithOIDC } from 'oidc-provider';
import { checkIntentAuthorisable } from '../consent/authorisable.ts';
import { getIntent } from '../consent/intents.ts';
import type { Intent } from '../consent/intents.ts';
import type { Clock } from '../shared/clock.ts';
import type { Queryable } from '../store/index.ts';

export const ACR_SCA = 'urn:openbanking:psd2:sca';
export const ACR_CA = 'urn:openbanking:psd2:ca';
export const SUPPORTED_ACRS: readonly string[] = [ACR_SCA, ACR_CA];
export const INTENT_CLAIM = 'openbanking_intent_id';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The intent id a `claims` request names (id_token or userinfo member), or undefined. */
export function intentIdOfClaims(claims: unknown): string | undefined {
  if (!isObject(claims)) return undefined;
  for (const member of ['id_token', 'userinfo']) {
    const container = claims[member];
    if (isObject(container)) {
      const request = container[INTENT_CLAIM];
      if (isObject(request) && typeof request['value'] === 'string') return request['value'];
    }
  }
  return undefined;
}

/**
 * `features.claimsParameter.assertClaimsParameter`: the `claims` request must ask for
 * `openbanking_intent_id` as an essential claim with a value, and that intent must exist, belong to this
 * client, be AwaitingAuthorisation (or, outside CIBA, Authorised and re-authenticatable: see
 * `checkIntentAuthorisable`), be unexpired and match the requested scope. An essential `acr` must be
 * one we can satisfy. Otherwise the request is refused (an OAuth error to the redirect URI).
 */
export async function assertOpenBankingClaims(
  ctx: KoaContextWithOIDC,
  claims: ClaimsParameter,
  clientId: string,
  db: Queryable,
  clock: Clock,
): Promise<Intent> {
  for (const container of ['userinfo', 'id_token'] as const) {
    const members = claims[container];
    if (members !== undefined) {
      for (const value of Object.values(members)) {
        if (value !== null && !isObject(value)) {
          throw new errors.InvalidRequest(`claims.${container} members must be null or objects`);
        }
      }
    }
  }

  const requests: Json[] = [];
  for (const container of ['id_token', 'userinfo'] as const) {
    const request = (claims[container] as Json | undefined)?.[INTENT_CLAIM];
    if (request !== undefined && request !== null) requests.push(request as Json);
  }
  if (requests.length === 0) {
    throw new errors.InvalidRequest(`the claims parameter must request ${INTENT_CLAIM}`);
  }
  const ids = new Set<string>();
  for (const request of requests) {
    if (typeof request['value'] !== 'string' || request['value'] === '') {
      throw new errors.InvalidRequest(`${INTENT_CLAIM} must carry the intent id as its value`);
    }
    if (request['essential'] !== true) {
      throw new errors.InvalidRequest(`${INTENT_CLAIM} must be requested as an essential claim`);
    }
    ids.add(request['value']);
  }
  if (ids.size !== 1) {
    throw new errors.InvalidRequest(`${INTENT_CLAIM} must name one intent`);
  }

  const acr = (claims.id_token as Json | undefined)?.['acr'];
  if (isObject(acr) && acr['essential'] === true) {
    const wanted =
      typeof acr['value'] === 'string'
        ? [acr['value']]
        : Array.isArray(acr['values'])
          ? acr['values'].filter((value): value is string => typeof value === 'string')
          : [];
    if (wanted.length > 0 && !wanted.some((value) => SUPPORTED_ACRS.includes(value))) {
      throw new errors.AccessDenied(`the essential acr requested (${wanted.join(', ')}) cannot be satisfied`);
    }
  }

  const [intentId] = ids;
  const scopes = (ctx.oidc.params?.['scope'] as string | undefined)?.split(' ').filter(Boolean) ?? [];
  const intent = await getIntent(db, intentId as string);
  // The redirect flow (authorization and PAR endpoints) may re-authenticate an Authorised consent; the
  // decoupled flow (backchannel authentication) authorises only an AwaitingAuthorisation one.
  const check = checkIntentAuthorisable(intent, clientId, scopes, clock.now(), {
    reauthentication: ctx.oidc.route !== 'backchannel_authentication',
  });
  if (!check.ok) {
    switch (check.reason) {
      case 'not_found':
      case 'wrong_client':
        // The same answer for both, so a client cannot probe other clients' intent ids.
        throw new errors.InvalidRequest(`${INTENT_CLAIM} does not name an intent of this client`);
      case 'not_awaiting_authorisation':
        throw new errors.InvalidRequest(`the intent cannot be authorised: ${check.message}`);
      case 'expired':
        throw new errors.InvalidRequest('the intent has expired');
      case 'scope_mismatch':
        throw new errors.InvalidScope(check.message, scopes.join(' '));
    }
  }
  return check.intent;
}
