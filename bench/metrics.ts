/**
 * What recording costs: AIS reads per second (`GET /accounts/{AccountId}`, the cheapest data read, so the
 * recording's share is the largest) with Prometheus metrics and MI recording on, as a ratio to an instance
 * on the same store and keys with both off (`recordOperations: false`). Phases bracketed (off, on, on, off)
 * so that a shared machine's drift favours neither. Both stores by default (`--store`), `--concurrency`.
 * Run: npm run bench -- metrics
 */
import type { Backend } from '../src/store/index.ts';
import { apiBaseOf, callApi } from '../src/tpp/open-banking.ts';
import {
  aisAccessToken,
  aisReadHeaders,
  benchOptions,
  machineLine,
  meanRate,
  measure,
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
    const off = await bench.startInstance({ recordOperations: false });
    const headers = aisReadHeaders(token);
    const on = bench.platform;
    if (!on.operations || off.operations)
      throw new Error('recording is not on and off as this benchmark needs');
    for (const concurrency of options.concurrencies) {
      const run = { concurrency, seconds: options.seconds };
      const at = (mtls: string) => ({ url: `${mtls}${path}`, tls: tpp.tls, headers });
      const off1 = await measure('AIS /accounts/{id}, metrics and MI off', at(off.urls.mtls), run);
      const on1 = await measure('AIS /accounts/{id}, metrics and MI on', at(on.urls.mtls), run);
      const on2 = await measure('AIS /accounts/{id}, metrics and MI on (again)', at(on.urls.mtls), run);
      const off2 = await measure('AIS /accounts/{id}, metrics and MI off (again)', at(off.urls.mtls), run);
      // What the "on" instance counted reaches the database (a failing flush stops the run).
      await on.operations.mi.flush();
      printRatio(
        `metrics-on/off ${backend} @${concurrency}`,
        meanRate(on1, on2) / meanRate(off1, off2),
        '0.95',
      );
    }
  } finally {
    await bench.close();
  }
}

for (const backend of options.stores) await runOn(backend);
