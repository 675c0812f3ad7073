import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { CONSENT_REVOKED_CHANNEL } from '../../src/consent/index.ts';
import { revocationChannel } from '../../src/directory/index.ts';
import { connectToBank } from '../../src/tpp/bank.ts';
import { clientCredentialsToken, startAuthorization } from '../../src/tpp/authorization.ts';
import { signRequestBody } from '../../src/tpp/message-signing.ts';
import { apiBaseOf, callApi } from '../../src/tpp/open-banking.ts';
import { registerAtBank } from '../../src/tpp/register.ts';
import { aisGet, authorise } from '../journey/ais-support.ts';
import { assertErrorPage } from '../support/error-page.ts';
import {
  browserClient,
  startSandbox,
  type Sandbox,
  type Tpp,
  startTwoInstances,
} from '../support/journey.ts';
import { AIS_V3_1_11, PIS_V3_1_11, validateComponent } from '../support/openapi.ts';
import { call, httpsClient } from '../support/platform.ts';
import { during, send } from '../../src/tpp/http.ts';
import * as oidc from 'openid-client';

/**
 * A signing key revoked at the directory stops verifying on the very next request, although every key set
 * that listed it (oidc-provider's client key store, DCR's software JWKS cache, the payment APIs' JWKS) is
 * still fresh: request objects, client assertions, registration requests and `x-jws-signature`s made with
 * it are refused, each in its endpoint's error format. And a consent revoked on one instance is refused by
 * the next API call on another, as soon as the NOTIFY reaches it.
 */

function transportIdentity(tpp: Tpp) {
  return { certificatePem: tpp.bundle.transportCertificatePem, privateKeyPem: tpp.bundle.transportKeyPem };
}

/** Revokes the TPP's signing certificate (its key in the software JWKS) at the directory: keyCompromise. */
async function revokeSigningKey(sandbox: Sandbox, tpp: Tpp): Promise<void> {
  const software = tpp.bundle.summary.software.id;
  const kid = tpp.bundle.summary.certificates.signing.kid;
  const response = await call(
    httpsClient([sandbox.rootPem], transportIdentity(tpp)),
    `${sandbox.platform.urls.mtls}/directory/v1/software/${software}/certificates/${kid}?reason=keyCompromise`,
    { method: 'DELETE' },
  );
  assert.equal(response.status, 200, response.text);
}

/** The refusal the SDK reports for an RFC 6749 error answer. */
type OAuthRefusal = Error & { status?: number; error?: string; error_description?: string };

function assertOAuthRefusal(status: number, error: string) {
  return (thrown: Error): boolean => {
    const refusal = thrown as OAuthRefusal;
    assert.equal(refusal.status, status, refusal.message);
    assert.equal(refusal.error, error, refusal.message);
    assert.match(refusal.error_description ?? '', /signing key .* is revoked/);
    return true;
  };
}

async function signedPost(tpp: Tpp, token: string, url: string, body: unknown) {
  const text = JSON.stringify(body);
  return callApi(tpp.bank, token, url, {
    method: 'POST',
    body: text,
    headers: {
      'x-idempotency-key': randomUUID(),
      'x-jws-signature': await signRequestBody(tpp.bank, tpp.bundle, text),
    },
  });
}

const paymentConsent = {
  Data: {
    Initiation: {
      InstructionIdentification: 'instr-revoked-key',
      EndToEndIdentification: 'E2E-REVOKED-KEY',
      LocalInstrument: 'UK.OBIE.FPS',
      InstructedAmount: { Amount: '1.00', Currency: 'GBP' },
      CreditorAccount: {
        SchemeName: 'UK.OBIE.SortCodeAccountNumber',
        Identification: '11223321325698',
        Name: 'Receiver',
      },
    },
  },
  Risk: { PaymentContextCode: 'PartyToParty' },
};

