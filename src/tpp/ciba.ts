import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { ACR_CA, ACR_SCA, clientCredentialsToken, type TokenResponse } from './authorization.ts';
import { connectToBank, issuerOf, type BankConnection } from './bank.ts';
import type { BankRegistration, Bundle } from './bundle.ts';
import { TppUsageError } from './errors.ts';
import { during } from './http.ts';
import { createAccountAccessConsent } from './open-banking.ts';

/**
 * Decoupled authorisation (FAPI-CIBA): the TPP cannot send the customer to the bank (a call centre, a
 * till), so it asks the bank to reach them on their bank app. A PS256-signed authentication request
 * carrying the intent goes to the backchannel authentication endpoint over mTLS (private_key_jwt); the
 * customer approves on their own device; the TPP then polls the token endpoint (poll mode), or waits to
 * be called at its notification endpoint first (ping mode) and redeems `auth_req_id` once.
 */

/** Who the customer is, as exactly one of CIBA's hints. */
export type CustomerHint =
  | { loginHint: string }
  /** Built with `loginHintToken()`, or any JWT the bank accepts as one. */
  | { loginHintToken: string }
  /** An ID token this bank issued to this TPP earlier for the same customer. */
  | { idTokenHint: string };

export interface DecoupledRequest {
  intentId: string;
  scope: 'accounts' | 'payments' | 'fundsconfirmations';
  hint: CustomerHint;
  /** Shown on the TPP's screen and in the bank app, so the customer can match the two. */
  bindingMessage?: string;
  /** Seconds the customer has to answer (the bank caps it). */
  requestedExpiry?: number;
  /** Ping mode: the bearer token the bank presents at the TPP's notification endpoint. */
  clientNotificationToken?: string;
}

export interface StartedDecoupled {
  authReqId: string;
  expiresIn: number;
  /** Seconds between polls the bank asked for, if it did. */
  interval?: number;
  /** The raw response, for openid-client's polling. */
  response: oidc.BackchannelAuthenticationResponse;
}

/** A login_hint_token: a PS256 JWT the TPP signs, naming the customer by their bank username. */
export async function loginHintToken(
  bank: BankConnection,
  username: string,
  lifetimeSeconds = 300,
): Promise<string> {
  return new SignJWT({ sub_id: { format: 'opaque', id: username } })
    .setProtectedHeader({ alg: 'PS256', kid: bank.signingKid, typ: 'JWT' })
    .setIssuer(bank.clientId)
    .setAudience(bank.issuer)
    .setIssuedAt()
    .setExpirationTime(`${lifetimeSeconds}s`)
    .setJti(randomUUID())
    .sign(bank.signingKey);
}

/** Sends the signed authentication request; the bank answers with the `auth_req_id` to redeem later. */
export async function startDecoupledAuthorization(
  bank: BankConnection,
  request: DecoupledRequest,
): Promise<StartedDecoupled> {
  const intentClaim = { value: request.intentId, essential: true };
  const now = Math.floor(Date.now() / 1000);
  const hint =
    'loginHint' in request.hint
      ? { login_hint: request.hint.loginHint }
      : 'loginHintToken' in request.hint
        ? { login_hint_token: request.hint.loginHintToken }
        : { id_token_hint: request.hint.idTokenHint };
  const signed = await new SignJWT({
    scope: `openid ${request.scope}`,
    claims: {
      id_token: { openbanking_intent_id: intentClaim, acr: { essential: true, values: [ACR_SCA, ACR_CA] } },
      userinfo: { openbanking_intent_id: intentClaim },
    },
    ...hint,
    ...(request.bindingMessage ? { binding_message: request.bindingMessage } : {}),
    ...(request.requestedExpiry ? { requested_expiry: request.requestedExpiry } : {}),
    ...(request.clientNotificationToken
      ? { client_notification_token: request.clientNotificationToken }
      : {}),
  })
    .setProtectedHeader({ alg: 'PS256', kid: bank.signingKid, typ: 'JWT' })
    .setIssuer(bank.clientId)
    .setAudience(bank.issuer)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 300)
    .setJti(randomUUID())
    .sign(bank.signingKey);
  const response = await during('the decoupled authorisation request (CIBA)', () =>
    oidc.initiateBackchannelAuthentication(bank.config, { request: signed }),
  );
  return {
    authReqId: response.auth_req_id,
    expiresIn: response.expires_in,
    ...(typeof response.interval === 'number' ? { interval: response.interval } : {}),
    response,
  };
}

