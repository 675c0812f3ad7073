import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Intent } from './intents.ts';

/**
 * The only way the consent app talks to the authorization server (as Ory Hydra's login/consent app talks to
 * Hydra). src/auth implements it over oidc-provider's `interactionDetails` / `interactionFinished`; the
 * consent app never imports src/auth.
 */

export interface InteractionDetails {
  /** oidc-provider's interaction uid (the `:uid` of `/interaction/:uid`). */
  uid: string;
  /** What the provider asks for now: a login first, then consent. */
  prompt: 'login' | 'consent';
  clientId: string;
  /** The TPP's name, from its software statement (`software_client_name` / `client_name`). */
  clientName: string;
  /** The TPP's logo from its software statement, https only. */
  logoUri?: string;
  /** `openbanking_intent_id` of the request object's `claims`. */
  intentId: string;
  /** Scopes requested, e.g. `['openid', 'accounts']`. */
  scopes: string[];
  /** Requested `acr` values, most preferred first (`urn:openbanking:psd2:sca`, `urn:openbanking:psd2:ca`). */
  acrValues: string[];
  /** The customer the provider's session is logged in as, once a login has finished. */
  customerId?: string;
}

export interface LoginResult {
  customerId: string;
  /** `urn:openbanking:psd2:sca` after password + TOTP. */
  acr: string;
  /** RFC 8176 methods, e.g. `['pwd', 'otp', 'mfa']`. */
  amr: string[];
}

export interface ConsentResult {
  intentId: string;
  /** The scopes granted (those asked for; an intent-bound grant is all or nothing). */
  scopes: string[];
  /**
   * The intent as the guarded transition to Authorised returned it (`authorise`): the bridge checks the
   * grant against this row instead of reading the intent again.
   */
  authorised: Intent;
}

export interface InteractionBridge {
  /**
   * The interaction this request belongs to (read from the provider's interaction cookie). Rejects with an
   * `InteractionNotFoundError` when there is none or it has expired.
   */
  details(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
  /** Ends the login prompt; writes the redirect back to the provider on `res`. */
  finishLogin(req: IncomingMessage, res: ServerResponse, result: LoginResult): Promise<void>;
  /** Ends the consent prompt with a grant bound to the intent; writes the redirect on `res`. */
  finishConsent(req: IncomingMessage, res: ServerResponse, result: ConsentResult): Promise<void>;
  /**
   * Ends both prompts at once (login and consent in one result, as oidc-provider's `interactionFinished`
   * accepts): what the sandbox's headless approval needs, as no browser comes back between the two.
   * Writes the redirect on `res`.
   */
  finishLoginAndConsent(
    req: IncomingMessage,
    res: ServerResponse,
    login: LoginResult,
    consent: ConsentResult,
  ): Promise<void>;
  /** Ends the interaction with an OAuth error sent to the TPP's redirect URI; writes the redirect on `res`. */
  abort(
    req: IncomingMessage,
    res: ServerResponse,
    error: 'access_denied' | 'login_required' | 'interaction_required' | (string & {}),
    description: string,
  ): Promise<void>;
}

/** What `details` rejects with when the request carries no live interaction (expired, or never started). */
export class InteractionNotFoundError extends Error {
  override name = 'InteractionNotFoundError';
}

export const ACR_SCA = 'urn:openbanking:psd2:sca';
export const ACR_CA = 'urn:openbanking:psd2:ca';
