import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { revocationChannel } from '../../src/directory/index.ts';
import * as oidc from 'openid-client';
import { clientCredentialsToken } from '../../src/tpp/authorization.ts';
import { aisGet, authorise } from '../journey/ais-support.ts';
import { startSandbox, type Sandbox, type Tpp, startTwoInstances } from '../support/journey.ts';
import { AIS_V3_1_11, validateComponent } from '../support/openapi.ts';
import { call, httpsClient } from '../support/platform.ts';

/**
 * A transport certificate revoked at the directory stops working on the very next request — at the token
 * endpoint and at the API, on an open keep-alive connection and a new one — without waiting for any
 * cached status to expire; on PostgreSQL, on a second instance too, as soon as the directory's NOTIFY
 * reaches it.
 */

const softwareOf = (tpp: Tpp) => tpp.bundle.summary.software.id;
const transportKidOf = (tpp: Tpp) => tpp.bundle.summary.certificates.transport.kid;

function transportIdentity(tpp: Tpp) {
  return {
    certificatePem: tpp.bundle.transportCertificatePem,
    privateKeyPem: tpp.bundle.transportKeyPem,
  };
}

/** Revokes the TPP's own transport certificate through the directory's participant API (keyCompromise). */
async function revokeTransport(
  sandbox: Sandbox,
  tpp: Tpp,
  mtlsUrl = sandbox.platform.urls.mtls,
): Promise<void> {
  const agent = httpsClient([sandbox.rootPem], transportIdentity(tpp));
  const response = await call(
    agent,
    `${mtlsUrl}/directory/v1/software/${softwareOf(tpp)}/certificates/${transportKidOf(tpp)}?reason=keyCompromise`,
    { method: 'DELETE' },
  );
  assert.equal(response.status, 200, response.text);
}

function assertCertificateRefused(answer: {
  status: number;
  json?: unknown;
  body?: unknown;
  text: string;
}): void {
  assert.equal(answer.status, 401, answer.text);
  const body = answer.json ?? answer.body;
  const valid = validateComponent(AIS_V3_1_11, 'OBErrorResponse1', body);
  assert.ok(valid.valid, valid.errors.join('\n'));
  const errors = (body as { Errors: { ErrorCode: string; Message: string }[] }).Errors;
  assert.equal(errors[0]?.ErrorCode, 'UK.OBIE.Header.Invalid');
  assert.match(errors[0]?.Message ?? '', /revoked/);
}

function assertTokenRefused(answer: { status: number; json: unknown; text: string }): void {
  assert.equal(answer.status, 401, answer.text);
  const valid = validateComponent(AIS_V3_1_11, 'OBErrorResponse1', answer.json);
  assert.ok(valid.valid, valid.errors.join('\n'));
}

describe('trust on every call: certificates and tokens revoked after they were accepted', async () => {
  const sandbox = await startSandbox();

  it('a transport certificate revoked at the directory is refused at the API and the token endpoint on the next request', async () => {
    const tpp = await sandbox.tpp('revoked-transport', ['AISP']);
    const consent = await authorise(sandbox, tpp, { permissions: ['ReadAccountsBasic'] });
    assert.equal((await aisGet(tpp, consent.accessToken, '/accounts')).status, 200);

    await revokeTransport(sandbox, tpp);

    // The TPP's connection to the bank is still open (keep-alive): the status is asked per request.
    assertCertificateRefused(await aisGet(tpp, consent.accessToken, '/accounts'));
    await assert.rejects(clientCredentialsToken(tpp.bank, 'accounts'), (error: Error) => {
      const refusal = error as Error & { status?: number; error?: string; error_description?: string };
      assert.equal(refusal.status, 401);
      assert.equal(refusal.error, 'invalid_client');
      assert.match(refusal.error_description ?? '', /revoked/);
      return true;
    });
    // A new connection with the same certificate, too.
    const fresh = httpsClient([sandbox.rootPem], transportIdentity(tpp));
    const again = await call(fresh, `${sandbox.platform.urls.mtls}/open-banking/v3.1/aisp/accounts`, {
      headers: { authorization: `Bearer ${consent.accessToken}` },
    });
    assertCertificateRefused({ status: again.status, body: again.body, text: again.text });
  });

  it('an access token revoked by RFC 7009 is refused by the API on the next call', async () => {
    const tpp = await sandbox.tpp('revokes-its-token', ['AISP']);
    const consent = await authorise(sandbox, tpp, { permissions: ['ReadAccountsBasic'] });
    // Read first, so the API's token cache holds the token when it is revoked.
    assert.equal((await aisGet(tpp, consent.accessToken, '/accounts')).status, 200);
    await oidc.tokenRevocation(tpp.bank.config, consent.accessToken, { token_type_hint: 'access_token' });
    assertTokenRefused(await aisGet(tpp, consent.accessToken, '/accounts'));
  });

  it('a client whose registration is deleted (DCR DELETE) has its tokens refused on the next call', async () => {
    const tpp = await sandbox.tpp('deletes-itself', ['AISP']);
    const consent = await authorise(sandbox, tpp, { permissions: ['ReadAccountsBasic'] });
    assert.equal((await aisGet(tpp, consent.accessToken, '/accounts')).status, 200);
    const registration = Object.values(tpp.bundle.summary.registrations)[0];
    assert.ok(registration, 'the bundle records the registration');
    const bearer = (await clientCredentialsToken(tpp.bank, 'openid')).access_token;
    const deleted = await call(
      httpsClient([sandbox.rootPem], transportIdentity(tpp)),
      `${sandbox.platform.urls.mtls}/register/${registration.clientId}`,
      { method: 'DELETE', headers: { authorization: `Bearer ${bearer}` } },
    );
    assert.equal(deleted.status, 204, deleted.text);
    assertTokenRefused(await aisGet(tpp, consent.accessToken, '/accounts'));
  });

  it('leaves the other participants served', async () => {
    const tpp = await sandbox.tpp('still-good', ['AISP']);
    const consent = await authorise(sandbox, tpp, { permissions: ['ReadAccountsBasic'] });
    assert.equal((await aisGet(tpp, consent.accessToken, '/accounts')).status, 200);
    assert.ok((await clientCredentialsToken(tpp.bank, 'accounts')).access_token);
  });
});

describe('a revocation on one instance, on PostgreSQL', { skip: !process.env.DATABASE_URL }, async () => {
  // Two instances as a load balancer runs them: one database, one data directory (PKI, keys), two processes'
  // worth of state (stores, caches, listeners).
  const { storeB, instanceA, instanceB } = await startTwoInstances(process.env.DATABASE_URL ?? '');

  it('is refused by the other instance as soon as the NOTIFY reaches it', async () => {
    const tpp = await instanceA.tpp('revoked-elsewhere', ['AISP']);
    const consent = await authorise(instanceA, tpp, { permissions: ['ReadAccountsBasic'] });
    const readOnB = () =>
      call(
        httpsClient([instanceB.rootPem], transportIdentity(tpp)),
        `${instanceB.platform.urls.mtls}/open-banking/v3.1/aisp/accounts`,
        { headers: { authorization: `Bearer ${consent.accessToken}` } },
      );
    assert.equal((await readOnB()).status, 200);

    // Registered after B's own listener on B's store, so when this runs B has already dropped the status.
    const heardOnB = new Promise<void>((resolve) => {
      void storeB.listen(revocationChannel, () => resolve());
    });
    await revokeTransport(instanceA, tpp);
    await heardOnB;
    const refused = await readOnB();
    assertCertificateRefused({ status: refused.status, body: refused.body, text: refused.text });
  });
});