/**
 * Poll mode: asks the token endpoint every `intervalSeconds` (the bank's `interval`, else 5 s) until
 * the customer answers. Resolves with the tokens; rejects with the OAuth error (`access_denied`,
 * `expired_token`, …) as a TppHttpError carrying it.
 */
export async function pollDecoupledAuthorization(
  bank: BankConnection,
  started: StartedDecoupled,
  options: { intervalSeconds?: number; signal?: AbortSignal } = {},
): Promise<TokenResponse> {
  const interval = started.interval ?? options.intervalSeconds ?? 5;
  try {
    return await during('waiting for the customer (CIBA token polling)', () =>
      oidc.pollBackchannelAuthenticationGrant(
        bank.config,
        { ...started.response, interval },
        undefined,
        options.signal ? { signal: options.signal } : undefined,
      ),
    );
  } catch (error) {
    // openid-client stops polling when `expires_in` has passed by this machine's clock; the bank's own
    // answer (`expired_token`, or the tokens if the customer answered at the last moment) is the truth.
    if ((error as { code?: unknown }).code !== 'OAUTH_TIMEOUT' || options.signal?.aborted) throw error;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await redeemDecoupledAuthorization(bank, started.authReqId);
      } catch (answer) {
        const pending = ['authorization_pending', 'slow_down'].includes(
          String((answer as { error?: unknown }).error),
        );
        if (!pending || attempt >= 3) throw answer;
        await new Promise((resolve) => setTimeout(resolve, interval * 1000));
      }
    }
  }
}

/**
 * Ping mode: after the bank called the notification endpoint with this `auth_req_id`, redeems it once.
 * (It also works in poll mode: `authorization_pending` then comes back as an error.)
 */
export async function redeemDecoupledAuthorization(
  bank: BankConnection,
  authReqId: string,
): Promise<TokenResponse> {
  return during('redeeming the decoupled authorisation (CIBA)', () =>
    oidc.genericGrantRequest(bank.config, 'urn:openid:params:grant-type:ciba', {
      auth_req_id: authReqId,
    }),
  );
}

/** The body the bank POSTs to a ping-mode notification endpoint, checked against the expected bearer token. */
export function readPing(
  authorization: string | undefined,
  body: unknown,
  expectedToken: string,
): { authReqId: string } | undefined {
  if (authorization !== `Bearer ${expectedToken}`) return undefined;
  const authReqId = (body as { auth_req_id?: unknown } | undefined)?.auth_req_id;
  return typeof authReqId === 'string' && authReqId ? { authReqId } : undefined;
}

export interface DecoupledJourneyOptions {
  bundle: Bundle;
  /** The bank's discovery URL or issuer; default the bundle's only registration. */
  bank?: string;
  trust: string[];
  authMethod?: 'private_key_jwt' | 'tls_client_auth';
  /** The customer's bank username. */
  psu: string;
  /** How the customer is named: `login_hint` (default) or a signed `login_hint_token`. */
  hint?: 'login_hint' | 'login_hint_token';
  /** An intent staged earlier; default: stage a new account-access consent. */
  intentId?: string;
  scope?: DecoupledRequest['scope'];
  bindingMessage?: string;
  requestedExpiry?: number;
  intervalSeconds?: number;
  progress?: (line: string) => void;
}

