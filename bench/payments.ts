/**
 * Domestic payment submissions/s — the whole `POST /domestic-payments` path: API guard, request JWS
 * verification (PS256, OB claims), idempotency key row, consent consumption, ledger posting (one balanced
 * posting set with the account locks), payment record, signed response — as a ratio to PS256
 * verify+sign pairs/s (jose, the same body size) measured in the same run.
 * Requests go through fastify.inject (no TLS: the mTLS cost is the AIS benchmark's subject).
 * Database: in-memory PGlite, or PostgreSQL with DATABASE_URL (a fresh database is created and dropped).
 * Run: PATH=$PWD/node_modules/.bin:$PATH node bench/payments.ts   (BENCH_SECONDS, BENCH_CONCURRENCY)
 */
import { randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyError } from 'fastify';
import { CompactSign, flattenedVerify, generateKeyPair } from 'jose';
import pg from 'pg';
import { createCustomer, openAccount, postExternalCredit } from '../src/bank/index.ts';
import { authorise, createIntent, getIntent } from '../src/consent/index.ts';
import { ObError, obErrorBody } from '../src/openbanking/errors.ts';
import { createGuardCaches, type AccessTokenView } from '../src/openbanking/guard/index.ts';
import { detachedSigner } from '../src/openbanking/http/jws.ts';
import { OB_IAT, OB_ISS, OB_TAN } from '../src/shared/ob-jws-claims.ts';
import { VERSION_BASES, type ApiVersion } from '../src/openbanking/versions.ts';
import { paymentInitiation } from '../src/openbanking/pis/index.ts';
import { issueClientCertificate, loadOrCreateSandboxAuthorities } from '../src/pki/index.ts';
import { attachClientCertificate, describeClientCertificate } from '../src/shared/client-certificate.ts';
import { systemClock } from '../src/shared/clock.ts';
import { openStore, type Store } from '../src/store/index.ts';

const phaseSeconds = Number(process.env.BENCH_SECONDS ?? '5');
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? '1');
const CRIT = { [OB_IAT]: true, [OB_ISS]: true, [OB_TAN]: true } as const;

async function rate(label: string, operation: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 3; i++) await operation();
  const deadline = performance.now() + phaseSeconds * 1000;
  let done = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await operation();
        done++;
      }
    }),
  );
  const perSecond = done / ((performance.now() - start) / 1000);
  console.log(`${label.padEnd(52)} ${perSecond.toFixed(1).padStart(9)} /s   (${done} in ${phaseSeconds}s)`);
  return perSecond;
}

async function openBenchStore(): Promise<{ store: Store; drop(): Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const store = await openStore({ backend: 'pglite', dataDir: undefined });
    await store.migrate();
    return { store, drop: () => store.close() };
  }
  const name = `obkit_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${name}`;
  const store = await openStore({ backend: 'postgres', url: target.toString(), poolSize: 20 });
  await store.migrate();
  return {
    store,
    async drop() {
      await store.close();
      const dropper = new pg.Client({ connectionString: url });
      await dropper.connect();
      await dropper.query(`drop database if exists "${name}" with (force)`);
      await dropper.end();
    },
  };
}

