/**
 * The whole flow, flows/s: a client_credentials token, an account-access consent staged, the PSU's
 * authorisation (a PS256 request object pushed by PAR, the consent app's pages driven headlessly through the
 * sandbox's login and approval, as the TPP CLI's `--approve` does), the code exchanged for a token, and one
 * read (`GET /accounts`) — on the whole composed platform over mTLS, for a TPP onboarded at its directory and
 * registered by DCR. The TPP's side runs in this process too, with the SDK a TPP uses (src/tpp).
 * Baseline, in the same run: PS256 signatures per second (jose, alternately signing and verifying) divided by
 * the PS256 operations one flow needs — counted, not assumed: every RSA-PSS sign and verify made in this
 * process (bank and TPP side) during one flow. Concurrency 1 and 8, the flows phase between two baselines.
 * Before the phases, one table of where a flow goes, step by step, from flows run alone: statements sent to
 * the database (inside PGlite's transactions too; of them those sent unnamed, and the embedded read-only
 * statements, named per text: `StatementCounter`), HTTPS requests the servers answered, and the main thread's
 * CPU milliseconds (`process.threadCpuUsage`: bank and TPP side together, as they share the thread, PGlite's
 * work included; unlike busy wall time it does not grow when other processes take the cores; median of the
 * flows).
 * Run: npm run bench -- flow [--store pglite|postgres|both] [--concurrency 1,8]   (BENCH_SECONDS per phase)
 */
import { webcrypto } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import { CompactSign, compactVerify, generateKeyPair } from 'jose';
import {
  clientCredentialsToken,
  completeAuthorization,
  startAuthorization,
} from '../src/tpp/authorization.ts';
import { createHttpClient } from '../src/tpp/http.ts';
import { apiBaseOf, callApi, createAccountAccessConsent } from '../src/tpp/open-banking.ts';
import { approveInSandbox } from '../src/tpp/sandbox-approval.ts';
import type { Backend } from '../src/store/index.ts';
import {
  benchOptions,
  closedLoop,
  countStatements,
  machineLine,
  mainThreadWindow,
  onboardTpp,
  printRatio,
  startBenchPlatform,
} from './support/index.ts';

const options = benchOptions();
const phaseSeconds = options.seconds;

/** Counts RSA-PSS signatures and verifications made through WebCrypto (jose's, on both sides). */
const psOperations = { count: 0 };
const subtle = webcrypto.subtle;
const isPss = (algorithm: unknown) =>
  (typeof algorithm === 'string' ? algorithm : (algorithm as { name?: string }).name) === 'RSA-PSS';
const sign = subtle.sign.bind(subtle);
const verify = subtle.verify.bind(subtle);
subtle.sign = ((algorithm, key, data) => {
  if (isPss(algorithm)) psOperations.count++;
  return sign(algorithm, key, data);
}) as typeof subtle.sign;
subtle.verify = ((algorithm, key, signature, data) => {
  if (isPss(algorithm)) psOperations.count++;
  return verify(algorithm, key, signature, data);
}) as typeof subtle.verify;

/** Requests the servers of this process began answering (Node's own diagnostics channel). */
const served = { count: 0 };
diagnostics.subscribe('http.server.request.start', () => void served.count++);

/** TLS connections the clients of this process (undici: the SDK and the browser) opened, and how many resumed a session. */
const handshakes = { full: 0, resumed: 0 };
diagnostics.subscribe('undici:client:connected', (message) => {
  const { socket } = message as { socket: { isSessionReused?: () => boolean } };
  if (socket.isSessionReused?.()) handshakes.resumed++;
  else handshakes.full++;
});

/** TCP connections the servers of this process accepted (Node's own diagnostics channel: the other side's count). */
const accepted = { count: 0 };
diagnostics.subscribe('net.server.socket', () => void accepted.count++);

/** The steps of one flow, each a call that the flow makes in this order. */
const STEPS = ['token', 'consent', 'PAR', 'approval', 'exchange', 'read'] as const;
type Step = (typeof STEPS)[number];
type StepRunner = <T>(step: Step, work: () => Promise<T>) => Promise<T>;
const unobserved: StepRunner = (_step, work) => work();

