/**
 * The domestic payment submission path as the payment benchmarks drive it (bench/payments.ts,
 * bench/events.ts): a payer and a payee in the ledger, both versions' payment initiation APIs mounted on
 * fastify (driven by inject: no TLS), consents staged and authorised outside the timing, each submission
 * signed by the TPP (client `bench`) as a real client would — before the phase starts, so that what a phase
 * measures is the server's handling of the request, not the TPP's signing.
 */
import { randomUUID, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { generateKeyPair, type CryptoKey } from 'jose';
import { createCustomer, openAccount, postExternalCredit } from '../../src/bank/index.ts';
import { authorise, createIntent, getIntent } from '../../src/consent/index.ts';
import { ObError, obErrorBody } from '../../src/openbanking/errors.ts';
import { createGuardCaches, type AccessTokenView } from '../../src/openbanking/guard/index.ts';
import { detachedSigner } from '../../src/openbanking/http/jws.ts';
import { VERSION_BASES, type ApiVersion } from '../../src/openbanking/versions.ts';
import { paymentInitiation } from '../../src/openbanking/pis/index.ts';
import {
  issueClientCertificate,
  loadOrCreateSandboxAuthorities,
  type SandboxAuthorities,
} from '../../src/pki/index.ts';
import { attachClientCertificate, describeClientCertificate } from '../../src/shared/client-certificate.ts';
import { systemClock, type Clock } from '../../src/shared/clock.ts';
import { idempotencyKeys, type Database } from '../../src/store/index.ts';

/** The client id every staged consent and token belongs to. */
export const BENCH_CLIENT_ID = 'bench';

/**
 * Operations/s at `concurrency` for `seconds`, or until `operation` says it has nothing left to do
 * (returns false): the rate is then what was done over the time it took. `operation` is told which of the
 * `concurrency` workers calls it (0-based), for fixtures of its own.
 */
export async function rate(
  label: string,
  concurrency: number,
  seconds: number,
  operation: (worker: number) => Promise<unknown>,
): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  let exhausted = false;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline && !exhausted) {
        if ((await operation(worker)) === false) exhausted = true;
        else done++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const perSecond = done / elapsed;
  console.log(
    `${label.padEnd(72)} c=${concurrency} ${perSecond.toFixed(1).padStart(9)} /s   (${done} in ${elapsed.toFixed(1)}s${exhausted ? ', every staged consent used' : ''})`,
  );
  return perSecond;
}

/** A payer (customer and account) and the payee account its consents pay, as the Initiation names it. */
interface Parties {
  payerId: string;
  fromAccountId: string;
  creditorAccount: { SchemeName: string; Identification: string; Name: string };
}

/**
 * Whose accounts a phase's submissions book on: `one` — every submission debits the same payer and credits
 * the same payee (the worst case: at several connections they queue on those two rows' locks);
 * `per-connection` — each of the phase's in-flight workers pays from a payer account of its own to a payee
 * of its own (the ledger locks both accounts of a posting), so concurrent submissions share no account row.
 */
export type Payers = 'one' | 'per-connection';

export interface PaymentRig {
  clock: Clock;
  authorities: SandboxAuthorities;
  /** The one payer's account (every submission of a `one` phase books on it). */
  fromAccountId: string;
  tppSigner: ReturnType<typeof detachedSigner>;
  tppKeys: { publicKey: CryptoKey; privateKey: CryptoKey };
  bankKeys: { publicKey: CryptoKey; privateKey: CryptoKey };
  /** A consent staged on `version` and authorised, with its PSU token (outside the timing); the one payer's. */
  readyConsent(version?: ApiVersion): Promise<{ token: string; body: string }>;
  /**
   * Submissions/s of domestic payments on `version` at `concurrency` (see bench/payments.ts for how the
   * consents are staged); submissions not answered 201 are counted in `failures()`.
   */
  submissions(
    version: ApiVersion,
    concurrency: number,
    label?: string,
    probe?: PhaseProbe,
    payers?: Payers,
  ): Promise<number>;
  failures(): number;
  app: FastifyInstance;
}

/**
 * Measures a submission phase beside its rate (bench/payments.ts: CPU per submission): started just before
 * the timed submissions, after staging and warm-up; what `stop` returns (told the submissions answered)
 * is printed after the phase's rate.
 */
export interface PhaseProbe {
  start(name: string): Promise<{ stop(submissions: number): Promise<string> }>;
}

