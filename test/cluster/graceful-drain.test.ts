import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect as connectTcp } from 'node:net';
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
import { authorise as authoriseAccess } from '../journey/ais-support.ts';
import { clusterUnavailable, startTestCluster } from '../support/cluster.ts';
import { rawTlsConnection } from '../support/raw-tls.ts';
import type { Tpp } from '../support/journey.ts';

/**
 * SIGTERM to one of three instances behind nginx while AIS reads, signed consent stagings and domestic
 * payments (idempotency keys) stream through it, none of them ever sent again by the client: every request
 * is answered, none with a 5xx. The instance stops accepting (nginx's connect is refused, and it tries the
 * next instance, safe even for a POST), answers /ready with 503 on the connections it still has, finishes
 * the request it holds and exits 0 by itself.
 */

const skip = clusterUnavailable();
const DRAINING = 1;
const PAYMENTS = 6;
/** Requests answered through nginx between each step, so that the stream runs on across the drain. */
const STEP = 12;

/** Resolves once nothing listens on the port any more (a connect is refused). */
async function refusedAt(port: number): Promise<void> {
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connectTcp({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    if (refused) return;
  }
}

describe('SIGTERM to an instance behind nginx', { skip }, async () => {
  if (skip) return;
  const cluster = await startTestCluster({ instances: 3 });
  const browser = createHttpClient({ trust: [cluster.rootPem] });
  const tpp: Tpp = await cluster.tpp('graceful-drain', ['AISP', 'PISP']);
  const api = apiBaseOf(tpp.bank);
  const access = await authoriseAccess(cluster, tpp, { permissions: ['ReadAccountsBasic'] });
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
  const risk = { PaymentContextCode: 'PartyToParty' };
  const initiation = (label: string) => ({
    InstructionIdentification: `drain-${label}-${randomUUID().slice(0, 8)}`,
    EndToEndIdentification: 'E2E-DRAIN',
    LocalInstrument: 'UK.OBIE.FPS',
    InstructedAmount: { Amount: '1.00', Currency: 'GBP' },
    CreditorAccount: creditor,
  });

  /** A signed POST with an idempotency key, sent once: whatever answers is the answer. */
  async function post(token: string, path: string, body: unknown) {
    const text = JSON.stringify(body);
    return callApi(tpp.bank, token, `${api}/pisp${path}`, {
      method: 'POST',
      body: text,
      headers: {
        'x-idempotency-key': randomUUID(),
        'x-jws-signature': await signRequestBody(tpp.bank, tpp.bundle, text),
      },
    });
  }

  async function authorisedPayment(index: number) {
    const staged = await post(clientToken, '/domestic-payment-consents', {
      Data: { Initiation: initiation(String(index)) },
      Risk: risk,
    });
    assert.equal(staged.status, 201, staged.text);
    const data = (staged.json as { Data: { ConsentId: string; Initiation: unknown } }).Data;
    const pending = await startAuthorization(tpp.bank, {
      intentId: data.ConsentId,
      scope: 'payments',
      redirectUri: tpp.redirectUri,
    });
    const back = await approveInSandbox(browser, pending.url, tpp.redirectUri, {
      username: 'alice',
      decision: 'approve',
    });
    return {
      consentId: data.ConsentId,
      token: (await completeAuthorization(tpp.bank, pending, back)).access_token,
      body: { Data: { ConsentId: data.ConsentId, Initiation: data.Initiation }, Risk: risk },
    };
  }

  it('answers every request without a 5xx, reports 503 at /ready while draining and exits 0', async () => {
    const payments: Awaited<ReturnType<typeof authorisedPayment>>[] = [];
    for (let index = 0; index < PAYMENTS; index += 1) payments.push(await authorisedPayment(index));
    const instance = cluster.cluster.instances[DRAINING]!;
    const logged = cluster.requests().length;

    // Straight to the instance, opened before the signal: a request whose body is still coming (the drain
    // must wait for it) and a /ready whose headers are not finished (asked on a connection kept open).
    const held = await rawTlsConnection('127.0.0.1', instance.browserPort, [cluster.rootPem]);
    await held.write(
      'POST /drain-probe HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\n' +
        'content-length: 8\r\n\r\n{"a":',
    );
    const readiness = await rawTlsConnection('127.0.0.1', instance.browserPort, [cluster.rootPem]);
    await readiness.write('GET /ready HTTP/1.1\r\nHost: localhost\r\n');

    const answers: { what: string; status: number; text: string }[] = [];
    const paid: { consentId: string; status: number; json: unknown; text: string }[] = [];
    let streaming = true;
    let waiting: { count: number; resolve: () => void } | undefined;
    const record = (what: string, answer: { status: number; text: string }) => {
      answers.push({ what, status: answer.status, text: answer.text });
      if (waiting && answers.length >= waiting.count) waiting.resolve();
    };
    /** Resolves once `count` more requests of the stream have been answered. */
    const answered = (count: number) =>
      new Promise<void>((resolve) => {
        waiting = { count: answers.length + count, resolve };
      });
    const reader = async () => {
      while (streaming)
        record('GET accounts', await callApi(tpp.bank, access.accessToken, `${api}/aisp/accounts`));
    };
    const stager = async () => {
      while (streaming) {
        const body = { Data: { Initiation: initiation('staged') }, Risk: risk };
        record('POST consent', await post(clientToken, '/domestic-payment-consents', body));
      }
    };
    /** Each payment sent once, all at the same time: in flight when the signal arrives. */
    const pay = async (payment: (typeof payments)[number]) => {
      const answer = await post(payment.token, '/domestic-payments', payment.body);
      paid.push({
        consentId: payment.consentId,
        status: answer.status,
        json: answer.json,
        text: answer.text,
      });
      record('POST payment', answer);
    };

    const first = answered(STEP);
    const stream = Promise.all([reader(), reader(), stager(), stager()]);
    await first;
    const paying = Promise.all(payments.map(pay));
    const atSignal = cluster.requests().length;
    const exited = cluster.cluster.kill(DRAINING, 'SIGTERM');
    await refusedAt(instance.browserPort);
    await refusedAt(instance.mtlsPort);

    await readiness.write('\r\n');
    const ready = await readiness.answer();
    assert.match(ready, /^HTTP\/1\.1 503 /, ready);
    assert.match(ready, /"status":"draining"/, ready);

    await answered(STEP);
    assert.ok(instance.running, 'the instance waits for the request it is still receiving');
    assert.equal(held.received(), '', 'nothing answered before the request was complete');
    await held.write('12}');
    const heldAnswer = await held.answer();
    assert.match(heldAnswer, /^HTTP\/1\.1 404 /, heldAnswer);
    assert.match(heldAnswer, /\r\nconnection: close\r\n/i, heldAnswer);
    assert.deepEqual(await exited, { code: 0, signal: null }, 'exits 0 by itself');

    await answered(STEP);
    streaming = false;
    await Promise.all([stream, paying]);

    const failed = answers.filter((answer) => answer.status >= 500);
    assert.deepEqual(failed, [], 'no request of the stream answered with a 5xx');
    for (const answer of answers) {
      assert.equal(
        answer.status,
        answer.what === 'GET accounts' ? 200 : 201,
        `${answer.what}: ${answer.text}`,
      );
    }
    const byNginx = cluster.requests(logged);
    assert.deepEqual(
      byNginx.filter((entry) => entry.status >= 500),
      [],
      'nginx answered nothing with a 5xx',
    );
    assert.ok(
      byNginx.some((entry) => entry.instance === DRAINING),
      'the draining instance served the stream',
    );

    // Whatever nginx sent the draining instance after the signal: refused at connect and tried on the next
    // instance, or answered on a connection it already had (and then closed: `Connection: close`).
    const ports = [instance.browserPort, instance.mtlsPort].map((port) => `127.0.0.1:${port}`);
    const triedThere = cluster
      .requests(atSignal)
      .filter((entry) => ports.some((port) => entry.upstream.split(/,\s*|\s+:\s+/).includes(port)));
    assert.ok(triedThere.length > 0, 'nginx went on sending the draining instance work after the signal');

    const { bankPayments } = schema;
    assert.equal(paid.length, PAYMENTS);
    for (const payment of paid) {
      const paymentId = (payment.json as { Data: { DomesticPaymentId: string } }).Data.DomesticPaymentId;
      const stored = await cluster.store.db
        .select({ id: bankPayments.id })
        .from(bankPayments)
        .where(eq(bankPayments.consentId, payment.consentId));
      assert.deepEqual(
        stored.map((row) => row.id),
        [paymentId],
        'each payment once',
      );
    }
    assert.deepEqual(await verifyLedger(cluster.store.db), []);
    const retried = triedThere.filter((entry) => entry.instance !== DRAINING).length;
    console.log(
      `graceful drain: ${answers.length} requests answered; after the signal nginx sent the draining ` +
        `instance ${triedThere.length}, of which ${retried} were refused at connect and tried on another`,
    );
  });
});