export interface DecoupledJourneyResult {
  intentId: string;
  authReqId: string;
  bindingMessage?: string;
  scope: string;
  tokenType: string;
  accessToken: string;
  expiresIn?: number;
  refreshToken: boolean;
  idTokenClaims: Record<string, unknown>;
}

function registrationOf(bundle: Bundle, bank: string | undefined): BankRegistration {
  const registrations = Object.values(bundle.summary.registrations);
  if (bank) {
    const wanted = issuerOf(bank).href.replace(/\/$/, '');
    const found = registrations.find(
      (registration) => issuerOf(registration.discoveryUrl).href.replace(/\/$/, '') === wanted,
    );
    if (!found)
      throw new TppUsageError(`the bundle has no registration at ${wanted}; run obkit tpp register first`);
    return found;
  }
  const [only, ...more] = registrations;
  if (!only)
    throw new TppUsageError(
      `the bundle is registered at no bank; run obkit tpp register --bundle ${bundle.dir}`,
    );
  if (more.length > 0)
    throw new TppUsageError('the bundle is registered at several banks; choose one with --bank');
  return only;
}

/**
 * `obkit tpp authorize --decoupled`: stages an account-access consent (or takes `intentId`), asks the
 * bank to reach the customer on their bank app, and polls until they answer. A client registered for
 * ping mode polls too here (the bank then also calls its notification endpoint).
 */
export async function runDecoupledAuthorization(
  options: DecoupledJourneyOptions,
): Promise<DecoupledJourneyResult> {
  const progress = options.progress ?? (() => undefined);
  const registration = registrationOf(options.bundle, options.bank);
  const scope = options.scope ?? 'accounts';
  if (!options.intentId && scope !== 'accounts') {
    throw new TppUsageError('without --intent only an account-access consent is staged (scope accounts)');
  }
  const bank = await connectToBank(options.bundle, {
    discoveryUrl: registration.discoveryUrl,
    trust: options.trust,
    clientId: registration.clientId,
    ...(options.authMethod ? { authMethod: options.authMethod } : {}),
  });
  try {
    let intentId = options.intentId;
    if (!intentId) {
      const clientToken = await clientCredentialsToken(bank, 'accounts');
      intentId = (await createAccountAccessConsent(bank, clientToken.access_token)).ConsentId;
      progress(`staged account-access consent ${intentId}`);
    }
    const hint: CustomerHint =
      options.hint === 'login_hint_token'
        ? { loginHintToken: await loginHintToken(bank, options.psu) }
        : { loginHint: options.psu };
    const started = await startDecoupledAuthorization(bank, {
      intentId,
      scope,
      hint,
      ...(options.bindingMessage ? { bindingMessage: options.bindingMessage } : {}),
      ...(options.requestedExpiry ? { requestedExpiry: options.requestedExpiry } : {}),
      // Harmless for a poll client (the bank ignores it); what a ping client must send.
      clientNotificationToken: randomUUID(),
    });
    progress(
      `asked the bank to reach ${options.psu} on their bank app (${new URL('/bank-app', bank.issuer).href})` +
        `${options.bindingMessage ? `; binding message "${options.bindingMessage}"` : ''}; ` +
        `waiting up to ${started.expiresIn} s`,
    );
    const tokens = await pollDecoupledAuthorization(bank, started, {
      intervalSeconds: options.intervalSeconds ?? 2,
    });
    progress('approved: tokens issued');
    return {
      intentId,
      authReqId: started.authReqId,
      ...(options.bindingMessage ? { bindingMessage: options.bindingMessage } : {}),
      scope: tokens.scope ?? `openid ${scope}`,
      tokenType: tokens.token_type,
      accessToken: tokens.access_token,
      ...(typeof tokens.expires_in === 'number' ? { expiresIn: tokens.expires_in } : {}),
      refreshToken: typeof tokens.refresh_token === 'string',
      idTokenClaims: { ...(tokens.claims() ?? {}) },
    };
  } finally {
    await bank.close();
  }
}
