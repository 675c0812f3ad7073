import { importPKCS8, type CryptoKey } from 'jose';
import * as oidc from 'openid-client';
import { fetch as undiciFetch, type Agent } from 'undici';
import type { Bundle } from './bundle.ts';
import { createHttpClient, during, networkCodeOf, TppHttpError } from './http.ts';

/**
 * A TPP's connection to one bank: its discovery document, mutual TLS with the bundle's transport
 * certificate on every call (the bank's mTLS endpoint aliases), and PS256 private_key_jwt client
 * authentication with the bundle's signing key. OAuth and OpenID protocol logic is openid-client's.
 */
export interface BankConnection {
  readonly config: oidc.Configuration;
  readonly agent: Agent;
  readonly issuer: string;
  readonly clientId: string;
  readonly signingKey: CryptoKey;
  readonly signingKid: string;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** The bank's OpenID discovery URL (…/.well-known/openid-configuration) or its issuer. */
  discoveryUrl: string;
  /** PEM CAs to trust for the bank's HTTPS; the bundle's CA chain is always trusted too. */
  trust: string[];
  clientId: string;
  /** FAPI 1.0 Advanced allows the hybrid `code id_token` (ID token as detached signature) or `code` with JARM. */
  responseType?: 'code id_token' | 'code+jarm';
  /** How the client was registered to authenticate at the token endpoint. Default private_key_jwt. */
  authMethod?: 'private_key_jwt' | 'tls_client_auth';
}

/** openid-client's fetch over the bank connection; a request that gets no answer names its URL. */
export function mtlsFetch(agent: Agent): oidc.CustomFetch {
  return async (url, options) => {
    try {
      return (await undiciFetch(url, { ...options, dispatcher: agent } as Parameters<
        typeof undiciFetch
      >[1])) as unknown as Response;
    } catch (error) {
      const network = networkCodeOf(error);
      throw new TppHttpError(`cannot reach ${url}: ${network}`, 0, undefined, { url, network });
    }
  };
}

export async function importSigningKey(bundle: Bundle): Promise<CryptoKey> {
  return (await importPKCS8(bundle.signingKeyPem, 'PS256')) as CryptoKey;
}

export function issuerOf(discoveryUrl: string): URL {
  return new URL(discoveryUrl.replace(/\/\.well-known\/openid-configuration\/?$/, ''));
}

export function bankAgent(bundle: Bundle, trust: readonly string[]): Agent {
  return createHttpClient({
    trust: [...trust, bundle.caChainPem],
    identity: { certificatePem: bundle.transportCertificatePem, privateKeyPem: bundle.transportKeyPem },
  });
}

export async function connectToBank(bundle: Bundle, options: ConnectOptions): Promise<BankConnection> {
  const agent = bankAgent(bundle, options.trust);
  const signingKey = await importSigningKey(bundle);
  const signingKid = bundle.summary.certificates.signing.kid;
  const fetchOverMtls = mtlsFetch(agent);
  try {
    const issuer = issuerOf(options.discoveryUrl);
    const config = await during(`reading the bank's discovery document`, () =>
      oidc.discovery(
        issuer,
        options.clientId,
        {
          use_mtls_endpoint_aliases: true,
          id_token_signed_response_alg: 'PS256',
          authorization_signed_response_alg: 'PS256',
        },
        options.authMethod === 'tls_client_auth'
          ? oidc.TlsClientAuth()
          : oidc.PrivateKeyJwt({ key: signingKey, kid: signingKid }),
        { [oidc.customFetch]: fetchOverMtls },
      ),
    );
    config[oidc.customFetch] = fetchOverMtls;
    if (options.responseType === 'code+jarm') oidc.useJwtResponseMode(config);
    else oidc.useCodeIdTokenResponseType(config);
    return {
      config,
      agent,
      issuer: config.serverMetadata().issuer,
      clientId: options.clientId,
      signingKey,
      signingKid,
      close: () => agent.close(),
    };
  } catch (error) {
    await agent.close();
    throw error;
  }
}
