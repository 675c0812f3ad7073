import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { errors } from 'oidc-provider';
import {
  DecoupledStateError,
  type DecoupledBridge,
  type DecoupledRequest,
} from '../consent/app/bank-app-bridge.ts';
import { getIntent } from '../consent/intents.ts';
import type { LoginResult } from '../consent/interaction-bridge.ts';
import { authModels } from '../store/schema/auth.ts';
import { CIBA_MODEL as MODEL, isObject } from './ciba.ts';
import { ACR_SCA, INTENT_CLAIM, SUPPORTED_ACRS, intentIdOfClaims } from './intent-claims.ts';
import type { AuthorizationServer } from './provider.ts';

/**
 * The bank app's `DecoupledBridge` over oidc-provider's backchannel authentication requests (CIBA):
 * lists a customer's waiting requests from the store, answers one with a grant bound to its intent
 * (`provider.backchannelResult`, which pings the TPP in ping mode) or with `access_denied`.
 */

type StoredRequest = {
  accountId?: string;
  clientId?: string;
  claims?: unknown;
  scope?: string;
  params?: Record<string, unknown>;
  grantId?: string;
  error?: string;
  iat?: number;
  exp?: number;
};

function requestedAcrs(claims: unknown, acrValues: unknown): string[] {
  const acr = isObject(claims) && isObject(claims['id_token']) ? claims['id_token']['acr'] : undefined;
  const wanted: string[] = [];
  if (isObject(acr)) {
    if (typeof acr['value'] === 'string') wanted.push(acr['value']);
    if (Array.isArray(acr['values'])) wanted.push(...acr['values'].filter((v) => typeof v === 'string'));
  }
  if (typeof acrValues === 'string') wanted.push(...acrValues.split(' ').filter(Boolean));
  const supported = wanted.filter((value) => SUPPORTED_ACRS.includes(value));
  return supported.length > 0 ? [...new Set(supported)] : [ACR_SCA];
}

/** The bank app's bridge over the provider's backchannel authentication requests. */
export function createDecoupledBridge(
  server: AuthorizationServer,
  logger?: { error(object: object, message: string): void },
): DecoupledBridge {
  const { provider, store, clock } = server;

  async function describe(id: string, payload: StoredRequest): Promise<DecoupledRequest | undefined> {
    const intentId = intentIdOfClaims(payload.claims);
    if (!payload.clientId || !payload.accountId || !intentId || typeof payload.exp !== 'number')
      return undefined;
    const client = await provider.Client.find(payload.clientId);
    if (!client) return undefined;
    const metadata = client.metadata();
    const name =
      (typeof metadata['software_client_name'] === 'string' && metadata['software_client_name']) ||
      (typeof metadata.client_name === 'string' && metadata.client_name) ||
      payload.clientId;
    const logo =
      typeof metadata.logo_uri === 'string' && metadata.logo_uri.startsWith('https://')
        ? metadata.logo_uri
        : undefined;
    const binding = payload.params?.['binding_message'];
    return {
      id,
      clientId: payload.clientId,
      clientName: name,
      ...(logo ? { logoUri: logo } : {}),
      intentId,
      scopes: (payload.scope ?? '').split(' ').filter(Boolean),
      ...(typeof binding === 'string' ? { bindingMessage: binding } : {}),
      acrValues: requestedAcrs(payload.claims, payload.params?.['acr_values']),
      customerId: payload.accountId,
      requestedAt: new Date((payload.iat ?? payload.exp) * 1000),
      expiresAt: new Date(payload.exp * 1000),
    };
  }

  /** The provider's request, if it is this customer's and still waiting. */
  async function waiting(id: string, customerId: string) {
    const request = await provider.BackchannelAuthenticationRequest.find(id, { ignoreExpiration: true });
    const stored = request as unknown as
      (StoredRequest & { isExpired?: boolean; consumed?: unknown }) | undefined;
    if (!request || !stored || stored.accountId !== customerId) {
      throw new DecoupledStateError('there is no such request');
    }
    if (stored.grantId || stored.error || stored.consumed) {
      throw new DecoupledStateError('the request has already been answered');
    }
    if (typeof stored.exp !== 'number' || stored.exp * 1000 <= clock.now().getTime()) {
      throw new DecoupledStateError('the request has expired');
    }
    return { request, stored };
  }

  /**
   * Records the answer; `backchannelResult` saves it before pinging the TPP in ping mode, so a failed
   * ping (TPP endpoint down) is only logged: the TPP can still poll. Any other failure is thrown.
   */
  async function deliver(run: () => Promise<void>, id: string): Promise<void> {
    try {
      await run();
    } catch (error) {
      const saved = (await provider.BackchannelAuthenticationRequest.find(id, {
        ignoreExpiration: true,
      })) as unknown as StoredRequest | undefined;
      if (!saved?.grantId && !saved?.error) throw error;
      logger?.error({ err: error, authReqId: id }, 'the CIBA ping to the TPP failed');
    }
  }

  return {
    async pending(customerId) {
      const now = clock.now();
      const rows = await store.db
        .select({ id: authModels.id, payload: authModels.payload })
        .from(authModels)
        .where(
          and(
            eq(authModels.model, MODEL),
            sql`${authModels.payload} ->> 'accountId' = ${customerId}`,
            isNull(authModels.consumedAt),
            gt(authModels.expiresAt, now),
          ),
        );
      const out: DecoupledRequest[] = [];
      for (const row of rows) {
        const payload = row.payload as StoredRequest;
        if (payload.grantId || payload.error) continue;
        const described = await describe(row.id, payload);
        if (described && described.expiresAt.getTime() > now.getTime()) out.push(described);
      }
      return out.sort((a, b) => a.requestedAt.getTime() - b.requestedAt.getTime());
    },

    async approve(id, customerId, login: LoginResult) {
      const { request, stored } = await waiting(id, customerId);
      const intentId = intentIdOfClaims(stored.claims);
      const intent = intentId ? await getIntent(store.db, intentId) : undefined;
      if (!intent || intent.clientId !== stored.clientId) {
        throw new DecoupledStateError('the intent does not belong to this client');
      }
      if (intent.status !== 'Authorised' || intent.customerId !== customerId) {
        throw new DecoupledStateError('the intent has not been authorised by this customer');
      }
      const grant = new provider.Grant({ accountId: customerId, clientId: stored.clientId! });
      grant.addOIDCScope(stored.scope ?? 'openid');
      const claims = new Set<string>([INTENT_CLAIM, 'acr', 'auth_time']);
      if (isObject(stored.claims)) {
        for (const member of ['id_token', 'userinfo']) {
          const requested = stored.claims[member];
          if (isObject(requested)) for (const name of Object.keys(requested)) claims.add(name);
        }
      }
      grant.addOIDCClaims([...claims]);
      await grant.save();
      await deliver(
        () =>
          provider.backchannelResult(request, grant, {
            acr: login.acr,
            amr: login.amr,
            authTime: Math.floor(clock.now().getTime() / 1000),
          }),
        id,
      );
    },

    async deny(id, customerId, description) {
      const { request } = await waiting(id, customerId);
      await deliver(() => provider.backchannelResult(request, new errors.AccessDenied(description)), id);
    },
  };
}
