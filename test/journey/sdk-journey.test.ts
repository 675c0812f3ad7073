import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import { describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import {
  clientCredentialsToken,
  completeAuthorization,
  startAuthorization,
} from '../../src/tpp/authorization.ts';
import { approveInSandbox } from '../../src/tpp/sandbox-approval.ts';
import { callApi, apiBaseOf, createAccountAccessConsent } from '../../src/tpp/open-banking.ts';
import { assertValidResponse, AIS_V3_1_11 } from '../support/openapi.ts';
import { browserClient, startSandbox } from '../support/journey.ts';

describe('the whole journey through the TPP SDK', async () => {
  const sandbox = await startSandbox();
  const browser = browserClient(sandbox);

  it('onboard → register → client_credentials → stage → PSU approves → code → bound token that introspects with the intent', async () => {
    const { bank, bundle, redirectUri } = await sandbox.tpp('acme-journey', ['AISP']);

    const clientToken = await clientCredentialsToken(bank, 'accounts');
    assert.equal(clientToken.token_type.toLowerCase(), 'bearer');

    const consent = await createAccountAccessConsent(bank, clientToken.access_token);
    assert.equal(consent.Status, 'AwaitingAuthorisation');

    const pending = await startAuthorization(bank, {
      intentId: consent.ConsentId,
      scope: 'accounts',
      redirectUri,
    });
    const back = await approveInSandbox(browser, pending.url, redirectUri, {
      username: 'alice',
      decision: 'approve',
    });
    const tokens = await completeAuthorization(bank, pending, back);
    const idToken = tokens.claims();
    assert.equal(idToken?.openbanking_intent_id, consent.ConsentId);
    assert.equal(idToken?.acr, 'urn:openbanking:psd2:sca');

    const introspection = await oidc.tokenIntrospection(bank.config, tokens.access_token);
    assert.equal(introspection.active, true);
    assert.equal(introspection.openbanking_intent_id, consent.ConsentId);
    const cnf = introspection.cnf as { 'x5t#S256'?: string } | undefined;
    const thumbprint = createHash('sha256')
      .update(new X509Certificate(bundle.transportCertificatePem).raw)
      .digest('base64url');
    assert.equal(cnf?.['x5t#S256'], thumbprint);

    const read = await callApi(
      bank,
      clientToken.access_token,
      `${apiBaseOf(bank)}/aisp/account-access-consents/${consent.ConsentId}`,
    );
    assert.equal(read.status, 200, read.text);
    assertValidResponse(AIS_V3_1_11, '/account-access-consents/{ConsentId}', 'get', 200, read.json);
    assert.equal((read.json as { Data: { Status: string } }).Data.Status, 'Authorised');
  });

  it('the SDK also sends the request object by value: the PSU URL carries it, and the journey completes', async () => {
    const { bank, redirectUri } = await sandbox.tpp('acme-by-value', ['AISP']);
    const clientToken = await clientCredentialsToken(bank, 'accounts');
    const consent = await createAccountAccessConsent(bank, clientToken.access_token);
    const pending = await startAuthorization(bank, {
      intentId: consent.ConsentId,
      scope: 'accounts',
      redirectUri,
      requestBy: 'value',
    });
    assert.equal(pending.url.searchParams.get('request_uri'), null);
    const requestObject = decodeJwt(pending.url.searchParams.get('request') ?? '');
    assert.equal(requestObject['code_challenge_method'], 'S256');
    assert.deepEqual(
      (requestObject['claims'] as { id_token: { openbanking_intent_id: unknown } }).id_token
        .openbanking_intent_id,
      { value: consent.ConsentId, essential: true },
    );
    const back = await approveInSandbox(browser, pending.url, redirectUri, {
      username: 'alice',
      decision: 'approve',
    });
    const tokens = await completeAuthorization(bank, pending, back);
    assert.equal(tokens.claims()?.openbanking_intent_id, consent.ConsentId);
    const accounts = await callApi(bank, tokens.access_token, `${apiBaseOf(bank)}/aisp/accounts`);
    assert.equal(accounts.status, 200, accounts.text);
  });

  it('a PSU rejection comes back as access_denied and the consent is Rejected', async () => {
    const { bank, redirectUri } = await sandbox.tpp('acme-reject', ['AISP']);
    const clientToken = await clientCredentialsToken(bank, 'accounts');
    const consent = await createAccountAccessConsent(bank, clientToken.access_token);
    const pending = await startAuthorization(bank, {
      intentId: consent.ConsentId,
      scope: 'accounts',
      redirectUri,
    });
    const back = await approveInSandbox(browser, pending.url, redirectUri, {
      username: 'bob',
      decision: 'reject',
    });
    await assert.rejects(
      completeAuthorization(bank, pending, back),
      (error: Error & { error?: string }) => error.error === 'access_denied',
    );
    const read = await callApi(
      bank,
      clientToken.access_token,
      `${apiBaseOf(bank)}/aisp/account-access-consents/${consent.ConsentId}`,
    );
    assert.equal((read.json as { Data: { Status: string } }).Data.Status, 'Rejected');
  });

  it('the TPP deleting its consent makes the token inactive at once', async () => {
    const { bank, redirectUri } = await sandbox.tpp('acme-delete', ['AISP']);
    const clientToken = await clientCredentialsToken(bank, 'accounts');
    const consent = await createAccountAccessConsent(bank, clientToken.access_token);
    const pending = await startAuthorization(bank, {
      intentId: consent.ConsentId,
      scope: 'accounts',
      redirectUri,
    });
    const tokens = await completeAuthorization(
      bank,
      pending,
      await approveInSandbox(browser, pending.url, redirectUri, { username: 'alice', decision: 'approve' }),
    );
    const deleted = await callApi(
      bank,
      clientToken.access_token,
      `${apiBaseOf(bank)}/aisp/account-access-consents/${consent.ConsentId}`,
      { method: 'DELETE' },
    );
    assert.equal(deleted.status, 204, deleted.text);
    const introspection = await oidc.tokenIntrospection(bank.config, tokens.access_token);
    assert.equal(introspection.active, false);
    const read = await callApi(
      bank,
      clientToken.access_token,
      `${apiBaseOf(bank)}/aisp/account-access-consents/${consent.ConsentId}`,
    );
    assert.equal((read.json as { Data: { Status: string } }).Data.Status, 'Revoked');
  });

  it('the SDK re-authenticates an Authorised consent: the same ConsentId, still Authorised, a new bound token', async () => {
    const { bank, redirectUri } = await sandbox.tpp('acme-reauth', ['AISP']);
    const clientToken = await clientCredentialsToken(bank, 'accounts');
    const consent = await createAccountAccessConsent(bank, clientToken.access_token);
    const authoriseOnce = async () => {
      const pending = await startAuthorization(bank, {
        intentId: consent.ConsentId,
        scope: 'accounts',
        redirectUri,
      });
      return completeAuthorization(
        bank,
        pending,
        await approveInSandbox(browser, pending.url, redirectUri, { username: 'alice', decision: 'approve' }),
      );
    };
    const first = await authoriseOnce();
    const again = await authoriseOnce();
    assert.notEqual(again.access_token, first.access_token);
    const introspection = await oidc.tokenIntrospection(bank.config, again.access_token);
    assert.equal(introspection.active, true);
    assert.equal(introspection['openbanking_intent_id'], consent.ConsentId);
    const accounts = await callApi(bank, again.access_token, `${apiBaseOf(bank)}/aisp/accounts`);
    assert.equal(accounts.status, 200, accounts.text);
    const read = await callApi(
      bank,
      clientToken.access_token,
      `${apiBaseOf(bank)}/aisp/account-access-consents/${consent.ConsentId}`,
    );
    assertValidResponse(AIS_V3_1_11, '/account-access-consents/{ConsentId}', 'get', read.status, read.json);
    assert.equal((read.json as { Data: { Status: string } }).Data.Status, 'Authorised');
  });

  it('staging refuses bad consents with the OB error code and the field', async () => {
    const { bank } = await sandbox.tpp('acme-bad-input', ['AISP']);
    const clientToken = await clientCredentialsToken(bank, 'accounts');
    const url = `${apiBaseOf(bank)}/aisp/account-access-consents`;
    const cases: { body: unknown; code: string; path?: string }[] = [
      {
        body: { Data: { Permissions: ['ReadEverything'] }, Risk: {} },
        code: 'UK.OBIE.Field.Invalid',
        path: 'Data.Permissions',
      },
      {
        body: { Data: { Permissions: [] }, Risk: {} },
        code: 'UK.OBIE.Field.Invalid',
        path: 'Data.Permissions',
      },
      { body: { Data: { Permissions: ['ReadBalances'] } }, code: 'UK.OBIE.Field.Missing', path: 'Risk' },
      {
        body: { Data: { Permissions: ['ReadBalances'], TransactionFromDateTime: 'yesterday' }, Risk: {} },
        code: 'UK.OBIE.Field.InvalidDate',
        path: 'Data.TransactionFromDateTime',
      },
      {
        body: {
          Data: {
            Permissions: ['ReadBalances'],
            TransactionFromDateTime: '2026-05-01T00:00:00+00:00',
            TransactionToDateTime: '2026-04-01T00:00:00+00:00',
          },
          Risk: {},
        },
        code: 'UK.OBIE.Field.InvalidDate',
        path: 'Data.TransactionToDateTime',
      },
      {
        body: {
          Data: { Permissions: ['ReadBalances'], ExpirationDateTime: '2001-01-01T00:00:00Z' },
          Risk: {},
        },
        code: 'UK.OBIE.Field.InvalidDate',
        path: 'Data.ExpirationDateTime',
      },
    ];
    for (const { body, code, path } of cases) {
      const response = await callApi(bank, clientToken.access_token, url, { method: 'POST', body });
      assert.equal(response.status, 400, `${JSON.stringify(body)} → ${response.text}`);
      assertValidResponse(AIS_V3_1_11, '/account-access-consents', 'post', 400, response.json);
      const error = (response.json as { Errors: { ErrorCode: string; Path?: string }[] }).Errors[0];
      assert.equal(error?.ErrorCode, code, JSON.stringify(body));
      if (path) assert.equal(error?.Path, path);
    }
    const notJson = await callApi(bank, clientToken.access_token, url, { method: 'POST', body: '{"Data":' });
    assert.equal(notJson.status, 400);
  });
  it('a TPP and a browser keep their connections: a second journey opens no new TLS connection on either side', async () => {
    // A new mutual-TLS connection costs both sides an RSA signature (CertificateVerify) that no flow
    // counts; a real TPP and browser keep theirs alive (bench/README.md, Whole flow, session 17).
    const { bank, redirectUri } = await sandbox.tpp('acme-keep-alive', ['AISP']);
    const journeyBrowser = browserClient(sandbox);
    const journey = async () => {
      const clientToken = await clientCredentialsToken(bank, 'accounts');
      const consent = await createAccountAccessConsent(bank, clientToken.access_token);
      const pending = await startAuthorization(bank, {
        intentId: consent.ConsentId,
        scope: 'accounts',
        redirectUri,
      });
      const back = await approveInSandbox(journeyBrowser, pending.url, redirectUri, {
        username: 'alice',
        decision: 'approve',
      });
      const tokens = await completeAuthorization(bank, pending, back);
      const read = await callApi(bank, tokens.access_token, `${apiBaseOf(bank)}/aisp/accounts`);
      assert.equal(read.status, 200, read.text);
    };
    await journey();
    let accepted = 0;
    let opened = 0;
    const onAccepted = () => void accepted++;
    const onOpened = () => void opened++;
    diagnostics.subscribe('net.server.socket', onAccepted);
    diagnostics.subscribe('undici:client:connected', onOpened);
    try {
      await journey();
    } finally {
      diagnostics.unsubscribe('net.server.socket', onAccepted);
      diagnostics.unsubscribe('undici:client:connected', onOpened);
      await journeyBrowser.close();
    }
    assert.equal(accepted, 0, 'connections the servers accepted during the second journey');
    assert.equal(opened, 0, 'connections the SDK and the browser opened during the second journey');
  });
});
