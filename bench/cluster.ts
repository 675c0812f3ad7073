/**
 * AIS reads per second through nginx (mutual TLS at nginx, RFC 9440 Client-Cert to the instances) with 1, 2
 * and 3 obkit instances behind it, as ratios to 1 instance: how throughput scales by adding instances.
 * `GET /accounts/{AccountId}/transactions` (first page) with a PSU-authorised, certificate-bound token got
 * through the real journey, all through nginx. One cluster of three instances on a fresh PostgreSQL
 * database; nginx's upstreams are narrowed to 1, then 2, then 3, then 1 instance again (the bracket: the
 * ratios divide by the mean of the two 1-instance phases), each confirmed by the instances that answer, and
 * measured with the shared load generator at each concurrency.
 * All of it — load generator, nginx, instances, PostgreSQL — shares this machine's cores: the ratios show
 * where one machine stops scaling, not what separate machines would do.
 * PostgreSQL only (the instances share one database): `--store pglite` runs nothing and says so.
 * Run: npm run bench -- cluster [--concurrency 1,8]   (DATABASE_URL or the local test server; BENCH_SECONDS per phase)
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startCluster, UPSTREAM_HEADER, type Cluster } from '../src/cli/cluster.ts';
import { createHttpClient } from '../src/tpp/http.ts';
import { apiBaseOf, callApi } from '../src/tpp/open-banking.ts';
import {
  aisAccessToken,
  benchOptions,
  machineLine,
  meanRate,
  measure,
  onboardTpp,
  openBenchStore,
  printRatio,
  type LoadRequest,
} from './support/index.ts';

const options = benchOptions();
if (!options.stores.includes('postgres')) {
  console.log('bench/cluster.ts needs PostgreSQL (the instances share one database): nothing run for pglite');
  process.exit(0);
}
if (options.stores.includes('pglite'))
  console.log('bench/cluster.ts needs PostgreSQL (the instances share one database): pglite skipped');
console.log(`\n-- postgres   ${machineLine()}`);

const work = await mkdtemp(join(tmpdir(), 'obkit-bench-cluster-'));
const database = await openBenchStore('postgres', work);
let cluster: Cluster | undefined;
try {
  cluster = await startCluster({
    instances: 3,
    databaseUrl: database.location,
    accessLog: false,
    env: { OBKIT_LOG_LEVEL: 'warn', OBKIT_RATE_LIMIT_MTLS: '100000000' },
  });
  const rootPem = await readFile(cluster.rootCaFile, 'utf8');
  const tpp = await onboardTpp(
    { platform: { urls: cluster.urls }, dataDir: work, rootPem },
    'bench-cluster',
    ['AISP'],
  );
  const accessToken = await aisAccessToken(tpp, 'alice');
  const api = `${apiBaseOf(tpp.bank)}/aisp`;
  const accounts = await callApi(tpp.bank, accessToken, `${api}/accounts`);
  const account = (
    accounts.json as { Data: { Account: { AccountId: string; AccountSubType: string; Currency: string }[] } }
  ).Data.Account.find((a) => a.AccountSubType === 'CurrentAccount' && a.Currency === 'GBP');
  if (!account) throw new Error('no GBP current account for alice');
  const url = `${api}/accounts/${account.AccountId}/transactions`;
  const sample = await callApi(tpp.bank, accessToken, url);
  if (sample.status !== 200) throw new Error(`the AIS call failed: ${sample.status} ${sample.text}`);
  await tpp.bank.close();
  const browser = createHttpClient({ trust: [rootPem] });
  const running = cluster;

  /** Narrows nginx to `count` instances and waits until exactly those answer. */
  async function useInstances(count: number): Promise<void> {
    const wanted = Array.from({ length: count }, (_, index) => index);
    running.useInstances(wanted);
    for (let round = 0; round < 200; round += 1) {
      const seen = new Set<number | undefined>();
      for (let probe = 0; probe < 12; probe += 1) {
        // A reload of nginx closes its old workers' keep-alive connections: a probe caught on one asks again.
        const response = await request(`${running.urls.mtls}/health`, { dispatcher: browser }).catch(
          (error: unknown) => {
            if ((error as { code?: unknown }).code === 'UND_ERR_SOCKET') return undefined;
            throw error;
          },
        );
        if (!response) continue;
        await response.body.dump();
        const upstream = response.headers[UPSTREAM_HEADER];
        seen.add(running.instanceAt(Array.isArray(upstream) ? upstream.at(-1) : upstream));
      }
      if (seen.size === count && wanted.every((index) => seen.has(index))) return;
    }
    throw new Error(`nginx did not take up ${count} instances`);
  }

  const load: LoadRequest = {
    url,
    tls: tpp.tls,
    headers: {
      authorization: `Bearer ${accessToken}`,
      accept: 'application/json',
      'x-fapi-interaction-id': randomUUID(),
      'x-fapi-customer-ip-address': '198.51.100.7',
    },
  };
  console.log(
    `GET /accounts/{id}/transactions through nginx (${sample.text.length} bytes), ${options.seconds}s per phase`,
  );
  for (const concurrency of options.concurrencies) {
    const phase = async (count: number, again = '') => {
      await useInstances(count);
      return measure(`${count} instance${count === 1 ? '' : 's'} behind nginx${again}`, load, {
        concurrency,
        seconds: options.seconds,
      });
    };
    const oneBefore = await phase(1);
    const two = await phase(2);
    const three = await phase(3);
    const oneAfter = await phase(1, ' (again)');
    const one = meanRate(oneBefore, oneAfter);
    printRatio(`cluster 2 instances / 1, postgres @${concurrency}`, two.perSecond / one);
    printRatio(`cluster 3 instances / 1, postgres @${concurrency}`, three.perSecond / one);
  }
  await browser.close();
} finally {
  await cluster?.stop();
  await database.drop();
  await rm(work, { recursive: true, force: true });
}
