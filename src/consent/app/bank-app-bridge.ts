import type { LoginResult } from '../interaction-bridge.ts';

/**
 * The bank app's door into the authorization server for decoupled (CIBA) authorisations, as
 * `InteractionBridge` is the consent app's for redirects: src/auth implements it over oidc-provider's
 * backchannel authentication requests; the bank app never sees the provider.
 */
export interface DecoupledRequest {
  /** The `auth_req_id`. */
  id: string;
  clientId: string;
  /** The TPP's name from its software statement. */
  clientName: string;
  logoUri?: string;
  /** The `openbanking_intent_id` the signed authentication request carries. */
  intentId: string;
  scopes: string[];
  /** What the TPP shows the customer on its own device, for them to compare. */
  bindingMessage?: string;
  acrValues: string[];
  /** The customer the request names (login_hint, login_hint_token or id_token_hint). */
  customerId: string;
  requestedAt: Date;
  expiresAt: Date;
}

export interface DecoupledBridge {
  /** The customer's requests still waiting for an answer (not expired, not answered), oldest first. */
  pending(customerId: string): Promise<DecoupledRequest[]>;
  /**
   * Answers the request with a grant bound to its intent, which must already be Authorised by this
   * customer. In ping mode the TPP's notification endpoint is called (a failure there is only logged:
   * the TPP may still poll). Throws `DecoupledStateError` when the request cannot be answered.
   */
  approve(id: string, customerId: string, login: LoginResult): Promise<void>;
  /** Answers the request with `access_denied`. */
  deny(id: string, customerId: string, description: string): Promise<void>;
}

/** The request is unknown, another customer's, already answered or expired. */
export class DecoupledStateError extends Error {
  override name = 'DecoupledStateError';
}
