import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { findCustomerByUsername, listCustomerAccounts, verifyLedger } from '../../src/bank/index.ts';
import {
  clientCredentialsToken,
  completeAuthorization,
  startAuthorization,
} from '../../src/tpp/authorization.ts';
import { createHttpClient, send } from '../../src/tpp/http.ts';
import { signRequestBody, verifyResponseSignature } from '../../src/tpp/message-signing.ts';
import { apiBaseOf, callApi } from '../../src/tpp/open-banking.ts';
import { approveInSandbox } from '../../src/tpp/sandbox-approval.ts';
import { clusterUnavailable, startTestCluster, type TestCluster } from '../support/cluster.ts';
import type { Tpp } from '../support/journey.ts';
import { assertValidResponse, PIS_V3_1_11 } from '../support/openapi.ts';

const skip = clusterUnavailable();

/** The instance nginx's log says answered the one request matching `method` and `path` since `since`. */
async function answeredBy(
  cluster: TestCluster,
  since: number,
  method: string,
  path: RegExp,
): Promise<number | undefined> {
  const matching = await cluster.requestsLogged(
    since,
    (entry) => entry.method === method && path.test(entry.uri),
  );
  assert.equal(
    matching.length,
    1,
    `one ${method} ${String(path)} in nginx's log: ${JSON.stringify(matching)}`,
  );
  return matching[0]?.instance;
}

