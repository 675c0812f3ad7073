import type { KeyObject } from 'node:crypto';
import { compactVerify, decodeJwt, decodeProtectedHeader } from 'jose';
import { errors } from 'oidc-provider';
import type { Adapter, Configuration, KoaContextWithOIDC, UnknownObject } from 'oidc-provider';
import { bankCustomerDirectory } from '../consent/bank-directory.ts';
import { getIntent } from '../consent/intents.ts';
import type { Clock } from '../shared/clock.ts';
import type { Store } from '../store/index.ts';
import { INTENT_CLAIM } from './intent-claims.ts';

/**
 * FAPI-CIBA on oidc-provider's `features.ciba`: the TPP posts a signed authentication request carrying the
 * intent to the backchannel authentication endpoint over mTLS; the customer answers in the bank app
 * (src/consent/app/bank-app.ts) through the `DecoupledBridge` below; the TPP polls the token endpoint or,
 * in ping mode, is called at its notification endpoint first. Push mode is not offered (FAPI-CIBA).
 *
 * The customer is named by exactly one of:
 * - `login_hint`: the customer's bank username;
 * - `login_hint_token`: a JWT the TPP signs with its registered signing key (PS256), `iss` its client id,
 *   `aud` our issuer, unexpired, with `sub_id: { format: "opaque", id: <username> }` (RFC 9493 shape);
 * - `id_token_hint`: an ID token we issued to this TPP earlier; its pairwise `sub` is mapped back to the
 *   customer through the intent it carries.
 */

export const CIBA_ROUTE = '/backchannel';
export const CIBA_GRANT_TYPE = 'urn:openid:params:grant-type:ciba';
export const CIBA_DELIVERY_MODES = ['poll', 'ping'] as const;
/** How long a request may wait for the customer, at most and by default (seconds). */
export const CIBA_MAX_EXPIRY = 600;
/**
 * An expired request stays readable this long, so that the TPP's next poll is answered `expired_token`
 * (as CIBA asks) rather than `invalid_grant` "not found"; the sweeper deletes it after.
 */
