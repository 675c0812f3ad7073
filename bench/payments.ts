/**
 * Domestic payment submissions/s — the whole `POST /domestic-payments` path: API guard, request JWS
 * verification (PS256, OB claims), idempotency key row, consent consumption, ledger posting (one balanced
 * posting set with the account locks), payment record, signed response — as a ratio to PS256
 * verify+sign pairs/s (jose, the same body size) measured just before and just after, at the same concurrency.
 * Requests go through fastify.inject (no TLS: the mTLS cost is the AIS benchmark's subject; the whole
 * platform over mTLS is bench/flow.ts's). Each store (PGlite in a temporary folder, a fresh PostgreSQL
 * database) at each concurrency; then again with 100,000 more postings in the ledger (BENCH_LEDGER_ROWS).
 * Run: npm run bench -- payments [--store pglite|postgres|both] [--concurrency 1,8]   (BENCH_SECONDS)
 */
import { randomUUID, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyError } from 'fastify';
import { CompactSign, flattenedVerify, generateKeyPair } from 'jose';
import { sql } from 'drizzle-orm';
import { createCustomer, openAccount, postExternalCredit } from '../src/bank/index.ts';
import { internalAccountId } from '../src/bank/ledger.ts';
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
import type { Backend } from '../src/store/index.ts';
import { benchOptions, machineLine, openBenchStore, printRatio } from './support/index.ts';

const options = benchOptions();
const phaseSeconds = options.seconds;
const ledgerRows = Number(process.env.BENCH_LEDGER_ROWS ?? '100000');
const CRIT = { [OB_IAT]: true, [OB_ISS]: true, [OB_TAN]: true } as const;

/**
 * Operations/s at `concurrency` for `phaseSeconds`, or until `operation` says it has nothing left to do
 * (returns false): the rate is then what was done over the time it took.
 */
