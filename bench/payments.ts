/**
 * Domestic payment submissions/s — the bank's whole `POST /domestic-payments` path: API guard, request JWS
 * verification (PS256, OB claims), idempotency key row, consent consumption, ledger posting (one balanced
 * posting set with the account locks), payment record, signed response — as a ratio to PS256
 * verify+sign pairs/s (jose, the same body size) measured just before and just after, at the same concurrency.
 * The TPP's requests (consent, token, idempotency key, signature each) are made before each phase: the
 * phase measures the server's work only, as the baseline's pair is the server's two signature operations.
 * Requests go through fastify.inject (no TLS: the mTLS cost is the AIS benchmark's subject; the whole
 * platform over mTLS is bench/flow.ts's). Each store (PGlite in a temporary folder, a fresh PostgreSQL
 * database) at each concurrency; then again with 100,000 more postings in the ledger (BENCH_LEDGER_ROWS).
 * Before the first measured phase, unmeasured submissions at each concurrency until their CPU per submission
 * settles (a fresh process runs cold). Every submission debits the one payer (the worst case: at several connections they queue on its row lock);
 * beside it, at each concurrency, the same with a payer (and payee) per connection: no shared account row
 * (`payments-payer-per-connection`; bench/support/payment-rig.ts `Payers`).
 * Run: npm run bench -- payments [--store pglite|postgres|both] [--concurrency 1,8]   (BENCH_SECONDS)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactSign, flattenedVerify } from 'jose';
import { OB_IAT, OB_ISS, OB_TAN } from '../src/shared/ob-jws-claims.ts';
import type { ApiVersion } from '../src/openbanking/versions.ts';
import type { Backend } from '../src/store/index.ts';
import {
  addTransactions,
  backendCpuWindow,
  benchOptions,
  countStatements,
  machineLine,
  mainThreadWindow,
  openBenchStore,
  printRatio,
  warmUntilSteady,
  type BracketSide,
} from './support/index.ts';
import { rate as rateFor, startPaymentRig, type PhaseProbe } from './support/payment-rig.ts';

const options = benchOptions();
const phaseSeconds = options.seconds;
const ledgerRows = Number(process.env.BENCH_LEDGER_ROWS ?? '100000');
const CRIT = { [OB_IAT]: true, [OB_ISS]: true, [OB_TAN]: true } as const;

const rate = (label: string, concurrency: number, operation: () => Promise<unknown>) =>
  rateFor(label, concurrency, phaseSeconds, operation);

console.log(machineLine());
for (const backend of options.stores) await run(backend);

async function run(backend: Backend): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'obkit-bench-payments-'));
  const { store, drop } = await openBenchStore(backend, dir);
  try {
    const db = store.db;
    const rig = await startPaymentRig(db, dir, phaseSeconds);
    const { readyConsent, submissions, tppSigner, app } = rig;
    const tpp = rig.tppKeys;
    const bank = rig.bankKeys;
    const from = { id: rig.fromAccountId };

    /** Adds `rows` booked postings (rows / 2 credits of 1 minor unit from clearing, bench/support/ledger.ts). */
    async function growLedger(accountId: string, rows: number): Promise<number> {
      const entries = Math.floor(rows / 2);
      await addTransactions(store, accountId, entries, { amountMinor: 1n });
      return entries * 2;
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

    /**
     * Per submission, figures the machine's other work moves far less than the rate: the main thread's
     * busy time, the process's CPU (the response signature on the thread pool included), the run's own
     * PostgreSQL backends' CPU, and the statements sent (BEGIN/COMMIT included; PGlite's inside its
     * transactions counted as a connection would send them). BENCH_PROFILE_DIR profiles each phase.
     */
    const probe: PhaseProbe = {
      async start(name) {
        const backends = await backendCpuWindow(store);
        const statements = countStatements({ insidePgliteTransactions: true });
        const window = await mainThreadWindow(`payments ${store.backend} ${name}`);
        // PGlite: the protocol messages handed to its backend (each a call into the WebAssembly module).
        const messagesBefore = store.embedded?.writeCount();
        return {
          async stop(submitted) {
            const { busy, cpu } = await window.stop(submitted);
            const messages =
              messagesBefore === undefined ? undefined : store.embedded!.writeCount() - messagesBefore;
            statements.stop();
            const backendMs = await backends?.stop();
            const perSubmission = (n: number) => (n / submitted).toFixed(2);
            return (
              `per submission: main thread ${busy.toFixed(2)} ms, process CPU ${cpu.toFixed(2)} ms` +
              (backendMs === undefined ? '' : `, PostgreSQL backends CPU ${perSubmission(backendMs)} ms`) +
              `, ${perSubmission(statements.seen.length)} statements` +
              ` (${perSubmission(statements.unnamed.length)} unnamed, ${perSubmission(statements.byText.length)} by text)` +
              (messages === undefined ? '' : `, ${perSubmission(messages)} protocol messages written`)
            );
          },
        };
      },
    };

    const baseline = (concurrency: number) =>
      rate('PS256 verify+sign pairs (baseline, jose)', concurrency, pair);
    /** Payments ÷ the mean of the baseline pairs measured just before and just after, at one concurrency. */
    async function bracketed(version: ApiVersion, concurrency: number, label = ''): Promise<number> {
      const before = await baseline(concurrency);
      const payments = await submissions(version, concurrency, label, probe);
      const after = await baseline(concurrency);
      return payments / ((before + after) / 2);
    }

    console.log(`backend ${store.backend}; ${phaseSeconds}s per phase`);
    // A process's first phases run cold (bench/README.md, session 14): the first submissions phase cost the
    // main thread 5.3 ms per submission against 3.4 ms later in the same run (session 21). So, before any
    // measured phase, submissions at every concurrency in turn until each one's process CPU per submission
    // is within 10 % of its previous phase (at most 6 phases), as the bracketed benchmarks warm up.
    const warmSides = options.concurrencies.map((concurrency): BracketSide => ({
      label: `c${concurrency}`,
      async measure(phase) {
        let cpuPerOperation: number | undefined;
        const cpuProbe: PhaseProbe = {
          async start(name) {
            const window = await mainThreadWindow(name);
            return {
              async stop(submitted) {
                cpuPerOperation = (await window.stop(submitted)).cpu;
                return `${phase}: process CPU ${cpuPerOperation.toFixed(2)} ms per submission`;
              },
            };
          },
        };
        const perSecond = await submissions('v3.1.11', concurrency, ` (${phase})`, cpuProbe);
        return { perSecond, cpuPerOperation };
      },
    }));
    const warm = await warmUntilSteady(warmSides, 0.1, 3 * warmSides.length);
    console.log(`(warm-up: ${warm.phases} phases${warm.settled ? ', settled' : ', not settled'})`);
    // At each concurrency: baseline, one payer, baseline, a payer per connection, baseline — each figure
    // bracketed by the baselines either side (the middle one serves both, saving a phase).
    const plain = new Map<number, number>();
    const perConnection = new Map<number, number>();
    for (const concurrency of options.concurrencies) {
      const before = await baseline(concurrency);
      const onePayer = await submissions('v3.1.11', concurrency, '', probe);
      const between = await baseline(concurrency);
      const spread = await submissions('v3.1.11', concurrency, '', probe, 'per-connection');
      const after = await baseline(concurrency);
      plain.set(concurrency, onePayer / ((before + between) / 2));
      perConnection.set(concurrency, spread / ((between + after) / 2));
    }
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
      `(measured: the bank's handling of each submission; the TPP signed every request before its phase; failed submissions: ${rig.failures()})`,
    );
    console.log('');
    for (const [concurrency, ratio] of plain) printRatio(`payments ${backend} c${concurrency}`, ratio, 0.5);
    for (const [concurrency, ratio] of perConnection)
      printRatio(`payments-payer-per-connection ${backend} c${concurrency}`, ratio, 0.5);
    printRatio(`payments ${backend} v4.0/v3.1.11 c${first}`, v4 / plain.get(first)!, 0.9);
    for (const [concurrency, ratio] of grown)
      printRatio(
        `payments ${backend} c${concurrency} with ${grownPostings} more ledger rows / without`,
        ratio / plain.get(concurrency)!,
        0.5,
      );
    if (rig.failures() > 0) throw new Error(`${rig.failures()} submissions were not accepted`);
    await app.close();
  } finally {
    await drop();
    await rm(dir, { recursive: true, force: true });
  }
}
