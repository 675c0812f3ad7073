import assert from 'node:assert/strict';
import { X509Certificate, createHash, randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import {
  createLocalJWKSet,
  decodeJwt,
  importPKCS8,
  jwtVerify,
  type CryptoKey,
  type JSONWebKeySet,
} from 'jose';
import * as oidc from 'openid-client';
import { Agent, fetch as undiciFetch, request } from 'undici';
import { approveInSandbox } from '../../src/tpp/sandbox-approval.ts';
import { browserClient, startSandbox, type Tpp } from '../support/journey.ts';

/**
 * The bank as an independent FAPI 1.0 Advanced client sees it: openid-client 6 driven directly, with its
 * own mutual-TLS fetch and keys from the TPP's directory bundle (none of the SDK's authorization code).
 * The sandbox fixtures only onboard and register the TPP (DCR) and stand in for the PSU's browser.
 */

type AuthMethod = 'private_key_jwt' | 'tls_client_auth';
type Journey = 'by value, code id_token, no PKCE' | 'PAR with PKCE, code id_token' | 'by value, code + JARM';
const ACR_SCA = 'urn:openbanking:psd2:sca';

describe('an independent openid-client 6 client, FAPI 1.0 Advanced defaults', async () => {
  const sandbox = await startSandbox();
  const browser = browserClient(sandbox);
  const issuer = new URL(sandbox.platform.urls.browser);
  // The bank's signing keys, read from the jwks_uri its discovery document names.
  const discovered = (await (
    await request(new URL('/.well-known/openid-configuration', issuer), { dispatcher: browser })
  ).body.json()) as { jwks_uri: string };
  const bankJwks = createLocalJWKSet(
    (await (await request(discovered.jwks_uri, { dispatcher: browser })).body.json()) as JSONWebKeySet,
  );

  interface Client {
    tpp: Tpp;
    config: oidc.Configuration;
    signingKey: CryptoKey;
    kid: string;
    apiBase: string;
  }

  /** openid-client's own configuration: discovery, mTLS aliases, PS256, the registered auth method. */
  async function clientOf(tpp: Tpp, method: AuthMethod): Promise<Client> {
    const agent = new Agent({
      connect: {
        ca: [sandbox.rootPem, tpp.bundle.caChainPem],
        cert: tpp.bundle.transportCertificatePem,
        key: tpp.bundle.transportKeyPem,
      },
    });
    after(() => agent.close());
    const mtlsFetch: oidc.CustomFetch = (url, options) =>
      undiciFetch(url, { ...options, dispatcher: agent } as Parameters<
        typeof undiciFetch
      >[1]) as unknown as Promise<Response>;
    const signingKey = (await importPKCS8(tpp.bundle.signingKeyPem, 'PS256')) as CryptoKey;
    const kid = tpp.bundle.summary.certificates.signing.kid;
    const config = await oidc.discovery(
      issuer,
      tpp.clientId,
      {
        use_mtls_endpoint_aliases: true,
        id_token_signed_response_alg: 'PS256',
        authorization_signed_response_alg: 'PS256',
      },
      method === 'tls_client_auth' ? oidc.TlsClientAuth() : oidc.PrivateKeyJwt({ key: signingKey, kid }),
      { [oidc.customFetch]: mtlsFetch },
    );
    config[oidc.customFetch] = mtlsFetch;
    const tokenEndpoint = config.serverMetadata().mtls_endpoint_aliases?.token_endpoint ?? '';
    return {
      tpp,
      config,
      signingKey,
      kid,
      apiBase: `${new URL(tokenEndpoint).origin}/open-banking/v3.1/aisp`,
    };
  }

  const fapiHeaders = () =>
    new Headers({ accept: 'application/json', 'x-fapi-interaction-id': randomUUID() });

  /** Stages an account-access consent with a client_credentials token, as any TPP does. */
  async function stageConsent(client: Client): Promise<string> {
    const token = await oidc.clientCredentialsGrant(client.config, { scope: 'accounts' });
    const headers = fapiHeaders();
    headers.set('content-type', 'application/json');
    const response = await oidc.fetchProtectedResource(
      client.config,
      token.access_token,
      new URL(`${client.apiBase}/account-access-consents`),
      'POST',
      JSON.stringify({ Data: { Permissions: ['ReadAccountsDetail', 'ReadBalances'] }, Risk: {} }),
      headers,
    );
    const body = (await response.json()) as { Data: { ConsentId: string } };
    assert.equal(response.status, 201, JSON.stringify(body));
    return body.Data.ConsentId;
  }

  /**
   * Runs one journey to the code exchange; returns the tokens and the redirect the PSU came back on. With
   * `existing`, the request names a consent staged (and authorised) before: a re-authentication.
   */
  async function authorise(client: Client, journey: Journey, username = 'alice', existing?: string) {
    const consentId = existing ?? (await stageConsent(client));
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const intentClaim = { value: consentId, essential: true };
    const parameters: Record<string, string> = {
      redirect_uri: client.tpp.redirectUri,
      scope: 'openid accounts',
      state,
      nonce,
      claims: JSON.stringify({
        id_token: { openbanking_intent_id: intentClaim, acr: { essential: true, values: [ACR_SCA] } },
        userinfo: { openbanking_intent_id: intentClaim },
      }),
    };
    let codeVerifier: string | undefined;
    if (journey === 'by value, code + JARM') oidc.useJwtResponseMode(client.config);
    else oidc.useCodeIdTokenResponseType(client.config);
    let url: URL;
    if (journey === 'PAR with PKCE, code id_token') {
      codeVerifier = oidc.randomPKCECodeVerifier();
      parameters['code_challenge'] = await oidc.calculatePKCECodeChallenge(codeVerifier);
      parameters['code_challenge_method'] = 'S256';
      const signed = await oidc.buildAuthorizationUrlWithJAR(client.config, parameters, {
        key: client.signingKey,
        kid: client.kid,
      });
      url = await oidc.buildAuthorizationUrlWithPAR(client.config, {
        request: signed.searchParams.get('request') ?? '',
      });
      assert.ok(url.searchParams.get('request_uri')?.startsWith('urn:ietf:params:oauth:request_uri:'));
    } else {
      url = await oidc.buildAuthorizationUrlWithJAR(client.config, parameters, {
        key: client.signingKey,
        kid: client.kid,
      });
      assert.ok(url.searchParams.get('request'));
      assert.equal(url.searchParams.get('code_challenge'), null);
      assert.equal(decodeJwt(url.searchParams.get('request') ?? '')['code_challenge'], undefined);
    }
    const back = await approveInSandbox(browser, url, client.tpp.redirectUri, {
      username,
      decision: 'approve',
    });
    const tokens = await oidc.authorizationCodeGrant(client.config, back, {
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
      ...(codeVerifier ? { pkceCodeVerifier: codeVerifier } : {}),
    });
    return { consentId, tokens, back };
  }

  async function readAccounts(client: Client, accessToken: string) {
    const response = await oidc.fetchProtectedResource(
      client.config,
      accessToken,
      new URL(`${client.apiBase}/accounts`),
      'GET',
      null,
      fapiHeaders(),
    );
    const body = (await response.json()) as { Data?: { Account?: { AccountId: string }[] } };
    assert.equal(response.status, 200, JSON.stringify(body));
    return body.Data?.Account ?? [];
  }

  const journeys: Journey[] = [
    'by value, code id_token, no PKCE',
    'PAR with PKCE, code id_token',
    'by value, code + JARM',
  ];
  for (const method of ['private_key_jwt', 'tls_client_auth'] as const) {
    it(`${method}: every journey ends in an account read with a certificate-bound token`, async () => {
      const tpp = await sandbox.tpp(`indie-${method.replace(/_/g, '-')}`, ['AISP'], {
        tokenEndpointAuthMethod: method,
      });
      const thumbprint = createHash('sha256')
        .update(new X509Certificate(tpp.bundle.transportCertificatePem).raw)
        .digest('base64url');
      for (const journey of journeys) {
        // openid-client fixes a configuration's response type once: one configuration per journey.
        const client = await clientOf(tpp, method);
        const { consentId, tokens, back } = await authorise(client, journey);
        const claims = tokens.claims();
        assert.equal(claims?.['openbanking_intent_id'], consentId, journey);
        assert.equal(claims?.['acr'], ACR_SCA, journey);
        if (journey === 'by value, code + JARM') {
          // The authorization response itself is a JWT the bank signed: checked against its published JWKS.
          const response = back.searchParams.get('response') ?? '';
          const { payload, protectedHeader } = await jwtVerify(response, bankJwks, {
            issuer: issuer.origin,
            audience: tpp.clientId,
          });
          assert.equal(protectedHeader.alg, 'PS256');
          assert.equal(typeof payload['code'], 'string');
          assert.equal(back.hash, '', 'JARM for code travels in the query');
        } else {
          assert.ok(new URLSearchParams(back.hash.slice(1)).get('id_token'), `${journey}: detached ID token`);
        }
        const introspection = await oidc.tokenIntrospection(client.config, tokens.access_token);
        assert.deepEqual(introspection.cnf, { 'x5t#S256': thumbprint }, journey);
        const accounts = await readAccounts(client, tokens.access_token);
        assert.ok(accounts.length > 0, `${journey}: alice's accounts`);
      }
    });
  }

  /** GET /account-access-consents/{id} with a client_credentials token: the consent's Status. */
  async function consentStatus(client: Client, consentId: string): Promise<string> {
    const token = await oidc.clientCredentialsGrant(client.config, { scope: 'accounts' });
    const response = await oidc.fetchProtectedResource(
      client.config,
      token.access_token,
      new URL(`${client.apiBase}/account-access-consents/${consentId}`),
      'GET',
      null,
      fapiHeaders(),
    );
    const body = (await response.json()) as { Data: { ConsentId: string; Status: string } };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.Data.ConsentId, consentId);
    return body.Data.Status;
  }

  for (const version of ['v3.1', 'v4.0'] as const) {
    it(`${version}: an Authorised consent is re-authenticated by a new request naming the same ConsentId`, async () => {
      const tpp = await sandbox.tpp(`indie-reauth-${version.replace('.', '-')}`, ['AISP']);
      const clientFor = async (journey: Journey) => {
        const client = await clientOf(tpp, 'private_key_jwt');
        return { ...client, apiBase: client.apiBase.replace('/v3.1/', `/${version}/`), journey };
      };
      const first = await clientFor('PAR with PKCE, code id_token');
      const { consentId, tokens } = await authorise(first, first.journey);
      const authorised = version === 'v4.0' ? 'AUTH' : 'Authorised';
      assert.equal(await consentStatus(first, consentId), authorised);
      for (const journey of journeys) {
        const client = await clientFor(journey);
        const again = await authorise(client, journey, 'alice', consentId);
        const claims = again.tokens.claims();
        assert.equal(claims?.['openbanking_intent_id'], consentId, journey);
        assert.equal(claims?.['acr'], ACR_SCA, journey);
        assert.notEqual(again.tokens.access_token, tokens.access_token);
        assert.ok((await readAccounts(client, again.tokens.access_token)).length > 0, journey);
        assert.equal(
          await consentStatus(client, consentId),
          authorised,
          `${journey}: the same consent, still ${authorised}`,
        );
      }
      // Another customer cannot re-authenticate alice's consent.
      const other = await clientFor('PAR with PKCE, code id_token');
      await assert.rejects(
        authorise(other, other.journey, 'bob', consentId),
        /409|wrong_user|another customer/,
      );

      // Once the TPP deleted it, the pushed request naming it is refused (RFC 6749 invalid_request).
      const token = await oidc.clientCredentialsGrant(first.config, { scope: 'accounts' });
      const deleted = await oidc.fetchProtectedResource(
        first.config,
        token.access_token,
        new URL(`${first.apiBase}/account-access-consents/${consentId}`),
        'DELETE',
        null,
        fapiHeaders(),
      );
      assert.equal(deleted.status, 204);
      await assert.rejects(
        authorise(
          await clientFor('PAR with PKCE, code id_token'),
          'PAR with PKCE, code id_token',
          'alice',
          consentId,
        ),
        (error: unknown) => {
          assert.ok(error instanceof oidc.ResponseBodyError, String(error));
          assert.equal(error.error, 'invalid_request');
          assert.match(error.error_description ?? '', /the intent is Revoked/);
          return true;
        },
      );
    });
  }

  it('pairwise subjects: two TPPs see different subs for one customer, one TPP always the same', async () => {
    // Both TPPs send the customer back to the same host: the subject still differs per software.
    const shared = 'https://shared-platform.example';
    const first = await clientOf(
      await sandbox.tpp('pairwise-one', ['AISP'], { redirectUri: `${shared}/one/callback` }),
      'private_key_jwt',
    );
    const second = await clientOf(
      await sandbox.tpp('pairwise-two', ['AISP'], { redirectUri: `${shared}/two/callback` }),
      'private_key_jwt',
    );
    const subOf = async (client: Client, username: string) =>
      (await authorise(client, 'by value, code id_token, no PKCE', username)).tokens.claims()?.sub;
    const alice = await subOf(first, 'alice');
    assert.ok(alice);
    assert.equal(await subOf(first, 'alice'), alice, 'the same TPP, a second authorisation: the same sub');
    assert.notEqual(await subOf(second, 'alice'), alice, 'another TPP: another sub');
    assert.notEqual(await subOf(first, 'bob'), alice, 'another customer: another sub');
  });
});