describe('a TPP through nginx in front of three instances', { skip }, async () => {
  const cluster = await startTestCluster({ instances: 3 });
  const browser = createHttpClient({ trust: [cluster.rootPem] });
  let tpp: Tpp;
  const pisp = () => `${apiBaseOf(tpp.bank)}/pisp`;
  const risk = { PaymentContextCode: 'PartyToParty' };

  async function initiation(amount: string) {
    const bob = await findCustomerByUsername(cluster.store.db, 'bob');
    const gbp = (await listCustomerAccounts(cluster.store.db, bob!.id)).find(
      (account) => account.currency === 'GBP',
    )!;
    return {
      InstructionIdentification: `instr-${randomUUID().slice(0, 8)}`,
      EndToEndIdentification: 'E2E-CLUSTER',
      LocalInstrument: 'UK.OBIE.FPS',
      InstructedAmount: { Amount: amount, Currency: 'GBP' },
      CreditorAccount: {
        SchemeName: 'UK.OBIE.SortCodeAccountNumber',
        Identification: `${gbp.sortCode}${gbp.accountNumber}`,
        Name: 'Bob',
      },
    };
  }

  async function signedPost(token: string, url: string, body: unknown) {
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

  async function authorisePayment(consentId: string) {
    const pending = await startAuthorization(tpp.bank, {
      intentId: consentId,
      scope: 'payments',
      redirectUri: tpp.redirectUri,
    });
    const back = await approveInSandbox(browser, pending.url, tpp.redirectUri, {
      username: 'alice',
      decision: 'approve',
    });
    return (await completeAuthorization(tpp.bank, pending, back)).access_token;
  }

  /**
   * No instance fetched the TPP's software JWKS or the directory's over HTTP: both came from the database.
   * The directory's is fetched once, by the TPP, checking the SSA it was issued at onboarding.
   */
  function assertNoJwksFetched() {
    const fetched = (uri: string) => cluster.requests().filter((entry) => entry.uri === uri);
    assert.deepEqual(fetched(new URL(tpp.bundle.summary.software.jwksUri).pathname), []);
    assert.equal(fetched('/directory/v1/jwks').length, 1, 'only the TPP fetched the directory JWKS');
  }

  it('registers, gets a token, stages, pays and reads, each step answered by another instance', async () => {
    let mark = cluster.requests().length;
    await cluster.routeNextTo('mtls', 0);
    tpp = await cluster.tpp('cluster-journey', ['PISP']);
    assert.equal(await answeredBy(cluster, mark, 'POST', /^\/register$/), 0, 'registration');

    mark = cluster.requests().length;
    await cluster.routeNextTo('mtls', 1);
    const clientToken = (await clientCredentialsToken(tpp.bank, 'payments')).access_token;
    assert.equal(await answeredBy(cluster, mark, 'POST', /^\/token$/), 1, 'client credentials token');

    const consentBody = { Data: { Initiation: await initiation('3.21') }, Risk: risk };
    await cluster.routeNextTo('mtls', 2);
    const staged = await signedPost(clientToken, `${pisp()}/domestic-payment-consents`, consentBody);
    assert.equal(staged.status, 201, staged.text);
    assert.equal(cluster.instanceOf(staged.headers), 2, 'consent');
    assertValidResponse(PIS_V3_1_11, '/domestic-payment-consents', 'post', 201, staged.json);
    const consentId = (staged.json as { Data: { ConsentId: string } }).Data.ConsentId;

    const accessToken = await authorisePayment(consentId);
    await cluster.routeNextTo('mtls', 0);
    const paid = await signedPost(accessToken, `${pisp()}/domestic-payments`, {
      Data: { ConsentId: consentId, Initiation: consentBody.Data.Initiation },
      Risk: risk,
    });
    assert.equal(paid.status, 201, paid.text);
    assert.equal(cluster.instanceOf(paid.headers), 0, 'payment');
    assertValidResponse(PIS_V3_1_11, '/domestic-payments', 'post', 201, paid.json);
    const paymentId = (paid.json as { Data: { DomesticPaymentId: string } }).Data.DomesticPaymentId;

    await cluster.routeNextTo('mtls', 1);
    const read = await callApi(tpp.bank, clientToken, `${pisp()}/domestic-payments/${paymentId}`);
    assert.equal(read.status, 200, read.text);
    assert.equal(cluster.instanceOf(read.headers), 1, 'payment read');
    assertValidResponse(PIS_V3_1_11, '/domestic-payments/{DomesticPaymentId}', 'get', 200, read.json);
    await cluster.routeNextTo('mtls', 2);
    const consentRead = await callApi(
      tpp.bank,
      clientToken,
      `${pisp()}/domestic-payment-consents/${consentId}`,
    );
    assert.equal(consentRead.status, 200, consentRead.text);
    assert.equal(cluster.instanceOf(consentRead.headers), 2, 'consent read');
    assert.equal((consentRead.json as { Data: { Status: string } }).Data.Status, 'Consumed');

    // One identity whatever instance answers: the same issuer, and signatures that verify with one JWKS.
    const bankJwks = await bankSigningJwks(cluster, browser);
    for (const answer of [staged, paid, read]) {
      const header = await verifyResponseSignature(
        tpp.bank,
        bankJwks,
        answer.text,
        String(answer.headers['x-jws-signature']),
      );
      assert.equal(header['http://openbanking.org.uk/tan'], new URL(cluster.cluster.urls.browser).host);
    }
    assertNoJwksFetched();
  });

  it('with one instance killed, the others verify the TPP signed payment from JWKS in the database', async () => {
    await cluster.cluster.kill(0);
    const clientToken = (await clientCredentialsToken(tpp.bank, 'payments')).access_token;
    const consentBody = { Data: { Initiation: await initiation('4.56') }, Risk: risk };
    const answered = new Set<number | undefined>();
    const staged = await signedPost(clientToken, `${pisp()}/domestic-payment-consents`, consentBody);
    assert.equal(staged.status, 201, staged.text);
    answered.add(cluster.instanceOf(staged.headers));
    const consentId = (staged.json as { Data: { ConsentId: string } }).Data.ConsentId;
    const accessToken = await authorisePayment(consentId);
    // Twice in a row: nginx takes the two live instances in turn, so both verify a signature of this TPP.
    const paid = await signedPost(accessToken, `${pisp()}/domestic-payments`, {
      Data: { ConsentId: consentId, Initiation: consentBody.Data.Initiation },
      Risk: risk,
    });
    assert.equal(paid.status, 201, paid.text);
    answered.add(cluster.instanceOf(paid.headers));
    const again = await signedPost(clientToken, `${pisp()}/domestic-payment-consents`, consentBody);
    assert.equal(again.status, 201, again.text);
    answered.add(cluster.instanceOf(again.headers));
    assert.deepEqual([...answered].sort(), [1, 2], 'the live instances answered, the killed one never');
    assertNoJwksFetched();
    assert.deepEqual(await verifyLedger(cluster.store.db), []);
  });
});

/** The bank's signing JWKS as its directory lists it (the TPP fetches it, through nginx). */
async function bankSigningJwks(cluster: TestCluster, browser: ReturnType<typeof createHttpClient>) {
  const listed = await send(browser, `${cluster.cluster.urls.browser}/directory/v1/aspsps`);
  const listing = (
    listed.json as { aspsps: { discoveryUrl: string; signingJwksUri?: string }[] }
  ).aspsps.find((aspsp) => aspsp.discoveryUrl === cluster.discoveryUrl);
  assert.ok(listing?.signingJwksUri, 'the directory lists the bank with its signing JWKS');
  return listing.signingJwksUri;
}
