/**
 * Event notifications (issue 16), two figures on each store at each concurrency:
 * (a) events pushed per second: events raised for a TPP whose subscription has a callback, then pushed by
 *     the real deliverer (`deliverDueEvents`: claim with skip locked, sign the SET with PS256, POST it to
 *     `{callback}/event-notifications` over TLS, record the attempt) to a local HTTPS receiver answering
 *     202; concurrency is the number of deliverers claiming at once (as instances would).
 * (b) the added cost per payment submission of recording its event: domestic payment submissions/s while
 *     the TPP has a subscription (so `raisePaymentUpdate` writes a row, and a NOTIFY, in the submission's
 *     transaction) ÷ submissions/s without one: the median of several without, with, with, without
 *     brackets after both were warmed until their rate settled (support/brackets.ts), with their spread.
 * Payments are driven as bench/payments.ts drives them (bench/support/payment-rig.ts: fastify.inject, no TLS).
 * Run: npm run bench -- events [--store pglite|postgres|both] [--concurrency 1,8] [--aa]   (BENCH_BRACKETS,
 * BENCH_BRACKET_SECONDS per submission phase, BENCH_EVENTS: events per push phase, default 2000)
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID, X509Certificate } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { callbackAgents } from '../src/auth/index.ts';
import { createSubscription, deleteSubscription, EVENT_TYPES, raiseEvent } from '../src/events/index.ts';
import { DEFAULT_PUSH_POLICY, deliverDueEvents } from '../src/openbanking/events/index.ts';
import { issueServerCertificate } from '../src/pki/index.ts';
import type { Backend } from '../src/store/index.ts';
import { eventNotifications } from '../src/store/schema/events.ts';
import {
  benchOptions,
  bracketedRatio,
  bracketPlan,
  machineLine,
  openBenchStore,
  printRatio,
  type BracketedFigure,
  type BracketSide,
} from './support/index.ts';
import { BENCH_CLIENT_ID, startPaymentRig } from './support/payment-rig.ts';

const options = benchOptions();
const eventsPerPhase = Number(process.env.BENCH_EVENTS ?? '2000');
if (!(Number.isInteger(eventsPerPhase) && eventsPerPhase > 0))
  throw new Error(`BENCH_EVENTS must be a positive integer, not ${process.env.BENCH_EVENTS}`);

console.log(machineLine());
for (const backend of options.stores) await run(backend);

async function run(backend: Backend): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'obkit-bench-events-'));
  const { store, drop } = await openBenchStore(backend, dir);
  try {
    const db = store.db;
    const rig = await startPaymentRig(db, dir, options.bracketSeconds);
    const { clock } = rig;

    // The TPP's receiver: a server certificate from the sandbox CA, which the deliverer trusts.
    const tls = await issueServerCertificate(rig.authorities.issuing, {
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    let received = 0;
    const receiver = createServer(
      { key: tls.privateKeyPem, cert: tls.certificatePem },
      (request, response) => {
        request.resume();
        request.on('end', () => {
          received++;
          response.writeHead(202).end();
        });
      },
    );
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const callbackUrl = `https://localhost:${(receiver.address() as AddressInfo).port}/tpp`;
    // The platform's own push agents (one per TPP, the callback's identity checked as in production).
    const anchors =
      rig.authorities.chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    const agents = callbackAgents({
      ca: anchors,
      participantAnchors: anchors.map((pem) => new X509Certificate(pem)),
      allowPrivateAddresses: true,
      identity: undefined,
      ownerOf: async () => undefined,
    });
    const deps = {
      db,
      clock,
      tokens: {
        db,
        clock,
        signing: { key: rig.bankKeys.privateKey, kid: 'b1' },
        issuer: 'https://bank.example',
        mtlsOrigin: 'https://bank.example',
      },
      dispatcherFor: (clientId: string) => agents.agentFor(clientId),
      policy: DEFAULT_PUSH_POLICY,
    };

    console.log(
      `backend ${store.backend}; ${options.bracketSeconds}s per payment phase, ${eventsPerPhase} events per push phase`,
    );

    // (a) Push: the events are raised before the timing; the phase ends when every one was received.
    const subscription = await createSubscription(db, clock, BENCH_CLIENT_ID, 'v3.1.11', {
      version: '3.1',
      callbackUrl,
      eventTypes: undefined,
    });
    const pushed = new Map<number, number>();
    let undelivered = 0;
    for (const concurrency of options.concurrencies) {
      await db.transaction(async (tx) => {
        for (let i = 0; i < eventsPerPhase; i++)
          await raiseEvent(tx, clock, {
            clientId: BENCH_CLIENT_ID,
            type: EVENT_TYPES.consentAuthorizationRevoked,
            subject: { type: 'account-access-consent', id: `bench-${randomUUID()}`, version: 'v3.1.11' },
            detail: { reason: 'customer_revoked' },
          });
      });
      const before = received;
      const start = performance.now();
      await Promise.all(Array.from({ length: concurrency }, () => deliverDueEvents(deps)));
      const elapsed = (performance.now() - start) / 1000;
      const count = received - before;
      undelivered += eventsPerPhase - count;
      const perSecond = count / elapsed;
      pushed.set(concurrency, perSecond);
      console.log(
        `${'events pushed (claim, sign PS256, POST over TLS, record)'.padEnd(72)} c=${concurrency} ${perSecond.toFixed(1).padStart(9)} /s   (${count} in ${elapsed.toFixed(1)}s)`,
      );
    }

    // (b) Submissions without and with a subscription: brackets of without, with, with, without.
    await deleteSubscription(db, BENCH_CLIENT_ID, subscription.id);
    let subscriptionId: string | undefined;
    const phase = async (withSubscription: boolean, concurrency: number, which: string) => {
      if (withSubscription && !subscriptionId)
        subscriptionId = (
          await createSubscription(db, clock, BENCH_CLIENT_ID, 'v3.1.11', {
            version: '3.1',
            callbackUrl,
            eventTypes: undefined,
          })
        ).id;
      if (!withSubscription && subscriptionId) {
        await deleteSubscription(db, BENCH_CLIENT_ID, subscriptionId);
        subscriptionId = undefined;
      }
      return rig.submissions(
        'v3.1.11',
        concurrency,
        `${withSubscription ? ', TPP subscribed (event recorded)' : ', no subscription'} (${which})`,
      );
    };
    const ratios = new Map<number, BracketedFigure>();
    for (const concurrency of options.concurrencies) {
      const side = (withSubscription: boolean): BracketSide => ({
        label: withSubscription ? 'TPP subscribed' : 'no subscription',
        measure: async (which) => ({ perSecond: await phase(withSubscription, concurrency, which) }),
      });
      ratios.set(
        concurrency,
        await bracketedRatio(
          `events payment-submission with/without subscription ${backend} c${concurrency}`,
          side(false),
          side(true),
          bracketPlan(options),
        ),
      );
    }
    // Every submission made while subscribed recorded its event: counted, not assumed.
    const recorded = await db.$count(
      eventNotifications,
      eq(eventNotifications.type, EVENT_TYPES.resourceUpdate),
    );
    console.log(
      `(resource-update events recorded by submissions while subscribed: ${recorded}; failed submissions: ${rig.failures()})`,
    );
    console.log('');
    for (const [concurrency, figure] of ratios)
      printRatio(
        `events payment-submission with/without subscription ${backend} c${concurrency}`,
        figure.ratio,
        0.95,
        figure,
      );
    for (const [concurrency, perSecond] of pushed)
      printRatio(`events pushed per second ${backend} c${concurrency}`, perSecond);
    await rig.app.close();
    await agents.close();
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    if (undelivered > 0) throw new Error(`${undelivered} events were not received by push`);
    if (rig.failures() > 0) throw new Error(`${rig.failures()} submissions were not accepted`);
  } finally {
    await drop();
    await rm(dir, { recursive: true, force: true });
  }
}
