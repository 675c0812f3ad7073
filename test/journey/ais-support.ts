import {
  clientCredentialsToken,
  completeAuthorization,
  startAuthorization,
} from '../../src/tpp/authorization.ts';
import { describeFailure } from '../../src/tpp/http.ts';
import { apiBaseOf, callApi } from '../../src/tpp/open-banking.ts';
import { approveInSandbox } from '../../src/tpp/sandbox-approval.ts';
import { browserClient, type Sandbox, type Tpp } from '../support/journey.ts';

export interface AuthorisedConsent {
  consentId: string;
  /** The TPP's client_credentials token (consent endpoints). */
  clientToken: string;
  /** The PSU-authorised, certificate-bound token (data endpoints). */
  accessToken: string;
}

/** Stages an account-access consent as `tpp`, has the sandbox PSU approve it headlessly, redeems the code. */
export async function authorise(
  sandbox: Pick<Sandbox, 'rootPem'>,
  tpp: Tpp,
  options: {
    permissions: readonly string[];
    username?: string;
    accounts?: string[];
    transactionFrom?: string;
    transactionTo?: string;
    expirationDateTime?: string;
  },
): Promise<AuthorisedConsent> {
  const clientToken = (await clientCredentialsToken(tpp.bank, 'accounts')).access_token;
  const staged = await callApi(tpp.bank, clientToken, `${apiBaseOf(tpp.bank)}/aisp/account-access-consents`, {
    method: 'POST',
    body: {
      Data: {
        Permissions: options.permissions,
        ...(options.transactionFrom ? { TransactionFromDateTime: options.transactionFrom } : {}),
        ...(options.transactionTo ? { TransactionToDateTime: options.transactionTo } : {}),
        ...(options.expirationDateTime ? { ExpirationDateTime: options.expirationDateTime } : {}),
      },
      Risk: {},
    },
  });
  if (staged.status !== 201) throw describeFailure('staging the consent', staged);
  const consentId = (staged.json as { Data: { ConsentId: string } }).Data.ConsentId;
  const accessToken = await approveConsent(sandbox, tpp, consentId, options);
  return { consentId, clientToken, accessToken };
}

/**
 * The sandbox PSU approves the account-access consent `consentId` headlessly (a first authorisation, or a
 * re-authentication of an Authorised one) and the TPP redeems the code: the new access token.
 */
export async function approveConsent(
  sandbox: Pick<Sandbox, 'rootPem'>,
  tpp: Tpp,
  consentId: string,
  options: { username?: string; accounts?: string[] } = {},
): Promise<string> {
  const pending = await startAuthorization(tpp.bank, {
    intentId: consentId,
    scope: 'accounts',
    redirectUri: tpp.redirectUri,
  });
  const back = await approveInSandbox(browserClient(sandbox), pending.url, tpp.redirectUri, {
    username: options.username ?? 'alice',
    decision: 'approve',
    ...(options.accounts ? { accounts: options.accounts } : {}),
  });
  return (await completeAuthorization(tpp.bank, pending, back)).access_token;
}

export interface AisAnswer {
  status: number;
  json: unknown;
  text: string;
}

/** GET on the AIS API (`path` below `/aisp`), with the FAPI headers a TPP sends. */
export async function aisGet(
  tpp: Tpp,
  token: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<AisAnswer> {
  const response = await callApi(tpp.bank, token, `${apiBaseOf(tpp.bank)}/aisp${path}`, { headers });
  return { status: response.status, json: response.json, text: response.text };
}

/** GET on an absolute URL the bank gave (a `Links.Next`, …). */
export async function aisGetUrl(tpp: Tpp, token: string, url: string): Promise<AisAnswer> {
  const response = await callApi(tpp.bank, token, url);
  return { status: response.status, json: response.json, text: response.text };
}
