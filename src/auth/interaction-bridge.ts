import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InteractionResults } from 'oidc-provider';
import {
  ACR_CA,
  ACR_SCA,
  InteractionNotFoundError,
  type ConsentResult,
  type InteractionBridge,
  type InteractionDetails,
  type LoginResult,
} from '../consent/interaction-bridge.ts';
import { isExpired } from '../consent/intents.ts';
import { INTENT_CLAIM, SUPPORTED_ACRS, intentIdOfClaims } from './intent-claims.ts';
import type { AuthorizationServer } from './provider.ts';

/**
 * The consent app's door into the provider: oidc-provider's `interactionDetails` / `interactionFinished`
 * behind the `InteractionBridge` interface, so the consent app never sees the provider.
 *
 * A consent ends in a fresh grant holding exactly the requested scopes and the requested claims
 * (`openbanking_intent_id` among them), and only once the intent is Authorised by the customer who
 * logged in, for this client: the grant is what binds the tokens to the intent.
 */

export class InteractionStateError extends Error {
  override name = 'InteractionStateError';
}

type Details = Awaited<ReturnType<AuthorizationServer['provider']['interactionDetails']>>;

function parseClaims(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

function requestedAcrs(claims: unknown, acrValues: unknown): string[] {
  const idToken = (claims as { id_token?: { acr?: { value?: unknown; values?: unknown } } } | undefined)
    ?.id_token;
  const acr = idToken?.acr;
  const wanted: string[] = [];
  if (typeof acr?.value === 'string') wanted.push(acr.value);
  if (Array.isArray(acr?.values))
    wanted.push(...acr.values.filter((v): v is string => typeof v === 'string'));
  if (typeof acrValues === 'string') wanted.push(...acrValues.split(' ').filter(Boolean));
  const supported = wanted.filter((value) => SUPPORTED_ACRS.includes(value));
  return supported.length > 0 ? [...new Set(supported)] : [ACR_SCA];
}

function httpsOnly(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return new URL(value).protocol === 'https:' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The acr to report for a login. SCA satisfies a request that asked only for CA (customer
 * authentication without the second factor): report what was asked, or the provider would ask for a
 * login again, forever, since the acr it got is not among the essential values.
 */
export function acrToReport(details: { params: Record<string, unknown> }, achieved: string): string {
  const claims = parseClaims(details.params['claims']);
  const acr = (claims as { id_token?: { acr?: { essential?: unknown; value?: unknown; values?: unknown } } })
    ?.id_token?.acr;
  if (acr?.essential !== true) return achieved;
  const wanted = [
    ...(typeof acr.value === 'string' ? [acr.value] : []),
    ...(Array.isArray(acr.values) ? acr.values.filter((v): v is string => typeof v === 'string') : []),
  ];
  if (wanted.length === 0 || wanted.includes(achieved)) return achieved;
  return achieved === ACR_SCA && wanted.includes(ACR_CA) ? ACR_CA : achieved;
}

export function createInteractionBridge(server: AuthorizationServer): InteractionBridge {
  const { provider, clock } = server;

  /**
   * The interaction each request loaded: `details` and the `finish…`/`abort` call that follows it in the same
   * request read it once (with oidc-provider's session check). Exact within the request only, which is all
   * it is kept for (keyed by the request object, gone with it): across requests another instance may have
   * written the interaction, so every request loads it afresh.
   */
  const loadedBy = new WeakMap<IncomingMessage, Promise<Details>>();

  async function load(req: IncomingMessage, res: ServerResponse): Promise<Details> {
    let loading = loadedBy.get(req);
    if (!loading) {
      loading = provider.interactionDetails(req, res);
      loadedBy.set(req, loading);
    }
    try {
      return await loading;
    } catch (error) {
      throw new InteractionNotFoundError(
        error instanceof Error ? error.message : 'the interaction was not found or has expired',
      );
    }
  }

  /**
   * oidc-provider's `interactionFinished` on the interaction this request already loaded (it would find it
   * again): the result stored for the provider's resume, and the browser sent there.
   */
  async function finish(
    res: ServerResponse,
    interaction: Details,
    result: InteractionResults,
    { mergeWithLastSubmission }: { mergeWithLastSubmission: boolean },
  ): Promise<void> {
    interaction.result =
      mergeWithLastSubmission && !('error' in result) ? { ...interaction.lastSubmission, ...result } : result;
    // The provider's own clock (its epochTime), as interactionResult does: the row expires when it would have.
    await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
    res.statusCode = 303;
    res.setHeader('Location', interaction.returnTo);
    res.setHeader('Content-Length', '0');
    res.end();
  }

  function intentIdOf(details: Details): string {
    const intentId = intentIdOfClaims(parseClaims(details.params['claims']));
    if (!intentId) throw new InteractionStateError(`the request carries no ${INTENT_CLAIM}`);
    return intentId;
  }

  function scopesOf(details: Details): string[] {
    const scope = details.params['scope'];
    return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
  }

  async function consentResult(
    details: Details,
    accountId: string,
    result: ConsentResult,
  ): Promise<InteractionResults['consent']> {
    const clientId = details.params['client_id'];
    if (typeof clientId !== 'string') throw new InteractionStateError('the interaction has no client');
    if (result.intentId !== intentIdOf(details)) {
      throw new InteractionStateError('the consent names another intent than the request');
    }
    const requested = scopesOf(details);
    const granted = new Set(result.scopes);
    if (requested.some((scope) => !granted.has(scope))) {
      throw new InteractionStateError('an intent-bound grant holds every requested scope or none');
    }
    // The intent as the consent app's guarded transition to Authorised returned it (its row at that commit):
    // no second read. A change after it (a revocation) is refused where tokens are used.
    const intent = result.authorised;
    if (intent.id !== result.intentId || intent.clientId !== clientId) {
      throw new InteractionStateError('the intent does not belong to this client');
    }
    if (intent.status !== 'Authorised' || intent.customerId !== accountId) {
      throw new InteractionStateError('the intent has not been authorised by this customer');
    }
    if (isExpired(intent, clock.now())) {
      throw new InteractionStateError('the intent has expired');
    }

    const grant = new provider.Grant({ accountId, clientId });
    grant.addOIDCScope(requested.join(' '));
    const missing = (details.prompt.details as { missingOIDCClaims?: unknown }).missingOIDCClaims;
    const claims = new Set<string>([INTENT_CLAIM, 'acr', 'auth_time']);
    if (Array.isArray(missing)) for (const claim of missing) if (typeof claim === 'string') claims.add(claim);
    grant.addOIDCClaims([...claims]);
    const grantId = await grant.save();
    return { grantId };
  }

  return {
    async details(req, res): Promise<InteractionDetails> {
      const details = await load(req, res);
      const clientId = details.params['client_id'];
      if (typeof clientId !== 'string') throw new InteractionNotFoundError('the interaction has no client');
      const client = await provider.Client.find(clientId);
      if (!client) throw new InteractionNotFoundError('the client of this interaction no longer exists');
      const metadata = client.metadata();
      const claims = parseClaims(details.params['claims']);
      const name =
        (typeof metadata['software_client_name'] === 'string' && metadata['software_client_name']) ||
        (typeof metadata.client_name === 'string' && metadata.client_name) ||
        clientId;
      const logoUri = httpsOnly(metadata['software_logo_uri']) ?? httpsOnly(metadata.logo_uri);
      const accountId = details.session?.accountId;
      return {
        uid: details.uid,
        prompt: details.prompt.name === 'login' ? 'login' : 'consent',
        clientId,
        clientName: name,
        ...(logoUri ? { logoUri } : {}),
        intentId: intentIdOf(details),
        scopes: scopesOf(details),
        acrValues: requestedAcrs(claims, details.params['acr_values']),
        ...(accountId ? { customerId: accountId } : {}),
      };
    },

    async finishLogin(req, res, result: LoginResult) {
      const details = await load(req, res);
      await finish(
        res,
        details,
        { login: { accountId: result.customerId, acr: acrToReport(details, result.acr), amr: result.amr } },
        { mergeWithLastSubmission: false },
      );
    },

    async finishConsent(req, res, result: ConsentResult) {
      const details = await load(req, res);
      const accountId = details.session?.accountId;
      if (details.prompt.name !== 'consent' || !accountId) {
        throw new InteractionStateError('the customer has not logged in for this interaction');
      }
      const consent = await consentResult(details, accountId, result);
      await finish(res, details, { consent }, { mergeWithLastSubmission: true });
    },

    async finishLoginAndConsent(req, res, login: LoginResult, result: ConsentResult) {
      const details = await load(req, res);
      const consent = await consentResult(details, login.customerId, result);
      await finish(
        res,
        details,
        {
          login: { accountId: login.customerId, acr: acrToReport(details, login.acr), amr: login.amr },
          consent,
        },
        { mergeWithLastSubmission: false },
      );
    },

    async abort(req, res, error, description) {
      const details = await load(req, res);
      await finish(
        res,
        details,
        { error, error_description: description },
        { mergeWithLastSubmission: false },
      );
    },
  };
}
