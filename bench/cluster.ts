/**
 * AIS reads per second through nginx (mutual TLS at nginx, RFC 9440 Client-Cert to the instances) with 1, 2
 * and 3 obkit instances behind it, as ratios to 1 instance: how throughput scales by adding instances.
 * `GET /accounts/{AccountId}/transactions` (first page) with a PSU-authorised, certificate-bound token got
 * through the real journey, all through nginx. One cluster of three instances on a fresh PostgreSQL
 * database (DATABASE_URL, required); nginx's upstreams are narrowed to 1, then 2, then 3 instances, each
 * confirmed by the instances that answer, and measured with the same autocannon settings.
 * All of it — load generator, nginx, instances, PostgreSQL — shares this machine's cores: the ratios show
 * where one machine stops scaling, not what separate machines would do.
 * Run: DATABASE_URL=postgres://… npm run bench -- cluster   (BENCH_SECONDS per phase, BENCH_CONNECTIONS)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { request } from 'undici';
import { startCluster, UPSTREAM_HEADER } from '../src/cli/cluster.ts';
import {
  clientCredentialsToken,
  completeAuthorization,
  startAuthorization,
} from '../src/tpp/authorization.ts';
import { connectToBank } from '../src/tpp/bank.ts';
import { readBundle } from '../src/tpp/bundle.ts';
import { createHttpClient } from '../src/tpp/http.ts';
import { onboard } from '../src/tpp/onboard.ts';
import { apiBaseOf, callApi, createAccountAccessConsent } from '../src/tpp/open-banking.ts';
import { registerAtBank } from '../src/tpp/register.ts';
import { approveInSandbox } from '../src/tpp/sandbox-approval.ts';

/** The part of autocannon's API used here (it ships no types). */
interface LoadOptions {
  url: string;
  connections: number;
  pipelining: number;
  duration: number;
  workers?: number;
  headers: Record<string, string>;
  tlsOptions: { cert: string; key: string; ca: string[] };
}
interface LoadResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (
  options: LoadOptions,
) => Promise<LoadResult>;

const seconds = Number(process.env.BENCH_SECONDS ?? '6');
const connections = Number(process.env.BENCH_CONNECTIONS ?? '16');
const baseUrl = process.env.DATABASE_URL;
if (!baseUrl) {
  console.log('bench/cluster.ts needs PostgreSQL: set DATABASE_URL (the instances share one database)');
  process.exit(2);
}

