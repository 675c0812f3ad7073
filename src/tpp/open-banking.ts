import { randomUUID } from 'node:crypto';
import type { BankConnection } from './bank.ts';
import { describeFailure, send, type HttpResponse } from './http.ts';

/** The Read/Write API versions the SDK speaks, as a TPP names them (`--api-version 4.0`). */
export const READ_WRITE_VERSIONS = ['4.0', '3.1.11'] as const;
export type ReadWriteVersion = (typeof READ_WRITE_VERSIONS)[number];

/** Each version's path below the bank's origin, as the specifications' `servers` give it. */
const VERSION_PATHS: Record<ReadWriteVersion, string> = {
  '4.0': '/open-banking/v4.0',
  '3.1.11': '/open-banking/v3.1',
};

export function isReadWriteVersion(value: string): value is ReadWriteVersion {
  return (READ_WRITE_VERSIONS as readonly string[]).includes(value);
}

/**
 * The Read/Write API base of a bank for a version (v3.1.11 unless said): the origin of its mutual-TLS
 * endpoints and the version's path, unless configured.
 */
export function apiBaseOf(
  bank: BankConnection,
  configured?: string,
  version: ReadWriteVersion = '3.1.11',
): string {
  if (configured) return configured.replace(/\/+$/, '');
  const metadata = bank.config.serverMetadata();
  const tokenEndpoint = metadata.mtls_endpoint_aliases?.token_endpoint ?? metadata.token_endpoint;
  if (!tokenEndpoint) throw new Error('the bank publishes no token endpoint to derive its API origin from');
  return `${new URL(tokenEndpoint).origin}${VERSION_PATHS[version]}`;
}

/** One call to a Read/Write API over the connection's mutual TLS, with the FAPI headers a TPP sends. */
export async function callApi(
  bank: BankConnection,
  accessToken: string,
  url: string,
  init: {
    method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
): Promise<HttpResponse> {
  return send(bank.agent, url, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${accessToken}`,
      accept: 'application/json',
      'x-fapi-interaction-id': randomUUID(),
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
    ...(init.body !== undefined
      ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }
      : {}),
  });
}

export const ALL_ACCOUNT_PERMISSIONS = [
  'ReadAccountsDetail',
  'ReadBalances',
  'ReadBeneficiariesDetail',
  'ReadDirectDebits',
  'ReadOffers',
  'ReadPAN',
  'ReadParty',
  'ReadPartyPSU',
  'ReadProducts',
  'ReadScheduledPaymentsDetail',
  'ReadStandingOrdersDetail',
  'ReadStatementsDetail',
  'ReadTransactionsCredits',
  'ReadTransactionsDebits',
  'ReadTransactionsDetail',
] as const;

export interface AccountAccessConsent {
  ConsentId: string;
  Status: string;
  Permissions: string[];
  ExpirationDateTime?: string;
}

/** Stages an account-access consent with the TPP's client_credentials token. */
export async function createAccountAccessConsent(
  bank: BankConnection,
  clientToken: string,
  request: {
    permissions?: readonly string[];
    expirationDateTime?: string;
    apiBaseUrl?: string;
    apiVersion?: ReadWriteVersion;
  } = {},
): Promise<AccountAccessConsent> {
  const response = await callApi(
    bank,
    clientToken,
    `${apiBaseOf(bank, request.apiBaseUrl, request.apiVersion)}/aisp/account-access-consents`,
    {
      method: 'POST',
      body: {
        Data: {
          Permissions: request.permissions ?? ALL_ACCOUNT_PERMISSIONS,
          ...(request.expirationDateTime ? { ExpirationDateTime: request.expirationDateTime } : {}),
        },
        Risk: {},
      },
    },
  );
  if (response.status !== 201) throw describeFailure('staging the account-access consent', response);
  return (response.json as { Data: AccountAccessConsent }).Data;
}
