import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { findCustomerByUsername, listCustomerAccounts, verifyLedger } from '../../src/bank/index.ts';
import { schema } from '../../src/store/index.ts';
import {
  clientCredentialsToken,
  completeAuthorization,
  startAuthorization,
} from '../../src/tpp/authorization.ts';
import { createHttpClient } from '../../src/tpp/http.ts';
import { signRequestBody } from '../../src/tpp/message-signing.ts';
import { apiBaseOf, callApi } from '../../src/tpp/open-banking.ts';
import { approveInSandbox } from '../../src/tpp/sandbox-approval.ts';
import { clusterUnavailable, startTestCluster } from '../support/cluster.ts';
import type { Tpp } from '../support/journey.ts';

/**
 * kill -9 of one of three instances behind nginx while domestic payments and VRP payments are under way.
 * Every request left unanswered (the connection dropped, or nginx's 502/503/504) is sent again through
 * nginx with the same idempotency key and the same signed body, as a TPP would: every acknowledged payment
 * exists once and none twice, each single-use consent is consumed once, the VRP consent's periodic limit is
 * never exceeded, and the ledger balances.
 */

const skip = clusterUnavailable();
const DOMESTIC = 6;
const VRP_TRIES = 6;
/** The VRP consent's daily limit fits three payments of 3.00, not four. */
const VRP_LIMIT = '10.00';
const VRP_AMOUNT = '3.00';
const RETRYABLE = new Set([502, 503, 504]);