export async function startPaymentRig(db: Database, dir: string, seconds: number): Promise<PaymentRig> {
  const clock = systemClock;
  const ctx = { clock };
  const authorities = await loadOrCreateSandboxAuthorities(join(dir, 'ca'));
  const certificate = describeClientCertificate(
    new X509Certificate(
      (await issueClientCertificate(authorities.issuing, { commonName: 'bench-tpp' })).certificatePem,
    ),
    'tls',
  );
  /** A payer (10^12 minor units: no phase can exhaust it at 1.23 a payment) and a payee, each its own customer. */
  async function openParties(tag: string): Promise<Parties> {
    const payer = await createCustomer(db, ctx, {
      username: `bench-payer${tag}`,
      displayName: 'Payer',
      kind: 'personal',
    });
    const payee = await createCustomer(db, ctx, {
      username: `bench-payee${tag}`,
      displayName: 'Payee',
      kind: 'personal',
    });
    const from = await openAccount(db, ctx, { holders: [payer.id], currency: 'GBP', name: 'Payer' });
    const to = await openAccount(db, ctx, { holders: [payee.id], currency: 'GBP', name: 'Payee' });
    await postExternalCredit(db, ctx, { accountId: from.id, amountMinor: 10n ** 12n, currency: 'GBP' });
    return {
      payerId: payer.id,
      fromAccountId: from.id,
      creditorAccount: {
        SchemeName: 'UK.OBIE.SortCodeAccountNumber',
        Identification: `${to.sortCode}${to.accountNumber}`,
        Name: 'Payee',
      },
    };
  }
  /** The one payer and payee of `one` phases. */
  const shared = await openParties('');
  /** Worker i's payer and payee in `per-connection` phases, opened when a phase first has that many workers. */
  const perConnection: Parties[] = [];
  async function partiesOf(payers: Payers, worker: number): Promise<Parties> {
    if (payers === 'one') return shared;
    while (perConnection.length <= worker) perConnection.push(await openParties(`-${perConnection.length}`));
    return perConnection[worker]!;
  }

  const tpp = await generateKeyPair('PS256');
  const bank = await generateKeyPair('PS256');
  const tppSigner = detachedSigner({
    key: tpp.privateKey,
    kid: 'k1',
    issuer: 'org/sw',
    trustAnchor: 'ta',
    clock,
  });
  const tokens = new Map<string, AccessTokenView>();
  const caches = createGuardCaches(
    { tokens: { find: async (value) => tokens.get(value) }, intents: { find: (id) => getIntent(db, id) } },
    { clock, ttlMs: 30_000, maxEntries: 100_000 },
  );
  const app = Fastify();
  app.addHook('onRequest', async (request) => attachClientCertificate(request.raw, certificate));
  app.setErrorHandler((error: FastifyError | ObError, request, reply) =>
    error instanceof ObError
      ? reply.status(error.status).send(obErrorBody(error, request.id))
      : reply.status(500).send({ error: String(error) }),
  );
  // Both versions mounted as the bank mounts them: one consent store and ledger, a base path each.
  for (const version of ['v3.1.11', 'v4.0'] as const) {
    const base = VERSION_BASES[version].pisp!;
    await app.register(
      async (scope) =>
        paymentInitiation(scope, {
          db,
          clock,
          idempotencyKeys,
          guard: {
            tokens: caches.tokens,
            intents: caches.intents,
            // No directory in this benchmark: every client stands for an Active participant.
            participants: { checkClient: async () => ({ active: true }) },
            clock,
          },
          signatures: {
            keys: {
              keyFor: async (_c, kid) =>
                kid === 'k1' ? { key: tpp.publicKey, issuers: ['org/sw'] } : undefined,
            },
            trustAnchor: 'ta',
            clock,
          },
          signer: detachedSigner({
            key: bank.privateKey,
            kid: 'b1',
            issuer: 'bank',
            trustAnchor: 'ta',
            clock,
          }),
          publicBaseUrl: `https://bank.example${base}`,
          version,
          forgetIntent: (id) => caches.forgetIntent(id),
          notifyRevoked: async (id) => caches.forgetIntent(id),
        }),
      { prefix: base },
    );
  }
  await app.ready();

  /** Each version's domestic Initiation and Risk, as a TPP sends them (v4.0: structured remittance). */
  const bodyOn = (version: ApiVersion, creditorAccount: Parties['creditorAccount']) => {
    const v4 = version === 'v4.0';
    return {
      initiation: {
        InstructionIdentification: 'bench-1',
        EndToEndIdentification: 'bench-e2e',
        LocalInstrument: 'UK.OBIE.FPS',
        InstructedAmount: { Amount: '1.23', Currency: 'GBP' },
        CreditorAccount: creditorAccount,
        RemittanceInformation: v4
          ? { Structured: [{ CreditorReferenceInformation: { Reference: 'bench' } }] }
          : { Reference: 'bench' },
      },
      risk: { PaymentContextCode: v4 ? 'TransferToThirdParty' : 'PartyToParty' },
    };
  };
  async function readyConsent(
    version: ApiVersion = 'v3.1.11',
    parties: Parties = shared,
  ): Promise<{ token: string; body: string }> {
    const { initiation, risk } = bodyOn(version, parties.creditorAccount);
    const intent = await createIntent(
      { db, clock },
      {
        kind: 'domestic-payment',
        clientId: BENCH_CLIENT_ID,
        data: { Initiation: initiation },
        risk,
        apiVersion: version,
      },
    );
    await authorise({ db, clock }, intent.id, {
      customerId: parties.payerId,
      accountIds: [parties.fromAccountId],
    });
    const token = randomUUID();
    tokens.set(token, {
      clientId: BENCH_CLIENT_ID,
      scopes: new Set(['payments']),
      grantType: 'authorization_code',
      certificateThumbprint: certificate.thumbprintS256,
      roles: ['PISP'],
      intentId: intent.id,
      customerId: parties.payerId,
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    return {
      token,
      body: JSON.stringify({ Data: { ConsentId: intent.id, Initiation: initiation }, Risk: risk }),
    };
  }

  let failures = 0;
  let submitted = 0;
  let probed = 0;
  /**
   * The consents are staged before the timing, as many as three times the fastest rate seen so far allows
   * (the first probe's, at one connection, else the fastest phase's), three times more again for a phase
   * with several connections (they overlap database round trips and signatures); should they still run out, the phase ends there and its rate is what was done over the time it took —
   * it never fails for want of fixtures. With a payer per connection each worker has a pool of its own
   * (its payer's consents), an equal share of that number: the phase ends when any one runs out.
   */
  async function submissions(
    version: ApiVersion,
    concurrency: number,
    label = '',
    probe?: PhaseProbe,
    payers: Payers = 'one',
  ): Promise<number> {
    /** A submission ready to send: its own consent, token, idempotency key and the TPP's signature. */
    type Ready = { token: string; body: string; signature: string; key: string };
    const pools: Ready[][] = Array.from({ length: payers === 'one' ? 1 : concurrency }, () => []);
    const pool = pools[0]!;
    const staged = () => pools.reduce((sum, each) => sum + each.length, 0);
    const url = `${VERSION_BASES[version].pisp}/domestic-payments`;
    const stage = async (worker = 0): Promise<Ready> => {
      const consent = await readyConsent(version, await partiesOf(payers, worker));
      // The TPP's signing is its own cost, paid here, outside the timing (the bank's is measured).
      return { ...consent, signature: await tppSigner.sign(consent.body), key: randomUUID() };
    };
    const submit = async (next: Ready) => {
      const response = await app.inject({
        method: 'POST',
        url,
        headers: {
          authorization: `Bearer ${next.token}`,
          'content-type': 'application/json',
          'x-idempotency-key': next.key,
          'x-jws-signature': next.signature,
        },
        payload: next.body,
      });
      if (response.statusCode !== 201) failures++;
      submitted++;
    };
    if (probed === 0) {
      for (let i = 0; i < 13; i++) pool.push(await stage());
      for (let i = 0; i < 3; i++) await submit(pool.pop()!);
      const start = performance.now();
      for (let i = 0; i < 10; i++) await submit(pool.pop()!);
      probed = 10 / ((performance.now() - start) / 1000);
    }
    const wanted = Math.ceil(probed * seconds * 3 * (concurrency > 1 ? 3 : 1)) + 50;
    const perPool = Math.ceil(wanted / pools.length);
    for (const [worker, each] of pools.entries())
      while (each.length < perPool) each.push(await stage(worker));
    // Warm-up: at least one submission on each payer's account (its first posting).
    for (let i = 0; i < Math.max(3, pools.length); i++) await submit(pools[i % pools.length]!.pop()!);
    const spread = payers === 'one' ? '' : ', a payer per connection';
    const name = `domestic payment submissions ${version}${label}${spread} (${staged()} consents staged)`;
    const window = await probe?.start(`${name} c${concurrency}`);
    const submittedBefore = submitted;
    const measured = await rate(name, concurrency, seconds, async (worker) => {
      const next = pools[payers === 'one' ? 0 : worker]!.pop();
      if (!next) return false;
      await submit(next);
      return true;
    });
    if (window) console.log(`  ${await window.stop(submitted - submittedBefore)}`);
    probed = Math.max(probed, measured);
    return measured;
  }

  return {
    clock,
    authorities,
    fromAccountId: shared.fromAccountId,
    tppSigner,
    tppKeys: tpp,
    bankKeys: bank,
    readyConsent,
    submissions,
    failures: () => failures,
    app,
  };
}