async function rate(label: string, concurrency: number, operation: () => Promise<unknown>): Promise<number> {
  const deadline = performance.now() + phaseSeconds * 1000;
  let done = 0;
  let exhausted = false;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline && !exhausted) {
        if ((await operation()) === false) exhausted = true;
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

console.log(machineLine());
for (const backend of options.stores) await run(backend);

async function run(backend: Backend): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'obkit-bench-payments-'));
  const { store, drop } = await openBenchStore(backend, dir);
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

    /**
     * Adds `rows` booked postings (rows / 2 entries of 1 minor unit: clearing → `accountId`), with running
     * balances and booking order as the ledger keeps them, booked just after the accounts' latest posting.
     */
    async function growLedger(accountId: string, rows: number): Promise<number> {
      const clearing = internalAccountId('clearing', 'GBP');
      const entries = Math.floor(rows / 2);
      await db.transaction(async (tx) => {
        await tx.execute(sql`
        with base as (
          select (select max(booked_at) from bank_postings where account_id in (${accountId}, ${clearing})) as at,
                 (select booked_minor from bank_accounts where id = ${accountId}) as mine,
                 (select booked_minor from bank_accounts where id = ${clearing}) as theirs
        ), n as (
          select g, base.at + g * interval '1 microsecond' as at, base.mine, base.theirs
          from generate_series(1, ${entries}::int) g, base
        ), entries as (
          insert into bank_entries (id, kind, status, booked_at, value_at, created_at)
          select 'bench-ledger-' || g, 'external-credit', 'Booked', at, at, now() from n
        )
        insert into bank_postings
          (id, entry_id, account_id, amount_minor, currency, status, booked_at, value_at, book_seq,
           balance_after_minor, transaction_reference, transaction_information)
        select 'bench-posting-' || g || side, 'bench-ledger-' || g,
               case side when 'a' then ${clearing} else ${accountId} end,
               case side when 'a' then -1 else 1 end, 'GBP', 'Booked', at, at, nextval('bank_book_seq'),
               case side when 'a' then theirs - g else mine + g end, 'bench', 'bench ledger row'
        from n, (values ('a'), ('b')) sides(side)
        order by g, side`);
        await tx.execute(
          sql`update bank_accounts set booked_minor = booked_minor + ${entries} where id = ${accountId}`,
        );
        await tx.execute(
          sql`update bank_accounts set booked_minor = booked_minor - ${entries} where id = ${clearing}`,
        );
      });
      return entries * 2;
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
    const pair = async () => {
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
    };

    let failures = 0;
    let probed = 0;
    /**
     * Submissions/s of domestic payments on `version` at `concurrency`. The consents are staged before the
     * timing, as many as three times the first probe's rate allows (a payment verifies one PS256 signature and
     * makes one, so it cannot outrun the baseline pairs by much); should they still run out, the phase ends
     * there and its rate is what was done over the time it took — it never fails for want of fixtures.
     */
    async function submissions(version: ApiVersion, concurrency: number, label = ''): Promise<number> {
      const pool: { token: string; body: string }[] = [];
      const url = `${VERSION_BASES[version].pisp}/domestic-payments`;
      const submit = async (next: { token: string; body: string }) => {
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
      if (probed === 0) {
        for (let i = 0; i < 13; i++) pool.push(await readyConsent(version));
        for (let i = 0; i < 3; i++) await submit(pool.pop()!);
        const start = performance.now();
        for (let i = 0; i < 10; i++) await submit(pool.pop()!);
        probed = 10 / ((performance.now() - start) / 1000);
      }
      const wanted = Math.ceil(probed * phaseSeconds * 3) + 50;
      while (pool.length < wanted) pool.push(await readyConsent(version));
      for (let i = 0; i < 3; i++) await submit(pool.pop()!); // warm up
      return rate(
        `domestic payment submissions ${version}${label} (${pool.length} consents staged)`,
        concurrency,
        async () => {
          const next = pool.pop();
          if (!next) return false;
          await submit(next);
          return true;
        },
      );
    }

    /** Payments ÷ the mean of the baseline pairs measured just before and just after, at one concurrency. */
    async function bracketed(version: ApiVersion, concurrency: number, label = ''): Promise<number> {
      const before = await rate('PS256 verify+sign pairs (baseline, jose)', concurrency, pair);
      const payments = await submissions(version, concurrency, label);
      const after = await rate('PS256 verify+sign pairs (baseline, jose)', concurrency, pair);
      return payments / ((before + after) / 2);
    }

    console.log(`backend ${store.backend}; ${phaseSeconds}s per phase`);
    const plain = new Map<number, number>();
    for (const concurrency of options.concurrencies)
      plain.set(concurrency, await bracketed('v3.1.11', concurrency));
    // v4.0 beside v3.1.11 (same ledger, same consent store), between baseline phases.
    const first = options.concurrencies[0]!;
    const v4 = await bracketed('v4.0', first);

    // Cost as work grows: the ledger with 100,000 more postings, on the payer's account itself (the one
    // every submission locks and books on) and the clearing account.
    const grownStart = performance.now();
    const grownPostings = await growLedger(from.id, ledgerRows);
    console.log(
      `(${grownPostings} postings added to the ledger in ${((performance.now() - grownStart) / 1000).toFixed(1)} s)`,
    );
    const grown = new Map<number, number>();
    for (const concurrency of options.concurrencies)
      grown.set(concurrency, await bracketed('v3.1.11', concurrency, `, ledger +${grownPostings}`));

    console.log(
      `(the TPP's own signing of each request is inside the loop; failed submissions: ${failures})`,
    );
    console.log('');
    for (const [concurrency, ratio] of plain) printRatio(`payments ${backend} c${concurrency}`, ratio, 0.5);
    printRatio(`payments ${backend} v4.0/v3.1.11 c${first}`, v4 / plain.get(first)!, 0.9);
    for (const [concurrency, ratio] of grown)
      printRatio(
        `payments ${backend} c${concurrency} with ${grownPostings} more ledger rows / without`,
        ratio / plain.get(concurrency)!,
        0.5,
      );
    if (failures > 0) throw new Error(`${failures} submissions were not accepted`);
    await app.close();
  } finally {
    await drop();
    await rm(dir, { recursive: true, force: true });
  }
}