describe('kill -9 of an instance during concurrent payments', { skip }, async () => {
  const cluster = await startTestCluster({ instances: 3 });
  const browser = createHttpClient({ trust: [cluster.rootPem] });
  const tpp: Tpp = await cluster.tpp('kill-during-payments', ['PISP']);
  const pisp = `${apiBaseOf(tpp.bank)}/pisp`;
  const clientToken = (await clientCredentialsToken(tpp.bank, 'payments')).access_token;
  const bob = await findCustomerByUsername(cluster.store.db, 'bob');
  const bobGbp = (await listCustomerAccounts(cluster.store.db, bob!.id)).find(
    (account) => account.currency === 'GBP',
  )!;
  const creditor = {
    SchemeName: 'UK.OBIE.SortCodeAccountNumber',
    Identification: `${bobGbp.sortCode}${bobGbp.accountNumber}`,
    Name: 'Bob',
  };
  let retries = 0;

  /** Posts a signed body until an instance answers it; the same key and signature every time. */
  async function submit(token: string, url: string, body: unknown) {
    const text = JSON.stringify(body);
    const headers = {
      'x-idempotency-key': randomUUID(),
      'x-jws-signature': await signRequestBody(tpp.bank, tpp.bundle, text),
    };
    for (let attempt = 0; attempt < 10; attempt += 1) {
      try {
        const answer = await callApi(tpp.bank, token, url, { method: 'POST', body: text, headers });
        if (!RETRYABLE.has(answer.status)) return answer;
      } catch {
        // The connection dropped under the request: unanswered, so sent again.
      }
      retries += 1;
    }
    throw new Error(`${url} was never answered`);
  }

  async function authorise(consentId: string): Promise<string> {
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

  async function domesticConsent(index: number) {
    const initiation = {
      InstructionIdentification: `kill-${index}-${randomUUID().slice(0, 8)}`,
      EndToEndIdentification: 'E2E-KILL',
      LocalInstrument: 'UK.OBIE.FPS',
      InstructedAmount: { Amount: `1.${String(index).padStart(2, '0')}`, Currency: 'GBP' },
      CreditorAccount: creditor,
    };
    const risk = { PaymentContextCode: 'PartyToParty' };
    const staged = await submit(clientToken, `${pisp}/domestic-payment-consents`, {
      Data: { Initiation: initiation },
      Risk: risk,
    });
    assert.equal(staged.status, 201, staged.text);
    const consentId = (staged.json as { Data: { ConsentId: string } }).Data.ConsentId;
    return {
      consentId,
      token: await authorise(consentId),
      body: { Data: { ConsentId: consentId, Initiation: initiation }, Risk: risk },
    };
  }

  async function vrpConsent() {
    const initiation = { CreditorAccount: creditor, RemittanceInformation: { Reference: 'Sweep' } };
    const risk = { PaymentContextCode: 'TransferToSelf' };
    const staged = await submit(clientToken, `${pisp}/domestic-vrp-consents`, {
      Data: {
        ReadRefundAccount: 'No',
        ControlParameters: {
          ValidToDateTime: '2099-12-31T00:00:00+00:00',
          MaximumIndividualAmount: { Amount: '5.00', Currency: 'GBP' },
          PeriodicLimits: [
            { PeriodType: 'Day', PeriodAlignment: 'Calendar', Amount: VRP_LIMIT, Currency: 'GBP' },
          ],
          VRPType: ['UK.OBIE.VRPType.Sweeping'],
          PSUAuthenticationMethods: ['UK.OBIE.SCANotRequired'],
          PSUInteractionTypes: ['OffSession'],
        },
        Initiation: initiation,
      },
      Risk: risk,
    });
    assert.equal(staged.status, 201, staged.text);
    const consentId = (staged.json as { Data: { ConsentId: string } }).Data.ConsentId;
    const token = await authorise(consentId);
    const payment = () => ({
      Data: {
        ConsentId: consentId,
        PSUAuthenticationMethod: 'UK.OBIE.SCANotRequired',
        PSUInteractionType: 'OffSession',
        VRPType: 'UK.OBIE.VRPType.Sweeping',
        Initiation: initiation,
        Instruction: {
          InstructionIdentification: `v-${randomUUID().slice(0, 8)}`,
          EndToEndIdentification: 'E2E-KILL-VRP',
          InstructedAmount: { Amount: VRP_AMOUNT, Currency: 'GBP' },
          CreditorAccount: creditor,
          RemittanceInformation: { Reference: 'Sweep' },
        },
      },
      Risk: risk,
    });
    return { consentId, token, payment };
  }

  it('pays every acknowledged payment once, consumes no consent twice and exceeds no VRP limit', async () => {
    const domestic = [];
    for (let index = 0; index < DOMESTIC; index += 1) domestic.push(await domesticConsent(index));
    const vrp = await vrpConsent();

    const domesticAnswers = domestic.map((consent) =>
      submit(consent.token, `${pisp}/domestic-payments`, consent.body),
    );
    const vrpAnswers = Array.from({ length: VRP_TRIES }, () =>
      submit(vrp.token, `${pisp}/domestic-vrps`, vrp.payment()),
    );
    // Killed while the rest are in flight: as soon as the first payment is answered.
    await Promise.race([...domesticAnswers, ...vrpAnswers]);
    await cluster.cluster.kill(1);
    const paid = await Promise.all(domesticAnswers);
    const vrps = await Promise.all(vrpAnswers);

    const { bankPayments } = schema;
    for (const [index, answer] of paid.entries()) {
      assert.equal(answer.status, 201, answer.text);
      const consentId = domestic[index]!.consentId;
      const paymentId = (answer.json as { Data: { DomesticPaymentId: string } }).Data.DomesticPaymentId;
      const stored = await cluster.store.db
        .select({ id: bankPayments.id })
        .from(bankPayments)
        .where(eq(bankPayments.consentId, consentId));
      assert.deepEqual(
        stored.map((row) => row.id),
        [paymentId],
        'one payment per single-use consent',
      );
      const consent = await callApi(tpp.bank, clientToken, `${pisp}/domestic-payment-consents/${consentId}`);
      assert.equal((consent.json as { Data: { Status: string } }).Data.Status, 'Consumed');
    }

    const accepted = vrps.filter((answer) => answer.status === 201);
    for (const refused of vrps.filter((answer) => answer.status !== 201)) {
      assert.equal(refused.status, 400, refused.text);
      const errors = (refused.json as { Errors: { ErrorCode: string }[] }).Errors;
      assert.equal(errors[0]?.ErrorCode, 'UK.OBIE.Rules.FailsControlParameters', refused.text);
    }
    const acceptedIds = accepted.map(
      (answer) => (answer.json as { Data: { DomesticVRPId: string } }).Data.DomesticVRPId,
    );
    const storedVrps = await cluster.store.db
      .select({ id: bankPayments.id, amountMinor: bankPayments.amountMinor, status: bankPayments.status })
      .from(bankPayments)
      .where(eq(bankPayments.consentId, vrp.consentId));
    const live = storedVrps.filter((row) => row.status !== 'Rejected');
    assert.deepEqual(live.map((row) => row.id).sort(), [...acceptedIds].sort(), 'each acknowledged VRP once');
    const total = live.reduce((sum, row) => sum + row.amountMinor, 0n);
    assert.ok(total <= 1_000n, `the daily limit holds: ${total} minor units paid`);
    assert.equal(accepted.length, 3, 'exactly as many VRPs as the limit fits');

    assert.deepEqual(await verifyLedger(cluster.store.db), []);
    // Whether a request was cut off depends on timing; what was, was retried (reported for the reader).
    console.log(`kill -9 during payments: ${retries} request(s) sent again`);
  });
});
