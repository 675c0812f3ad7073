/**
 * What recording costs: AIS reads per second (`GET /accounts/{AccountId}`, the cheapest data read, so the
 * recording's share is the largest) with Prometheus metrics and MI recording on, as a ratio to an instance
 * on the same store and keys with both off (`recordOperations: false`), both started after the TPP's journey
 * (which ran on the first instance) and alike but for that switch: the median of several off, on, on,
 * off brackets after both instances were warmed until their CPU per request settled (support/brackets.ts),
 * with the brackets' spread. Both stores by default (`--store`), `--concurrency`; `--aa` for an A/A check.
 * Run: npm run bench -- metrics
 */
import type { Backend } from '../src/store/index.ts';
import { apiBaseOf, callApi } from '../src/tpp/open-banking.ts';
import {
  aisAccessToken,
  aisReadHeaders,
  benchOptions,
  bracketedRatio,
  bracketPlan,
  machineLine,
  measure,
  type BracketSide,
  onboardTpp,
  printRatio,
  startBenchPlatform,
} from './support/index.ts';

const options = benchOptions();

async function runOn(backend: Backend): Promise<void> {
  console.log(`\n-- ${backend}   ${machineLine()}`);
  const bench = await startBenchPlatform(backend, 'metrics');
  try {
    const tpp = await onboardTpp(bench, 'bench-metrics', ['AISP']);
    const token = await aisAccessToken(tpp, 'alice');
    const base = `${apiBaseOf(tpp.bank)}/aisp`;
    const list = await callApi(tpp.bank, token, `${base}/accounts`);
    const accountId = (list.json as { Data?: { Account?: { AccountId: string }[] } }).Data?.Account?.[0]
      ?.AccountId;
    if (list.status !== 200 || !accountId)
      throw new Error(`GET /accounts answered ${list.status}: ${list.text}`);
    const path = new URL(`${base}/accounts/${accountId}`).pathname;
    // Both measured instances are started alike, after the journey above, and serve only the measured
    // reads. The first instance, which ran the journey, cost the main thread 4–8 % more per read than a
    // later instance that also records (session 17, bench/README.md); measured as "on", that excess was
    // charged to the recording.
    const off = await bench.startInstance({ recordOperations: false });
    const on = await bench.startInstance();
    const headers = aisReadHeaders(token);
    if (!on.operations || off.operations)
      throw new Error('recording is not on and off as this benchmark needs');
    for (const concurrency of options.concurrencies) {
      // Warmed by the bracket's rule: each phase needs only its connections' first requests.
      const run = {
        concurrency,
        seconds: options.bracketSeconds,
        mainThread: true,
        warmUp: 'brief' as const,
      };
      const side = (label: string, mtls: string): BracketSide => ({
        label,
        async measure(phase) {
          const at = { url: `${mtls}${path}`, tls: tpp.tls, headers };
          const result = await measure(`AIS /accounts/{id}, ${label} (${phase})`, at, run);
          return { perSecond: result.perSecond, cpuPerOperation: result.mainThreadCpuMicros };
        },
      });
      const figure = await bracketedRatio(
        `metrics-on/off ${backend} @${concurrency}`,
        side('metrics and MI off', off.urls.mtls),
        side('metrics and MI on', on.urls.mtls),
        bracketPlan(options),
      );
      // What the "on" instance counted reaches the database (a failing flush stops the run).
      await on.operations.mi.flush();
      printRatio(`metrics-on/off ${backend} @${concurrency}`, figure.ratio, '0.95', figure);
    }
  } finally {
    await bench.close();
  }
}

for (const backend of options.stores) await runOn(backend);