const dir = await mkdtemp(join(tmpdir(), 'obkit-bench-payments-'));
const { store, drop } = await openBenchStore();
try {
  const clock = systemClock;
  const db = store.db;
  const ctx = { clock };
  const authorities = await loadOrCreateSandboxAuthorities(join(dir, 'ca'));
  const certificate = describeClientCertificate(
    new X509Certificate(
      (await issueClientCertificate(authorities.issuing, { commonName: 'bench-tpp' })).certificatePem,
    ),
    'tls',
  );
  const payer = await createCustomer(db, ctx, {
    username: 'bench-payer',
    displayName: 'Payer',
    kind: 'personal',
  });
  const payee = await createCustomer(db, ctx, {
    username: 'bench-payee',
    displayName: 'Payee',
    kind: 'personal',
  });
  const from = await openAccount(db, ctx, { holders: [payer.id], currency: 'GBP', name: 'Payer' });
  const to = await openAccount(db, ctx, { holders: [payee.id], currency: 'GBP', name: 'Payee' });
  await postExternalCredit(db, ctx, { accountId: from.id, amountMinor: 10n ** 12n, currency: 'GBP' });

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

  const creditorAccount = {
    SchemeName: 'UK.OBIE.SortCodeAccountNumber',
    Identification: `${to.sortCode}${to.accountNumber}`,
    Name: 'Payee',
  };
  /** Each version's domestic Initiation and Risk, as a TPP sends them (v4.0: structured remittance). */
  const bodyOn = (version: ApiVersion) => {
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
  /** A consent staged on `version` and authorised, with its PSU token (outside the timing). */
  async function readyConsent(version: ApiVersion = 'v3.1.11'): Promise<{ token: string; body: string }> {
    const { initiation, risk } = bodyOn(version);
    const intent = await createIntent(
      { db, clock },
      {
        kind: 'domestic-payment',
        clientId: 'bench',
        data: { Initiation: initiation },
        risk,
        apiVersion: version,
      },
    );
    await authorise({ db, clock }, intent.id, { customerId: payer.id, accountIds: [from.id] });
    const token = randomUUID();
    tokens.set(token, {
      clientId: 'bench',
      scopes: new Set(['payments']),
      grantType: 'authorization_code',
      certificateThumbprint: certificate.thumbprintS256,
      roles: ['PISP'],
      intentId: intent.id,
      customerId: payer.id,
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    return {
      token,
      body: JSON.stringify({ Data: { ConsentId: intent.id, Initiation: initiation }, Risk: risk }),
    };
  }

  const sample = (await readyConsent()).body;
  const payload = new TextEncoder().encode(sample);
  const presigned = (await tppSigner.sign(sample)).split('.');
  const pairs = await rate('PS256 verify+sign pairs (baseline, jose)', async () => {
    await flattenedVerify(
      {
        protected: presigned[0]!,
        payload: Buffer.from(payload).toString('base64url'),
        signature: presigned[2]!,
      },
      tpp.publicKey,
      { algorithms: ['PS256'], crit: CRIT },
    );
    await new CompactSign(payload).setProtectedHeader({ alg: 'PS256' }).sign(bank.privateKey);
  });

  let failures = 0;
  /** Submissions/s of domestic payments on `version`, with enough consents staged before the timing. */
  async function submissions(version: ApiVersion): Promise<number> {
    const pool: { token: string; body: string }[] = [];
    const refill = async (n: number) => {
      for (let i = 0; i < n; i++) pool.push(await readyConsent(version));
    };
    const url = `${VERSION_BASES[version].pisp}/domestic-payments`;
    const submit = async () => {
      const next = pool.pop();
      if (!next) throw new Error('consent pool exhausted');
      // The TPP signs each request (its cost is on the TPP side; part of the loop as a real client would).
      const signature = await tppSigner.sign(next.body);
      const response = await app.inject({
        method: 'POST',
        url,
        headers: {
          authorization: `Bearer ${next.token}`,
          'content-type': 'application/json',
          'x-idempotency-key': randomUUID(),
          'x-jws-signature': signature,
        },
        payload: next.body,
      });
      if (response.statusCode !== 201) failures++;
    };
    // Enough consents for the measured phase (estimated from a short probe), staged before timing.
    await refill(20);
    const probeStart = performance.now();
    for (let i = 0; i < 10; i++) await submit();
    const probeRate = 10 / ((performance.now() - probeStart) / 1000);
    await refill(Math.ceil(probeRate * phaseSeconds * 2 * Math.max(1, concurrency)) + 50);
    console.log(
      `${version}: consents staged for the run: ${pool.length}; backend ${store.backend}; concurrency ${concurrency}`,
    );
    return rate(`domestic payment submissions ${version} (full path)`, submit);
  }
  // In the order v3.1.11, v4.0, v4.0, v3.1.11, so that warming up (and the tables growing) weighs on both alike.
  const v3First = await submissions('v3.1.11');
  const v4First = await submissions('v4.0');
  const v4 = (v4First + (await submissions('v4.0'))) / 2;
  const v3 = (v3First + (await submissions('v3.1.11'))) / 2;

  console.log('');
  console.log(`payment submissions/s ÷ PS256 verify+sign pairs/s = ${(v3 / pairs).toFixed(3)}`);
  console.log(`ratio pis-v4.0/v3.1.11 domestic submissions: ${(v4 / v3).toFixed(3)}`);
  console.log(`(the TPP's own signing of each request is inside the loop; failures: ${failures})`);
  await app.close();
} finally {
  await drop();
  await rm(dir, { recursive: true, force: true });
}