/** Statements, requests and main-thread CPU milliseconds per step, over `flows` flows run one after another. */
async function stepTable(flows: number, flow: (step: StepRunner) => Promise<void>): Promise<void> {
  const counter = countStatements({ insidePgliteTransactions: true });
  const rows = new Map<
    Step,
    {
      statements: number[];
      unnamed: number[];
      byText: number[];
      requests: number[];
      full: number[];
      resumed: number[];
      accepted: number[];
      cpu: number[];
      wall: number[];
    }
  >();
  try {
    for (let i = 0; i < flows; i++) {
      await flow(async (step, work) => {
        counter.reset();
        const requests = served.count;
        const { full, resumed } = handshakes;
        const acceptedBefore = accepted.count;
        const start = process.threadCpuUsage();
        const began = performance.now();
        const result = await work();
        const used = process.threadCpuUsage(start);
        const wall = performance.now() - began;
        const cpu = (used.user + used.system) / 1000;
        const row = rows.get(step) ?? {
          statements: [],
          unnamed: [],
          byText: [],
          requests: [],
          full: [],
          resumed: [],
          accepted: [],
          cpu: [],
          wall: [],
        };
        row.statements.push(counter.seen.length);
        row.unnamed.push(counter.unnamed.length);
        row.byText.push(counter.byText.length);
        row.requests.push(served.count - requests);
        row.full.push(handshakes.full - full);
        row.resumed.push(handshakes.resumed - resumed);
        row.accepted.push(accepted.count - acceptedBefore);
        row.cpu.push(cpu);
        row.wall.push(wall);
        rows.set(step, row);
        return result;
      });
    }
  } finally {
    counter.stop();
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  // Background work (MI flushes, the scheduler) only ever adds statements: the least of the flows.
  const least = (values: number[]) => Math.min(...values);
  // A connection is opened when one is needed, not in every flow: TLS handshakes as a mean per flow.
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const columns = [
    'statements',
    'unnamed',
    'by text',
    'requests',
    'full TLS',
    'resumed',
    'accepted',
    'CPU ms',
    'wall ms',
  ] as const;
  const line = (name: string, figures: readonly string[]) =>
    console.log(
      `${name.padEnd(10)} ${figures.map((figure, at) => figure.padStart(columns[at]!.length + 1)).join(' ')}`,
    );
  line('step', [...columns]);
  const total = {
    statements: 0,
    unnamed: 0,
    byText: 0,
    requests: 0,
    full: 0,
    resumed: 0,
    accepted: 0,
    cpu: 0,
    wall: 0,
  };
  const cells = (figures: typeof total): string[] => [
    String(figures.statements),
    String(figures.unnamed),
    String(figures.byText),
    String(figures.requests),
    figures.full.toFixed(1),
    figures.resumed.toFixed(1),
    figures.accepted.toFixed(1),
    figures.cpu.toFixed(1),
    figures.wall.toFixed(1),
  ];
  for (const step of STEPS) {
    const row = rows.get(step);
    if (!row) continue;
    const figures = {
      statements: least(row.statements),
      unnamed: least(row.unnamed),
      byText: least(row.byText),
      requests: least(row.requests),
      full: mean(row.full),
      resumed: mean(row.resumed),
      accepted: mean(row.accepted),
      cpu: median(row.cpu),
      wall: median(row.wall),
    };
    for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += figures[key];
    line(step, cells(figures));
  }
  line('flow', cells(total));
}

/**
 * With BENCH_PROFILE_DIR, one CPU profile per step of each of `flows` flows (`<store>-step-<step>-N`, one
 * operation each), apart from the step table so that profiling does not weigh on its figures:
 * `bench/support/profile-summary.ts token=<dir>/pglite-step-token …` lists them side by side.
 */
async function profileSteps(
  flows: number,
  backend: string,
  flow: (step: StepRunner) => Promise<void>,
): Promise<void> {
  if (!process.env.BENCH_PROFILE_DIR) return;
  for (let i = 0; i < flows; i++) {
    await flow(async (step, work) => {
      const window = await mainThreadWindow(`${backend} step ${step}`);
      try {
        return await work();
      } finally {
        await window.stop(1);
      }
    });
  }
}

async function rate(label: string, concurrency: number, operation: () => Promise<unknown>): Promise<number> {
  const { done, elapsed, perSecond } = await closedLoop(concurrency, phaseSeconds, operation);
  console.log(
    `${label.padEnd(60)} c=${concurrency} ${perSecond.toFixed(1).padStart(9)} /s   (${done} in ${elapsed.toFixed(1)}s)`,
  );
  return perSecond;
}

console.log(machineLine());
for (const backend of options.stores) await run(backend);
process.exit(0);

async function run(backend: Backend): Promise<void> {
  const bench = await startBenchPlatform(backend, 'flow');
  try {
    const tpp = await onboardTpp(bench, 'bench-flow', ['AISP']);
    const bank = tpp.bank;
    const browser = createHttpClient({ trust: tpp.tls.ca });
    const accountsUrl = `${apiBaseOf(bank)}/aisp/accounts`;

    async function flow(step: StepRunner = unobserved): Promise<void> {
      const clientToken = (await step('token', () => clientCredentialsToken(bank, 'accounts'))).access_token;
      const consent = await step('consent', () => createAccountAccessConsent(bank, clientToken));
      const pending = await step('PAR', () =>
        startAuthorization(bank, {
          intentId: consent.ConsentId,
          scope: 'accounts',
          redirectUri: tpp.redirectUri,
        }),
      );
      const back = await step('approval', () =>
        approveInSandbox(browser, pending.url, tpp.redirectUri, { username: 'alice', decision: 'approve' }),
      );
      const accessToken = (await step('exchange', () => completeAuthorization(bank, pending, back)))
        .access_token;
      const read = await step('read', () => callApi(bank, accessToken, accountsUrl));
      if (read.status !== 200) throw new Error(`the read failed: ${read.status} ${read.text}`);
    }

    await flow(); // warm up (and every cache the first flow fills)
    psOperations.count = 0;
    await flow();
    const perFlow = psOperations.count;
    if (perFlow === 0) throw new Error('no PS256 operation counted in a flow');
    console.log(`one flow, step by step (${bench.store.backend}; 9 flows alone):`);
    await stepTable(9, flow);
    await profileSteps(30, bench.store.backend, flow);

    const { privateKey, publicKey } = await generateKeyPair('PS256');
    const payload = new TextEncoder().encode(
      JSON.stringify({ Data: { ConsentId: 'bench', Permissions: [] } }),
    );
    const signed = await new CompactSign(payload).setProtectedHeader({ alg: 'PS256' }).sign(privateKey);
    /** Two PS256 operations: one signature, one verification. */
    const pair = async () => {
      await new CompactSign(payload).setProtectedHeader({ alg: 'PS256' }).sign(privateKey);
      await compactVerify(signed, publicKey, { algorithms: ['PS256'] });
    };

    async function bracketed(concurrency: number): Promise<number> {
      const before = (await rate('PS256 sign+verify pairs (baseline, jose)', concurrency, pair)) * 2;
      const opened = { ...handshakes };
      const flows = await rate(`whole flows (${bench.store.backend} store)`, concurrency, flow);
      console.log(
        `  TLS connections opened by the clients during the flows: ${handshakes.full - opened.full} full handshakes, ${handshakes.resumed - opened.resumed} resumed`,
      );
      const after = (await rate('PS256 sign+verify pairs (baseline, jose)', concurrency, pair)) * 2;
      return flows / ((before + after) / 2 / perFlow);
    }

    console.log(
      `stage → authorise → token → read; ${perFlow} PS256 operations (signatures and verifications, both sides) per flow; ${bench.store.backend}`,
    );
    const ratios = new Map<number, number>();
    for (const concurrency of options.concurrencies) ratios.set(concurrency, await bracketed(concurrency));
    await browser.close();
    await bank.close();
    console.log('');
    for (const [concurrency, ratio] of ratios) printRatio(`flow ${backend} c${concurrency}`, ratio, 0.5);
  } finally {
    await bench.close();
  }
}
