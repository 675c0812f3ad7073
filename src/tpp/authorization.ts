import * as oidc from 'openid-client';
import type { BankConnection } from './bank.ts';
import { during } from './http.ts';

export const ACR_SCA = 'urn:openbanking:psd2:sca';
export const ACR_CA = 'urn:openbanking:psd2:ca';

export interface AuthorizationRequest {
  intentId: string;
  scope: 'accounts' | 'payments' | 'fundsconfirmations';
  redirectUri: string;
  /**
   * How the signed request object reaches the bank: pushed to its PAR endpoint (default; the PSU's URL then
   * carries only `request_uri`), or by value in the PSU's URL (`request`), as FAPI 1.0 Advanced also allows.
   */
  requestBy?: 'par' | 'value';
}

/** What the TPP must keep between sending the PSU away and the PSU coming back. */
export interface PendingAuthorization {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
}

/**
 * FAPI 1.0 Advanced: a PS256-signed request object (claims with `openbanking_intent_id` and the SCA
 * `acr`, both essential) with PKCE, pushed to the bank's PAR endpoint (the PSU goes to the short URL PAR
 * returns) or, with `requestBy: 'value'`, carried in the PSU's URL itself. PKCE is required only at PAR
 * (FAPI 1.0 Advanced 5.2.2-18); the SDK sends it by value too, where the bank enforces it all the same.
 */
export async function startAuthorization(
  bank: BankConnection,
  request: AuthorizationRequest,
): Promise<PendingAuthorization> {
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const intentClaim = { value: request.intentId, essential: true };
  const acrClaim = { essential: true, values: [ACR_SCA, ACR_CA] };
  const parameters = {
    redirect_uri: request.redirectUri,
    scope: `openid ${request.scope}`,
    state,
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    claims: JSON.stringify({
      id_token: { openbanking_intent_id: intentClaim, acr: acrClaim },
      userinfo: { openbanking_intent_id: intentClaim },
    }),
  };
  const withRequestObject = await oidc.buildAuthorizationUrlWithJAR(bank.config, parameters, {
    key: bank.signingKey,
    kid: bank.signingKid,
  });
  const url =
    request.requestBy === 'value'
      ? withRequestObject
      : await during('pushing the authorisation request (PAR)', () =>
          oidc.buildAuthorizationUrlWithPAR(bank.config, {
            request: withRequestObject.searchParams.get('request') ?? '',
          }),
        );
  return { url, state, nonce, codeVerifier, redirectUri: request.redirectUri };
}

export type TokenResponse = oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;

/** The PSU is back at `redirectedTo`: check the response (ID token or JARM) and redeem the code over mTLS. */
export async function completeAuthorization(
  bank: BankConnection,
  pending: PendingAuthorization,
  redirectedTo: URL,
): Promise<TokenResponse> {
  return during('redeeming the authorisation code', () =>
    oidc.authorizationCodeGrant(bank.config, redirectedTo, {
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      pkceCodeVerifier: pending.codeVerifier,
      idTokenExpected: true,
    }),
  );
}

/** The TPP's own token, for staging intents and other client-level calls. */
export async function clientCredentialsToken(bank: BankConnection, scope: string): Promise<TokenResponse> {
  return during(`getting a client_credentials token (scope ${scope})`, () =>
    oidc.clientCredentialsGrant(bank.config, { scope }),
  );
}