describe('signing keys revoked at the directory', async () => {
  const sandbox = await startSandbox();

  it('refuse the client assertion (401 invalid_client), the payment signature (400 UK.OBIE.Signature.Invalid) and the registration request (400 invalid_client_metadata)', async () => {
    const tpp = await sandbox.tpp('revoked-signing-key', ['AISP', 'PISP']);
    // Every key set is warmed first: the refusals must not wait for any of them to be fetched again.
    const paymentsToken = (await clientCredentialsToken(tpp.bank, 'payments')).access_token;
    const consents = `${apiBaseOf(tpp.bank)}/pisp/domestic-payment-consents`;
    const before = await signedPost(tpp, paymentsToken, consents, paymentConsent);
    assert.equal(before.status, 201, before.text);

    await revokeSigningKey(sandbox, tpp);

    await assert.rejects(
      clientCredentialsToken(tpp.bank, 'accounts'),
      assertOAuthRefusal(401, 'invalid_client'),
    );
    // The same client assertion at introspection and revocation (RFC 7662, RFC 7009).
    await assert.rejects(
      during('introspecting', () => oidc.tokenIntrospection(tpp.bank.config, paymentsToken)),
      assertOAuthRefusal(401, 'invalid_client'),
    );
    await assert.rejects(
      during('revoking', () => oidc.tokenRevocation(tpp.bank.config, paymentsToken)),
      assertOAuthRefusal(401, 'invalid_client'),
    );

    const payment = await signedPost(tpp, paymentsToken, consents, paymentConsent);
    assert.equal(payment.status, 400, payment.text);
    const valid = validateComponent(PIS_V3_1_11, 'OBErrorResponse1', payment.json);
    assert.ok(valid.valid, valid.errors.join('\n'));
    const [error] = (payment.json as { Errors: { ErrorCode: string; Message: string; Path?: string }[] })
      .Errors;
    assert.equal(error?.ErrorCode, 'UK.OBIE.Signature.Invalid');
    assert.equal(error?.Path, 'x-jws-signature');
    assert.match(error?.Message ?? '', /signing key .* is revoked/);

    await assert.rejects(
      registerAtBank(tpp.bundle, {
        discoveryUrl: sandbox.discoveryUrl,
        trust: [sandbox.rootPem],
        new: true,
      }),
      (thrown: Error & { status?: number; body?: unknown }) => {
        assert.equal(thrown.status, 400, thrown.message);
        const body = thrown.body as { error?: string; error_description?: string };
        assert.equal(body.error, 'invalid_client_metadata');
        assert.match(body.error_description ?? '', /registration request .*signing key .* is revoked/);
        return true;
      },
    );
  });

  it('refuse the request object at PAR (400 invalid_request_object) and at /authorize (the error page, no redirect)', async () => {
    // tls_client_auth: the client authenticates without its signing key, so only the request object is at stake.
    const tpp = await sandbox.tpp('revoked-request-object', ['AISP'], {
      tokenEndpointAuthMethod: 'tls_client_auth',
    });
    const token = (await clientCredentialsToken(tpp.bank, 'accounts')).access_token;
    const staged = await callApi(tpp.bank, token, `${apiBaseOf(tpp.bank)}/aisp/account-access-consents`, {
      method: 'POST',
      body: { Data: { Permissions: ['ReadAccountsBasic'] }, Risk: {} },
    });
    assert.equal(staged.status, 201, staged.text);
    const intentId = (staged.json as { Data: { ConsentId: string } }).Data.ConsentId;
    const request = { intentId, scope: 'accounts' as const, redirectUri: tpp.redirectUri };
    // Accepted before the revocation (and the provider's copy of the client's JWKS is fresh from here on).
    await startAuthorization(tpp.bank, request);

    await revokeSigningKey(sandbox, tpp);

    await assert.rejects(
      startAuthorization(tpp.bank, request),
      assertOAuthRefusal(400, 'invalid_request_object'),
    );
    const byValue = await startAuthorization(tpp.bank, { ...request, requestBy: 'value' });
    const page = await send(browserClient(sandbox), byValue.url.href);
    assert.equal(page.headers['location'], undefined, 'an unverified request is never redirected');
    assert.equal(assertErrorPage({ ...page, body: page.text }, 400).error, 'invalid_request_object');
  });
});

describe(
  'a consent revoked on one instance, on PostgreSQL',
  { skip: !process.env.DATABASE_URL },
  async () => {
    const { storeB, instanceA, instanceB } = await startTwoInstances(process.env.DATABASE_URL ?? '');

    it('is refused by the next API call on the other instance as soon as the NOTIFY reaches it', async () => {
      const tpp = await instanceA.tpp('consent-revoked-elsewhere', ['AISP']);
      const consent = await authorise(instanceA, tpp, { permissions: ['ReadAccountsBasic'] });
      const readOnB = () =>
        call(
          httpsClient([instanceB.rootPem], transportIdentity(tpp)),
          `${instanceB.platform.urls.mtls}/open-banking/v3.1/aisp/accounts`,
          { headers: { authorization: `Bearer ${consent.accessToken}` } },
        );
      // B caches the token and the consent.
      assert.equal((await readOnB()).status, 200);
      assert.equal((await readOnB()).status, 200);

      // Listening on B's store after B's own listener: when this hears the NOTIFY, B's handlers have started.
      let heard: () => void = () => undefined;
      const heardOnB = new Promise<void>((resolve) => (heard = resolve));
      after(
        await storeB.listen(CONSENT_REVOKED_CHANNEL, (intentId) => {
          if (intentId === consent.consentId) heard();
        }),
      );
      const removal = await callApi(
        tpp.bank,
        consent.clientToken,
        `${apiBaseOf(tpp.bank)}/aisp/account-access-consents/${consent.consentId}`,
        { method: 'DELETE' },
      );
      assert.equal(removal.status, 204, removal.text);
      // Refused on A at once (its own handlers ran before the 204).
      assert.equal((await aisGet(tpp, consent.accessToken, '/accounts')).status, 401);
      await heardOnB;
      const refused = await readOnB();
      assert.equal(refused.status, 401, refused.text);
      const valid = validateComponent(AIS_V3_1_11, 'OBErrorResponse1', refused.body);
      assert.ok(valid.valid, valid.errors.join('\n'));
    });

    it('a signing key revoked on one instance is refused by the other as soon as the NOTIFY reaches it', async () => {
      const tpp = await instanceA.tpp('key-revoked-elsewhere', ['AISP']);
      const onB = await connectToBank(tpp.bundle, {
        discoveryUrl: instanceB.discoveryUrl,
        trust: [instanceB.rootPem],
        clientId: tpp.clientId,
      });
      after(() => onB.close());
      // B's provider holds the client's JWKS and the key certificate's status.
      assert.ok((await clientCredentialsToken(onB, 'accounts')).access_token);

      let heard: () => void = () => undefined;
      const heardOnB = new Promise<void>((resolve) => (heard = resolve));
      after(await storeB.listen(revocationChannel, () => heard()));
      await revokeSigningKey(instanceA, tpp);
      await heardOnB;
      await assert.rejects(
        clientCredentialsToken(onB, 'accounts'),
        assertOAuthRefusal(401, 'invalid_client'),
      );
    });
  },
);