const name = `obkit_bench_${randomBytes(5).toString('hex')}`;
const admin = new pg.Client({ connectionString: baseUrl });
await admin.connect();
await admin.query(`create database "${name}"`);
await admin.end();
const databaseUrl = Object.assign(new URL(baseUrl), { pathname: `/${name}` }).toString();
const work = await mkdtemp(join(tmpdir(), 'obkit-bench-cluster-'));
const cluster = await startCluster({
  instances: 3,
  databaseUrl,
  accessLog: false,
  env: { OBKIT_LOG_LEVEL: 'warn', OBKIT_RATE_LIMIT_MTLS: '100000000' },
});
try {
  const rootPem = await readFile(cluster.rootCaFile, 'utf8');
  const discoveryUrl = `${cluster.urls.browser}/.well-known/openid-configuration`;
  const redirectUri = 'https://bench-cluster.example/callback';
  const bundleDir = join(work, 'tpp');
  await onboard({
    directoryUrl: cluster.urls.browser,
    organisationName: 'bench-cluster',
    clientName: 'bench-cluster',
    roles: ['AISP'],
    redirectUris: [redirectUri],
    certificateProfile: 'obie',
    outDir: bundleDir,
    trust: [rootPem],
  });
  const registration = await registerAtBank(readBundle(bundleDir), { discoveryUrl, trust: [rootPem] });
  const bundle = readBundle(bundleDir);
  const bank = await connectToBank(bundle, {
    discoveryUrl,
    trust: [rootPem],
    clientId: registration.clientId,
  });
  const clientToken = (await clientCredentialsToken(bank, 'accounts')).access_token;
  const consent = await createAccountAccessConsent(bank, clientToken);
  const pending = await startAuthorization(bank, {
    intentId: consent.ConsentId,
    scope: 'accounts',
    redirectUri,
  });
  const browser = createHttpClient({ trust: [rootPem] });
  const back = await approveInSandbox(browser, pending.url, redirectUri, {
    username: 'alice',
    decision: 'approve',
  });
  const accessToken = (await completeAuthorization(bank, pending, back)).access_token;
  const api = `${apiBaseOf(bank)}/aisp`;
  const accounts = await callApi(bank, accessToken, `${api}/accounts`);
  const account = (
    accounts.json as { Data: { Account: { AccountId: string; AccountSubType: string; Currency: string }[] } }
  ).Data.Account.find((a) => a.AccountSubType === 'CurrentAccount' && a.Currency === 'GBP');
  if (!account) throw new Error('no GBP current account for alice');
  const url = `${api}/accounts/${account.AccountId}/transactions`;
  const sample = await callApi(bank, accessToken, url);
  if (sample.status !== 200) throw new Error(`the AIS call failed: ${sample.status} ${sample.text}`);
  await bank.close();

  /** Narrows nginx to `count` instances and waits until exactly those answer. */
  async function useInstances(count: number): Promise<void> {
    const wanted = Array.from({ length: count }, (_, index) => index);
    cluster.useInstances(wanted);
    for (let round = 0; round < 200; round += 1) {
      const seen = new Set<number | undefined>();
      for (let probe = 0; probe < 12; probe += 1) {
        const response = await request(`${cluster.urls.mtls}/health`, { dispatcher: browser });
        await response.body.dump();
        const upstream = response.headers[UPSTREAM_HEADER];
        seen.add(cluster.instanceAt(Array.isArray(upstream) ? upstream.at(-1) : upstream));
      }
      if (seen.size === count && wanted.every((index) => seen.has(index))) return;
    }
    throw new Error(`nginx did not take up ${count} instances`);
  }

  const tls = { cert: bundle.transportCertificatePem, key: bundle.transportKeyPem, ca: [rootPem] };
  const headers = {
    authorization: `Bearer ${accessToken}`,
    accept: 'application/json',
    'x-fapi-interaction-id': randomUUID(),
    'x-fapi-customer-ip-address': '198.51.100.7',
  };
  console.log(
    `GET /accounts/{id}/transactions through nginx (${sample.text.length} bytes); ${connections} keep-alive connections, ${seconds}s per phase, PostgreSQL`,
  );
  const perSecond: number[] = [];
  for (const count of [1, 2, 3]) {
    await useInstances(count);
    const options = {
      url,
      connections,
      pipelining: 1,
      workers: 1,
      headers,
      tlsOptions: tls,
    };
    await autocannon({ ...options, duration: 1 }); // warm-up
    const result = await autocannon({ ...options, duration: seconds });
    if (result.non2xx > 0 || result.errors > 0) {
      throw new Error(`${count} instances: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
    }
    perSecond.push(result.requests.average);
    console.log(
      `${`${count} instance${count === 1 ? '' : 's'} behind nginx`.padEnd(28)} ${result.requests.average.toFixed(0).padStart(7)} req/s   p50 ${String(result.latency.p50).padStart(4)} ms   p99 ${String(result.latency.p99).padStart(4)} ms   (${result.requests.total} requests)`,
    );
  }
  const [one = 1, two = 0, three = 0] = perSecond;
  console.log(
    `ratio 2 instances / 1: ${(two / one).toFixed(3)}   3 instances / 1: ${(three / one).toFixed(3)}`,
  );
  await browser.close();
} finally {
  await cluster.stop();
  await rm(work, { recursive: true, force: true });
  const dropper = new pg.Client({ connectionString: baseUrl });
  await dropper.connect();
  await dropper.query(`drop database if exists "${name}" with (force)`);
  await dropper.end();
}