export const CIBA_EXPIRED_GRACE_SECONDS = 600;
export const CIBA_MODEL = 'BackchannelAuthenticationRequest';
const BINDING_MESSAGE = /^[\p{L}\p{N} .,:;!?#&()+/_£€$@'-]{1,40}$/u;

/** The client's pairwise `sub` for a customer (src/auth/provider.ts). */
export type Pairwise = (
  client: { clientId: string; sectorIdentifier?: string; metadata(): UnknownObject },
  accountId: string,
) => string;

export interface CibaOptions {
  store: Store;
  clock: Clock;
  issuer: string;
  pairwise: Pairwise;
}

/** The minimal view of oidc-provider's client key store (pinned oidc-provider 9) used to verify JWTs. */
interface ClientKeyStore {
  selectForVerify(options: { alg?: string; kid?: string }): object[];
  getKeyObject(jwk: object, asymmetric?: boolean): Promise<KeyObject>;
}

async function verifyWithClientKeys(ctx: KoaContextWithOIDC, jwt: string): Promise<UnknownObject> {
  const client = ctx.oidc.client as unknown as { asymmetricKeyStore?: ClientKeyStore } | undefined;
  const keystore = client?.asymmetricKeyStore;
  if (!keystore) throw new errors.InvalidRequest('login_hint_token cannot be verified for this client');
  let header;
  try {
    header = decodeProtectedHeader(jwt);
  } catch {
    throw new errors.InvalidRequest('login_hint_token is not a JWT');
  }
  if (header.alg !== 'PS256') throw new errors.InvalidRequest('login_hint_token must be signed with PS256');
  for (const jwk of keystore.selectForVerify({ alg: 'PS256', ...(header.kid ? { kid: header.kid } : {}) })) {
    try {
      await compactVerify(jwt, await keystore.getKeyObject(jwk, true), { algorithms: ['PS256'] });
      return decodeJwt(jwt) as UnknownObject;
    } catch {
      // Try the next key.
    }
  }
  throw new errors.InvalidRequest('login_hint_token signature does not verify with the client keys');
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface CibaSupport {
  /** `features.ciba`. */
  feature: NonNullable<Configuration['features']>['ciba'];
  /** `ttl.BackchannelAuthenticationRequest`: `requested_expiry`, at most (and by default) 10 minutes. */
  ttl: (ctx: KoaContextWithOIDC | undefined) => number;
  /** Wraps the request model's adapter to keep expired requests readable for a grace period. */
  adapter(inner: Adapter): Adapter;
  /** Extra request-object checks on the backchannel route (CIBA §7.1.1: `iat` and `jti` as well). */
  assertRequestObject(ctx: KoaContextWithOIDC, claims: UnknownObject): void;
  /** `findAccount`'s account id for a subject: an `id_token_hint`'s pairwise `sub` mapped back. */
  accountIdOf(ctx: KoaContextWithOIDC | undefined, sub: string): Promise<string>;
}

export function createCibaSupport(options: CibaOptions): CibaSupport {
  const { store, clock, issuer, pairwise } = options;
  const customers = bankCustomerDirectory(store.db);

  async function customerIdOfUsername(username: unknown): Promise<string | undefined> {
    if (typeof username !== 'string' || username.length === 0 || username.length > 128) return undefined;
    return (await customers.findCustomerByUsername(username.trim()))?.id;
  }

  const feature: CibaSupport['feature'] = {
    enabled: true,
    deliveryModes: [...CIBA_DELIVERY_MODES],
    async processLoginHint(_ctx, loginHint) {
      return customerIdOfUsername(loginHint);
    },
    async processLoginHintToken(ctx, loginHintToken) {
      if (!loginHintToken) return undefined;
      const claims = await verifyWithClientKeys(ctx, loginHintToken);
      const now = Math.floor(clock.now().getTime() / 1000);
      if (claims['iss'] !== ctx.oidc.client?.clientId) {
        throw new errors.InvalidRequest('login_hint_token iss must be the client id');
      }
      const aud = claims['aud'];
      if (aud !== issuer && !(Array.isArray(aud) && aud.includes(issuer))) {
        throw new errors.InvalidRequest('login_hint_token aud must be the issuer');
      }
      if (typeof claims['exp'] !== 'number' || claims['exp'] <= now - 5) {
        throw new errors.ExpiredLoginHintToken('login_hint_token has expired');
      }
      const subject = claims['sub_id'];
      if (!isObject(subject) || subject['format'] !== 'opaque') {
        throw new errors.InvalidRequest(
          'login_hint_token sub_id must be {"format":"opaque","id":<username>}',
        );
      }
      return customerIdOfUsername(subject['id']);
    },
    async verifyUserCode(_ctx, _account, userCode) {
      if (userCode !== undefined) throw new errors.InvalidRequest('user_code is not supported');
    },
    async validateBindingMessage(_ctx, bindingMessage) {
      if (bindingMessage !== undefined && !BINDING_MESSAGE.test(bindingMessage)) {
        throw new errors.InvalidBindingMessage(
          'binding_message must be 1 to 40 letters, digits, spaces or common punctuation',
        );
      }
    },
    async validateRequestContext(_ctx, requestContext) {
      if (requestContext !== undefined && requestContext !== null && typeof requestContext !== 'object') {
        throw new errors.InvalidRequest('request_context must be a JSON object');
      }
    },
    async triggerAuthenticationDevice() {
      // The bank app lists the customer's pending requests from the store (it polls), on any instance.
    },
  };

  return {
    feature,
    ttl(ctx) {
      const requested = Number(ctx?.oidc?.params?.['requested_expiry']);
      return Number.isSafeInteger(requested) && requested > 0
        ? Math.min(CIBA_MAX_EXPIRY, requested)
        : CIBA_MAX_EXPIRY;
    },
    adapter(inner) {
      return {
        upsert: (id, payload, expiresIn) =>
          inner.upsert(
            id,
            payload,
            typeof expiresIn === 'number' ? expiresIn + CIBA_EXPIRED_GRACE_SECONDS : expiresIn,
          ),
        find: (id) => inner.find(id),
        findByUid: (uid) => inner.findByUid(uid),
        findByUserCode: (code) => inner.findByUserCode(code),
        consume: (id) => inner.consume(id),
        destroy: (id) => inner.destroy(id),
        revokeByGrantId: (grantId) => inner.revokeByGrantId(grantId),
      };
    },
    assertRequestObject(ctx, claims) {
      if (ctx.oidc.route !== 'backchannel_authentication') return;
      for (const claim of ['iat', 'jti'] as const) {
        if (claims[claim] === undefined) {
          throw new errors.InvalidRequestObject(`Request Object is missing the '${claim}' claim`);
        }
      }
    },
    async accountIdOf(ctx, sub) {
      const hint =
        ctx?.oidc?.route === 'backchannel_authentication' ? ctx.oidc.entities.IdTokenHint : undefined;
      if (!hint) return sub;
      const payload = (hint as unknown as { payload?: UnknownObject }).payload ?? {};
      const intentId = payload[INTENT_CLAIM];
      const intent = typeof intentId === 'string' ? await getIntent(store.db, intentId) : undefined;
      const client = ctx?.oidc?.client;
      if (!intent?.customerId || !client || intent.clientId !== client.clientId) {
        throw new errors.UnknownUserId('the id_token_hint does not name a customer of this client');
      }
      if (pairwise(client, intent.customerId) !== sub) {
        throw new errors.UnknownUserId('the id_token_hint does not name a customer of this client');
      }
      return intent.customerId;
    },
  };
}

/**
 * Open Banking DCR's CIBA metadata (OB DCR v3.2+, FAPI-CIBA): with the CIBA grant type the request must
 * name `backchannel_token_delivery_mode` (poll or ping; push is not FAPI), for ping an https
 * `backchannel_client_notification_endpoint`, and `backchannel_authentication_request_signing_alg`
 * PS256; `backchannel_user_code_parameter_supported`, if present, false. Returns the client metadata to
 * store, or the reason the request is refused (an `invalid_client_metadata`).
 */
export function cibaRegistrationMetadata(
  request: Record<string, unknown>,
  grantTypes: readonly string[],
  redirectUris: readonly string[],
): { metadata: Record<string, unknown> } | { error: string } {
  const fields = [
    'backchannel_token_delivery_mode',
    'backchannel_client_notification_endpoint',
    'backchannel_authentication_request_signing_alg',
    'backchannel_user_code_parameter_supported',
  ];
  if (!grantTypes.includes(CIBA_GRANT_TYPE)) {
    const stray = fields.find((field) => request[field] !== undefined);
    return stray ? { error: `${stray} needs the ${CIBA_GRANT_TYPE} grant type` } : { metadata: {} };
  }
  const mode = request['backchannel_token_delivery_mode'];
  if (mode !== 'poll' && mode !== 'ping') {
    return { error: 'backchannel_token_delivery_mode must be poll or ping' };
  }
  const endpoint = request['backchannel_client_notification_endpoint'];
  if (mode === 'ping') {
    let https: boolean;
    try {
      https = typeof endpoint === 'string' && new URL(endpoint).protocol === 'https:';
    } catch {
      https = false;
    }
    if (!https) return { error: 'ping mode needs an https backchannel_client_notification_endpoint' };
  } else if (endpoint !== undefined) {
    return { error: 'backchannel_client_notification_endpoint is only for ping mode' };
  }
  if (request['backchannel_authentication_request_signing_alg'] !== 'PS256') {
    return { error: 'backchannel_authentication_request_signing_alg must be PS256' };
  }
  const userCode = request['backchannel_user_code_parameter_supported'];
  if (userCode !== undefined && userCode !== false) {
    return { error: 'backchannel_user_code_parameter_supported must be false' };
  }
  // Pairwise subjects: oidc-provider wants a sector identifier for a client with both redirects and CIBA.
  // The redirect URIs' one host is it, so a customer has the same `sub` in both flows (id_token_hint).
  const hosts = new Set(redirectUris.map((uri) => new URL(uri).host));
  if (hosts.size !== 1) return { error: 'a CIBA client needs all its redirect URIs on one host' };
  return {
    metadata: {
      sector_identifier_uri: `${new URL(redirectUris[0]!).origin}/`,
      backchannel_token_delivery_mode: mode,
      ...(mode === 'ping' ? { backchannel_client_notification_endpoint: endpoint } : {}),
      backchannel_authentication_request_signing_alg: 'PS256',
      backchannel_user_code_parameter: false,
    },
  };
}
